/// A point in time as POSIX stores it: seconds and nanoseconds since the Unix epoch.
public struct FUSETimespec: Hashable, Sendable {
    public var seconds: Int64
    /// 0 ..< 1_000_000_000.
    public var nanoseconds: Int64

    public init(seconds: Int64, nanoseconds: Int64 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// The Unix epoch.
    public static let zero = FUSETimespec(seconds: 0)
}
