import CatalogStore
import Foundation
import NexusTypes
import Synchronization
import Testing

/// A catalog in a fresh directory under /var/tmp, removed afterwards.
final class TemporaryCatalog {
    /// The journal records the catalog handed to its sink.
    final class RecordLog: Sendable {
        let records = Mutex<[JournalRecord]>([])
        /// While set, the sink fails as a full disk would.
        let failing = Mutex(false)
        /// While set, the sink keeps the record, then fails as if indexing its pack failed.
        let failingAfterWriting = Mutex(false)
    }

    let directory: String
    let catalog: Catalog
    let log = RecordLog()

    init() throws {
        directory = "/var/tmp/nexusfs-catalog-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let log = self.log
        catalog = try Catalog(path: directory + "/catalog.db", create: true, journal: { record, _ in
            if log.failing.withLock({ $0 }) { throw CatalogError(.journal, "the disk is full") }
            log.records.withLock { $0.append(record) }
            if log.failingAfterWriting.withLock({ $0 }) {
                throw JournalRecordWritten(underlying: CatalogError(.journal, "the pack could not be indexed"))
            }
        })
    }

    deinit {
        try? catalog.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

func node(_ inode: UInt64, _ kind: NodeKind = .regular, document: Int64? = nil) -> NodeRecord {
    let t = FileTime(seconds: -86_400 * 365, nanoseconds: 123_456_789)
    return NodeRecord(inode: InodeNumber(inode), kind: kind, permissions: 0o644, uid: 1000, gid: 1000,
                      accessTime: t, modificationTime: t, changeTime: t, document: document)
}

let oddName = FileName(bytes: [0x66, 0xff, 0x0a, 0x67])!

@Suite("Catalog journal")
struct CatalogJournalTests {
    @Test("replaying the journal of one catalog into an empty one gives the same namespace")
    func replayReproducesNamespace() throws {
        let source = try TemporaryCatalog()
        try source.catalog.write { w in
            try w.insertNode(node(1, .directory))
            try w.insertNode(node(7, document: 3))
            try w.insertEntry(EntryRecord(parent: .root, name: oddName, inode: InodeNumber(7)))
            try w.setXattr(Array("user.xdg.tags".utf8), to: Array("a,b".utf8), on: InodeNumber(7))
        }
        try source.catalog.write { w in
            let manifest = ContentManifest(chunks: [.init(id: BlobID(bytes: [UInt8](repeating: 9, count: 32))!, length: 5)])
            let encoding = ManifestEncoding(manifest)
            let id = encoding.id
            try w.insertManifest(encoding)
            try w.insertVersion(VersionRecord(document: 3, number: VersionNumber(1), time: .init(seconds: 5, nanoseconds: 1),
                                              author: 1000, size: 5, sha256: [UInt8](repeating: 2, count: 32), manifest: id))
            try w.removeXattr(Array("user.xdg.tags".utf8), from: InodeNumber(7))
        }
        let records = source.log.records.withLock { $0 }
        #expect(records.map(\.sequence) == [1, 2])

        let copy = try TemporaryCatalog()
        for record in records { #expect(try copy.catalog.apply(record)) }
        try copy.catalog.read { (r: CatalogReader) throws in
            #expect(try r.node(InodeNumber(7)) == node(7, document: 3))
            #expect(try r.entry(named: oddName, in: .root) == InodeNumber(7))
            #expect(try r.xattrs(of: InodeNumber(7)).isEmpty)
            #expect(try r.versions(of: 3).map(\.number) == [VersionNumber(1)])
            #expect(try r.journalSequence() == 2)
        }
        // A record already applied changes nothing.
        #expect(try copy.catalog.apply(records[0]) == false)
    }

    @Test("a journal that cannot be written commits nothing and loses nothing: the next commit carries it")
    func failingJournalKeepsTheGroup() throws {
        let temp = try TemporaryCatalog()
        temp.log.failing.withLock { $0 = true }
        #expect(throws: CatalogError.self) {
            try temp.catalog.write { w in try w.insertNode(node(5)) }
        }
        #expect(temp.catalog.hasStagedChanges)
        #expect(try temp.catalog.read { try $0.journalSequence() } == 0)
        temp.log.failing.withLock { $0 = false }
        try temp.catalog.commitStaged()
        let records = temp.log.records.withLock { $0 }
        // Nothing was written, so the sequence is not used up: no gap for replay to stop at.
        #expect(records.map(\.sequence) == [1])
        let copy = try TemporaryCatalog()
        try copy.catalog.apply(records[0])
        #expect(try copy.catalog.read { try $0.node(InodeNumber(5)) } != nil)
    }

    @Test("a record that reached the journal keeps its sequence even though the commit failed; replaying it and then its superset gives the superset state")
    func writtenRecordIsNeverRenumbered() throws {
        let temp = try TemporaryCatalog()
        var changed = node(40)
        try temp.catalog.write { w in
            try w.insertNode(node(40))
            try w.insertNode(node(41))
        }
        temp.log.failingAfterWriting.withLock { $0 = true }
        #expect(throws: CatalogError.self) {
            try temp.catalog.write { w in
                try w.insertNode(node(42))
                changed.permissions = 0o600
                try w.updateNode(changed)
                try w.deleteNode(InodeNumber(41))
            }
        }
        temp.log.failingAfterWriting.withLock { $0 = false }
        try temp.catalog.write { w in
            try w.insertNode(node(43))
            changed.uid = 4242
            try w.updateNode(changed)
        }
        let records = temp.log.records.withLock { $0 }
        #expect(records.map(\.sequence) == [1, 2, 3])
        #expect(try temp.catalog.read { try $0.journalSequence() } == 3)

        // Record 2 is a subset of record 3 (the same group, retried with more in it).
        let copy = try TemporaryCatalog()
        for record in records { #expect(try copy.catalog.apply(record)) }
        try copy.catalog.read { (r: CatalogReader) throws in
            #expect(try r.node(InodeNumber(40)) == changed)
            #expect(try r.node(InodeNumber(41)) == nil)
            #expect(try r.node(InodeNumber(42)) != nil)
            #expect(try r.node(InodeNumber(43)) != nil)
            #expect(try r.journalSequence() == 3)
        }
    }

    @Test("a staged operation that fails is undone alone, and never reaches the journal")
    func failedStageIsUndone() throws {
        let temp = try TemporaryCatalog()
        try temp.catalog.stage { w in try w.insertNode(node(20)) }
        #expect(throws: CatalogError.self) {
            try temp.catalog.stage { w in
                try w.insertNode(node(21))
                try w.setXattr(Array("user.a".utf8), to: [1], on: InodeNumber(20))
                throw CatalogError(.notFound, "changed my mind")
            }
        }
        try temp.catalog.stage { w in try w.insertNode(node(22)) }
        try temp.catalog.commitStaged()
        let copy = try TemporaryCatalog()
        for record in temp.log.records.withLock({ $0 }) { try copy.catalog.apply(record) }
        try copy.catalog.read { (r: CatalogReader) throws in
            #expect(try r.node(InodeNumber(20)) != nil)
            #expect(try r.node(InodeNumber(21)) == nil)
            #expect(try r.xattrs(of: InodeNumber(20)).isEmpty)
            #expect(try r.node(InodeNumber(22)) != nil)
        }
    }

    @Test("an error a transaction body or the journal throws comes back unchanged; SQLite's own become CatalogErrors")
    func foreignErrorsPassThrough() throws {
        struct Refusal: Error, Equatable { var reason: String }
        let temp = try TemporaryCatalog()
        #expect(throws: Refusal(reason: "stage")) { try temp.catalog.stage { _ in throw Refusal(reason: "stage") } }
        #expect(throws: Refusal(reason: "read")) { try temp.catalog.read { _ in throw Refusal(reason: "read") } }
        try temp.catalog.write { w in try w.insertNode(node(30)) }
        let duplicate = #expect(throws: CatalogError.self) { try temp.catalog.write { w in try w.insertNode(node(30)) } }
        #expect(duplicate?.code == .sqlite)

        let sinkFails = try Catalog(path: temp.directory + "/other.db", create: true, journal: { _, _ in
            throw Refusal(reason: "journal")
        })
        defer { try? sinkFails.close() }
        #expect(throws: Refusal(reason: "journal")) { try sinkFails.write { w in try w.insertNode(node(31)) } }
    }

    @Test("closing commits what is staged, through the journal")
    func closeCommitsStaged() throws {
        let temp = try TemporaryCatalog()
        try temp.catalog.stage { w in try w.insertNode(node(50)) }
        try temp.catalog.close()
        #expect(temp.log.records.withLock { $0.map(\.sequence) } == [1])
        let reopened = try Catalog(path: temp.catalog.path, create: false, journal: nil)
        defer { try? reopened.close() }
        #expect(try reopened.read { try $0.node(InodeNumber(50)) } != nil)
        #expect(try reopened.read { try $0.journalSequence() } == 1)
    }

    @Test("a staged group that cannot be committed makes close fail, naming it, and stays staged")
    func closeRefusesToDropStaged() throws {
        let temp = try TemporaryCatalog()
        temp.log.failing.withLock { $0 = true }
        try temp.catalog.stage { w in
            try w.insertNode(node(51))
            try w.setXattr(Array("user.a".utf8), to: [1], on: InodeNumber(51))
        }
        let error = #expect(throws: CatalogError.self) { try temp.catalog.close() }
        #expect(error?.message.contains("nodes: 1 row, xattrs: 1 row") == true, "\(String(describing: error))")
        #expect(temp.catalog.hasStagedChanges)
        temp.log.failing.withLock { $0 = false }
        try temp.catalog.close()
        let reopened = try Catalog(path: temp.catalog.path, create: false, journal: nil)
        defer { try? reopened.close() }
        #expect(try reopened.read { try $0.node(InodeNumber(51)) } != nil)
    }

    @Test("the catalog, its -wal and -shm files and its snapshots are private to their owner (0600)")
    func catalogFilesArePrivate() throws {
        func mode(_ path: String) throws -> Int {
            try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        }
        let temp = try TemporaryCatalog()
        try temp.catalog.write { w in try w.insertNode(node(60)) }
        let path = temp.catalog.path
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(try mode(file) == 0o600, "\(file)")
        }
        let image = temp.directory + "/snapshot.db"
        _ = try temp.catalog.snapshot(to: image)
        #expect(try mode(image) == 0o600)

        // A catalog made readable by an older build is made private again when opened.
        try temp.catalog.close()
        chmod(path, 0o644)
        let reopened = try Catalog(path: path, create: false, journal: nil)
        defer { try? reopened.close() }
        #expect(try mode(path) == 0o600)
    }

