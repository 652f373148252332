import Glibc

/// Waiting between retries on plain threads (never an event loop): exponential backoff with
/// jitter, and a sleep that blocks the calling thread. For the generic clients (S3, PostgreSQL).
public enum Backoff {
    /// The pause after attempt `attempt` (1-based): `first` seconds doubled each attempt, capped at
    /// `cap`, with jitter over the upper half of each step.
    public static func delay(afterAttempt attempt: Int, from first: Double = 0.1, cap: Double = 5) -> Duration {
        let step = min(cap, first * Double(1 << min(max(attempt, 1) - 1, 16)))
        return .milliseconds(Int(Double.random(in: step / 2...step) * 1000))
    }

    /// Blocks the calling thread for `duration`, resuming after signals.
    public static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var remaining = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var left = timespec()
        while nanosleep(&remaining, &left) != 0 && errno == EINTR { remaining = left }
    }
}
