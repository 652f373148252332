/// Errors of filesystem operations; the FUSE frontend maps each code to one errno.
public struct VFSError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        case notFound, exists, notEmpty, notDirectory, isDirectory, invalid, permissionDenied, notPermitted
        case noData, tooBig, rangeTooSmall, nameTooLong, noSpace, readOnly, notSupported, crossDevice
        case tooManyLinks, badHandle, noSuchOffset, io
        /// A file would grow past `FileContent.maxFileSize`.
        case fileTooLarge
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String = "") {
        self.code = code
        self.message = message
    }

    public var description: String { message.isEmpty ? "\(code)" : "\(code): \(message)" }
}

/// Who asks: the process's credentials as the kernel reports them.
public struct Caller: Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: Int32
    /// Applied to created nodes when their folder has no default ACL.
    public var umask: UInt32
    private let supplementaryGroups: @Sendable () -> [UInt32]?

    public init(uid: UInt32, gid: UInt32, pid: Int32 = 0, umask: UInt32 = 0o022,
                supplementaryGroups: @escaping @Sendable () -> [UInt32]? = { nil }) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.umask = umask
        self.supplementaryGroups = supplementaryGroups
    }

    /// The primary and supplementary groups (read from /proc, so only when a check needs them).
    public var groups: [UInt32] {
        var groups = supplementaryGroups() ?? []
        if !groups.contains(gid) { groups.append(gid) }
        return groups
    }

    /// The same caller with its groups read once, for many checks in a row.
    public func resolvingGroups() -> Caller {
        let groups = self.groups
        return Caller(uid: uid, gid: gid, pid: pid, umask: umask, supplementaryGroups: { groups })
    }

    public static let root = Caller(uid: 0, gid: 0)
}

/// What `stat` reports for a node.
public struct Attributes: Sendable, Equatable {
    public var inode: InodeNumber
    public var mode: UInt32
    public var linkCount: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var rdev: UInt64
    public var size: Int64
    /// 512-byte blocks that hold data (holes excluded).
    public var blocks: Int64
    public var accessTime: FileTime
    public var modificationTime: FileTime
    public var changeTime: FileTime
}

/// Changes a `setattr` asks for.
public struct AttributeChanges: Sendable {
    public enum Time: Sendable { case now, at(FileTime) }
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    public var size: Int64?
    public var accessTime: Time?
    public var modificationTime: Time?

    public init(mode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil, size: Int64? = nil,
                accessTime: Time? = nil, modificationTime: Time? = nil) {
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.accessTime = accessTime
        self.modificationTime = modificationTime
    }
}

/// `renameat2` flags.
public struct RenameFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let noReplace = RenameFlags(rawValue: 1)
    public static let exchange = RenameFlags(rawValue: 2)
    public static let whiteout = RenameFlags(rawValue: 4)
}

/// One entry of a directory listing.
public struct DirectoryEntry: Sendable {
    public var name: [UInt8]
    public var inode: InodeNumber
    public var mode: UInt32
}

/// Filesystem-wide numbers for statfs.
public struct VolumeStatistics: Sendable {
    public var blockSize: UInt64
    public var blocks: UInt64
    public var blocksFree: UInt64
    public var blocksAvailable: UInt64
    public var files: UInt64
    public var filesFree: UInt64
}

import NexusTypes
