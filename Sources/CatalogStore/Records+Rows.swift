import Foundation
import NexusTypes

extension NodeRecord {
    /// The columns `init(row:)` reads, by position (the hottest row: by index, not by name).
    static let columns = "ino, kind, perm, uid, gid, nlink, size, atime, mtime, ctime, rdev, target, doc, manifest"

    /// A node from `columns`, starting at column `offset` of the row.
    init(row: CatalogRow, offset o: Int = 0) throws {
        guard let kind = NodeKind(rawValue: UInt32(row[o + 1] as Int64)) else {
            throw CatalogError(.corrupt, "node \(row[o] as Int64) has an unknown kind")
        }
        self.init(
            inode: InodeNumber(UInt64(bitPattern: row[o])), kind: kind,
            permissions: UInt32(row[o + 2] as Int64), uid: UInt32(row[o + 3] as Int64), gid: UInt32(row[o + 4] as Int64),
            linkCount: UInt32(row[o + 5] as Int64), size: row[o + 6],
            accessTime: FileTime(totalNanoseconds: row[o + 7]), modificationTime: FileTime(totalNanoseconds: row[o + 8]),
            changeTime: FileTime(totalNanoseconds: row[o + 9]), rdev: UInt64(bitPattern: row[o + 10]),
            symlinkTarget: (row[o + 11] as Data?).map { [UInt8]($0) }, document: row[o + 12],
            manifest: (row[o + 13] as Data?).flatMap { ManifestID(bytes: [UInt8]($0)) })
    }

    var arguments: CatalogArguments {
        [Int64(bitPattern: inode.rawValue), Int64(kind.rawValue), Int64(permissions), Int64(uid), Int64(gid),
         Int64(linkCount), size, accessTime.totalNanoseconds, modificationTime.totalNanoseconds,
         changeTime.totalNanoseconds, Int64(bitPattern: rdev), symlinkTarget.map { Data($0) }, document,
         manifest.map { Data($0.bytes) }]
    }
}

extension EntryRecord {
    init(row: CatalogRow) throws {
        guard let name = FileName(bytes: [UInt8](row["name"] as Data)) else {
            throw CatalogError(.corrupt, "entry in folder \(row["parent"] as Int64) has an invalid name")
        }
        self.init(parent: InodeNumber(UInt64(bitPattern: row["parent"])), name: name,
                  inode: InodeNumber(UInt64(bitPattern: row["ino"])))
    }
}

extension VersionRecord {
    init(row: CatalogRow) throws {
        guard let manifest = ManifestID(bytes: [UInt8](row["manifest"] as Data)) else {
            throw CatalogError(.corrupt, "version \(row["number"] as Int64) of document \(row["doc"] as Int64) has a bad manifest id")
        }
        self.init(document: row["doc"], number: VersionNumber(row["number"] as Int64),
                  time: FileTime(totalNanoseconds: row["time"]), author: UInt32(row["author"] as Int64),
                  size: row["size"], sha256: (row["sha256"] as Data?).map { [UInt8]($0) }, summary: row["summary"],
                  manifest: manifest)
    }
}

extension ChunkLocation {
    init(row: CatalogRow) throws {
        guard let pack = PackName(bytes: [UInt8](row["pack"] as Data)) else {
            throw CatalogError(.corrupt, "chunk index names a pack with a bad name")
        }
        self.init(pack: pack, offset: row["offset"], storedLength: Int32(row["stored_length"] as Int64),
                  rawLength: Int32(row["raw_length"] as Int64), kind: UInt8(row["kind"] as Int64),
                  compressed: (row["flags"] as Int64) & 1 == 1)
    }
}

extension TrashRecord {
    init(row: CatalogRow) {
        self.init(inode: InodeNumber(UInt64(bitPattern: row["ino"])), path: [UInt8](row["path"] as Data),
                  time: FileTime(totalNanoseconds: row["time"]), uid: UInt32(row["uid"] as Int64))
    }
}
