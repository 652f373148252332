import Foundation
import Glibc
import LocalTree
import Testing

@Suite("LocalIO")
struct LocalIOTests {
    @Test func readFullyGathersShortPipeReadsUntilEndOfFile() throws {
        var ends: [Int32] = [0, 0]
        try check(pipe(&ends), "pipe")
        let (readEnd, writeEnd) = (ends[0], ends[1])
        defer { close(readEnd) }
        let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        // More than a pipe holds, in small pieces: every read returns what has arrived so far.
        let writer = Thread {
            for start in stride(from: 0, to: payload.count, by: 1_000) {
                _ = payload[start..<start + 1_000].withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
            }
            close(writeEnd)
        }
        writer.start()
        var buffer = [UInt8](repeating: 0, count: 300_000)
        let count = try buffer.withUnsafeMutableBytes { try LocalIO.readFully(fd: readEnd, into: $0) }
        #expect(count == payload.count)
        #expect(Array(buffer[..<count]) == payload)
    }

    @Test(.enabled(if: geteuid() == 0, "mounts a tmpfs"))
    func writeFullyOnAFullFileSystemThrowsENOSPC() throws {
        try withScratchDirectory(tmpfsBytes: 1 << 20) { root in
            let file = join(root, bytes("big"))
            let fd = try check(open(cString(file), O_CREAT | O_WRONLY | O_CLOEXEC, 0o644), "create", file)
            defer { close(fd) }
            let data = [UInt8](repeating: 1, count: 2 << 20)
            #expect(throws: LocalTreeError(path: file, operation: "write", errno: ENOSPC)) {
                try data.withUnsafeBytes { try LocalIO.writeFully(fd: fd, $0, path: file) }
            }
        }
    }
}
