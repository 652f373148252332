internal import CSQLiteSession
import GRDB

/// Records the row changes of one transaction on the journaled tables as an
/// SQLite changeset (the session extension), so that they can be replayed
/// elsewhere with `sqlite3changeset_apply`. Only used on the catalog's one
/// connection, which serializes every access, hence unchecked.
final class JournalCapture: @unchecked Sendable {
    private var session: OpaquePointer?

    /// A session on `tables`, or on every table but the derived ones (`Catalog.isDerived`) when
    /// `tables` is nil: those are kept by triggers, which re-applying the other tables fires again.
    init(connection: OpaquePointer, tables: [String]?) throws {
        var created: OpaquePointer?
        let rc = sqlite3session_create(connection, "main", &created)
        guard rc == SQLITE_OK, let created else {
            throw CatalogError(.journal, "cannot start a journal session (sqlite code \(rc))")
        }
        session = created
        guard let tables else {
            let arc = sqlite3session_attach(created, nil)
            guard arc == SQLITE_OK else {
                close()
                throw CatalogError(.journal, "cannot start a session on every table (sqlite code \(arc))")
            }
            sqlite3session_table_filter(created, { _, table in
                guard let table else { return 1 }
                return Catalog.isDerived(String(cString: table)) ? 0 : 1
            }, nil)
            return
        }
        for table in tables {
            let arc = sqlite3session_attach(created, table)
            guard arc == SQLITE_OK else {
                close()
                throw CatalogError(.journal, "cannot journal table \(table) (sqlite code \(arc))")
            }
        }
    }

    /// The changes so far; empty when nothing changed.
    func changeset() throws -> [UInt8] {
        guard let session else { return [] }
        var size: Int32 = 0
        var buffer: UnsafeMutableRawPointer?
        let rc = sqlite3session_changeset(session, &size, &buffer)
        defer { sqlite3_free(buffer) }
        guard rc == SQLITE_OK else { throw CatalogError(.journal, "cannot read the journal session (sqlite code \(rc))") }
        guard let buffer, size > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: buffer, count: Int(size)))
    }

    func close() {
        if let session { sqlite3session_delete(session) }
        session = nil
    }

    deinit { close() }

    /// Calls `body` with each change of a changeset: its table, column count, operation
    /// (SQLITE_INSERT, ...) and the iterator, for `sqlite3changeset_new`. False when the
    /// changeset does not parse.
    private static func forEachChange(in changeset: [UInt8],
                                      _ body: (_ table: String, _ columns: Int32, _ operation: Int32, OpaquePointer) -> Void) -> Bool {
        var bytes = changeset
        return bytes.withUnsafeMutableBytes { raw -> Bool in
            var iterator: OpaquePointer?
            guard sqlite3changeset_start(&iterator, Int32(raw.count), raw.baseAddress) == SQLITE_OK, let iterator else { return false }
            defer { sqlite3changeset_finalize(iterator) }
            while sqlite3changeset_next(iterator) == SQLITE_ROW {
                var table: UnsafePointer<CChar>?
                var columns: Int32 = 0
                var operation: Int32 = 0
                var indirect: Int32 = 0
                guard sqlite3changeset_op(iterator, &table, &columns, &operation, &indirect) == SQLITE_OK else { continue }
                body(table.map { String(cString: $0) } ?? "?", columns, operation, iterator)
            }
            return true
        }
    }

    /// The changed rows of a changeset by table, for messages: "nodes: 2 rows, entries: 1 row".
    static func describe(_ changeset: [UInt8]) -> String {
        var tables: [String] = []
        var rows: [String: Int] = [:]
        let parsed = forEachChange(in: changeset) { table, _, _, _ in
            if rows[table] == nil { tables.append(table) }
            rows[table, default: 0] += 1
        }
        guard parsed else { return "\(changeset.count) bytes of changes" }
        return tables.map { "\($0): \(rows[$0]!) \(rows[$0]! == 1 ? "row" : "rows")" }.joined(separator: ", ")
    }

    /// The sequence number and hash of the newest audit entry a changeset inserts (columns 0
    /// and 9 of the `audit` table, as Catalog+Schema creates it).
    static func newestAudit(in changeset: [UInt8]) -> (seq: Int64, hash: [UInt8])? {
        var newest: (seq: Int64, hash: [UInt8])?
        _ = forEachChange(in: changeset) { table, columns, operation, iterator in
            guard table == "audit", operation == SQLITE_INSERT, columns == 10 else { return }
            var seqValue: OpaquePointer?, hashValue: OpaquePointer?
            guard sqlite3changeset_new(iterator, 0, &seqValue) == SQLITE_OK, let seqValue,
                  sqlite3changeset_new(iterator, 9, &hashValue) == SQLITE_OK, let hashValue else { return }
            let seq = sqlite3_value_int64(seqValue)
            guard seq > newest?.seq ?? 0, let blob = sqlite3_value_blob(hashValue) else { return }
            newest = (seq, Array(UnsafeRawBufferPointer(start: blob, count: Int(sqlite3_value_bytes(hashValue)))))
        }
        return newest
    }

    /// The newest time a changeset records, in nanoseconds since 1970: of the audit entries it
    /// adds (every change through a mount or a command is audited), else of its new nodes.
    static func newestTime(in changeset: [UInt8]) -> Int64? {
        var audited: Int64?, created: Int64?
        _ = forEachChange(in: changeset) { table, columns, operation, iterator in
            guard operation == SQLITE_INSERT else { return }
            let column: Int32
            switch (table, columns) {
            case ("audit", 10): column = 1
            case ("nodes", 14): column = 9     // ctime: the root's creation at init has no audit entry
            default: return
            }
            var value: OpaquePointer?
            guard sqlite3changeset_new(iterator, column, &value) == SQLITE_OK, let value,
                  sqlite3_value_type(value) == SQLITE_INTEGER else { return }
            let time = sqlite3_value_int64(value)
            if table == "audit" { audited = max(audited ?? .min, time) } else { created = max(created ?? .min, time) }
        }
        // Audit entries are stamped when the change is made; a version's or node's time may be an
        // imported file's own (its mtime, in the future even), so those count only without audit.
        return audited ?? created
    }

    /// Applies a changeset captured elsewhere to `connection`, inside the caller's transaction.
    static func apply(_ changeset: [UInt8], to connection: OpaquePointer) throws {
        var bytes = changeset
        let rc = bytes.withUnsafeMutableBytes { raw in
            nx_changeset_apply(connection, Int32(raw.count), raw.baseAddress)
        }
        guard rc == SQLITE_OK else { throw CatalogError(.journal, "cannot apply a journal record (sqlite code \(rc))") }
    }
}

/// The sessions of one group transaction: the journaled tables, for the journal record, and
/// every table, to put the group back when SQLite rolls it back at COMMIT (a full disk).
final class GroupCapture: @unchecked Sendable {
    let journal: JournalCapture
    let whole: JournalCapture

    init(connection: OpaquePointer, tables: [String]) throws {
        journal = try JournalCapture(connection: connection, tables: tables)
        do {
            whole = try JournalCapture(connection: connection, tables: nil)
        } catch {
            journal.close()
            throw error
        }
    }

    func close() {
        journal.close()
        whole.close()
    }
}
