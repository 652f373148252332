import ArgumentParser
import Foundation
import Glibc
import RepositoryCore

struct UmountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "umount", abstract: "Unmount a nexusfs mount and wait until everything is saved.")

    @Argument(help: "The mount point.")
    var mountpoint: String

    @Option(name: .long, help: "Seconds to wait for the daemon to save everything.")
    var timeout: Double = 120

    func run() throws {
        let target = URL(fileURLWithPath: mountpoint).standardizedFileURL.path
        guard let source = MountTable.source(of: target) else {
            printError("\(target) is not a nexusfs mount")
            throw ExitCode(ExitStatus.failure)
        }
        // A program that just closed its last file on the mount may still be exiting: the kernel
        // says busy for a moment. Try again for a few seconds before giving up.
        let busyUntil = Date().addingTimeInterval(5)
        while true {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/fusermount3")
            process.arguments = ["-u", "-q", target]
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus == 0 { break }
            guard Date() < busyUntil, MountTable.source(of: target) != nil else {
                printError("cannot unmount \(target): it is busy (a file on it is still open, or a process works in it)")
                throw ExitCode(ExitStatus.failure)
            }
            usleep(200_000)
        }
        // The daemon holds the repository lock until it has saved everything.
        let deadline = Date().addingTimeInterval(timeout)
        let lockPath = source + "/lock"
        while Date() < deadline {
            let fd = open(lockPath, O_RDONLY | O_CLOEXEC)
            if fd < 0 { return }
            defer { close(fd) }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                defer { flock(fd, LOCK_UN) }
                // A daemon that could not save everything says so in the lock file it leaves.
                let note = (try? String(contentsOfFile: lockPath, encoding: .utf8)) ?? ""
                if note.hasPrefix(RepositoryLock.failurePrefix) {
                    printError("\(target) is unmounted, but " + note.dropFirst(RepositoryLock.failurePrefix.count)
                        .trimmingCharacters(in: .whitespacesAndNewlines))
                    throw ExitCode(ExitStatus.failure)
                }
                return
            }
            usleep(50_000)
        }
        printError("\(target) is unmounted, but the daemon is still saving after \(Int(timeout)) s")
        throw ExitCode(ExitStatus.failure)
    }
}

/// Reads /proc/self/mountinfo.
enum MountTable {
    /// The repository (fsname) of the nexusfs mount at `path`.
    static func source(of path: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard let dash = fields.firstIndex(of: "-"), fields.count > dash + 2, fields.count > 4 else { continue }
            if unescape(fields[4]) == path && fields[dash + 1] == "fuse.nexusfs" { return unescape(fields[dash + 2]) }
        }
        return nil
    }

    /// Where nexusfs is mounted.
    static func nexusfsMountPoints() -> [String] {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ").map(String.init)
            guard let dash = fields.firstIndex(of: "-"), fields.count > dash + 1, fields.count > 4,
                  fields[dash + 1] == "fuse.nexusfs" else { return nil }
            return unescape(fields[4])
        }
    }

    /// mountinfo escapes space, tab, newline and backslash as octal.
    static func unescape(_ field: String) -> String {
        var out = [UInt8]()
        let bytes = Array(field.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x5c, i + 3 < bytes.count, let value = UInt8(String(decoding: bytes[i + 1...i + 3], as: UTF8.self), radix: 8) {
                out.append(value)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
