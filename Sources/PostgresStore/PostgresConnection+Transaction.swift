import Backoff
import Glibc

// Transactions: BEGIN … COMMIT around a body, ROLLBACK when it throws, and runs again after a
// serialization failure, a deadlock, or a connection lost before COMMIT.
extension PostgresConnection {
    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    /// Runs `body` in a transaction at `isolation` and commits it; rolls back and rethrows when `body`
    /// throws.
    ///
    /// When the transaction fails with a serialization failure (40001) or a deadlock (40P01), in the
    /// body or at COMMIT, or the connection is lost before COMMIT was sent, it is rolled back and
    /// `body` runs again from the start, up to `maxAttempts` runs in all, after a short random pause;
    /// so `body` should have no effects outside the database. A connection lost during COMMIT throws
    /// `.unreachable`: the transaction may or may not have committed. The connection's lock is held
    /// throughout, so `body` must use the given `PostgresTransaction`, never this connection.
    @discardableResult
    public func transaction<T>(
        _ isolation: IsolationLevel = .readCommitted, maxAttempts: Int = 5, _ body: (PostgresTransaction) throws -> T
    ) throws -> T {
        var value: T?
        try session.withLock { session in
            var attempt = 0
            while true {
                attempt += 1
                var begun = false
                var committing = false
                do {
                    try session.execute("BEGIN ISOLATION LEVEL \(isolation.rawValue)", [])
                    begun = true
                    let result = try body(PostgresTransaction(session: session))
                    committing = true
                    try session.execute("COMMIT", [])
                    value = result
                    return
                } catch {
                    if session.inTransaction {
                        do {
                            try session.execute("ROLLBACK", [])
                        } catch let failure {
                            session.logger.warning(
                                "rollback failed", metadata: ["server": "\(session.endpoint)", "error": "\(failure)"])
                            session.drop()
                        }
                    }
                    let postgresError = error as? PostgresError
                    let transient = postgresError?.sqlState?.isTransient == true
                    let lostBeforeCommit = begun && !committing && postgresError?.code == .unreachable
                    guard transient || lostBeforeCommit, attempt < maxAttempts else { throw error }
                    session.logger.notice(
                        "running a transaction again",
                        metadata: ["server": "\(session.endpoint)", "attempt": "\(attempt)", "cause": "\(error)"])
                    Backoff.sleep(Backoff.delay(afterAttempt: attempt, from: 0.005, cap: 0.5))
                }
            }
        }
        return value!
    }
}

/// Runs statements inside one `transaction` call; valid only during its body, on its thread.
public struct PostgresTransaction {
    let session: PostgresSession

    /// Runs one statement with `parameters` bound to $1, $2, … inside the transaction.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [PostgresValue] = []) throws -> PostgresResult {
        try session.execute(sql, parameters)
    }

    /// Sends `payload` to listeners of `channel` when (and only if) the transaction commits.
    public func notify(_ channel: String, payload: String = "") throws {
        try session.execute("SELECT pg_notify($1, $2)", [.string(channel), .string(payload)])
    }
}
