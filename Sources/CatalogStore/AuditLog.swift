import CryptoCore
import Foundation
import NexusTypes

/// The hash chain of the audit log.
///
/// Entry `seq`'s hash is HMAC-SHA256(key, previous hash || encoding), where the previous
/// hash is entry `seq - 1`'s (32 zero bytes for entry 1) and the encoding is, big-endian:
/// seq (8 bytes), time in ns (8), uid (4), action, inode (flag byte 0 or 1, then 8 bytes when 1),
/// path, before, after (each optional: flag byte, then the field when 1), outcome; every text
/// or byte field as a 4-byte length then its bytes (text as UTF-8). Editing a column breaks the
/// entry's hash, removing an entry leaves a gap, and moving one breaks the chain; only the key's
/// holder can write a chain that verifies. Removing the newest entries leaves a shorter chain
/// that verifies on its own; the journal records in the blob store hold them (each record's
/// changeset anchors the head: `JournalRecord.newestAuditEntry`), so the repository's
/// `verifyAudit` finds the cut, and `recover` brings them back.
public enum AuditLog {
    static let hashLength = 32

    static func hash(of entry: AuditEntry, after previous: [UInt8], key: SymmetricKey) -> [UInt8] {
        var message = previous
        let event = entry.event
        message.appendBigEndian(UInt64(bitPattern: entry.seq))
        message.appendBigEndian(UInt64(bitPattern: event.time.totalNanoseconds))
        message.appendBigEndian(event.uid)
        message.appendField(Array(event.action.utf8))
        if let inode = event.inode {
            message.append(1)
            message.appendBigEndian(inode.rawValue)
        } else {
            message.append(0)
        }
        message.appendField(event.path)
        for text in [event.before, event.after] {
            if let text {
                message.append(1)
                message.appendField(Array(text.utf8))
            } else {
                message.append(0)
            }
        }
        message.appendField(Array(event.outcome.rawValue.utf8))
        return HMACSHA256.authenticationCode(for: message, key: key)
    }

    /// The first damage in the stored log, or nil for an intact chain. Streams the rows; only
    /// after a mismatch does it read them all again, to tell a moved entry from an edited one.
    static func firstDamage(in db: any CatalogDatabase, key: SymmetricKey) throws -> AuditDamage? {
        var previous = [UInt8](repeating: 0, count: hashLength)
        var expected: Int64 = 1
        var broken = false
        var stored: AuditEntry?
        let rows = try CatalogRow.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY seq")
        while let row = try rows.next() {
            let seq: Int64 = row["seq"]
            let entry = try? AuditEntry(row: row)
            guard seq == expected else {
                return seq > expected ? AuditDamage(seq: expected, problem: .removed(next: seq), entry: nil)
                                      : AuditDamage(seq: seq, problem: .edited, entry: entry)
            }
            guard let entry, constantTimeEquals(hash(of: entry, after: previous, key: key), entry.hash) else {
                (broken, stored) = (true, entry)
                break
            }
            previous = entry.hash
            expected += 1
        }
        guard broken else { return nil }
        // Another row may hold the entry that belongs here, moved with its hash.
        let candidates = try CatalogRow.fetchCursor(db, sql: "SELECT * FROM audit WHERE seq != ?", arguments: [expected])
        while let row = try candidates.next() {
            guard var moved = try? AuditEntry(row: row) else { continue }
            let storedAt = moved.seq
            moved.seq = expected
            if constantTimeEquals(hash(of: moved, after: previous, key: key), moved.hash) {
                return AuditDamage(seq: expected, problem: .reordered(storedAt: storedAt), entry: stored)
            }
        }
        return AuditDamage(seq: expected, problem: .edited, entry: stored)
    }
}

