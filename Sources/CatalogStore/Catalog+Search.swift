import Foundation
import GRDB
import NexusTypes

/// One document as the full-text index holds it: its extracted text and its DMS fields as
/// words. Kept in `search_text` (journaled, so a recovered or past catalog has it) and indexed
/// by the FTS5 table `search_index`, which triggers keep equal to it.
public struct SearchDocument: Sendable, Equatable {
    public var inode: InodeNumber
    /// The content the text was extracted from; nil for an empty document.
    public var manifest: [UInt8]?
    /// The MIME type libmagic gave the content.
    public var mime: String
    public var name: String
    public var tags: String
    public var description: String
    /// Custom fields (`user.nexus.meta.KEY`), one `KEY: VALUE` a line.
    public var fields: String
    public var status: String
    /// The user names of the owner and of the last version's author.
    public var author: String
    public var body: String
    /// Why there is no (or only part of the) text: an unsupported type, a damaged file...
    public var note: String?

    public init(inode: InodeNumber, manifest: [UInt8]?, mime: String, name: String, tags: String, description: String,
                fields: String, status: String, author: String, body: String, note: String?) {
        self.inode = inode
        self.manifest = manifest
        self.mime = mime
        self.name = name
        self.tags = tags
        self.description = description
        self.fields = fields
        self.status = status
        self.author = author
        self.body = body
        self.note = note
    }
}

/// A document a full-text query matched, best first.
public struct SearchMatch: Sendable, Equatable {
    public var inode: InodeNumber
    /// FTS5's bm25 with the column weights of `Catalog.searchWeights`: lower is better.
    public var rank: Double
    /// Some words around the matches in the text, matches in [brackets].
    public var snippet: String
}

extension Catalog {
    /// The FTS columns and their bm25 weights: a word in the name counts most, then tags,
    /// the description, fields, status and author, then the text.
    static let searchColumns: [(name: String, weight: Double)] = [
        ("name", 10), ("tags", 6), ("description", 4), ("fields", 3), ("status", 2), ("author", 2), ("body", 1),
    ]

    /// Attributes whose change makes a document's index entry stale (`user.nexus.meta.*` too).
    static let indexedAttributes = ["user.xdg.tags", "user.xdg.comment", "user.nexus.status"]
    static let fieldPrefix = "user.nexus.meta."

    private static func hex(_ text: String) -> String {
        "x'" + text.utf8.map { String(format: "%02x", $0) }.joined() + "'"
    }

