import Dispatch
import FUSELowLevel
import Foundation
import Glibc
import Synchronization
import Testing

/// A `FUSESession` mounted at a fresh directory under /var/tmp and served on a background thread.
/// `tearDown` (called in a defer by every test) unmounts it like a user would and checks that
/// `run` returned and no mount is left.
final class TestMount: Sendable {
    static let options = ["fsname=fuselowlevel-test", "subtype=memfs", "allow_other", "default_permissions"]

    let mountpoint: String
    let session: FUSESession
    /// Signalled when `run` has returned.
    private let finished = DispatchSemaphore(value: 0)
    /// What `run` threw, if anything.
    let runError = RunError()

    final class RunError: Sendable {
        let error = Mutex<(any Error)?>(nil)
    }

    init(_ fileSystem: some FUSEFileSystem, options: [String] = TestMount.options) throws {
        Mounts.removeStale()
        mountpoint = try Self.makeDirectory()
        do {
            session = try FUSESession(fileSystem: fileSystem, mountpoint: mountpoint, options: options)
        } catch {
            rmdir(mountpoint)
            throw error
        }
        // Weak, so that the session (and with it the filesystem) goes when the test drops it.
        let thread = Thread { [weak session, finished, runError] in
            do {
                try session?.run()
            } catch {
                runError.error.withLock { $0 = error }
            }
            finished.signal()
        }
        thread.start()
        try Self.waitUntil(timeout: 10) { Mounts.isMounted(self.mountpoint) }
    }

    /// The path of `name` inside the mount.
    func path(_ name: String) -> String {
        name.isEmpty ? mountpoint : "\(mountpoint)/\(name)"
    }

    /// Waits up to `seconds` for `run` to return; true also for every later call once it has.
    func waitForRun(seconds: Double) -> Bool {
        guard finished.wait(timeout: .now() + seconds) == .success else { return false }
        finished.signal()
        return true
    }

    /// Unmounts with fusermount3 -u (umount -l if that fails), waits for `run` to return, and checks
    /// that the mount is gone.
    func tearDown(sourceLocation: SourceLocation = #_sourceLocation) {
        let unmounted = Mounts.isMounted(mountpoint) == false
            || Shell.run("/usr/bin/fusermount3", ["-u", mountpoint]).status == 0
            || Shell.run("/usr/bin/umount", ["-l", mountpoint]).status == 0
        #expect(unmounted, "could not unmount \(mountpoint)", sourceLocation: sourceLocation)
        if !waitForRun(seconds: 10) {
            // A lazy unmount with files still open keeps the connection: end the loop from inside.
            session.exit()
            #expect(waitForRun(seconds: 10), "run() did not return for \(mountpoint)", sourceLocation: sourceLocation)
        }
        session.unmount()
        #expect(!Mounts.isMounted(mountpoint), "\(mountpoint) is still mounted", sourceLocation: sourceLocation)
        rmdir(mountpoint)
    }

    private static func makeDirectory() throws -> String {
        var template = Array("/var/tmp/fuselowlevel-XXXXXX".utf8CString)
        guard let path = mkdtemp(&template) else { throw FUSEError(errno) }
        return String(cString: path)
    }

    static func waitUntil(timeout: Double, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            guard Date() < deadline else { throw FUSEError.resourceBusy }
            usleep(10_000)
        }
    }
}

/// The mount table, as the kernel reports it.
enum Mounts {
    /// Mount points in /proc/self/mountinfo (field 5; our paths need no unescaping).
    static func mountpoints() -> [String] {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        return table.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 ? String(fields[4]) : nil
        }
    }

    static func isMounted(_ path: String) -> Bool {
        mountpoints().contains(path)
    }

    /// The lines of /proc/mounts.
    static func table() -> [String] {
        guard let table = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return [] }
        return table.split(separator: "\n").map(String.init)
    }

    /// Unmounts what a crashed earlier run of these tests left: its daemon is gone, so the kernel
    /// answers ENOTCONN. Live mounts (another process's) are left alone.
    static func removeStale() {
        for line in leftovers() {
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { continue }
            let path = String(fields[1])
            var st = stat()
            guard stat(path, &st) != 0 && errno == ENOTCONN else { continue }
            if Shell.run("/usr/bin/fusermount3", ["-u", path]).status != 0 {
                Shell.run("/usr/bin/umount", ["-l", path])
            }
            rmdir(path)
        }
    }

    /// Mounts this test target made that are still in /proc/mounts.
    static func leftovers() -> [String] {
        table().filter { $0.contains("/var/tmp/fuselowlevel-") }
    }
}
