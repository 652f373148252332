import Foundation
import Glibc
import GRDB
import NexusTypes
import Synchronization

/// The catalog database, on one SQLite connection (WAL) that serializes access.
///
/// Changes are staged into a group transaction (`stage`) and committed together
/// (`commitStaged`), like a journaling filesystem's commit: the group's namespace
/// changes go to the journal sink, which makes them durable in the blob store,
/// and only then does SQLite commit. Reads see staged changes. `write` is a
/// stage followed by a commit.
public final class Catalog: Sendable {
    /// Makes one journal record durable; called inside the group transaction, before commit.
    /// When it fails after the record may have become durable, it throws `JournalRecordWritten`.
    public typealias JournalSink = @Sendable (JournalRecord, CatalogWriter) throws -> Void

    public let path: String
    private let queue: DatabaseQueue
    private let journal: JournalSink?
    /// The session of the open group transaction; only touched inside `queue`.
    private let group = Mutex<GroupCapture?>(nil)
    /// The highest sequence the journal sink accepted, or reported durable, in this process.
    /// The next record numbers past it even when that commit failed, because the record is
    /// in the packs anyway: two records must never share a sequence. Only touched inside `queue`.
    private let burned = Mutex<UInt64>(0)
    /// Nodes, names and attributes as SQLite holds them now, staged changes included.
    let cache = CatalogCache()