    static var searchSchema: String {
        let columns = searchColumns.map(\.name)
        let list = columns.joined(separator: ", ")
        let new = columns.map { "new.\($0)" }.joined(separator: ", ")
        let old = columns.map { "old.\($0)" }.joined(separator: ", ")
        let regular = NodeKind.regular.rawValue
        let attribute = { (row: String) in
            "(\(row).name IN (\(indexedAttributes.map(hex).joined(separator: ", "))) "
                + "OR substr(\(row).name, 1, \(fieldPrefix.utf8.count)) = \(hex(fieldPrefix)))"
        }
        return """
            CREATE TABLE search_text (
                ino INTEGER PRIMARY KEY NOT NULL,
                manifest BLOB,
                mime TEXT NOT NULL,
                name TEXT NOT NULL,
                tags TEXT NOT NULL,
                description TEXT NOT NULL,
                fields TEXT NOT NULL,
                status TEXT NOT NULL,
                author TEXT NOT NULL,
                body TEXT NOT NULL,
                note TEXT
            );
            CREATE VIRTUAL TABLE search_index USING fts5(\(list), content='search_text', content_rowid='ino',
                tokenize='unicode61 remove_diacritics 2');
            CREATE TRIGGER search_text_added AFTER INSERT ON search_text BEGIN
                INSERT INTO search_index(rowid, \(list)) VALUES (new.ino, \(new));
            END;
            CREATE TRIGGER search_text_removed AFTER DELETE ON search_text BEGIN
                INSERT INTO search_index(search_index, rowid, \(list)) VALUES ('delete', old.ino, \(old));
            END;
            CREATE TRIGGER search_text_changed AFTER UPDATE ON search_text BEGIN
                INSERT INTO search_index(search_index, rowid, \(list)) VALUES ('delete', old.ino, \(old));
                INSERT INTO search_index(rowid, \(list)) VALUES (new.ino, \(new));
            END;
            CREATE TABLE search_queue (ino INTEGER PRIMARY KEY NOT NULL);
            CREATE TRIGGER search_node_added AFTER INSERT ON nodes WHEN new.kind = \(regular) BEGIN
                INSERT OR IGNORE INTO search_queue VALUES (new.ino);
            END;
            CREATE TRIGGER search_node_changed AFTER UPDATE ON nodes
                WHEN new.kind = \(regular) AND (new.manifest IS NOT old.manifest OR new.nlink IS NOT old.nlink
                    OR new.uid IS NOT old.uid) BEGIN
                INSERT OR IGNORE INTO search_queue VALUES (new.ino);
            END;
            CREATE TRIGGER search_node_removed AFTER DELETE ON nodes WHEN old.kind = \(regular) BEGIN
                INSERT OR IGNORE INTO search_queue VALUES (old.ino);
            END;
            CREATE TRIGGER search_name_added AFTER INSERT ON entries BEGIN
                INSERT OR IGNORE INTO search_queue SELECT new.ino FROM nodes WHERE ino = new.ino AND kind = \(regular);
            END;
            CREATE TRIGGER search_name_removed AFTER DELETE ON entries BEGIN
                INSERT OR IGNORE INTO search_queue SELECT old.ino FROM nodes WHERE ino = old.ino AND kind = \(regular);
            END;
            CREATE TRIGGER search_field_added AFTER INSERT ON xattrs WHEN \(attribute("new")) BEGIN
                INSERT OR IGNORE INTO search_queue VALUES (new.ino);
            END;
            CREATE TRIGGER search_field_changed AFTER UPDATE ON xattrs WHEN \(attribute("new")) BEGIN
                INSERT OR IGNORE INTO search_queue VALUES (new.ino);
            END;
            CREATE TRIGGER search_field_removed AFTER DELETE ON xattrs WHEN \(attribute("old")) BEGIN
                INSERT OR IGNORE INTO search_queue VALUES (old.ino);
            END;
            """
    }

    /// A snapshot holds `search_text` but not its index (that would store the text twice): the
    /// copy is marked so that the catalog made from it rebuilds the index when it is opened.
    static func dropSearchIndex(_ db: Database) throws {
        try db.execute(sql: "INSERT INTO search_index(search_index) VALUES ('delete-all')")
        try db.execute(sql: "DELETE FROM search_queue")
        try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('search_index', 'rebuild')")
    }

    /// Rebuilds the index of a catalog made from a snapshot (see `dropSearchIndex`).
    static func rebuildSearchIndexIfMarked(_ db: Database) throws {
        guard try Row.fetchOne(db, sql: "SELECT 1 FROM meta WHERE key = 'search_index'") != nil else { return }
        try db.inTransaction {
            try db.execute(sql: "INSERT INTO search_index(search_index) VALUES ('rebuild')")
            try db.execute(sql: "DELETE FROM meta WHERE key = 'search_index'")
            return .commit
        }
    }
}

extension CatalogReader {
    /// Up to `limit` nodes the indexer is to look at, lowest inode first.
    public func searchQueue(limit: Int) throws -> [InodeNumber] {
        try Int64.fetchAll(db.cachedStatement(sql: "SELECT ino FROM search_queue ORDER BY ino LIMIT ?"), arguments: [limit])
            .map { InodeNumber(UInt64(bitPattern: $0)) }
    }

