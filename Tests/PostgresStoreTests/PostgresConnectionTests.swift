import Foundation
import Glibc
import PostgresStore
import Testing

/// The client against a real server: a throwaway PostgreSQL 15 cluster on loopback, one per test.
@Suite("PostgresConnection against PostgreSQL 15")
struct PostgresConnectionTests {
    struct Refusal: Error {}

    @Test func everyValueTypeRoundTripsAsParameterAndColumn() throws {
        let server = try PostgresServer()
        let connection = try PostgresConnection(url: server.url())
        let allBytes = (0...255).map { UInt8($0) }
        let text = "it's \"quoted\", ä, 日本, 🙂"
        let echoed = try connection.execute(
            "SELECT $1 AS i, $2 AS s, $3 AS b, $4 AS t, $5 AS f, $6 AS d, $7::int8 AS n, $8 AS e, $9 AS small",
            [.int64(.min), .string(text), .bytes(allBytes), .bool(true), .bool(false), .double(0.1), .null, .bytes([]), .int64(-1)])
        let row = try #require(echoed.rows.first)
        #expect(echoed.rows.count == 1)
        #expect(echoed.columns.map(\.name) == ["i", "s", "b", "t", "f", "d", "n", "e", "small"])
        #expect(try row.int64(0) == .min)
        #expect(try row.string(1) == text)
        #expect(try row.bytes(2) == allBytes)
        #expect(try row.bool(3) == true)
        #expect(try row.bool(4) == false)
        #expect(try row.double(5) == 0.1)
        #expect(row.isNull(6))
        #expect(!row.isNull(7))
        #expect(try row.bytes(7) == [])
        #expect(try row.int64(8) == -1)
        #expect(throws: PostgresError.self) { try row.int64(6) }
        #expect(throws: PostgresError.self) { try row.int64(1) }

        try connection.execute("CREATE TABLE sample (id bigint PRIMARY KEY, name text, data bytea, flag boolean, ratio double precision)")
        let doubles: [Double] = [.greatestFiniteMagnitude, -.leastNonzeroMagnitude, .infinity, -.infinity, 1.0 / 3.0]
        for (index, ratio) in doubles.enumerated() {
            let inserted = try connection.execute(
                "INSERT INTO sample VALUES ($1, $2, $3, $4, $5)",
                [.int64(Int64(index)), .string("row \(index)"), .bytes(allBytes.reversed()), .bool(index % 2 == 0), .double(ratio)])
            #expect(inserted.affectedRows == 1)
        }
        try connection.execute("INSERT INTO sample VALUES ($1, $2, $3, $4, $5)", [.int64(.max), .null, .null, .null, .double(.nan)])
        let rows = try connection.execute("SELECT id, name, data, flag, ratio FROM sample ORDER BY id").rows
        #expect(try rows.map { try $0.int64(0) } == [0, 1, 2, 3, 4, .max])
        #expect(try rows.prefix(5).map { try $0.double(4) } == doubles)
        #expect(try rows[5].double(4).isNaN)
        #expect(try rows[1].bytes(2) == allBytes.reversed())
        #expect(try rows[1].string(1) == "row 1" && rows[1].bool(3) == false)
        #expect(rows[5].isNull(1) && rows[5].isNull(2) && rows[5].isNull(3))
        let updated = try connection.execute("UPDATE sample SET flag = NOT flag WHERE id < $1", [.int64(3)])
        #expect(updated.affectedRows == 3)
        let selected = try connection.execute("SELECT name AS label FROM sample WHERE name = $1", [.string("row 4")])
        #expect(selected.column(named: "label") == 0 && selected.rows.count == 1)
    }

    @Test func sqlErrorsCarryTheirStateAndLeaveTheConnectionUsable() throws {
        let server = try PostgresServer()
        let connection = try PostgresConnection(url: server.url())
        let missing = #expect(throws: PostgresError.self) { try connection.execute("SELECT * FROM missing") }
        #expect(missing?.code == .sql(.undefinedTable))
        #expect(missing?.message.contains("missing") == true)
        try connection.execute("CREATE TABLE once (key text PRIMARY KEY)")
        try connection.execute("INSERT INTO once VALUES ($1)", [.string("a")])
        let duplicate = #expect(throws: PostgresError.self) { try connection.execute("INSERT INTO once VALUES ($1)", [.string("a")]) }
        #expect(duplicate?.sqlState == .uniqueViolation)
        let nul = #expect(throws: PostgresError.self) { try connection.execute("SELECT $1", [.string("a\u{0}b")]) }
        #expect(nul?.code == .invalidConfiguration)
        #expect(try connection.execute("SELECT count(*) FROM once").rows[0].int64(0) == 1)
        #expect(connection.reconnections == 0)
    }

