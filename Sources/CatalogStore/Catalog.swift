import Foundation
import GRDB
import NexusTypes

/// The catalog database: one writer at a time, concurrent readers (SQLite WAL).
///
/// Every write transaction that changes the namespace hands its changes to the
/// journal sink before it commits; the sink makes them durable in the blob
/// store, so the blob store alone can rebuild the catalog.
public final class Catalog: Sendable {
    /// Makes one journal record durable; called inside the write transaction, before commit.
    public typealias JournalSink = @Sendable (JournalRecord, CatalogWriter) throws -> Void

    public let path: String
    private let pool: DatabasePool
    private let journal: JournalSink?

    /// Opens the catalog at `path`, creating it when `create` is set.
    public init(path: String, create: Bool, journal: JournalSink?) throws {
        if !create && !FileManager.default.fileExists(atPath: path) {
            throw CatalogError(.notFound, "no catalog at \(path)")
        }
        self.path = path
        self.journal = journal
        var config = Configuration()
        config.prepareDatabase { db in
            // The journal in the blob store replays anything a power cut loses here.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Self.migrator().migrate(pool)
        } catch let error as CatalogError {
            throw error
        } catch {
            throw CatalogError(.sqlite, "cannot open the catalog \(path)", underlying: error)
        }
    }

    /// Runs `body` on a consistent snapshot.
    public func read<T>(_ body: (CatalogReader) throws -> T) throws -> T {
        do {
            return try pool.read { db in try body(CatalogReader(db: db)) }
        } catch let error as CatalogError {
            throw error
        } catch {
            throw CatalogError(.sqlite, "catalog read failed", underlying: error)
        }
    }

    /// Runs `body` in one write transaction; its namespace changes are journaled
    /// before the commit, and nothing is committed if `body` or the journal throws.
    public func write<T>(_ body: (CatalogWriter) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    let capture = try JournalCapture(connection: db.sqliteConnection!, tables: Self.journaledTables)
                    defer { capture.close() }
                    result = try body(CatalogWriter(db: db))
                    let changes = try capture.changeset()
                    if !changes.isEmpty, let journal {
                        let reader = CatalogReader(db: db)
                        let record = JournalRecord(sequence: try reader.journalSequence() + 1, changeset: changes)
                        try journal(record, CatalogWriter(db: db))
                        try CatalogWriter(db: db).setMeta("journal_seq", Int64(record.sequence))
                    }
                    return .commit
                }
                return result!
            }
        } catch let error as CatalogError {
            throw error
        } catch {
            throw CatalogError(.sqlite, "catalog write failed", underlying: error)
        }
    }

    /// Replays a journal record captured by another catalog; records must come in sequence order.
    /// Returns false, changing nothing, for a record at or below the current sequence.
    @discardableResult
    public func apply(_ record: JournalRecord) throws -> Bool {
        do {
            return try pool.writeWithoutTransaction { db in
                var applied = false
                try db.inTransaction(.immediate) {
                    let current = try CatalogReader(db: db).journalSequence()
                    guard record.sequence > current else { return .rollback }
                    try JournalCapture.apply(record.changeset, to: db.sqliteConnection!)
                    try CatalogWriter(db: db).setMeta("journal_seq", Int64(record.sequence))
                    applied = true
                    return .commit
                }
                return applied
            }
        } catch let error as CatalogError {
            throw error
        } catch {
            throw CatalogError(.sqlite, "cannot replay journal record \(record.sequence)", underlying: error)
        }
    }

    /// Changes the chunk index only (never journaled: it is rebuilt from the packs).
    public func updateIndex<T>(_ body: (CatalogWriter) throws -> T) throws -> T {
        do {
            return try pool.write { db in try body(CatalogWriter(db: db)) }
        } catch let error as CatalogError {
            throw error
        } catch {
            throw CatalogError(.sqlite, "catalog index update failed", underlying: error)
        }
    }

    /// Writes a consistent copy of the catalog, without its chunk index, to
    /// `destination` (a checkpoint), and returns the journal sequence it holds.
    public func snapshot(to destination: String) throws -> UInt64 {
        try? FileManager.default.removeItem(atPath: destination)
        do {
            let sequence = try pool.writeWithoutTransaction { db in
                let sequence = try CatalogReader(db: db).journalSequence()
                try db.execute(sql: "VACUUM INTO ?", arguments: [destination])
                return sequence
            }
            let copy = try DatabaseQueue(path: destination)
            try copy.writeWithoutTransaction { db in
                try db.execute(sql: "DELETE FROM chunks; DELETE FROM packs; VACUUM")
            }
            try copy.close()
            return sequence
        } catch {
            throw CatalogError(.sqlite, "cannot write a catalog snapshot to \(destination)", underlying: error)
        }
    }

    /// Checkpoints the WAL into the database file and closes it, leaving one self-contained file.
    public func close() throws {
        do {
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            try pool.close()
        } catch {
            throw CatalogError(.sqlite, "cannot close the catalog \(path)", underlying: error)
        }
    }
}
