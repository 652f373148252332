import NexusTypes

extension CatalogReader {
    /// Nodes no directory entry names any more (unlinked while open, then the process ended).
    /// Nodes without a name that are not in the trash.
    public func orphanNodes() throws -> [InodeNumber] {
        try Int64.fetchAll(db, sql: "SELECT ino FROM nodes WHERE nlink = 0 AND ino NOT IN (SELECT ino FROM trash)")
            .map { InodeNumber(UInt64(bitPattern: $0)) }
    }

    /// What is in the trash from `start` up to (not including) `end`, oldest first.
    public func trash(from start: FileTime, to end: FileTime) throws -> [TrashRecord] {
        try CatalogRow.fetchAll(db.cachedStatement(sql: "SELECT * FROM trash WHERE time >= ? AND time < ? ORDER BY time, ino"),
                         arguments: [start.totalNanoseconds, end.totalNanoseconds]).map(TrashRecord.init(row:))
    }

    /// Every node that has the attribute `name`, with its value.
    public func xattrValues(named name: [UInt8]) throws -> [(inode: InodeNumber, value: [UInt8])] {
        try CatalogRow.fetchAll(db.cachedStatement(sql: "SELECT ino, value FROM xattrs WHERE name = ?"), arguments: [Data(name)])
            .map { (InodeNumber(UInt64(bitPattern: $0[0])), [UInt8]($0[1] as Data)) }
    }

    /// Whether a node is in the trash.
    public func trashRecord(of inode: InodeNumber) throws -> TrashRecord? {
        try CatalogRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM trash WHERE ino = ?"),
                         arguments: [Int64(bitPattern: inode.rawValue)]).map(TrashRecord.init(row:))
    }

    /// The times of the days that have something in the trash: one time per item.
    public func trashTimes() throws -> [FileTime] {
        try Int64.fetchAll(db.cachedStatement(sql: "SELECT time FROM trash ORDER BY time")).map(FileTime.init(totalNanoseconds:))
    }

    /// The number of nodes, for statfs.
    public func nodeCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM nodes") ?? 0
    }

    /// Whether a folder has any entry.
    public func hasEntries(_ folder: InodeNumber) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM entries WHERE parent = ?)"),
                          arguments: [Int64(bitPattern: folder.rawValue)]) ?? false
    }

    /// The latest version of a document, if it has any.
    public func latestVersion(of document: Int64) throws -> VersionRecord? {
        try CatalogRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM versions WHERE doc = ? ORDER BY number DESC LIMIT 1"), arguments: [document])
            .map(VersionRecord.init(row:))
    }

    /// The version of a document that was its latest at `time`: the newest made at or before it.
    public func version(of document: Int64, at time: FileTime) throws -> VersionRecord? {
        try CatalogRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM versions WHERE doc = ? AND time <= ? ORDER BY number DESC LIMIT 1"),
                         arguments: [document, time.totalNanoseconds]).map(VersionRecord.init(row:))
    }

    /// One version of a document.
    public func version(of document: Int64, number: VersionNumber) throws -> VersionRecord? {
        try CatalogRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM versions WHERE doc = ? AND number = ?"), arguments: [document, number.rawValue])
            .map(VersionRecord.init(row:))
    }

    /// One stored xattr value.
    public func xattr(_ name: [UInt8], of inode: InodeNumber) throws -> [UInt8]? {
        if case .hit(let value)? = cache?.xattr(name, of: inode) { return value }
        let value = try CatalogRow.fetchOne(db.cachedStatement(sql: "SELECT value FROM xattrs WHERE ino = ? AND name = ?"),
                                     arguments: [Int64(bitPattern: inode.rawValue), name.data]).map { [UInt8]($0[0] as Data) }
        if fills { cache?.store(xattr: value, named: name, of: inode) }
        return value
    }
}

import Foundation

extension Array where Element == UInt8 {
    var data: Data { Data(self) }
}
