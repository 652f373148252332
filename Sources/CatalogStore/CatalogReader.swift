import Foundation
import CryptoCore
import NexusTypes

/// Read access to the catalog inside one transaction or snapshot.
public struct CatalogReader {
    let db: any CatalogDatabase
    /// The catalog's cache: consulted by node, entry and xattr lookups, and filled by them
    /// when `fills` is set (reads outside a staged operation; see `CatalogCache`).
    let cache: CatalogCache?
    let fills: Bool

    init(db: any CatalogDatabase, cache: CatalogCache? = nil, fills: Bool = false) {
        self.db = db
        self.cache = cache
        self.fills = fills
    }

    // MARK: Namespace

    public func node(_ inode: InodeNumber) throws -> NodeRecord? {
        if case .hit(let node)? = cache?.node(inode) { return node }
        let node = try CatalogRow.fetchOne(db.cachedStatement(sql: "SELECT \(NodeRecord.columns) FROM nodes WHERE ino = ?"),
                                    arguments: [Int64(bitPattern: inode.rawValue)]).map { try NodeRecord(row: $0) }
        if fills { cache?.store(node: node, for: inode) }
        return node
    }

    public func entry(named name: FileName, in parent: InodeNumber) throws -> InodeNumber? {
        if case .hit(let inode)? = cache?.entry(name, in: parent) { return inode }
        let inode = try Int64.fetchOne(db.cachedStatement(sql: "SELECT ino FROM entries WHERE parent = ? AND name = ?"),
                                       arguments: [Int64(bitPattern: parent.rawValue), Data(name.bytes)])
            .map { InodeNumber(UInt64(bitPattern: $0)) }
        if fills { cache?.store(entry: inode, named: name, in: parent) }
        return inode
    }

    /// The entries of a folder with their nodes, in name-byte order (one query, for listings).
    public func entriesWithNodes(in parent: InodeNumber) throws -> [(entry: EntryRecord, node: NodeRecord)] {
        let columns = NodeRecord.columns.split(separator: ",").map { "nodes." + $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: ", ")
        return try CatalogRow.fetchAll(db.cachedStatement(sql: """
            SELECT entries.name AS entry_name, \(columns) FROM entries JOIN nodes ON nodes.ino = entries.ino
            WHERE entries.parent = ? ORDER BY entries.name
            """), arguments: [Int64(bitPattern: parent.rawValue)]).map { row in
            let node = try NodeRecord(row: row, offset: 1)
            guard let name = FileName(bytes: [UInt8](row[0] as Data)) else {
                throw CatalogError(.corrupt, "an entry of folder \(parent) has an invalid name")
            }
            if fills {
                cache?.store(node: node, for: node.inode)
                cache?.store(entry: node.inode, named: name, in: parent)
            }
            return (EntryRecord(parent: parent, name: name, inode: node.inode), node)
        }
    }

    /// The entries of a folder in name-byte order, starting after `name` when given.
    public func entries(in parent: InodeNumber, after name: FileName? = nil, limit: Int = -1) throws -> [EntryRecord] {
        // No LIMIT for a negative limit: PostgreSQL takes none below 0.
        let bounded = limit >= 0 ? " LIMIT ?" : ""
        var arguments: CatalogArguments = [Int64(bitPattern: parent.rawValue)]
        if let name { arguments += [Data(name.bytes)] }
        if limit >= 0 { arguments += [limit] }
        let rows = try CatalogRow.fetchAll(db.cachedStatement(
            sql: "SELECT * FROM entries WHERE parent = ?" + (name == nil ? "" : " AND name > ?") + " ORDER BY name" + bounded),
            arguments: arguments)
        return try rows.map(EntryRecord.init(row:))
    }

    /// Every name under which `inode` appears (several for hard links).
    public func names(of inode: InodeNumber) throws -> [EntryRecord] {
        if let names = cache?.names(of: inode) { return names }
        let names = try CatalogRow.fetchAll(db.cachedStatement(sql: "SELECT * FROM entries WHERE ino = ? ORDER BY parent, name"),
                                     arguments: [Int64(bitPattern: inode.rawValue)]).map(EntryRecord.init(row:))
        cache?.store(names: names, of: inode, inOperation: !fills)
        return names
    }

