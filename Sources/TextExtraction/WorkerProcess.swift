import Glibc
internal import CLinux

/// A running worker child: its pid and the non-blocking pipe ends the client holds.
struct WorkerProcess {
    /// The child's process id.
    let pid: pid_t
    /// The write end of the child's stdin.
    let requests: Int32
    /// The read end of the child's stdout.
    let answers: Int32

    /// Starts `executable` with `arguments` under posix_spawn, stdin and stdout on fresh pipes, stderr
    /// on /dev/null, every other descriptor closed, SIGPIPE at its default and no signal blocked.
    /// Returns the errno when it cannot be started.
    static func spawn(executable: String, arguments: [String]) -> Result<WorkerProcess, SpawnError> {
        guard let requestPipe = pipeAboveStandardDescriptors() else { return .failure(SpawnError(code: errno)) }
        guard let answerPipe = pipeAboveStandardDescriptors() else {
            let code = errno
            close(requestPipe.read)
            close(requestPipe.write)
            return .failure(SpawnError(code: code))
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, requestPipe.read, STDIN_FILENO)
        posix_spawn_file_actions_adddup2(&actions, answerPipe.write, STDOUT_FILENO)
        // What the parsers print about a damaged file (poppler's "Syntax Error ..." lines) may quote
        // its contents, which the daemon's log must never hold.
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0)
        // Belt and braces: the daemon's descriptors are close-on-exec, but a library's might not be.
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var noneBlocked = sigset_t()
        sigemptyset(&noneBlocked)
        posix_spawnattr_setsigmask(&attributes, &noneBlocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(requestPipe.read)
        close(answerPipe.write)
        guard status == 0 else {
            close(requestPipe.write)
            close(answerPipe.read)
            return .failure(SpawnError(code: status))
        }
        for fd in [requestPipe.write, answerPipe.read] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        return .success(WorkerProcess(pid: pid, requests: requestPipe.write, answers: answerPipe.read))
    }

    /// Kills the child with SIGKILL, reaps it and closes the pipes.
    func kill() {
        Glibc.kill(pid, SIGKILL)
        reap()
    }

    /// Closes the child's stdin and waits for it to exit, killing it after `grace`.
    func finish(grace: Duration = .seconds(5)) {
        close(requests)
        let deadline = ContinuousClock.now + grace
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            guard ContinuousClock.now < deadline else {
                Glibc.kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(10_000)
        }
        close(answers)
    }

    /// Waits for the (killed) child and closes both pipe ends.
    private func reap() {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        close(requests)
        close(answers)
    }

    /// A close-on-exec pipe whose ends are both above 2, so that dup2 onto 0 and 1 in the child
    /// never meets a descriptor that already has that number (whose close-on-exec flag it would keep).
    private static func pipeAboveStandardDescriptors() -> (read: Int32, write: Int32)? {
        var ends: [Int32] = [0, 0]
        guard pipe2(&ends, O_CLOEXEC) == 0 else { return nil }
        for index in ends.indices where ends[index] <= STDERR_FILENO {
            let moved = fcntl(ends[index], F_DUPFD_CLOEXEC, 3)
            close(ends[index])
            guard moved >= 0 else {
                close(ends[1 - index])
                return nil
            }
            ends[index] = moved
        }
        return (ends[0], ends[1])
    }
}

/// Why a worker could not be started: the errno of pipe() or posix_spawn.
struct SpawnError: Error {
    /// The errno.
    let code: Int32

    /// strerror's text for the code.
    var message: String { String(cString: strerror(code)) }
}
