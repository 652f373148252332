/// A timestamp with nanoseconds; seconds may be negative (before 1970).
public struct FileTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var seconds: Int64
    /// Always in 0..<1_000_000_000.
    public var nanoseconds: Int64

    public init(seconds: Int64, nanoseconds: Int64) {
        self.seconds = seconds + nanoseconds.floorDiv(1_000_000_000)
        self.nanoseconds = nanoseconds.floorMod(1_000_000_000)
    }

    /// Total nanoseconds since the epoch, as stored in the catalog.
    public init(totalNanoseconds: Int64) {
        self.init(seconds: totalNanoseconds.floorDiv(1_000_000_000), nanoseconds: totalNanoseconds.floorMod(1_000_000_000))
    }

    public var totalNanoseconds: Int64 { seconds &* 1_000_000_000 &+ nanoseconds }

    public static func < (a: Self, b: Self) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    public var description: String { "\(seconds).\(String(nanoseconds).leftPadded(to: 9))" }
}

extension Int64 {
    func floorDiv(_ d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
    func floorMod(_ d: Int64) -> Int64 { self - floorDiv(d) * d }
}