    @Test("chunk index changes are not journaled")
    func indexIsNotJournaled() throws {
        let temp = try TemporaryCatalog()
        let pack = PackName(bytes: [UInt8](repeating: 4, count: 16))!
        let blob = BlobID(bytes: [UInt8](repeating: 5, count: 32))!
        try temp.catalog.write { w in
            try w.insertPack(pack, length: 100, blobs: [(blob, ChunkLocation(pack: pack, offset: 24, storedLength: 60,
                                                                             rawLength: 10, kind: 0, compressed: true))])
        }
        #expect(temp.log.records.withLock { $0.isEmpty })
        let location = try temp.catalog.read { try $0.location(of: blob) }
        #expect(location?.compressed == true)
        #expect(location?.offset == 24)
    }

    @Test("entries list in byte order and survive names that are not UTF-8")
    func entriesInByteOrder() throws {
        let temp = try TemporaryCatalog()
        let names = [[0x62], [0xff, 0x01], [0x61, 0x0a], Array(repeating: 0x7a, count: 255)].map { FileName(bytes: $0)! }
        try temp.catalog.write { w in
            for (i, name) in names.enumerated() {
                try w.insertNode(node(UInt64(10 + i)))
                try w.insertEntry(EntryRecord(parent: .root, name: name, inode: InodeNumber(UInt64(10 + i))))
            }
        }
        let listed = try temp.catalog.read { try $0.entries(in: .root) }.map(\.name)
        #expect(listed == names.sorted())
        let afterFirst = try temp.catalog.read { try $0.entries(in: .root, after: listed[0], limit: 2) }.map(\.name)
        #expect(afterFirst == Array(listed[1...2]))
        #expect(throws: CatalogError.self) {
            try temp.catalog.write { w in try w.insertEntry(EntryRecord(parent: .root, name: names[0], inode: InodeNumber(99))) }
        }
    }

    @Test("a snapshot holds the namespace and the journal sequence but no chunk index")
    func snapshotWithoutIndex() throws {
        let temp = try TemporaryCatalog()
        let pack = PackName(bytes: [UInt8](repeating: 4, count: 16))!
        try temp.catalog.write { w in
            try w.insertNode(node(3))
            try w.insertPack(pack, length: 1, blobs: [])
        }
        let image = temp.directory + "/snapshot.db"
        #expect(try temp.catalog.snapshot(to: image) == 1)
        let restored = try Catalog(path: image, create: false, journal: nil)
        defer { try? restored.close() }
        try restored.read { (r: CatalogReader) throws in
            #expect(try r.node(InodeNumber(3)) != nil)
            #expect(try r.packs().isEmpty)
            #expect(try r.journalSequence() == 1)
        }
    }

    @Test("inode and document counters never hand out a number twice")
    func countersAreMonotonic() throws {
        let temp = try TemporaryCatalog()
        let first = try temp.catalog.write { w in [try w.allocateInode(), try w.allocateInode()] }
        let second = try temp.catalog.write { w in try w.allocateInode() }
        #expect(first == [InodeNumber(2), InodeNumber(3)])
        #expect(second == InodeNumber(4))
        #expect(try temp.catalog.write { try $0.allocateDocument() } == 1)
    }
}
