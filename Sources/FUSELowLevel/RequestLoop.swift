internal import CFUSE
import Dispatch
internal import Glibc
import Synchronization

/// The workers that serve a session's requests: one reader at a time, which polls the device
/// briefly before it sleeps, and more workers only when a request keeps the reader busy.
///
/// libfuse's own loop keeps several workers blocked in read(2) on /dev/fuse: every request then
/// costs a wake-up of a sleeping worker on the daemon's side, on top of the one of the program
/// waiting for the reply. A program that works through files one call at a time (tar, cp, git)
/// sends its next request within microseconds of the last reply, so a reader that polls the device
/// for `spin` after each request takes it without that wake-up. So nothing else waits on the device:
///
/// - The reader takes a request and goes on to process it; whoever finishes a request first
///   becomes the next reader. Followers wait on a semaphore, not on the device.
/// - A watchdog promotes a follower, or starts a worker (up to `maxThreads`), when nobody has
///   read for `handoffAfter`: a request that takes long (a large save, an fsync, one that waits
///   for a kernel lock another request holds) delays the others by that much at most. It ticks
///   only while requests come, and sleeps when the mount is idle.
///
/// Measured on a 2-core virtual machine (1,000 creates, each with a write, close, stat and
/// unlink, against libfuse's loop): 0.74-0.78x the time. Promoting a follower whenever the reader
/// found a request already waiting made it 0.85-0.9x (serial programs often leave one, the
/// kernel's asynchronous RELEASE before the next call) and four programs at once no faster
/// (0.95-0.96x either way); so did leaving libfuse's sleeping workers beside a polling reader
/// (0.89x: each request also woke one of them for nothing).
final class RequestLoop: Sendable {
    private nonisolated(unsafe) let session: OpaquePointer
    private let spin: UInt64
    private let handoffAfter: UInt64
    private let maxThreads: Int
    private let state = Mutex(State())
    private let followers = DispatchSemaphore(value: 0)
    private let watchdogWake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    private struct State {
        var reading = false
        /// When the last reader stopped reading (monotonic nanoseconds).
        var readerLeftAt: UInt64 = 0
        /// Counts readers leaving, for the watchdog to see whether requests still come.
        var requests: UInt64 = 0
        var threads = 0
        /// Workers waiting on `followers` (or about to), not yet signalled.
        var idle = 0
        var watchdogAsleep = false
        var exiting = false
        var error: Int32 = 0
    }

    init(session: OpaquePointer, maxThreads: Int, spin: Duration, handoffAfter: Duration = .milliseconds(1)) {
        self.session = session
        self.maxThreads = max(2, maxThreads)
        self.spin = Self.nanoseconds(spin)
        self.handoffAfter = Self.nanoseconds(handoffAfter)
    }

    /// Serves until the session exits or the device is gone; returns when every worker has ended,
    /// with 0 or the -errno that reading the device failed with.
    func run() -> Int32 {
        let fd = fuse_session_fd(session)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        state.withLock { $0.threads = 3 }
        for body in [work, work, watch] { start(body) }
        finished.wait()
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return state.withLock { $0.error }
    }

    private func work() {
        var buffer = fuse_buf()
        defer { free(buffer.mem) }
        while takeReaderRole() {
            let result = receive(&buffer)
            leaveReaderRole(after: result)
            if result > 0 { fuse_session_process_buf(session, &buffer) }
        }
        threadEnded()
    }

    /// Waits until this worker may read; false when the loop ends.
    private func takeReaderRole() -> Bool {
        while true {
            let role = state.withLock { state -> Bool? in
                if state.exiting { return nil }
                if state.reading {
                    state.idle += 1
                    return false
                }
                state.reading = true
                return true
            }
            guard let role else { return false }
            if role { return true }
            followers.wait()
        }
    }

    /// `result` as `receive` gave it: a request, or (0 or less) the end of the loop.
    private func leaveReaderRole(after result: Int32) {
        let (wakeWatchdog, release) = state.withLock { state -> (Bool, Int) in
            state.reading = false
            state.readerLeftAt = Self.now()
            state.requests &+= 1
            if result <= 0 {
                state.exiting = true
                if state.error == 0 { state.error = result }
                defer { state.idle = 0 }
                return (true, state.idle)
            }
            defer { state.watchdogAsleep = false }
            return (state.watchdogAsleep, 0)
        }
        if wakeWatchdog { watchdogWake.signal() }
        for _ in 0..<release { followers.signal() }
    }

    /// The next request: > 0 its size, 0 when the session exited or the device went away,
    /// < 0 an error.
    private func receive(_ buffer: inout fuse_buf) -> Int32 {
        let fd = fuse_session_fd(session)
        var spinUntil = Self.now() + spin
        while true {
            let result = fuse_session_receive_buf(session, &buffer)
            if result != -EAGAIN && result != -EINTR { return result }
            if fuse_session_exited(session) != 0 { return 0 }
            if Self.now() < spinUntil {
                for _ in 0..<16 { nx_cpu_relax() }
                continue
            }
            // Bounded, so that fuse_session_exit (from a signal handler too) ends the loop.
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, 100)
            spinUntil = Self.now() + spin
        }
    }

    private func watch() {
        var lastSeen: UInt64 = 0
        var quietTicks = 0
        while true {
            enum Action { case tick, promote, start, sleep, exit }
            let action = state.withLock { state -> Action in
                if state.exiting { return .exit }
                if state.requests != lastSeen {
                    lastSeen = state.requests
                    quietTicks = 0
                } else {
                    quietTicks += 1
                }
                if !state.reading && Self.now() - state.readerLeftAt >= handoffAfter {
                    state.readerLeftAt = Self.now()
                    if state.idle > 0 {
                        state.idle -= 1
                        return .promote
                    }
                    if state.threads < maxThreads {
                        state.threads += 1
                        return .start
                    }
                }
                // A reader waiting in poll for 50 ticks: the mount is idle.
                if state.reading && quietTicks > 50 {
                    state.watchdogAsleep = true
                    return .sleep
                }
                return .tick
            }
            switch action {
            case .exit: return threadEnded()
            case .promote: followers.signal()
            case .start: start(work)
            case .sleep: watchdogWake.wait()
            case .tick: usleep(UInt32(handoffAfter / 1000))
            }
        }
    }

    private func threadEnded() {
        let last = state.withLock { state -> Bool in
            state.threads -= 1
            return state.threads == 0
        }
        if last { finished.signal() }
    }

    /// Runs `body` on a new thread, already counted in `threads`; a thread that cannot be
    /// created counts as ended.
    private func start(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        guard pthread_create(&thread, nil, { argument in
            Unmanaged<Body>.fromOpaque(argument!).takeRetainedValue().run()
            return nil
        }, box) == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            return threadEnded()
        }
        pthread_detach(thread)
    }

    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    private static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}
