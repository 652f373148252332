import ArgumentParser
import Foundation
import Glibc

/// Starting `nexusfs mount` in the background: the command re-runs itself in the
/// foreground (where it makes itself a session leader), hands it the passphrase through a pipe, and
/// waits until the child reports that the mount works or why it failed.
enum Daemon {
    static func start(arguments: [String], passphrase: [UInt8]) throws {
        var secret: [Int32] = [0, 0]
        var ready: [Int32] = [0, 0]
        guard pipe(&secret) == 0, pipe(&ready) == 0 else { throw UsageError("cannot create a pipe") }
        // Only the copies dup2'd to 3 and 4 may reach the child, or the parent never sees EOF.
        for fd in secret + ready { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // Nor may anything our caller left open: a caller waiting for EOF on a pipe or socket it
        // gave us (Foundation's Process does) would hang for as long as the mount lives.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(name), fd > 2 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let childArguments = [executable] + Array(arguments.dropFirst()) + ["-f", "--passphrase-fd", "3", "--ready-fd", "4"]

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, secret[0], 3)
        posix_spawn_file_actions_adddup2(&actions, ready[1], 4)

        var pid: pid_t = 0
        let argv = childArguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        close(secret[0])
        close(ready[1])
        guard rc == 0 else { throw UsageError("cannot start the mount daemon: \(String(cString: strerror(rc)))") }
        passphrase.withUnsafeBytes { _ = write(secret[1], $0.baseAddress, $0.count) }
        close(secret[1])

        var reply: [UInt8] = []
        var byte: UInt8 = 0
        while read(ready[0], &byte, 1) == 1 && byte != 0x0a { reply.append(byte) }
        close(ready[0])
        let text = String(decoding: reply, as: UTF8.self)
        if text.hasPrefix("ok") { return }
        if text.hasPrefix("error ") {
            let parts = text.dropFirst(6).split(separator: " ", maxSplits: 1).map(String.init)
            // The child printed nothing we can see; say it here.
            printError(parts.count > 1 ? parts[1].trimmingCharacters(in: .newlines) : "the mount failed")
            throw ExitCode(Int32(parts[0]) ?? ExitStatus.failure)
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        printError("the mount daemon exited before the mount was ready (status \(status))")
        throw ExitCode(ExitStatus.failure)
    }
}

/// The daemon's side of the readiness pipe.
struct Readiness {
    let fd: Int32

    /// Reports the mount ready; from then on the daemon's log (stderr) goes to `log`, appended,
    /// or nowhere if that cannot be opened.
    func succeed(logTo log: String) {
        _ = write(fd, "ok\n", 3)
        close(fd)
        // Detach from the terminal's output now that the parent has its answer.
        var target = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        if target < 0 { target = open("/dev/null", O_WRONLY) }
        if target >= 0 { dup2(target, 2); close(target) }
    }

    func fail(code: Int32, message: String) {
        let line = "error \(code) \(message)\n"
        _ = line.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }
}

/// Checks on and repairs the folder to mount on.
enum MountPoint {
    /// Fails unless `path` is a directory; a dead FUSE mount left by a killed daemon is
    /// detached first so that it can be reused.
    static func prepare(_ path: String) throws {
        var st = stat()
        // statvfs always asks the filesystem, where stat may be answered from the kernel's
        // attribute cache even after the daemon died.
        var fs = statvfs()
        if statvfs(path, &fs) != 0 || stat(path, &st) != 0 {
            if errno == ENOTCONN {
                detach(path)
                guard stat(path, &st) == 0 else {
                    throw UsageError("\(path) is a dead mount that could not be detached")
                }
            } else {
                throw UsageError("cannot mount on \(path): \(String(cString: strerror(errno)))")
            }
        }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw UsageError("cannot mount on \(path): not a directory") }
    }

    static func detach(_ path: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/fusermount3")
        process.arguments = ["-u", "-z", path]
        try? process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 { umount2(path, Int32(MNT_DETACH)) }
    }
}