    /// Opens the catalog at `path`, creating it when `create` is set.
    public init(path: String, create: Bool, journal: JournalSink?) throws {
        if !create && !FileManager.default.fileExists(atPath: path) {
            throw CatalogError(.notFound, "no catalog at \(path)")
        }
        self.path = path
        self.journal = journal
        try Self.restrictAccess(path)
        var config = Configuration()
        config.allowsUnsafeTransactions = true
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            // The journal in the blob store replays anything a power cut loses here.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // A group's pages stay in memory until its COMMIT, so that a full disk fails the COMMIT
            // (where the group is put back, see `commitGroup`) and never a statement halfway through
            // the group, after which SQLite would roll back saves that were reported done.
            try db.execute(sql: "PRAGMA cache_spill = OFF")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
            try Self.migrator().migrate(queue)
            try queue.inDatabase(Self.rebuildSearchIndexIfMarked)
        } catch let error as DatabaseError {
            throw Self.translate(error, "cannot open the catalog \(path)", path: path)
        }
    }

    /// Makes the catalog file readable by its owner only (0600), creating it empty when
    /// missing: it holds names and hashes in plaintext. SQLite gives the -wal and -shm
    /// files it creates the database file's mode; existing ones are fixed here too.
    static func restrictAccess(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fileError("create", path) }
        defer { Glibc.close(fd) }
        guard fchmod(fd, 0o600) == 0 else { throw fileError("chmod", path) }
        for companion in [path + "-wal", path + "-shm"] where chmod(companion, 0o600) != 0 && errno != ENOENT {
            throw fileError("chmod", companion)
        }
    }

    private static func fileError(_ operation: String, _ path: String) -> CatalogError {
        let code = errno
        return CatalogError(code == ENOSPC || code == EDQUOT ? .noSpace : .sqlite,
                            "cannot \(operation) \(path): \(String(cString: strerror(code)))")
    }

    /// Runs `body` on the connection. SQLite's own errors become `CatalogError`s; anything
    /// else `body` throws (a caller's error, the journal sink's) comes back unchanged.
    private func access<T>(_ what: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.inDatabase(body)
        } catch let error as DatabaseError {
            throw Self.translate(error, what, path: path)
        }
    }

    /// A catalog error for an SQLite error, keeping a full disk and a damaged file apart.
    static func translate(_ error: DatabaseError, _ what: String, path: String) -> CatalogError {
        switch error.resultCode {
        case .SQLITE_FULL:
            CatalogError(.noSpace, "\(what): the disk holding the catalog \(path) is full", underlying: error)
        // Creating the -wal or -shm file on a full disk is an I/O error to SQLite (the shared
        // memory file is grown by ftruncate and mapped).
        case .SQLITE_IOERR where diskIsFull(holding: path):
            CatalogError(.noSpace, "\(what): the disk holding the catalog \(path) is full", underlying: error)
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            CatalogError(.corrupt, "\(what): the catalog \(path) is damaged", underlying: error)
        default:
            CatalogError(.sqlite, what, underlying: error)
        }
    }

    /// Whether the filesystem holding `path` has no block left for an unprivileged writer.
    static func diskIsFull(holding path: String) -> Bool {
        var disk = statvfs()
        let folder = (path as NSString).deletingLastPathComponent
        guard statvfs(folder.isEmpty ? "." : folder, &disk) == 0 else { return false }
        return UInt64(disk.f_bavail) * UInt64(disk.f_frsize) < 64 << 10
    }

    /// Runs `body` on the catalog as it is, staged changes included.
    public func read<T>(_ body: (CatalogReader) throws -> T) throws -> T {
        try access("catalog read failed") { db in try body(CatalogReader(db: SQLiteCatalogDatabase(db), cache: cache, fills: true)) }
    }

    /// The node as the catalog holds it, if the cache knows: `.some(nil)` for a known absence,
    /// nil when only a `read` can tell. Takes no turn on the connection, so it never waits
    /// for a commit.
    public func cachedNode(_ inode: InodeNumber) -> NodeRecord?? {
        if case .hit(let node) = cache.node(inode) { return .some(node) }
        return nil
    }

    /// A stored attribute's value, if the cache knows (as `cachedNode`; `.some(nil)`: known absent).
    public func cachedXattr(_ name: [UInt8], of inode: InodeNumber) -> [UInt8]?? {
        if case .hit(let value) = cache.xattr(name, of: inode) { return .some(value) }
        return nil
    }

    /// The inode `name` in `parent` names, if the cache knows (as `cachedNode`).
    public func cachedEntry(named name: FileName, in parent: InodeNumber) -> InodeNumber?? {
        if case .hit(let inode) = cache.entry(name, in: parent) { return .some(inode) }
        return nil
    }

    /// Runs `body` inside the open group transaction (opening one if needed); if `body`
    /// throws, its changes alone are undone.
    public func stage<T>(_ body: (CatalogWriter) throws -> T) throws -> T {
        try access("catalog write failed") { db in
            try openGroup(db)
            try db.execute(sql: "SAVEPOINT op")
            do {
                let result = try body(CatalogWriter(db: SQLiteCatalogDatabase(db), cache: cache))
                try db.execute(sql: "RELEASE op")
                cache.endOperation(rolledBack: false)
                return result
            } catch {
                cache.endOperation(rolledBack: true)
                guard db.isInsideTransaction else {
                    // SQLite rolled the whole group back itself (a full disk, an I/O error): nothing
                    // staged is left, and the cache must not go on showing it.
                    cache.clear()
                    group.withLock { capture in
                        capture?.close()
                        capture = nil
                    }
                    throw error
                }
                try db.execute(sql: "ROLLBACK TO op")
                try db.execute(sql: "RELEASE op")
                throw error
            }
        }
    }

    private func openGroup(_ db: Database) throws {
        try group.withLock { capture in
            guard capture == nil else { return }
            try db.execute(sql: "BEGIN IMMEDIATE")
            capture = try GroupCapture(connection: db.sqliteConnection!, tables: Self.journaledTables)
        }
    }

    /// Whether changes are staged and not yet committed.
    public var hasStagedChanges: Bool { group.withLock { $0 != nil } }

    /// Commits the staged changes: journals them, then commits SQLite. When the journal
    /// cannot be written, nothing is lost: the group stays open and a later commit retries.
    public func commitStaged() throws {
        try access("catalog commit failed") { db in try commitGroup(db) }
    }

    private func commitGroup(_ db: Database) throws {
        guard let capture = group.withLock({ $0 }) else { return }
        let changes = try capture.journal.changeset()
        let writer = CatalogWriter(db: SQLiteCatalogDatabase(db))
        if !changes.isEmpty, let journal {
            let sequence = max(try writer.reader.journalSequence(), burned.withLock { $0 }) + 1
            let record = JournalRecord(sequence: sequence, changeset: changes)
            do {
                try journal(record, writer)
            } catch let error as JournalRecordWritten {
                burned.withLock { $0 = max($0, sequence) }
                throw error.underlying
            }
            burned.withLock { $0 = max($0, sequence) }
            try writer.setMeta("journal_seq", Int64(record.sequence))
        }
        let whole = try capture.whole.changeset()
        do {
            try db.execute(sql: "COMMIT")
        } catch let error as DatabaseError where !db.isInsideTransaction {
            // SQLite rolled the whole group back (a full disk, an I/O error). The saves in it were
            // reported done to their programs: the group is put back as it was, for the next commit.
            cache.clear()
            capture.close()
            group.withLock { $0 = nil }
            do {
                try openGroup(db)
                try JournalCapture.apply(whole, to: db.sqliteConnection!)
            } catch let restoring {
                if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK") }
                group.withLock { capture in
                    capture?.close()
                    capture = nil
                }
                throw CatalogError(Self.translate(error, "", path: path).code,
                                   "catalog commit failed, SQLite rolled back the staged changes "
                                       + "(\(JournalCapture.describe(whole))) and they could not be staged again: \(error)",
                                   underlying: restoring)
            }
            throw Self.translate(error, "catalog commit failed; the staged changes are kept for the next commit", path: path)
        }
        capture.close()
        group.withLock { $0 = nil }
    }

    /// Drops every change staged since the last commit. For a caller whose staged changes
    /// refer to blobs it could not store; closing the catalog never does this silently.
    public func discardStaged() throws {
        try access("cannot discard the staged catalog changes") { db in
            guard let capture = group.withLock({ $0 }) else { return }
            try db.execute(sql: "ROLLBACK")
            cache.clear()
            capture.close()
            group.withLock { $0 = nil }
        }
    }

    /// What the staged group changes, by table, for messages.
    private func stagedDescription() -> String {
        do {
            let changes = try access("cannot read the staged changes") { _ in try group.withLock { $0 }?.journal.changeset() }
            guard let changes, !changes.isEmpty else { return "nothing" }
            return JournalCapture.describe(changes)
        } catch {
            return "not readable: \(error)"
        }
    }

    /// Stages `body` and commits at once.
    public func write<T>(_ body: (CatalogWriter) throws -> T) throws -> T {
        let result = try stage(body)
        try commitStaged()
        return result
    }

    /// Changes the chunk index only (never journaled: it is rebuilt from the packs).
    public func updateIndex<T>(_ body: (CatalogWriter) throws -> T) throws -> T {
        try write(body)
    }

    /// Replays a journal record captured by another catalog; records must come in sequence order.
    /// Returns false, changing nothing, for a record at or below the current sequence.
    @discardableResult
    public func apply(_ record: JournalRecord) throws -> Bool {
        try commitStaged()
        return try access("cannot replay journal record \(record.sequence)") { db in
            // Inside the connection's turn, so no read fills the cache with what the replay changes.
            defer { cache.clear() }
            var applied = false
            try db.inTransaction(.immediate) {
                let current = try CatalogReader(db: SQLiteCatalogDatabase(db)).journalSequence()
                guard record.sequence > current else { return .rollback }
                try JournalCapture.apply(record.changeset, to: db.sqliteConnection!)
                try CatalogWriter(db: SQLiteCatalogDatabase(db)).setMeta("journal_seq", Int64(record.sequence))
                applied = true
                return .commit
            }
            return applied
        }
    }

    /// Writes a consistent copy of the committed catalog, without its chunk index, to
    /// `destination` (a checkpoint), and returns the journal sequence it holds.
    public func snapshot(to destination: String) throws -> UInt64 {
        try? FileManager.default.removeItem(atPath: destination)
        // VACUUM INTO accepts an empty file, so the copy is private from the start.
        try Self.restrictAccess(destination)
        let sequence = try access("cannot write a catalog snapshot to \(destination)") { db in
            // Commit in the same access, or another thread may stage (open a transaction) before the VACUUM.
            try commitGroup(db)
            let sequence = try CatalogReader(db: SQLiteCatalogDatabase(db)).journalSequence()
            try db.execute(sql: "VACUUM INTO ?", arguments: [destination])
            return sequence
        }
        do {
            let copy = try DatabaseQueue(path: destination)
            try copy.writeWithoutTransaction { db in
                try db.execute(sql: "DELETE FROM chunks; DELETE FROM packs")
                try Self.dropSearchIndex(db)
                try db.execute(sql: "VACUUM")
            }
            try copy.close()
        } catch let error as DatabaseError {
            throw Self.translate(error, "cannot write a catalog snapshot to \(destination)", path: destination)
        }
        return sequence
    }

    /// Commits what is staged, checkpoints the WAL into the database file and closes it,
    /// leaving one self-contained file. When the staged changes cannot be committed, it
    /// throws an error naming them and leaves the catalog open with them still staged.
    public func close() throws {
        if hasStagedChanges {
            do {
                try commitStaged()
            } catch {
                let code = (error as? CatalogError)?.code ?? .journal
                throw CatalogError(code, "cannot close the catalog \(path): its staged changes (\(stagedDescription())) "
                                       + "could not be committed and are still staged", underlying: error)
            }
        }
        try access("cannot close the catalog \(path)") { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        do { try queue.close() } catch let error as DatabaseError {
            throw Self.translate(error, "cannot close the catalog \(path)", path: path)
        }
    }
}
