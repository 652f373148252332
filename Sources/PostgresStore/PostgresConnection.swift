import Logging
import Synchronization

/// A synchronous PostgreSQL connection over libpq for plain threads: each call blocks until the
/// server has answered.
///
/// One libpq connection, used by one thread at a time behind the mutex. When the connection is found
/// broken, the next operation reconnects with backoff for up to `reconnectFor` (LISTENs are redone)
/// and then throws `.unreachable` naming `postgres://user@host:port/db`. Session state other than
/// LISTEN (advisory locks, SET, prepared statements) does not survive a reconnection; `reconnections`
/// counts them so that a caller can notice. Every method throws `PostgresError`.
public final class PostgresConnection: Sendable {
    /// `postgres://user@host:port/db`, for messages and logs; never the password.
    public let endpoint: String
    // The only lock. A transaction's body runs with it held, so the body uses the
    // `PostgresTransaction` it is given and never this connection.
    let session: Mutex<PostgresSession>

    /// Connects to `url`, a `postgres://user:password@host:port/db?option=value` URI or a libpq conninfo
    /// (`host=… port=… dbname=…`), retrying for up to `reconnectFor` as any later reconnection does.
    public init(
        url: String, reconnectFor: Duration = .seconds(60),
        logger: Logger = Logger(label: "PostgresStore", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws {
        let endpoint = try PostgresEndpoint(url)
        self.endpoint = endpoint.description
        session = Mutex(try PostgresSession(endpoint: endpoint, reconnectFor: reconnectFor, logger: logger))
    }

    /// Runs one statement (no `;`-separated lists) with `parameters` bound to $1, $2, … outside any
    /// transaction block of `transaction(_:maxAttempts:_:)`.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresResult {
        try session.withLock { session throws(PostgresError) in try session.execute(sql, parameters) }
    }

    /// How many times the connection has been replaced since it was opened.
    public var reconnections: Int {
        session.withLock { $0.reconnections }
    }
}