    /// The first of `inode`'s names in `names(of:)`'s order, without listing them all (a file
    /// can have 65,000 hard links).
    public func firstName(of inode: InodeNumber) throws -> EntryRecord? {
        if let names = cache?.names(of: inode) { return names.first }
        return try CatalogRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM entries WHERE ino = ? ORDER BY parent, name LIMIT 1"),
                                arguments: [Int64(bitPattern: inode.rawValue)]).map(EntryRecord.init(row:))
    }

    /// Follows `path` from the root without resolving symlinks.
    public func resolve(_ path: RepositoryPath) throws -> InodeNumber? {
        var current = InodeNumber.root
        for component in path.components {
            guard let next = try entry(named: component, in: current) else { return nil }
            current = next
        }
        return current
    }

    /// One path of `inode` from the root, for messages; nil for an unlinked node.
    public func path(of inode: InodeNumber) throws -> RepositoryPath? {
        var components: [FileName] = []
        var current = inode
        var seen = Set<InodeNumber>()
        while current != .root {
            guard seen.insert(current).inserted, let link = try firstName(of: current) else { return nil }
            components.append(link.name)
            current = link.parent
        }
        return RepositoryPath(components: components.reversed())
    }

    public func xattrs(of inode: InodeNumber) throws -> [(name: [UInt8], value: [UInt8])] {
        try CatalogRow.fetchAll(db.cachedStatement(sql: "SELECT name, value FROM xattrs WHERE ino = ? ORDER BY name"),
                         arguments: [Int64(bitPattern: inode.rawValue)])
            .map { (name: [UInt8]($0["name"] as Data), value: [UInt8]($0["value"] as Data)) }
    }

    /// What `inode`'s attributes take: the bytes of their names (with a NUL each, as listxattr
    /// lists them) and of their values, without reading the values.
    public func xattrUsage(of inode: InodeNumber) throws -> (listBytes: Int, valueBytes: Int) {
        let row = try CatalogRow.fetchOne(db.cachedStatement(
            sql: "SELECT coalesce(sum(length(name) + 1), 0) AS names, coalesce(sum(length(value)), 0) AS bytes FROM xattrs WHERE ino = ?"),
            arguments: [Int64(bitPattern: inode.rawValue)])
        return (listBytes: row?["names"] ?? 0, valueBytes: row?["bytes"] ?? 0)
    }

    // MARK: Versions and content

    public func versions(of document: Int64) throws -> [VersionRecord] {
        try CatalogRow.fetchAll(db.cachedStatement(sql: "SELECT * FROM versions WHERE doc = ? ORDER BY number"), arguments: [document])
            .map(VersionRecord.init(row:))
    }

    public func manifest(_ id: ManifestID) throws -> ContentManifest? {
        guard let data = try Data.fetchOne(db.cachedStatement(sql: "SELECT chunks FROM manifests WHERE id = ?"), arguments: [Data(id.bytes)])
        else { return nil }
        return try manifest(stored: [UInt8](data), id: id)
    }

    /// A manifest from its `manifests` row: its chunks, or the chunks of the parts it lists.
    /// The stored bytes are checked against the id (their SHA-256): the catalog is not authenticated,
    /// and a damaged manifest row would otherwise serve other chunks, or holes, as the content.
    private func manifest(stored row: [UInt8], id: ManifestID) throws -> ContentManifest {
        guard SHA256Hasher.hash(row) == id.bytes else {
            throw CatalogError(.corrupt, "manifest \(id) is damaged in the catalog (its bytes do not hash to its id)")
        }
        guard let parts = try ManifestEncoding.partList(row) else { return try ContentManifest(encoded: row) }
        var chunks: [ContentManifest.Chunk] = []
        chunks.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for part in parts {
            guard let data = try Data.fetchOne(db.cachedStatement(sql: "SELECT chunks FROM manifest_parts WHERE id = ?"),
                                               arguments: [Data(part.id.bytes)]) else {
                throw CatalogError(.corrupt, "part \(part.id) of manifest \(id) is missing")
            }
            guard SHA256Hasher.hash([UInt8](data)) == part.id.bytes else {
                throw CatalogError(.corrupt, "part \(part.id) of manifest \(id) is damaged in the catalog (its bytes do not hash to its id)")
            }
            let decoded = try ContentManifest.decode([UInt8](data))
            guard decoded.count == part.count else {
                throw CatalogError(.corrupt, "part \(part.id) of manifest \(id) has \(decoded.count) chunks, not \(part.count)")
            }
            chunks += decoded
        }
        return ContentManifest(chunks: chunks)
    }

    public func hasManifest(_ id: ManifestID) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM manifests WHERE id = ?"), arguments: [Data(id.bytes)]) ?? false
    }

    func hasManifestPart(_ id: ManifestID) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM manifest_parts WHERE id = ?"), arguments: [Data(id.bytes)]) ?? false
    }

    /// Every manifest with its id, for integrity checks and garbage collection.
    public func forEachManifest(_ body: (ManifestID, ContentManifest) throws -> Void) throws {
        let cursor = try CatalogRow.fetchCursor(db, sql: "SELECT id, chunks FROM manifests")
        while let row = try cursor.next() {
            guard let id = ManifestID(bytes: [UInt8](row["id"] as Data)) else {
                throw CatalogError(.corrupt, "manifest with an id of the wrong length")
            }
            try body(id, try manifest(stored: [UInt8](row["chunks"] as Data), id: id))
        }
    }

    /// Parts that no manifest lists any more.
    public func unreferencedManifestParts() throws -> [ManifestID] {
        var listed = Set<ManifestID>()
        for data in try Data.fetchAll(db, sql: "SELECT chunks FROM manifests") {
            for part in try ManifestEncoding.partList([UInt8](data)) ?? [] { listed.insert(part.id) }
        }
        return try Data.fetchAll(db, sql: "SELECT id FROM manifest_parts")
            .compactMap { ManifestID(bytes: [UInt8]($0)) }
            .filter { !listed.contains($0) }
    }

    /// Nodes and versions that refer to `manifest`.
    public func users(of manifest: ManifestID) throws -> (nodes: [InodeNumber], versions: [(document: Int64, number: VersionNumber)]) {
        let nodes = try Int64.fetchAll(db.cachedStatement(sql: "SELECT ino FROM nodes WHERE manifest = ?"), arguments: [Data(manifest.bytes)])
            .map { InodeNumber(UInt64(bitPattern: $0)) }
        let versions = try CatalogRow.fetchAll(db.cachedStatement(sql: "SELECT doc, number FROM versions WHERE manifest = ?"), arguments: [Data(manifest.bytes)])
            .map { (document: $0["doc"] as Int64, number: VersionNumber($0["number"] as Int64)) }
        return (nodes, versions)
    }

    /// A node currently holding `document`, to name a document in messages.
    public func node(ofDocument document: Int64) throws -> InodeNumber? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT ino FROM nodes WHERE doc = ? LIMIT 1"), arguments: [document])
            .map { InodeNumber(UInt64(bitPattern: $0)) }
    }

    // MARK: Chunk index

    public func location(of blob: BlobID) throws -> ChunkLocation? {
        try CatalogRow.fetchOne(db.cachedStatement(sql: """
            SELECT packs.name AS pack, "offset", stored_length, raw_length, kind, flags
            FROM chunks JOIN packs ON packs.id = chunks.pack WHERE chunks.id = ?
            """), arguments: [Data(blob.bytes)]).map(ChunkLocation.init(row:))
    }

    public func containsBlob(_ blob: BlobID) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM chunks WHERE id = ?)"), arguments: [Data(blob.bytes)]) ?? false
    }

    public func packs() throws -> [(name: PackName, length: Int64, blobCount: Int)] {
        try CatalogRow.fetchAll(db.cachedStatement(sql: "SELECT name, length, blob_count FROM packs ORDER BY name")).compactMap { row in
            guard let name = PackName(bytes: [UInt8](row["name"] as Data)) else { return nil }
            return (name, row["length"], row["blob_count"])
        }
    }

    public func blobs(inPack pack: PackName) throws -> [(id: BlobID, location: ChunkLocation)] {
        try CatalogRow.fetchAll(db, sql: """
            SELECT chunks.id AS id, packs.name AS pack, "offset", stored_length, raw_length, kind, flags
            FROM chunks JOIN packs ON packs.id = chunks.pack WHERE packs.name = ? ORDER BY "offset"
            """, arguments: [Data(pack.bytes)]).map { row in
            (BlobID(bytes: [UInt8](row["id"] as Data))!, try ChunkLocation(row: row))
        }
    }

    // MARK: Bookkeeping

    /// The sequence number of the last journal record this catalog contains.
    public func journalSequence() throws -> UInt64 {
        UInt64(try meta("journal_seq") ?? 0)
    }

    public func meta(_ key: String) throws -> Int64? {
        guard let row = try CatalogRow.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = ?"), arguments: [key])
        else { return nil }
        switch row.value(at: 0) {
        case .null: return nil
        case .integer(let value): return value
        // PostgreSQL's meta.value is bytea: an integer is its decimal digits (see `setMeta`).
        case .blob(let digits) where db.dialect == .postgres:
            guard let value = Int64(String(decoding: digits, as: UTF8.self)) else { fallthrough }
            return value
        default: throw CatalogError(.corrupt, "the catalog's \(key) is not a number")
        }
    }

    public func metaBytes(_ key: String) throws -> [UInt8]? {
        try Data.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = ?"), arguments: [key]).map { [UInt8]($0) }
    }

    /// The bytes of every indexed pack: what the repository's content takes on its disk.
    public func packBytes() throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT coalesce(sum(length), 0) FROM packs")) ?? 0
    }

    /// What SQLite's `integrity_check` finds wrong with the catalog file (empty when it is sound):
    /// pages a damaged block zeroed, broken B-trees, indexes that disagree with their tables.
    public func integrityProblems(limit: Int = 10) throws -> [String] {
        // PostgreSQL checks its own pages; the FTS5 index exists on SQLite only.
        guard db.dialect == .sqlite else { return [] }
        var found = try String.fetchAll(db, sql: "PRAGMA integrity_check(\(limit))")
        if found == ["ok"] { found = [] }
        // The search index against the text it indexes (FTS5's own check; `recover` rebuilds it).
        do {
            try db.execute(sql: "INSERT INTO search_index(search_index, rank) VALUES ('integrity-check', 1)")
        } catch where db.isCorruption(error) {
            found.append("the search index does not match the indexed text (run recover to rebuild it)")
        }
        return found
    }

    public func statistics() throws -> CatalogStatistics {
        let row = try CatalogRow.fetchOne(db, sql: """
            SELECT
              (SELECT count(*) FROM nodes WHERE kind = \(NodeKind.regular.rawValue)) AS documents,
              (SELECT count(*) FROM nodes WHERE kind = \(NodeKind.directory.rawValue)) AS folders,
              (SELECT count(*) FROM versions) AS versions,
              (SELECT coalesce(sum(size), 0) FROM versions) AS version_bytes,
              (SELECT coalesce(sum(size), 0) FROM nodes WHERE kind = \(NodeKind.regular.rawValue)) AS current_bytes,
              (SELECT coalesce(sum(length), 0) FROM packs) AS pack_bytes,
              (SELECT count(*) FROM packs) AS packs,
              (SELECT count(*) FROM chunks WHERE kind = 0) AS chunks,
              (SELECT coalesce(sum(raw_length), 0) FROM chunks WHERE kind = 0) AS chunk_raw_bytes,
              (SELECT coalesce(sum(stored_length), 0) FROM chunks WHERE kind = 0) AS chunk_stored_bytes
            """)!
        return CatalogStatistics(
            documents: row["documents"], folders: row["folders"], versions: row["versions"],
            versionBytes: row["version_bytes"], currentBytes: row["current_bytes"],
            packBytes: row["pack_bytes"], packs: row["packs"], chunks: row["chunks"],
            chunkRawBytes: row["chunk_raw_bytes"], chunkStoredBytes: row["chunk_stored_bytes"])
    }
}

/// Counts and byte totals over the whole catalog.
public struct CatalogStatistics: Sendable, Equatable {
    public var documents: Int
    public var folders: Int
    public var versions: Int
    /// Sum of the sizes of all versions.
    public var versionBytes: Int64
    /// Sum of the current sizes of all documents.
    public var currentBytes: Int64
    public var packBytes: Int64
    public var packs: Int
    /// Content chunks (not journal or checkpoint blobs).
    public var chunks: Int
    /// Unique content chunk bytes before compression.
    public var chunkRawBytes: Int64
    /// Unique chunk bytes as stored (compressed, framed, encrypted).
    public var chunkStoredBytes: Int64
}
