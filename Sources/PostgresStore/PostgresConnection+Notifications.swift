internal import CLibPQ
import Glibc

/// One NOTIFY as a listener receives it.
public struct PostgresNotification: Sendable, Equatable {
    public var channel: String
    public var payload: String
    /// The server process of the session that sent it.
    public var processID: Int32
}

// LISTEN/NOTIFY. Waiting holds the connection's lock, so a listener is best a connection of its own.
extension PostgresConnection {
    /// Subscribes to `channel` (any string; it is quoted), also on every later reconnection.
    /// Notifications sent while the connection is being replaced are lost: watch `reconnections`.
    public func listen(_ channel: String) throws {
        try session.withLock { session throws(PostgresError) in
            try session.execute("LISTEN \(PostgresSession.quoted(channel))", [])
            session.channels.insert(channel)
        }
    }

    public func unlisten(_ channel: String) throws {
        try session.withLock { session throws(PostgresError) in
            try session.execute("UNLISTEN \(PostgresSession.quoted(channel))", [])
            session.channels.remove(channel)
        }
    }

    /// Sends `payload` to the listeners of `channel` (at once: this runs outside a transaction).
    public func notify(_ channel: String, payload: String = "") throws {
        try execute("SELECT pg_notify($1, $2)", [.string(channel), .string(payload)])
    }

    /// The notifications that have arrived, waiting up to `timeout` for the first; empty when none
    /// came in time. A connection lost while waiting is replaced (within `reconnectFor`, which may
    /// outlast `timeout`) and the wait goes on.
    public func waitForNotifications(timeout: Duration) throws -> [PostgresNotification] {
        try session.withLock { session throws(PostgresError) in try session.waitForNotifications(timeout: timeout) }
    }
}

extension PostgresSession {
    func waitForNotifications(timeout: Duration) throws(PostgresError) -> [PostgresNotification] {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var connection = try ready()
        while true {
            let arrived = pending + Self.notifications(connection)
            pending = []
            if !arrived.isEmpty { return arrived }
            let remaining = deadline - clock.now
            guard remaining > .zero else { return [] }
            let (seconds, attoseconds) = remaining.components
            let milliseconds = Int32(clamping: seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
            var readable = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
            let polled = poll(&readable, 1, milliseconds)
            if polled < 0 {
                guard errno == EINTR else {
                    throw PostgresError(.badResponse, "poll on the connection to \(endpoint): \(String(cString: strerror(errno)))")
                }
                continue
            }
            if polled > 0, PQconsumeInput(connection) == 0 || PQstatus(connection) != CONNECTION_OK {
                logger.notice(
                    "connection lost while waiting for notifications",
                    metadata: ["server": "\(endpoint)", "cause": "\(String(cString: PQerrorMessage(connection)).trimmingSuffix())"])
                drop()
                connection = try ready()
            }
        }
    }
}
