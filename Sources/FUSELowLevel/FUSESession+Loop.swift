internal import CFUSE
internal import Glibc

/// Serving requests: the multi-threaded loop and the ways to end it.
extension FUSESession {
    /// Serves requests on worker threads (see `RequestLoop`) until the filesystem is unmounted (from
    /// outside, or by `unmount`), `exit` is called, or SIGINT, SIGTERM or SIGHUP arrives.
    ///
    /// libfuse's handlers for those signals are installed while the loop runs and removed after, for
    /// one running session per process at a time; the loop notices a signal within 0.1 s.
    /// After `run` returns because of `exit` or a signal the filesystem is still mounted (requests
    /// to it wait) until `unmount`.
    ///
    /// - Parameters:
    ///   - maxThreads: most workers at a time.
    ///   - spin: how long a worker polls the device after a request before it sleeps.
    /// - Throws: `FUSESessionError` if the session is unmounted or already running, or the loop fails.
    public func run(maxThreads: Int = 10, spin: Duration = .microseconds(50)) throws {
        try state.withLock { state in
            guard state.mounted else { throw FUSESessionError(.notMounted, "\(mountpoint) is not mounted") }
            guard !state.running else { throw FUSESessionError(.alreadyRunning, "\(mountpoint) is already served") }
            state.running = true
        }
        let ownsSignals = SignalHandlers.claim(for: session)
        let result = RequestLoop(session: session, maxThreads: maxThreads, spin: spin).run()
        if ownsSignals { SignalHandlers.release(for: session) }
        fuse_session_reset(session)

        let unmountRequested = state.withLock { state -> Bool in
            state.running = false
            defer { state.unmountRequested = false }
            return state.unmountRequested
        }
        if unmountRequested { unmount() }
        // 0 after an unmount, exit or signal, -errno on failure.
        if result < 0 {
            throw FUSESessionError(.loopFailed, "serving \(mountpoint) failed", errno: -result)
        }
    }

    /// Ends the loop of `run` (if it has not started, the next `run` returns at once); the filesystem
    /// stays mounted until `unmount`.
    public func exit() {
        let wake = state.withLock { state -> Bool in
            fuse_session_exit(session)
            return state.mounted && state.running
        }
        if wake { wakeLoop() }
    }

    /// fuse_session_exit only sets a flag that workers read after their next request, so an idle loop
    /// would wait for one indefinitely. A statfs of the mountpoint (which the kernel never caches) is
    /// such a request. It runs on a detached thread: it waits for a worker, and `exit` may be called
    /// from one. (A zero-byte NOTIFY_RETRIEVE would be neater, but kernels now refuse it for anything
    /// but a regular file.)
    private func wakeLoop() {
        guard let path = strdup(canonicalMountpoint) else { return }
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { argument in
            guard let path = argument?.assumingMemoryBound(to: CChar.self) else { return nil }
            var statistics = statvfs()
            _ = statvfs(path, &statistics)
            free(path)
            return nil
        }, path)
        if started == 0 {
            pthread_detach(thread)
        } else {
            free(path)
        }
    }
}
