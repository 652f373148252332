/// Errors of the PostgreSQL client: a code, a message naming the server (`postgres://user@host:port/db`,
/// never the password) and the statement, and the underlying cause.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        /// No connection could be made within the reconnection budget, or the connection was lost
        /// while a statement or COMMIT was on its way (its outcome is then unknown); the message says which.
        case unreachable
        /// The server refused the statement with this SQLSTATE.
        case sql(SQLState)
        /// The server answered something this client cannot use (COPY, an unparsable value, a NULL
        /// where a value was asked for).
        case badResponse
        /// The connection string cannot work (unparsable, or a password is required and none given).
        case invalidConfiguration
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// The SQLSTATE when the server refused a statement, else nil.
    public var sqlState: SQLState? {
        if case .sql(let state) = code { return state }
        return nil
    }

    public var description: String {
        if let underlying { return "\(message): \(underlying)" }
        return message
    }
}
