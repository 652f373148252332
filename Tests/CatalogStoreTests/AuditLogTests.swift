@testable import CatalogStore
import CryptoCore
import Foundation
import GRDB
import NexusTypes
import Testing

private let key = SymmetricKey(bytes: [UInt8](repeating: 0x5a, count: 32))

/// Five entries of every shape: with and without inode, before/after, refused, a non-UTF-8 path.
private let events: [AuditEvent] = [
    AuditEvent(time: FileTime(seconds: 1_000, nanoseconds: 1), uid: 1000, action: "create", inode: InodeNumber(2),
               path: Array("/a".utf8)),
    AuditEvent(time: FileTime(seconds: 2_000, nanoseconds: 0), uid: 1001, action: "write", inode: InodeNumber(3),
               path: Array("/a/b.txt".utf8)),
    AuditEvent(time: FileTime(seconds: 3_000, nanoseconds: 5), uid: 1000, action: "status", inode: InodeNumber(3),
               path: Array("/a/b.txt".utf8), before: "draft", after: "review"),
    AuditEvent(time: FileTime(seconds: 4_000, nanoseconds: 0), uid: 1002, action: "unlink", path: Array("/ab".utf8),
               outcome: .refused),
    AuditEvent(time: FileTime(seconds: 5_000, nanoseconds: 0), uid: 1001, action: "grant", inode: InodeNumber(4),
               path: [0x2f, 0x66, 0xff], before: nil, after: "bob:edit"),
]

/// A catalog holding `events`, and the entries appended.
private func filledCatalog() throws -> (TemporaryCatalog, [AuditEntry]) {
    let temp = try TemporaryCatalog()
    let entries = try temp.catalog.write { w in try events.map { try w.appendAudit($0, key: key) } }
    return (temp, entries)
}

/// Changes the catalog behind its back, on a connection of its own, as someone with the file would.
private func tamper(_ temp: TemporaryCatalog, _ sql: String) throws {
    let queue = try DatabaseQueue(path: temp.catalog.path)
    try queue.write { try $0.execute(sql: sql) }
    try queue.close()
}

