import Backoff
internal import CLibPQ
import Glibc
import Logging

/// The libpq connection behind a `PostgresConnection`, with everything that must be redone after a
/// reconnection. Touched only while the owning connection's mutex is held, hence `@unchecked Sendable`.
final class PostgresSession: @unchecked Sendable {
    let endpoint: PostgresEndpoint
    let reconnectFor: Duration
    let logger: Logger
    /// Nil after the connection was found broken; the next operation connects again.
    private var connection: OpaquePointer?
    /// Channels LISTENed to, LISTENed to again on each new connection.
    var channels: Set<String> = []
    /// Notifications read from a connection before it was dropped, returned by the next wait.
    var pending: [PostgresNotification] = []
    /// New connections made after the first.
    private(set) var reconnections = 0

    init(endpoint: PostgresEndpoint, reconnectFor: Duration, logger: Logger) throws(PostgresError) {
        self.endpoint = endpoint
        self.reconnectFor = reconnectFor
        self.logger = logger
        connection = try connect()
    }

    deinit {
        if let connection { PQfinish(connection) }
    }

    /// A usable connection: the current one unless it was dropped or turns out broken, else a new one
    /// made within `reconnectFor`.
    ///
    /// A server that closes an idle connection (a restart, an administrator's kill) leaves its socket
    /// readable, so that is read first: a statement is only sent on a connection not known to be
    /// broken, and a broken one is replaced before anything was sent on it. A connection lost inside
    /// a transaction is not replaced silently: that throws, and the operation after it reconnects.
    func ready() throws(PostgresError) -> OpaquePointer {
        if let current = connection {
            let wasInTransaction = inTransaction
            if Self.stillOpen(current) { return current }
            drop()
            if wasInTransaction {
                throw PostgresError(.unreachable, "connection to \(endpoint) lost inside a transaction, which the server rolled back")
            }
        }
        reconnections += 1
        let fresh = try connect()
        connection = fresh
        return fresh
    }

    /// Whether an idle connection is still open after reading whatever the server sent it: a server
    /// that ends a session sends a FATAL message (which libpq parses as a notice) and then closes, and
    /// only reading up to that close marks the connection bad. Reads at most a few times, so that
    /// a stream of notifications cannot hold the caller here.
    private static func stillOpen(_ connection: OpaquePointer) -> Bool {
        for _ in 0..<8 {
            guard PQstatus(connection) == CONNECTION_OK else { return false }
            var idle = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
            guard poll(&idle, 1, 0) > 0 else { return true }
            guard PQconsumeInput(connection) == 1 else { return false }
            _ = PQisBusy(connection)
        }
        return PQstatus(connection) == CONNECTION_OK
    }

    /// Closes the connection, keeping any notifications it had read.
    func drop() {
        guard let current = connection else { return }
        pending += Self.notifications(current)
        PQfinish(current)
        connection = nil
    }

    /// Whether the connection is open and inside a transaction block.
    var inTransaction: Bool {
        connection.map { PQtransactionStatus($0) == PQTRANS_INTRANS || PQtransactionStatus($0) == PQTRANS_INERROR } ?? false
    }

    /// Connects, retrying with backoff until `reconnectFor` has passed, and LISTENs to `channels`.
    private func connect() throws(PostgresError) -> OpaquePointer {
        let clock = ContinuousClock()
        let giveUp = clock.now + reconnectFor
        // libpq's connect_timeout is whole seconds per attempt, at least 2; a value in the connection
        // string comes later in the arrays and wins.
        let timeout = max(2, min(10, Int(reconnectFor.components.seconds)))
        var attempts = 0
        while true {
            attempts += 1
            let opened = Self.withCStrings(["connect_timeout", "dbname"], ["\(timeout)", endpoint.conninfo]) { keywords, values in
                PQconnectdbParams(keywords, values, 1)
            }
            var cause = opened.map { String(cString: PQerrorMessage($0)).trimmingSuffix() } ?? "out of memory"
            if let opened, PQstatus(opened) == CONNECTION_OK {
                PQsetNoticeProcessor(opened, { context, message in
                    guard let context, let message else { return }
                    let session = Unmanaged<PostgresSession>.fromOpaque(context).takeUnretainedValue()
                    session.logger.notice(
                        "\(String(cString: message).trimmingSuffix())", metadata: ["server": "\(session.endpoint)"])
                }, Unmanaged.passUnretained(self).toOpaque())
                if let failure = listenToChannels(on: opened) {
                    cause = failure
                } else {
                    if attempts > 1 { logger.notice("connected", metadata: ["server": "\(endpoint)", "attempts": "\(attempts)"]) }
                    return opened
                }
            }
            let needsPassword = opened.map { PQconnectionNeedsPassword($0) == 1 } ?? false
            if let opened { PQfinish(opened) }
            if needsPassword {
                throw PostgresError(.invalidConfiguration, "\(endpoint) asks for a password and the connection string has none")
            }
            let delay = Backoff.delay(afterAttempt: attempts)
            guard clock.now + delay < giveUp else {
                throw PostgresError(
                    .unreachable, "cannot connect to \(endpoint) within \(reconnectFor) (\(attempts) attempts); last: \(cause)")
            }
            logger.notice("reconnecting", metadata: ["server": "\(endpoint)", "attempt": "\(attempts)", "cause": "\(cause)"])
            Backoff.sleep(delay)
        }
    }

    /// LISTENs to every channel on a new connection; the error message when that fails.
    private func listenToChannels(on connection: OpaquePointer) -> String? {
        for channel in channels.sorted() {
            let result = PQexec(connection, "LISTEN \(Self.quoted(channel))")
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_COMMAND_OK else {
                return "LISTEN \(channel): \(String(cString: PQerrorMessage(connection)).trimmingSuffix())"
            }
        }
        return nil
    }

    /// The notifications libpq has read and not yet handed out.
    static func notifications(_ connection: OpaquePointer) -> [PostgresNotification] {
        var notifications: [PostgresNotification] = []
        while let notify = PQnotifies(connection) {
            notifications.append(PostgresNotification(
                channel: String(cString: notify.pointee.relname), payload: String(cString: notify.pointee.extra),
                processID: notify.pointee.be_pid))
            PQfreemem(notify)
        }
        return notifications
    }

    /// An identifier in double quotes, for statements that take no parameters (LISTEN, UNLISTEN).
    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }

    /// Calls `body` with NULL-terminated C string arrays of `keywords` and `values`.
    private static func withCStrings<T>(
        _ keywords: [String], _ values: [String],
        _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> T
    ) -> T {
        let keywordCopies = keywords.map { strdup($0) }
        let valueCopies = values.map { strdup($0) }
        defer { (keywordCopies + valueCopies).forEach { free($0) } }
        let keywordPointers = keywordCopies.map { UnsafePointer($0) } + [nil]
        let valuePointers = valueCopies.map { UnsafePointer($0) } + [nil]
        return keywordPointers.withUnsafeBufferPointer { keywordBuffer in
            valuePointers.withUnsafeBufferPointer { valueBuffer in
                body(keywordBuffer.baseAddress!, valueBuffer.baseAddress!)
            }
        }
    }
}
