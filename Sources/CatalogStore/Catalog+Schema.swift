import GRDB
import NexusTypes

extension Catalog {
    /// Tables whose changes are journaled into the blob store. The chunk index
    /// (`packs`, `chunks`) is not: it is rebuilt from the packs themselves.
    static let journaledTables = ["counters", "nodes", "entries", "xattrs", "versions", "manifests", "manifest_parts", "audit",
                                     "comments", "trash", "search_text"]
    /// Tables derived from others, rebuilt where needed and never journaled or re-staged:
    /// the full-text index over `search_text` and the queue of nodes the indexer is to look at.
    static func isDerived(_ table: String) -> Bool { table.hasPrefix("search_index") || table == "search_queue" }

    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value BLOB) WITHOUT ROWID;
                CREATE TABLE counters (name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE packs (
                    id INTEGER PRIMARY KEY,
                    name BLOB NOT NULL UNIQUE,
                    length INTEGER NOT NULL,
                    blob_count INTEGER NOT NULL
                );
                CREATE TABLE chunks (
                    id BLOB PRIMARY KEY NOT NULL,
                    pack INTEGER NOT NULL REFERENCES packs(id),
                    offset INTEGER NOT NULL,
                    stored_length INTEGER NOT NULL,
                    raw_length INTEGER NOT NULL,
                    kind INTEGER NOT NULL,
                    flags INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX chunks_by_pack ON chunks(pack);
                CREATE TABLE nodes (
                    ino INTEGER PRIMARY KEY NOT NULL,
                    kind INTEGER NOT NULL,
                    perm INTEGER NOT NULL,
                    uid INTEGER NOT NULL,
                    gid INTEGER NOT NULL,
                    nlink INTEGER NOT NULL,
                    size INTEGER NOT NULL,
                    atime INTEGER NOT NULL,
                    mtime INTEGER NOT NULL,
                    ctime INTEGER NOT NULL,
                    rdev INTEGER NOT NULL,
                    target BLOB,
                    doc INTEGER,
                    manifest BLOB
                );
                CREATE INDEX nodes_by_doc ON nodes(doc);
                CREATE TABLE entries (
                    parent INTEGER NOT NULL,
                    name BLOB NOT NULL,
                    ino INTEGER NOT NULL,
                    PRIMARY KEY (parent, name)
                ) WITHOUT ROWID;
                CREATE INDEX entries_by_ino ON entries(ino);
                CREATE TABLE xattrs (
                    ino INTEGER NOT NULL,
                    name BLOB NOT NULL,
                    value BLOB NOT NULL,
                    PRIMARY KEY (ino, name)
                ) WITHOUT ROWID;
                CREATE TABLE versions (
                    doc INTEGER NOT NULL,
                    number INTEGER NOT NULL,
                    time INTEGER NOT NULL,
                    author INTEGER NOT NULL,
                    size INTEGER NOT NULL,
                    sha256 BLOB,
                    summary TEXT,
                    manifest BLOB NOT NULL,
                    PRIMARY KEY (doc, number)
                ) WITHOUT ROWID;
                CREATE INDEX versions_by_manifest ON versions(manifest);
                CREATE TABLE manifests (
                    id BLOB PRIMARY KEY NOT NULL,
                    size INTEGER NOT NULL,
                    chunks BLOB NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        // Runs on every open, so a catalog written before the audit log gains its tables
        // there; a checkpoint image restored by recover is migrated the same way.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                CREATE TABLE audit (
                    seq INTEGER PRIMARY KEY NOT NULL,
                    time INTEGER NOT NULL,
                    uid INTEGER NOT NULL,
                    action TEXT NOT NULL,
                    inode INTEGER,
                    path BLOB NOT NULL,
                    before TEXT,
                    after TEXT,
                    outcome TEXT NOT NULL,
                    hash BLOB NOT NULL
                );
                CREATE TABLE comments (
                    id INTEGER PRIMARY KEY NOT NULL,
                    ino INTEGER NOT NULL,
                    time INTEGER NOT NULL,
                    uid INTEGER NOT NULL,
                    text TEXT NOT NULL
                );
                CREATE INDEX comments_by_ino ON comments(ino);
                """)
        }
        // Large manifests are stored as parts (see `ManifestEncoding`); catalogs and checkpoints
        // from before gain the table here, and their manifests stay as they were.
        migrator.registerMigration("v3") { db in
            try db.execute(sql: """
                CREATE TABLE manifest_parts (
                    id BLOB PRIMARY KEY NOT NULL,
                    chunks BLOB NOT NULL
                );
                """)
        }
        // The trash: nodes deleted through a mount, kept with their content, history and
        // attributes until restored or expired (`trash_days`).
        migrator.registerMigration("v4") { db in
            try db.execute(sql: """
                CREATE TABLE trash (
                    ino INTEGER PRIMARY KEY NOT NULL,
                    path BLOB NOT NULL,
                    time INTEGER NOT NULL,
                    uid INTEGER NOT NULL
                );
                CREATE INDEX trash_by_time ON trash(time);
                """)
        }
        // `/.tags` lists the nodes that have one attribute.
        migrator.registerMigration("v5") { db in
            try db.execute(sql: "CREATE INDEX xattrs_by_name ON xattrs(name)")
        }
        // Full-text search (see `Catalog+Search.swift`): the text and fields of each indexed
        // document (journaled), an FTS5 index over them kept by triggers, and a queue of nodes
        // whose content, names or DMS fields changed, which triggers fill in the same transaction
        // as the change and the indexer empties off the save path.
        migrator.registerMigration("v6") { db in
            try db.execute(sql: Catalog.searchSchema)
            // Every document already there is indexed once.
            try db.execute(sql: "INSERT OR IGNORE INTO search_queue SELECT ino FROM nodes WHERE kind = \(NodeKind.regular.rawValue)")
        }
        return migrator
    }
}
