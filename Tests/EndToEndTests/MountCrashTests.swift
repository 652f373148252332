import Foundation
import Glibc
import Testing

@Suite("Mount: a killed daemon", .serialized, .enabled(if: runningAsRoot, "mounting needs root"))
struct MountCrashTests {
    /// The content the writer gives file number `index` (the test recomputes it to check).
    static func content(_ index: Int) -> [UInt8] {
        let length = index % 7 == 3 ? 150_000 + index : 100 + (index * 37) % 20_000
        let unit = Array("\(index):".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(length + unit.count)
        while out.count < length { out += unit }
        return Array(out[0..<length])
    }

    /// `FOLDER LOG`: writes and closes small files f000000, f000001, ... until it fails; fsyncs
    /// every 10th of the first 1000 before closing (after them, only the commit interval makes
    /// files durable); logs "INDEX S|C TIME" after each close (TIME after close returned).
    static let writer = """
        import os, sys, time
        folder, log = sys.argv[1], sys.argv[2]
        out = open(log, "w", buffering=1)
        def content(i):
            length = 150_000 + i if i % 7 == 3 else 100 + (i * 37) % 20_000
            unit = f"{i}:".encode()
            return (unit * (length // len(unit) + 1))[:length]
        i = 0
        while True:
            data = content(i)
            fd = os.open(os.path.join(folder, f"f{i:06d}"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            synced = i % 10 == 0 and i < 1000
            if synced:
                os.fsync(fd)
            os.close(fd)
            out.write(f"{i} {'S' if synced else 'C'} {time.time():.6f}\\n")
            i += 1
        """

    @Test("kill -9 of the daemon while files are written: the mount point is reusable; fsynced files and files closed more than the commit interval before are intact; no file is partial; check passes")
    func killedWhileWriting() throws {
        let commitInterval = 1.0
        let mount = try MountedRepository("crash", options: ["commit=1"])
        let script = try writeScript(Self.writer, named: "writer.py", in: mount.workspace.root)
        let log = mount.workspace.path("writer.log")
        let folder = mount.path("files")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)

        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        writer.arguments = [script, folder, log]
        writer.standardError = FileHandle.nullDevice
        try writer.run()
        Thread.sleep(forTimeInterval: 4)
        let daemon = try mount.requireDaemonPID()
        let killedAt = Date().timeIntervalSince1970
        kill(daemon, SIGKILL)
        var lap = Date()
        func timing(_ what: String) {
            print(String(format: "crash: %@ took %.1f s", what, Date().timeIntervalSince(lap)))
            lap = Date()
        }
        for _ in 0..<200 where isAlive(daemon) { usleep(50_000) }
        #expect(!isAlive(daemon), "the daemon survived SIGKILL")
        // The writer fails on the dead mount (ENOTCONN) and stops.
        for _ in 0..<200 where writer.isRunning { usleep(50_000) }
        if writer.isRunning { writer.terminate() }
        writer.waitUntilExit()
        timing("stopping the daemon and the writer")

        // The dead mount point is reused as it is.
        try mount.mount()
        timing("mounting again")
        let entries = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").compactMap { line -> (Int, Bool, Double)? in
            let fields = line.split(separator: " ")
            guard fields.count == 3, let index = Int(fields[0]), let time = Double(fields[2]) else { return nil }
            return (index, fields[1] == "S", time)
        }
        try #require(entries.count > 100, "the writer closed only \(entries.count) files in 4 s")
        let required = Set(entries.filter { $0.1 || $0.2 < killedAt - commitInterval }.map(\.0))
        var lost: [Int] = [], partial: [String] = [], empty = 0, present = 0
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder))
        for name in names.sorted() {
            guard name.hasPrefix("f"), let index = Int(name.dropFirst()) else {
                partial.append("\(name): unexpected name")
                continue
            }
            present += 1
            let bytes = [UInt8](FileManager.default.contents(atPath: folder + "/" + name) ?? Data())
            if bytes == Self.content(index) { continue }
            if bytes.isEmpty && !required.contains(index) {
                empty += 1
                continue
            }
            partial.append("\(name): \(bytes.count) bytes, expected \(Self.content(index).count)")
        }
        timing("reading the files")
        for index in required.sorted() where !names.contains(String(format: "f%06d", index)) { lost.append(index) }
        let closedBefore = Dictionary(entries.map { ($0.0, killedAt - $0.2) }, uniquingKeysWith: { a, _ in a })
        let missing = entries.map(\.0).filter { !names.contains(String(format: "f%06d", $0)) }
        let oldestMissing = missing.compactMap { closedBefore[$0] }.max()
        print("""
            crash: \(entries.count) files closed before the kill, \(required.count) required (fsynced or closed \
            > \(commitInterval) s before), \(present) present after remount, \(empty) empty (created, not yet saved), \
            \(lost.count) required ones lost; the earliest closed file that is missing was closed \
            \(oldestMissing.map { String(format: "%.3f s", $0) } ?? "-") before the kill
            """)
        #expect(lost.isEmpty, "files that were fsynced or closed more than \(commitInterval) s before the kill are gone: \(lost.prefix(20))")
        #expect(partial.isEmpty, "files with partial or wrong content: \(partial.prefix(20))")

        try mount.unmount()
        timing("unmounting")
        let check = try mount.workspace.nexusfs("check", mount.repo)
        #expect(check.exitedWith0, "\(check)")
        timing("check")
    }
}

/// Whether `pid` runs (a zombie counts as gone).
func isAlive(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    return !stat[stat.index(after: close)...].hasPrefix(" Z")
}
