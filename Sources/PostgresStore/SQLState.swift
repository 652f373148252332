/// A five-character SQLSTATE error code from the server, such as `40001`.
public struct SQLState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public static let serializationFailure = SQLState(rawValue: "40001")
    public static let deadlockDetected = SQLState(rawValue: "40P01")
    public static let uniqueViolation = SQLState(rawValue: "23505")
    public static let undefinedTable = SQLState(rawValue: "42P01")
    public static let syntaxError = SQLState(rawValue: "42601")

    /// Whether a transaction that failed with this state may succeed when run again from the start.
    public var isTransient: Bool { self == .serializationFailure || self == .deadlockDetected }
}
