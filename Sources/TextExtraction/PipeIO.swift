import Glibc

/// Blocking or deadline-bounded whole reads and writes on pipe descriptors, retrying EINTR and short transfers.
enum PipeIO {
    /// How a transfer ended.
    enum Outcome: Equatable {
        /// Every byte was transferred.
        case done
        /// The other end is closed (EOF on read, EPIPE on write).
        case closed
        /// The deadline passed first.
        case timedOut
        /// Another error, with its errno.
        case failed(Int32)
    }

    /// Reads exactly `count` bytes from the blocking descriptor `fd`. `.closed` on EOF, even mid-way.
    static func read(_ fd: Int32, count: Int) -> ([UInt8], Outcome) {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, count - filled) }
            if got > 0 {
                filled += got
            } else if got == 0 {
                return (bytes, .closed)
            } else if errno != EINTR {
                return (bytes, .failed(errno))
            }
        }
        return (bytes, .done)
    }

    /// Writes all of `bytes` to the blocking descriptor `fd`.
    static func write(_ fd: Int32, _ bytes: [UInt8]) -> Outcome {
        var sent = 0
        while sent < bytes.count {
            let put = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + sent, bytes.count - sent) }
            if put >= 0 {
                sent += put
            } else if errno == EPIPE {
                return .closed
            } else if errno != EINTR {
                return .failed(errno)
            }
        }
        return .done
    }

    /// Reads exactly `count` bytes from the non-blocking descriptor `fd`, waiting with poll() until `deadline`.
    static func read(_ fd: Int32, count: Int, until deadline: ContinuousClock.Instant) -> ([UInt8], Outcome) {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, count - filled) }
            if got > 0 {
                filled += got
            } else if got == 0 {
                return (bytes, .closed)
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                if let failure = wait(fd, for: Int16(POLLIN), until: deadline) { return (bytes, failure) }
            } else if errno != EINTR {
                return (bytes, .failed(errno))
            }
        }
        return (bytes, .done)
    }

    /// Writes all of `bytes` to the non-blocking descriptor `fd`, waiting with poll() until `deadline`.
    /// SIGPIPE is blocked on this thread for the write and a SIGPIPE it raised is consumed, so a dead
    /// reader shows as `.closed` and never kills the process, whatever its SIGPIPE disposition.
    static func write(_ fd: Int32, _ bytes: [UInt8], until deadline: ContinuousClock.Instant) -> Outcome {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previousMask = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previousMask)
        var pending = sigset_t()
        sigpending(&pending)
        let alreadyPending = sigismember(&pending, SIGPIPE) == 1
        defer {
            if !alreadyPending {
                var none = timespec(tv_sec: 0, tv_nsec: 0)
                while sigtimedwait(&pipeSignal, nil, &none) == SIGPIPE {}
            }
            pthread_sigmask(SIG_SETMASK, &previousMask, nil)
        }
        var sent = 0
        while sent < bytes.count {
            let put = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + sent, bytes.count - sent) }
            if put >= 0 {
                sent += put
            } else if errno == EPIPE {
                return .closed
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                if let failure = wait(fd, for: Int16(POLLOUT), until: deadline) { return failure }
            } else if errno != EINTR {
                return .failed(errno)
            }
        }
        return .done
    }

    /// Polls `fd` for `events` until `deadline`; nil when it is ready (or hung up: the next transfer says so).
    private static func wait(_ fd: Int32, for events: Int16, until deadline: ContinuousClock.Instant) -> Outcome? {
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return .timedOut }
            let (seconds, attoseconds) = left.components
            let milliseconds = min(Int64(Int32.max), seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, Int32(milliseconds))
            if ready > 0 { return nil }
            if ready < 0, errno != EINTR { return .failed(errno) }
        }
    }
}
