import Foundation
import NexusTypes

extension CatalogWriter {
    /// Adds a comment on `inode` and returns it with its id.
    @discardableResult
    public func addComment(inode: InodeNumber, uid: UInt32, time: FileTime, text: String) throws -> CommentRecord {
        let id = try Int64.fetchOne(db.cachedStatement(sql: "INSERT INTO comments(ino, time, uid, text) VALUES (?, ?, ?, ?) RETURNING id"),
                                    arguments: [Int64(bitPattern: inode.rawValue), time.totalNanoseconds, Int64(uid), text])
        guard let id else { throw CatalogError(.sqlite, "the catalog gave the new comment no id") }
        return CommentRecord(id: id, inode: inode, time: time, uid: uid, text: text)
    }

    /// Moves the comments of `old` to `new`: a save replaced the file that held the document.
    public func moveComments(from old: InodeNumber, to new: InodeNumber) throws {
        guard old != new else { return }
        try db.cachedStatement(sql: "UPDATE comments SET ino = ? WHERE ino = ?").execute(
            arguments: [Int64(bitPattern: new.rawValue), Int64(bitPattern: old.rawValue)])
    }
}

extension CatalogReader {
    /// The comments on `inode`, oldest first; those of a deleted node are kept and still listed.
    public func comments(of inode: InodeNumber) throws -> [CommentRecord] {
        try CatalogRow.fetchAll(db.cachedStatement(sql: "SELECT * FROM comments WHERE ino = ? ORDER BY id"),
                         arguments: [Int64(bitPattern: inode.rawValue)]).map { row in
            let uid = try row.decode(Int64.self, forColumn: "uid")
            return CommentRecord(id: try row.decode(forColumn: "id"), inode: inode,
                                 time: FileTime(totalNanoseconds: try row.decode(forColumn: "time")),
                                 uid: UInt32(truncatingIfNeeded: uid), text: try row.decode(forColumn: "text"))
        }
    }
}
