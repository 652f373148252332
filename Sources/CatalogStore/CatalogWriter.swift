import Foundation
import NexusTypes

/// Write access inside one catalog transaction; reads see the transaction's own changes.
public struct CatalogWriter {
    let db: any CatalogDatabase
    /// Told of every node, name and attribute this writer changes (see `CatalogCache`).
    let cache: CatalogCache?

    init(db: any CatalogDatabase, cache: CatalogCache? = nil) {
        self.db = db
        self.cache = cache
    }

    /// Reads within this transaction (from the cache, which they never fill).
    public var reader: CatalogReader { CatalogReader(db: db, cache: cache, fills: false) }

    // MARK: Namespace

    /// A fresh inode number, never handed out before in this repository.
    public func allocateInode() throws -> InodeNumber {
        InodeNumber(UInt64(try nextCounter("inode", atLeast: 2)))
    }

    /// A fresh document id.
    public func allocateDocument() throws -> Int64 {
        try nextCounter("document", atLeast: 1)
    }

    private func nextCounter(_ name: String, atLeast minimum: Int64) throws -> Int64 {
        let current = try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM counters WHERE name = ?"), arguments: [name]) ?? minimum
        try db.cachedStatement(sql: "INSERT INTO counters(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value").execute(
                       arguments: [name, current + 1])
        return current
    }

    public func insertNode(_ node: NodeRecord) throws {
        cache?.written(node: node, for: node.inode)
        try db.cachedStatement(sql: "INSERT INTO nodes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)").execute( arguments: node.arguments)
    }

    public func updateNode(_ node: NodeRecord) throws {
        cache?.written(node: node, for: node.inode)
        try db.cachedStatement(sql: Self.replaceNode.sql(for: db.dialect)).execute(arguments: node.arguments)
    }

