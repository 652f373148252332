import NexusTypes

/// A namespace node: a folder, a document, or another file kind.
public struct NodeRecord: Sendable, Equatable {
    public var inode: InodeNumber
    public var kind: NodeKind
    /// `mode & 0o7777`.
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var linkCount: UInt32
    public var size: Int64
    public var accessTime: FileTime
    public var modificationTime: FileTime
    public var changeTime: FileTime
    public var rdev: UInt64
    /// The target of a symlink, as bytes.
    public var symlinkTarget: [UInt8]?
    /// The document whose history this node's content belongs to (regular files).
    public var document: Int64?
    /// The current content of a regular file.
    public var manifest: ManifestID?

    public init(inode: InodeNumber, kind: NodeKind, permissions: UInt32, uid: UInt32, gid: UInt32,
                linkCount: UInt32 = 1, size: Int64 = 0, accessTime: FileTime, modificationTime: FileTime,
                changeTime: FileTime, rdev: UInt64 = 0, symlinkTarget: [UInt8]? = nil,
                document: Int64? = nil, manifest: ManifestID? = nil) {
        self.inode = inode
        self.kind = kind
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.linkCount = linkCount
        self.size = size
        self.accessTime = accessTime
        self.modificationTime = modificationTime
        self.changeTime = changeTime
        self.rdev = rdev
        self.symlinkTarget = symlinkTarget
        self.document = document
        self.manifest = manifest
    }

    public var mode: UInt32 { kind.rawValue | permissions }
}

/// One saved state of a document.
public struct VersionRecord: Sendable, Equatable {
    public var document: Int64
    public var number: VersionNumber
    public var time: FileTime
    /// The uid of whoever saved it.
    public var author: UInt32
    public var size: Int64
    /// SHA-256 of the content, when known (computed on demand for saves through the mount).
    public var sha256: [UInt8]?
    public var summary: String?
    public var manifest: ManifestID

    public init(document: Int64, number: VersionNumber, time: FileTime, author: UInt32, size: Int64,
                sha256: [UInt8]?, summary: String? = nil, manifest: ManifestID) {
        self.document = document
        self.number = number
        self.time = time
        self.author = author
        self.size = size
        self.sha256 = sha256
        self.summary = summary
        self.manifest = manifest
    }
}

/// A directory entry.
public struct EntryRecord: Sendable, Equatable {
    public var parent: InodeNumber
    public var name: FileName
    public var inode: InodeNumber

    public init(parent: InodeNumber, name: FileName, inode: InodeNumber) {
        self.parent = parent
        self.name = name
        self.inode = inode
    }
}

/// Where a blob lives: its pack, offset and lengths.
public struct ChunkLocation: Sendable, Equatable {
    public var pack: PackName
    public var offset: Int64
    /// Bytes of the frame in the pack (header and ciphertext).
    public var storedLength: Int32
    public var rawLength: Int32
    public var kind: UInt8
    public var compressed: Bool

    public init(pack: PackName, offset: Int64, storedLength: Int32, rawLength: Int32, kind: UInt8, compressed: Bool) {
        self.pack = pack
        self.offset = offset
        self.storedLength = storedLength
        self.rawLength = rawLength
        self.kind = kind
        self.compressed = compressed
    }
}
