import Foundation
import Glibc
import Testing

/// What the daemon holds: open descriptors (pack files apart: the blob store keeps up to 64
/// open by design), threads, resident memory.
struct ProcessFootprint: CustomStringConvertible {
    var descriptors: Int
    var packDescriptors: Int
    var threads: Int
    var residentKiB: Int

    init(_ pid: pid_t, repository: String) throws {
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
        let targets = fds.map { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")) ?? "" }
        packDescriptors = targets.filter { $0.hasPrefix(repository + "/packs/") }.count
        descriptors = targets.count - packDescriptors
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        func field(_ name: String) -> Int {
            let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
            return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.map(String.init) ?? "") ?? -1
        }
        threads = field("Threads")
        residentKiB = field("VmRSS")
    }

    var description: String {
        "\(descriptors) descriptors and \(packDescriptors) of packs, \(threads) threads, \(residentKiB / 1024) MiB resident"
    }
}

@Suite("Mount: no leaks", .serialized, .enabled(if: runningAsRoot, "mounting needs root"))
struct MountLeakTests {
    /// `FOLDER CYCLES`: open/write/close cycles over 200 files, with a read-back every 10th.
    static let cycles = """
        import os, sys
        folder, cycles = sys.argv[1], int(sys.argv[2])
        os.makedirs(folder, exist_ok=True)
        for i in range(cycles):
            path = os.path.join(folder, f"f{i % 200:03d}")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            data = f"cycle {i}\\n".encode() * (1 + i % 500)
            os.write(fd, data)
            os.close(fd)
            if i % 10 == 0:
                fd = os.open(path, os.O_RDONLY)
                got = os.read(fd, len(data) + 1)
                if got != data:
                    sys.exit(f"cycle {i}: read back {len(got)} bytes ({got[:24]}...{got[-24:]}), not the {len(data)} written; stat says {os.fstat(fd).st_size}")
                os.close(fd)
        """

    /// Waits until the mount's search indexer has nothing queued (at most 60 s).
    func waitForIndex(_ mount: MountedRepository) throws {
        let folder = mount.path(".search/zzzznothing")
        for _ in 0..<600 {
            let answer = try mustRun("/usr/bin/getfattr", ["--only-values", "-n", "user.nexus.search", folder])
            let object = try JSONSerialization.jsonObject(with: answer.stdout) as? [String: Any]
            if object?["pending"] as? Int == 0 { return }
            usleep(100_000)
        }
        Issue.record("the index did not catch up within 60 s")
    }

    @Test("10,000 open/write/close cycles, after 10,000 that fill the caches: the daemon's descriptors and threads do not grow, its memory barely")
    func openWriteClose() throws {
        let mount = try MountedRepository("leaks")
        let script = try writeScript(Self.cycles, named: "cycles.py", in: mount.workspace.root)
        let pid = try mount.requireDaemonPID()
        let repository = URL(fileURLWithPath: mount.repo).standardizedFileURL.path
        // Warm up: caches fill, and 12 programs at once make libfuse start all its worker threads.
        let warmers = (0..<12).map { index in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [script, mount.path("warm-\(index)"), "500"]
            return process
        }
        for process in warmers { try process.run() }
        for process in warmers { process.waitUntilExit() }
        #expect(warmers.allSatisfy { $0.terminationStatus == 0 }, "a warm-up program failed")
        // One round of the cycles fills the caches that grow with the catalog (the catalog cache's
        // entries, SQLite's pages of the search index): a leak is what every further round adds.
        try mustRun("/usr/bin/python3", [script, mount.path("cycles"), "10000"])
        // The search indexer works through the saves too (its thread, its worker's pipes).
        try waitForIndex(mount)
        Thread.sleep(forTimeInterval: 2)
        let before = try ProcessFootprint(pid, repository: repository)
        let started = Date()
        try mustRun("/usr/bin/python3", [script, mount.path("cycles"), "10000"])
        let seconds = Date().timeIntervalSince(started)
        try waitForIndex(mount)
        Thread.sleep(forTimeInterval: 2)
        let after = try ProcessFootprint(pid, repository: repository)
        print("leaks: before 10,000 cycles: \(before); after (\(Int(seconds)) s): \(after)")
        #expect(after.descriptors <= before.descriptors, "descriptors grew: \(before) -> \(after)")
        #expect(after.packDescriptors <= 64, "more pack files open than the blob store's cache holds: \(after)")
        #expect(after.threads <= before.threads, "threads grew: \(before) -> \(after)")
        #expect(after.residentKiB - before.residentKiB < 8 * 1024, "resident memory grew by more than 8 MiB: \(before) -> \(after)")
        try mount.unmount()
        let check = try mount.workspace.nexusfs("check", mount.repo)
        #expect(check.exitedWith0, "\(check)")
    }
}
