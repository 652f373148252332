internal import CSQLiteSession
import GRDB

/// Records the row changes of one transaction on the journaled tables as an
/// SQLite changeset (the session extension), so that they can be replayed
/// elsewhere with `sqlite3changeset_apply`. Only used on the catalog's one
/// connection, which serializes every access, hence unchecked.
final class JournalCapture: @unchecked Sendable {
    private var session: OpaquePointer?

    init(connection: OpaquePointer, tables: [String]) throws {
        var created: OpaquePointer?
        let rc = sqlite3session_create(connection, "main", &created)
        guard rc == SQLITE_OK, let created else {
            throw CatalogError(.journal, "cannot start a journal session (sqlite code \(rc))")
        }
        session = created
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

    /// Applies a changeset captured elsewhere to `connection`, inside the caller's transaction.
    static func apply(_ changeset: [UInt8], to connection: OpaquePointer) throws {
        var bytes = changeset
        let rc = bytes.withUnsafeMutableBytes { raw in
            nx_changeset_apply(connection, Int32(raw.count), raw.baseAddress)
        }
        guard rc == SQLITE_OK else { throw CatalogError(.journal, "cannot apply a journal record (sqlite code \(rc))") }
    }
}
