import Foundation
import Glibc
import Testing

/// What the mount wrote, seen by the repository commands after unmounting.
@Suite("Mount and repository commands")
struct MountRepositoryTests {
    @Test("a sparse file written through the mount checks clean and exports sparse, byte for byte")
    func sparseFileExport() throws {
        let mount = try MountedRepository("sparse-export")
        let file = mount.path("sparse.bin")
        let fd = open(file, O_CREAT | O_WRONLY, 0o644)
        try #require(fd >= 0)
        let far: off_t = 3 << 30
        _ = "tail".withCString { pwrite(fd, $0, 4, far) }
        _ = "head".withCString { pwrite(fd, $0, 4, 0) }
        close(fd)
        try mount.unmount()
        let check = try mount.workspace.nexusfs("check", mount.repo, "--read-data")
        #expect(check.exitedWith0, "\(check)")
        let out = mount.workspace.path("out")
        let export = try mount.workspace.nexusfs("export", mount.repo, out)
        try #require(export.exitedWith0, "\(export)")
        var st = stat()
        try #require(stat(out + "/sparse.bin", &st) == 0)
        #expect(st.st_size == Int(far) + 4)
        #expect(st.st_blocks < 1024, "the export is not sparse: \(st.st_blocks) blocks")
        let handle = try #require(FileHandle(forReadingAtPath: out + "/sparse.bin"))
        defer { try? handle.close() }
        #expect(try handle.read(upToCount: 4) == Data("head".utf8))
        try handle.seek(toOffset: UInt64(far) - 4)
        #expect(try handle.read(upToCount: 8) == Data([0, 0, 0, 0] + Array("tail".utf8)))
    }
}