@Suite("Audit log")
struct AuditLogTests {
    @Test("entries are numbered from 1, read back as appended, and filtered by path, user and time")
    func appendAndList() throws {
        let (temp, entries) = try filledCatalog()
        #expect(entries.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(entries.map(\.event) == events)
        try temp.catalog.read { (r: CatalogReader) throws in
            #expect(try r.auditEntries() == entries)
            #expect(try r.auditCount() == 5)
            #expect(try r.verifyAudit(key: key) == nil)
            #expect(try r.auditEntries(AuditFilter(path: RepositoryPath("/a"))).map(\.seq) == [1, 2, 3])
            #expect(try r.auditEntries(AuditFilter(path: RepositoryPath("/a/b.txt"))).map(\.seq) == [2, 3])
            #expect(try r.auditEntries(AuditFilter(path: .root)).count == 5)
            #expect(try r.auditEntries(AuditFilter(uid: 1001)).map(\.seq) == [2, 5])
            #expect(try r.auditEntries(AuditFilter(since: FileTime(seconds: 3_000, nanoseconds: 5))).map(\.seq) == [3, 4, 5])
            #expect(try r.auditEntries(AuditFilter(path: RepositoryPath("/a"), uid: 1000,
                                                   since: FileTime(seconds: 1_000, nanoseconds: 2))).map(\.seq) == [3])
        }
        // The chain continues across transactions.
        let sixth = try temp.catalog.write { w in try w.appendAudit(events[0], key: key) }
        #expect(sixth.seq == 6)
        #expect(try temp.catalog.read { try $0.verifyAudit(key: key) } == nil)
    }

    @Test("another key does not verify the chain")
    func wrongKey() throws {
        let (temp, _) = try filledCatalog()
        let other = SymmetricKey(bytes: [UInt8](repeating: 0x5b, count: 32))
        #expect(try temp.catalog.read { try $0.verifyAudit(key: other) }?.seq == 1)
    }

    @Test("an edited column is named with its entry", arguments: [
        "UPDATE audit SET action = 'read' WHERE seq = 3",
        "UPDATE audit SET path = CAST('/a/b.txu' AS BLOB) WHERE seq = 3",
        "UPDATE audit SET time = time + 1 WHERE seq = 3",
        "UPDATE audit SET uid = 0 WHERE seq = 3",
        "UPDATE audit SET inode = NULL WHERE seq = 3",
        "UPDATE audit SET before = NULL WHERE seq = 3",
        "UPDATE audit SET after = 'approved' WHERE seq = 3",
        "UPDATE audit SET outcome = 'refused' WHERE seq = 3",
        "UPDATE audit SET hash = zeroblob(32) WHERE seq = 3",
        "UPDATE audit SET path = 'text, not bytes' WHERE seq = 3",
    ])
    func editedEntry(sql: String) throws {
        let (temp, entries) = try filledCatalog()
        try tamper(temp, sql)
        let damage = try #require(try temp.catalog.read { try $0.verifyAudit(key: key) })
        #expect(damage.seq == 3)
        #expect(damage.problem == .edited)
        // The stored row is still shown, unless a column holds another type than was written.
        #expect((damage.entry == nil) == sql.contains("text, not bytes"))
        #expect(damage.entry.map { $0.seq == 3 && $0 != entries[2] } ?? true)
    }

    @Test("a removed entry leaves a gap that names it")
    func removedEntry() throws {
        var (temp, _) = try filledCatalog()
        try tamper(temp, "DELETE FROM audit WHERE seq = 3")
        #expect(try temp.catalog.read { try $0.verifyAudit(key: key) } == AuditDamage(seq: 3, problem: .removed(next: 4), entry: nil))

        (temp, _) = try filledCatalog()
        try tamper(temp, "DELETE FROM audit WHERE seq IN (1, 2)")
        let damage = try temp.catalog.read { try $0.verifyAudit(key: key) }
        #expect(damage == AuditDamage(seq: 1, problem: .removed(next: 3), entry: nil))
        #expect(damage?.description == "audit entries 1 to 2 were removed")
    }

    @Test("a removed entry whose successors were renumbered to close the gap is still found")
    func renumberedAfterRemoval() throws {
        let (temp, _) = try filledCatalog()
        try tamper(temp, "DELETE FROM audit WHERE seq = 2; UPDATE audit SET seq = seq - 1 WHERE seq > 2")
        let damage = try #require(try temp.catalog.read { try $0.verifyAudit(key: key) })
        #expect(damage.seq == 2)
        #expect(damage.problem == .edited)
    }

    @Test("swapped entries are reported as reordered at the first of them", arguments: [(2, 4), (3, 4)])
    func swappedEntries(first: Int, second: Int) throws {
        let (temp, entries) = try filledCatalog()
        let columns = "time, uid, action, inode, path, before, after, outcome, hash"
        try tamper(temp, """
            CREATE TEMP TABLE saved AS SELECT * FROM audit WHERE seq IN (\(first), \(second));
            UPDATE audit SET (\(columns)) = (SELECT \(columns) FROM saved WHERE saved.seq = \(second)) WHERE seq = \(first);
            UPDATE audit SET (\(columns)) = (SELECT \(columns) FROM saved WHERE saved.seq = \(first)) WHERE seq = \(second);
            """)
        let damage = try #require(try temp.catalog.read { try $0.verifyAudit(key: key) })
        #expect(damage.seq == Int64(first))
        #expect(damage.problem == .reordered(storedAt: Int64(second)))
        #expect(damage.entry?.event == entries[second - 1].event)
    }

    @Test("audit entries and comments are journaled: a replay reproduces a chain that verifies")
    func journaled() throws {
        let (source, entries) = try filledCatalog()
        let comment = try source.catalog.write { w in
            try w.addComment(inode: InodeNumber(3), uid: 1000, time: FileTime(seconds: 9, nanoseconds: 9), text: "looks good\nship it")
        }
        let copy = try TemporaryCatalog()
        for record in source.log.records.withLock({ $0 }) { try copy.catalog.apply(record) }
        try copy.catalog.read { (r: CatalogReader) throws in
            #expect(try r.auditEntries() == entries)
            #expect(try r.verifyAudit(key: key) == nil)
            #expect(try r.comments(of: InodeNumber(3)) == [comment])
        }
    }

    @Test("comments list oldest first per node, and outlive the node")
    func comments() throws {
        let temp = try TemporaryCatalog()
        let t = FileTime(seconds: 100, nanoseconds: 0)
        try temp.catalog.write { w in
            try w.insertNode(node(7))
            try w.addComment(inode: InodeNumber(7), uid: 1000, time: t, text: "first")
            try w.addComment(inode: InodeNumber(8), uid: 1000, time: t, text: "elsewhere")
            try w.addComment(inode: InodeNumber(7), uid: 1001, time: t, text: "second")
        }
        try temp.catalog.write { w in try w.deleteNode(InodeNumber(7)) }
        let comments = try temp.catalog.read { try $0.comments(of: InodeNumber(7)) }
        #expect(comments.map(\.text) == ["first", "second"])
        #expect(comments.map(\.uid) == [1000, 1001])
        #expect(comments[0].id < comments[1].id)
    }

    @Test("a catalog from before the audit log gains its tables when opened")
    func migratesOldCatalog() throws {
        let directory = "/var/tmp/nexusfs-catalog-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/catalog.db"
        let old = try DatabaseQueue(path: path)
        try Catalog.migrator().migrate(old, upTo: "v1")
        try old.write { try $0.execute(sql: "INSERT INTO counters VALUES ('inode', 9)") }
        try old.close()

        let catalog = try Catalog(path: path, create: false, journal: nil)
        defer { try? catalog.close() }
        try catalog.write { w in
            #expect(try w.allocateInode() == InodeNumber(9))
            try w.appendAudit(events[0], key: key)
            try w.addComment(inode: InodeNumber(2), uid: 0, time: FileTime(seconds: 1, nanoseconds: 0), text: "hi")
        }
        #expect(try catalog.read { try $0.verifyAudit(key: key) } == nil)
    }
}