extension CatalogWriter {
    /// Appends `event` to the audit log as the entry after the last one, chained under `key`.
    @discardableResult
    public func appendAudit(_ event: AuditEvent, key: SymmetricKey) throws -> AuditEntry {
        let last = try CatalogRow.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"))
        let previous = last.map { [UInt8]($0["hash"] as Data) } ?? [UInt8](repeating: 0, count: AuditLog.hashLength)
        var entry = AuditEntry(seq: (last?["seq"] as Int64? ?? 0) + 1, event: event, hash: [])
        entry.hash = AuditLog.hash(of: entry, after: previous, key: key)
        try db.cachedStatement(sql: "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").execute(arguments: [
            entry.seq, event.time.totalNanoseconds, Int64(event.uid), event.action,
            event.inode.map { Int64(bitPattern: $0.rawValue) }, Data(event.path), event.before, event.after,
            event.outcome.rawValue, Data(entry.hash),
        ])
        return entry
    }
}

extension CatalogReader {
    /// The audit entries `filter` selects, oldest first. Throws `.corrupt` for a row whose
    /// columns no longer decode; `verifyAudit` names it.
    public func auditEntries(_ filter: AuditFilter = AuditFilter()) throws -> [AuditEntry] {
        var conditions: [String] = []
        var arguments: CatalogArguments = []
        if let path = filter.path, !path.isRoot {
            conditions.append("(path = ? OR substr(path, 1, ?) = ?)")
            let below = path.bytes + [UInt8(ascii: "/")]
            arguments += [Data(path.bytes), below.count, Data(below)]
        }
        if let uid = filter.uid {
            conditions.append("uid = ?")
            arguments += [Int64(uid)]
        }
        if let since = filter.since {
            conditions.append("time >= ?")
            arguments += [since.totalNanoseconds]
        }
        let condition = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try CatalogRow.fetchAll(db, sql: "SELECT * FROM audit" + condition + " ORDER BY seq", arguments: arguments)
            .map(AuditEntry.init(row:))
    }

    /// The sequence number of the newest stored audit entry.
    public func newestAuditSeq() throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT max(seq) FROM audit")
    }

    /// The number of stored audit entries.
    public func auditCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM audit") ?? 0
    }

    /// Checks the whole chain under `key`: nil when intact, else the first damaged entry.
    public func verifyAudit(key: SymmetricKey) throws -> AuditDamage? {
        try AuditLog.firstDamage(in: db, key: key)
    }
}

extension AuditEntry {
    /// Decodes a stored row strictly: a column of another type than was written is damage.
    init(row: CatalogRow) throws {
        let seq: Int64 = try row.decode(forColumn: "seq")
        func damaged(_ column: String) -> CatalogError {
            CatalogError(.corrupt, "audit entry \(seq) has a damaged \(column) column")
        }
        func integer(_ column: String) throws -> Int64? {
            switch try row.value(named: column) {
            case .null: nil
            case .integer(let value): value
            default: throw damaged(column)
            }
        }
        func text(_ column: String) throws -> String? {
            switch try row.value(named: column) {
            case .null: nil
            case .text(let value): value
            default: throw damaged(column)
            }
        }
        func bytes(_ column: String) throws -> [UInt8] {
            guard case .blob(let value) = try row.value(named: column) else { throw damaged(column) }
            return [UInt8](value)
        }
        guard let time = try integer("time") else { throw damaged("time") }
        guard let uid = try integer("uid").flatMap(UInt32.init(exactly:)) else { throw damaged("uid") }
        guard let action = try text("action") else { throw damaged("action") }
        guard let outcome = try text("outcome").flatMap(AuditOutcome.init(rawValue:)) else { throw damaged("outcome") }
        let event = AuditEvent(time: FileTime(totalNanoseconds: time), uid: uid, action: action,
                               inode: try integer("inode").map { InodeNumber(UInt64(bitPattern: $0)) },
                               path: try bytes("path"), before: try text("before"), after: try text("after"),
                               outcome: outcome)
        self.init(seq: seq, event: event, hash: try bytes("hash"))
    }
}

extension [UInt8] {
    fileprivate mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    fileprivate mutating func appendField(_ bytes: [UInt8]) {
        appendBigEndian(UInt32(truncatingIfNeeded: bytes.count))
        append(contentsOf: bytes)
    }
}