    /// How many nodes wait for the indexer.
    public func searchQueueLength() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM search_queue") ?? 0
    }

    /// The index entry of a node, if it has one.
    public func searchDocument(_ inode: InodeNumber) throws -> SearchDocument? {
        try CatalogRow.fetchOne(db.cachedStatement(sql: """
            SELECT manifest, mime, name, tags, description, fields, status, author, body, note FROM search_text WHERE ino = ?
            """), arguments: [Int64(bitPattern: inode.rawValue)]).map { row in
            SearchDocument(inode: inode, manifest: (row[0] as Data?).map { [UInt8]($0) }, mime: row[1], name: row[2], tags: row[3],
                           description: row[4], fields: row[5], status: row[6], author: row[7], body: row[8], note: row[9])
        }
    }

    /// The manifest a node's index entry was made from: `.some(nil)` for an empty document's
    /// entry, nil when the node has none.
    public func indexedManifest(_ inode: InodeNumber) throws -> [UInt8]?? {
        guard let row = try CatalogRow.fetchOne(db.cachedStatement(sql: "SELECT manifest FROM search_text WHERE ino = ?"),
                                         arguments: [Int64(bitPattern: inode.rawValue)]) else { return nil }
        return .some((row[0] as Data?).map { [UInt8]($0) })
    }

    /// The documents matching an FTS5 expression (see `SearchQuery`), best first, with a
    /// snippet each. FTS5 sorts by `rank` itself, so that the snippets are made for the rows
    /// returned only (a join or an ORDER BY of SQLite's would make one for every match).
    public func search(matching expression: String, limit: Int, offset: Int = 0) throws -> [SearchMatch] {
        let weights = Catalog.searchColumns.map { String($0.weight) }.joined(separator: ", ")
        let body = Catalog.searchColumns.firstIndex { $0.name == "body" }!
        do {
            return try CatalogRow.fetchAll(db.cachedStatement(sql: """
                SELECT rowid, rank, snippet(search_index, \(body), '[', ']', '…', 24) FROM search_index
                WHERE search_index MATCH ? AND rank MATCH 'bm25(\(weights))' ORDER BY rank LIMIT ? OFFSET ?
                """), arguments: [expression, limit, offset]).map { row in
                SearchMatch(inode: InodeNumber(UInt64(bitPattern: row[0])), rank: row[1], snippet: row[2] ?? "")
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR {
            throw CatalogError(.invalid, "the search query cannot be run: \(error.message ?? "")")
        }
    }

    /// The MIME type, tags (as indexed, `, `-joined) and status of an indexed document, in one query.
    public func indexedFields(_ inode: InodeNumber) throws -> (mime: String, tags: String, status: String)? {
        try CatalogRow.fetchOne(db.cachedStatement(sql: "SELECT mime, tags, status FROM search_text WHERE ino = ?"),
                         arguments: [Int64(bitPattern: inode.rawValue)]).map { ($0[0], $0[1], $0[2]) }
    }

    /// Documents indexed, and the bytes of their text.
    public func searchStatistics() throws -> (documents: Int, textBytes: Int64, pending: Int) {
        let row = try CatalogRow.fetchOne(db, sql: "SELECT count(*), coalesce(sum(length(CAST(body AS BLOB))), 0) FROM search_text")
        return (row?[0] ?? 0, row?[1] ?? 0, try searchQueueLength())
    }
}

extension CatalogWriter {
    /// Stores a document's index entry (replacing the one before) and takes it off the queue.
    public func index(_ document: SearchDocument) throws {
        try db.cachedStatement(sql: """
            INSERT INTO search_text(ino, manifest, mime, name, tags, description, fields, status, author, body, note)
            VALUES (?,?,?,?,?,?,?,?,?,?,?)
            ON CONFLICT(ino) DO UPDATE SET manifest = excluded.manifest, mime = excluded.mime, name = excluded.name,
                tags = excluded.tags, description = excluded.description, fields = excluded.fields, status = excluded.status,
                author = excluded.author, body = excluded.body, note = excluded.note
            """).execute(arguments: [Int64(bitPattern: document.inode.rawValue), document.manifest.map { Data($0) }, document.mime,
                                     document.name, document.tags, document.description, document.fields, document.status,
                                     document.author, document.body, document.note])
        try dequeue(document.inode)
    }

    /// Drops a node's index entry, if any, and takes it off the queue.
    public func unindex(_ inode: InodeNumber) throws {
        try db.cachedStatement(sql: "DELETE FROM search_text WHERE ino = ?").execute(arguments: [Int64(bitPattern: inode.rawValue)])
        try dequeue(inode)
    }

    /// Takes a node off the queue.
    public func dequeue(_ inode: InodeNumber) throws {
        try db.cachedStatement(sql: "DELETE FROM search_queue WHERE ino = ?").execute(arguments: [Int64(bitPattern: inode.rawValue)])
    }

    /// Puts every document on the queue again (`nexusfs search --reindex`).
    public func requeueAllDocuments() throws {
        try db.execute(sql: "INSERT OR IGNORE INTO search_queue SELECT ino FROM nodes WHERE kind = \(NodeKind.regular.rawValue)")
    }
}