    static let replaceNode = ReplacingInsert(
        into: "nodes", columns: NodeRecord.columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }, key: ["ino"])
    static let replaceTrash = ReplacingInsert(into: "trash", columns: ["ino", "path", "time", "uid"], key: ["ino"])
    static let replaceXattr = ReplacingInsert(into: "xattrs", columns: ["ino", "name", "value"], key: ["ino", "name"])
    static let replaceMeta = ReplacingInsert(into: "meta", columns: ["key", "value"], key: ["key"])

    /// Puts a node that lost its last name into the trash.
    public func insertTrash(_ record: TrashRecord) throws {
        try db.cachedStatement(sql: Self.replaceTrash.sql(for: db.dialect)).execute(
            arguments: [Int64(bitPattern: record.inode.rawValue), Data(record.path), record.time.totalNanoseconds,
                        Int64(record.uid)])
    }

    /// Deletes a trashed node for good, with its document's versions (a held document is never
    /// in the trash); the space goes at the next prune. Returns the trash record.
    @discardableResult
    public func purge(trashed inode: InodeNumber) throws -> TrashRecord? {
        let record = try reader.trashRecord(of: inode)
        guard let node = try reader.node(inode) else {
            try removeTrash(inode)
            return record
        }
        guard node.linkCount == 0 else {
            try removeTrash(inode)
            return record
        }
        if let document = node.document {
            try db.cachedStatement(sql: "DELETE FROM versions WHERE doc = ?").execute(arguments: [document])
        }
        try deleteNode(inode)
        return record
    }

    /// Takes a node out of the trash (restored, or about to be deleted).
    public func removeTrash(_ inode: InodeNumber) throws {
        try db.cachedStatement(sql: "DELETE FROM trash WHERE ino = ?").execute(arguments: [Int64(bitPattern: inode.rawValue)])
    }

    /// Removes a node with its attributes (and from the trash); its entries must be gone already.
    public func deleteNode(_ inode: InodeNumber) throws {
        let ino = Int64(bitPattern: inode.rawValue)
        try removeTrash(inode)
        cache?.written(node: nil, for: inode)
        cache?.evict(xattrsOf: inode)
        cache?.evict(namesOf: inode)
        try db.cachedStatement(sql: "DELETE FROM xattrs WHERE ino = ?").execute( arguments: [ino])
        try db.cachedStatement(sql: "DELETE FROM nodes WHERE ino = ?").execute( arguments: [ino])
    }

    public func insertEntry(_ entry: EntryRecord) throws {
        cache?.evict(namesOf: entry.inode)
        do {
            try db.cachedStatement(sql: "INSERT INTO entries VALUES (?, ?, ?)").execute(
                           arguments: [Int64(bitPattern: entry.parent.rawValue), Data(entry.name.bytes),
                                       Int64(bitPattern: entry.inode.rawValue)])
        } catch where db.isConstraintViolation(error) {
            throw CatalogError(.alreadyExists, "\(entry.name) already exists in folder \(entry.parent)")
        }
        // Only once it is in: a caller may catch a name that exists and go on.
        cache?.written(entry: entry.inode, named: entry.name, in: entry.parent)
    }

    public func removeEntry(named name: FileName, in parent: InodeNumber) throws {
        if let cache {
            if let inode = try reader.entry(named: name, in: parent) { cache.evict(namesOf: inode) }
            cache.written(entry: nil, named: name, in: parent)
        }
        try db.cachedStatement(sql: "DELETE FROM entries WHERE parent = ? AND name = ?").execute(
                       arguments: [Int64(bitPattern: parent.rawValue), Data(name.bytes)])
    }

    public func setXattr(_ name: [UInt8], to value: [UInt8], on inode: InodeNumber) throws {
        cache?.evict(xattr: name, of: inode)
        try db.cachedStatement(sql: Self.replaceXattr.sql(for: db.dialect)).execute(
                       arguments: [Int64(bitPattern: inode.rawValue), Data(name), Data(value)])
    }

    public func removeXattr(_ name: [UInt8], from inode: InodeNumber) throws {
        cache?.evict(xattr: name, of: inode)
        try db.cachedStatement(sql: "DELETE FROM xattrs WHERE ino = ? AND name = ?").execute(
                       arguments: [Int64(bitPattern: inode.rawValue), Data(name)])
    }

    // MARK: Versions and content

    /// Stores a manifest (see `ManifestEncoding`) with the parts not stored yet; an existing
    /// one with the same id is the same content.
    public func insertManifest(_ manifest: ManifestEncoding) throws {
        guard !manifest.parts.isEmpty else {
            try db.cachedStatement(sql: "INSERT INTO manifests VALUES (?, ?, ?) ON CONFLICT DO NOTHING").execute(
                arguments: [Data(manifest.id.bytes), manifest.size, Data(manifest.row)])
            return
        }
        guard try !reader.hasManifest(manifest.id) else { return }
        for part in manifest.parts where try !reader.hasManifestPart(part.id) {
            try db.cachedStatement(sql: "INSERT INTO manifest_parts VALUES (?, ?)").execute(
                arguments: [Data(part.id.bytes), Data(ContentManifest.encode(part.chunks))])
        }
        try db.cachedStatement(sql: "INSERT INTO manifests VALUES (?, ?, ?)").execute(
            arguments: [Data(manifest.id.bytes), manifest.size, Data(manifest.row)])
    }

    public func insertVersion(_ version: VersionRecord) throws {
        try db.cachedStatement(sql: "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)").execute( arguments: [
            version.document, version.number.rawValue, version.time.totalNanoseconds, Int64(version.author),
            version.size, version.sha256.map { Data($0) }, version.summary, Data(version.manifest.bytes),
        ])
    }

    public func nextVersionNumber(of document: Int64) throws -> VersionNumber {
        VersionNumber((try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(number) FROM versions WHERE doc = ?"), arguments: [document]) ?? 0) + 1)
    }

    // MARK: Chunk index (not journaled)

    /// Records a sealed pack and the blobs it holds.
    public func insertPack(_ name: PackName, length: Int64, blobs: [(id: BlobID, location: ChunkLocation)]) throws {
        try db.cachedStatement(sql: "INSERT INTO packs(name, length, blob_count) VALUES (?, ?, ?) ON CONFLICT DO NOTHING").execute(
                       arguments: [Data(name.bytes), length, blobs.count])
        guard let packID = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM packs WHERE name = ?"), arguments: [Data(name.bytes)]) else {
            throw CatalogError(.sqlite, "pack \(name) vanished while being indexed")
        }
        let statement = db.cachedStatement(sql: "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
        for blob in blobs {
            try statement.execute(arguments: [Data(blob.id.bytes), packID, blob.location.offset,
                                              Int64(blob.location.storedLength), Int64(blob.location.rawLength),
                                              Int64(blob.location.kind), blob.location.compressed ? 1 : 0])
        }
    }

    /// Forgets a pack and the index entries that point into it.
    public func removePack(_ name: PackName) throws {
        guard let packID = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM packs WHERE name = ?"), arguments: [Data(name.bytes)]) else { return }
        try db.cachedStatement(sql: "DELETE FROM chunks WHERE pack = ?").execute( arguments: [packID])
        try db.cachedStatement(sql: "DELETE FROM packs WHERE id = ?").execute( arguments: [packID])
    }

    /// Empties the chunk index, before rebuilding it from the packs.
    public func clearIndex() throws {
        try db.execute(sql: "DELETE FROM chunks; DELETE FROM packs;")
    }

    // MARK: Bookkeeping

    public func setMeta(_ key: String, _ value: Int64) throws {
        // PostgreSQL's meta.value is bytea: an integer is stored as its decimal digits there.
        let stored: CatalogValue = db.dialect == .postgres ? .blob(Data(String(value).utf8)) : .integer(value)
        try db.cachedStatement(sql: Self.replaceMeta.sql(for: db.dialect)).execute(arguments: CatalogArguments([.text(key), stored]))
    }

    public func setMeta(_ key: String, bytes: [UInt8]) throws {
        try db.cachedStatement(sql: Self.replaceMeta.sql(for: db.dialect)).execute(arguments: [key, Data(bytes)])
    }
}