    @Test func aThrowingBodyRollsBackAndAReturningOneCommits() throws {
        let server = try PostgresServer()
        let connection = try PostgresConnection(url: server.url())
        try connection.execute("CREATE TABLE items (name text)")
        #expect(throws: Refusal.self) {
            try connection.transaction { transaction in
                try transaction.execute("INSERT INTO items VALUES ($1)", [.string("discarded")])
                #expect(try transaction.execute("SELECT count(*) FROM items").rows[0].int64(0) == 1)
                throw Refusal()
            }
        }
        #expect(try connection.execute("SELECT count(*) FROM items").rows[0].int64(0) == 0)
        let count = try connection.transaction(.repeatableRead) { transaction in
            try transaction.execute("INSERT INTO items VALUES ($1), ($2)", [.string("kept"), .string("too")]).affectedRows
        }
        #expect(count == 2)
        #expect(try connection.execute("SELECT count(*) FROM items").rows[0].int64(0) == 2)
        // A failed statement inside the body aborts the transaction; it must be rolled back, not left open.
        #expect(throws: PostgresError.self) {
            try connection.transaction { transaction in
                try transaction.execute("INSERT INTO items VALUES ($1)", [.string("lost")])
                try transaction.execute("SELECT * FROM missing")
            }
        }
        #expect(try connection.execute("SELECT count(*) FROM items").rows[0].int64(0) == 2)
    }

    @Test func aSerializationFailureRunsTheTransactionAgainUntilItCommits() throws {
        let server = try PostgresServer()
        let first = try PostgresConnection(url: server.url())
        let second = try PostgresConnection(url: server.url())
        try first.execute("CREATE TABLE counter (id int PRIMARY KEY, value bigint)")
        try first.execute("INSERT INTO counter VALUES (1, 0)")
        var attempts = 0
        try first.transaction(.serializable) { transaction in
            attempts += 1
            let value = try transaction.execute("SELECT value FROM counter WHERE id = 1").rows[0].int64(0)
            if attempts == 1 {
                // Another session changes the row after this transaction's snapshot: the update below conflicts.
                try second.transaction(.serializable) { other in
                    try other.execute("UPDATE counter SET value = value + 10 WHERE id = 1")
                }
            }
            try transaction.execute("UPDATE counter SET value = $1 WHERE id = 1", [.int64(value + 1)])
        }
        #expect(attempts == 2)
        #expect(try first.execute("SELECT value FROM counter").rows[0].int64(0) == 11)

        // A conflict on every run gives up after maxAttempts with the server's 40001.
        attempts = 0
        let error = #expect(throws: PostgresError.self) {
            try first.transaction(.serializable, maxAttempts: 3) { transaction in
                attempts += 1
                _ = try transaction.execute("SELECT value FROM counter WHERE id = 1")
                try second.execute("UPDATE counter SET value = value + 1 WHERE id = 1")
                try transaction.execute("UPDATE counter SET value = 0 WHERE id = 1")
            }
        }
        #expect(attempts == 3)
        #expect(error?.code == .sql(.serializationFailure))
        #expect(try first.execute("SELECT value FROM counter").rows[0].int64(0) == 14)
    }

    @Test func aConnectionLostBeforeCommitRunsTheTransactionAgainOnANewOne() throws {
        let server = try PostgresServer()
        let connection = try PostgresConnection(url: server.url())
        let administrator = try PostgresConnection(url: server.url())
        try connection.execute("CREATE TABLE log (entry text)")
        var attempts = 0
        try connection.transaction { transaction in
            attempts += 1
            try transaction.execute("INSERT INTO log VALUES ($1)", [.string("attempt \(attempts)")])
            if attempts == 1 {
                let backend = try transaction.execute("SELECT pg_backend_pid()").rows[0].int64(0)
                try administrator.execute("SELECT pg_terminate_backend($1::int, 5000)", [.int64(backend)])
            }
            try transaction.execute("INSERT INTO log VALUES ($1)", [.string("done")])
        }
        #expect(attempts == 2)
        #expect(connection.reconnections == 1)
        let entries = try connection.execute("SELECT entry FROM log ORDER BY entry").rows.map { try $0.string(0) }
        #expect(entries == ["attempt 2", "done"])
    }

    @Test func notificationsArriveWithinTheTimeoutAndATimeoutReturnsNone() throws {
        let server = try PostgresServer()
        let listener = try PostgresConnection(url: server.url())
        let sender = try PostgresConnection(url: server.url())
        let channel = "odd \"channel\""
        try listener.listen(channel)
        try sender.notify(channel, payload: "before")
        let early = try listener.waitForNotifications(timeout: .seconds(10))
        #expect(early.map(\.payload) == ["before"])
        #expect(early.first?.channel == channel)

        let later = Thread {
            usleep(300_000)
            try? sender.notify(channel, payload: "during")
        }
        later.start()
        let clock = ContinuousClock()
        let started = clock.now
        let during = try listener.waitForNotifications(timeout: .seconds(10))
        #expect(during.map(\.payload) == ["during"])
        #expect(clock.now - started < .seconds(5))

        // Committed notifications only, when the transaction commits.
        #expect(throws: Refusal.self) {
            try sender.transaction { transaction in
                try transaction.notify(channel, payload: "rolled back")
                throw Refusal()
            }
        }
        try sender.transaction { transaction in try transaction.notify(channel, payload: "committed") }
        #expect(try listener.waitForNotifications(timeout: .seconds(10)).map(\.payload) == ["committed"])

        let quiet = clock.now
        #expect(try listener.waitForNotifications(timeout: .milliseconds(400)).isEmpty)
        let waited = clock.now - quiet
        #expect(waited >= .milliseconds(400) && waited < .seconds(3), "\(waited)")
    }

    @Test func advisoryLocksExcludeOtherSessions() throws {
        let server = try PostgresServer()
        let first = try PostgresConnection(url: server.url())
        let second = try PostgresConnection(url: server.url())
        #expect(try first.tryAdvisoryLock(42))
        #expect(try second.tryAdvisoryLock(42) == false)
        #expect(try second.tryAdvisoryLock(43))
        #expect(try first.advisoryUnlock(42))
        #expect(try second.tryAdvisoryLock(42))
    }

    @Test func aRestartedServerIsReconnectedToAndListensAreRedone() throws {
        let server = try PostgresServer()
        let connection = try PostgresConnection(url: server.url())
        let sender = try PostgresConnection(url: server.url())
        try connection.execute("CREATE TABLE survivors (n int)")
        try connection.execute("INSERT INTO survivors VALUES (1)")
        try connection.listen("after")
        try server.restart()
        #expect(try connection.execute("SELECT count(*) FROM survivors").rows[0].int64(0) == 1)
        #expect(connection.reconnections == 1)
        try sender.notify("after", payload: "still listening")
        #expect(sender.reconnections == 1)
        #expect(try connection.waitForNotifications(timeout: .seconds(10)).map(\.payload) == ["still listening"])
    }

    @Test func aStoppedServerIsUnreachableAfterTheBudgetNamingTheEndpoint() throws {
        let server = try PostgresServer()
        let connection = try PostgresConnection(url: server.url(password: "hunter2"), reconnectFor: .seconds(2))
        try connection.execute("SELECT 1")
        try server.stop()
        // Within the budget or at once (a loss seen only once the statement was sent is not resent):
        // either way unreachable; no timing is asserted.
        let error = #expect(throws: PostgresError.self) { try connection.execute("SELECT 1") }
        #expect(error?.code == .unreachable)
        #expect(error?.message.contains("postgres://postgres@127.0.0.1:\(server.port)/postgres") == true, "\(String(describing: error))")
        #expect(error.map { !"\($0)".contains("hunter2") } == true)
        #expect(!connection.endpoint.contains("hunter2"))

        try server.start()
        #expect(try connection.execute("SELECT 2").rows[0].int64(0) == 2)
    }

    @Test func anUnparsableConnectionStringIsInvalidConfiguration() throws {
        let error = #expect(throws: PostgresError.self) { try PostgresConnection(url: "host=127.0.0.1 no_such_option=1") }
        #expect(error?.code == .invalidConfiguration)
        let uri = #expect(throws: PostgresError.self) { try PostgresConnection(url: "postgres://[::1") }
        #expect(uri?.code == .invalidConfiguration)
    }
}
