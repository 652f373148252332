internal import Glibc
import NexusTypes

/// What `lstat` tells about a node, in fixed-width fields.
public struct LocalMetadata: Sendable, Equatable {
    public var kind: NodeKind
    /// `st_mode & 0o7777`: permission, setuid, setgid and sticky bits.
    public var permissions: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: Int64
    public var accessTime: FileTime
    public var modificationTime: FileTime
    public var changeTime: FileTime
    public var device: UInt64
    public var inode: UInt64
    public var linkCount: UInt64
    /// The device number of a character or block device, in glibc's `dev_t` encoding.
    public var rdev: UInt64

    /// Fields a writer does not use (`changeTime`, `device`, `inode`, `linkCount`) have defaults;
    /// `changeTime` defaults to `modificationTime`.
    public init(
        kind: NodeKind, permissions: UInt32, uid: UInt32, gid: UInt32, size: Int64 = 0,
        accessTime: FileTime, modificationTime: FileTime, changeTime: FileTime? = nil,
        device: UInt64 = 0, inode: UInt64 = 0, linkCount: UInt64 = 1, rdev: UInt64 = 0
    ) {
        self.kind = kind
        self.permissions = permissions & 0o7777
        self.uid = uid
        self.gid = gid
        self.size = size
        self.accessTime = accessTime
        self.modificationTime = modificationTime
        self.changeTime = changeTime ?? modificationTime
        self.device = device
        self.inode = inode
        self.linkCount = linkCount
        self.rdev = rdev
    }

    /// Nil only for a file type Linux does not have.
    init?(_ st: stat) {
        guard let kind = NodeKind(mode: st.st_mode) else { return nil }
        self.init(
            kind: kind, permissions: st.st_mode & 0o7777, uid: st.st_uid, gid: st.st_gid,
            size: Int64(st.st_size),
            accessTime: FileTime(st.st_atim), modificationTime: FileTime(st.st_mtim),
            changeTime: FileTime(st.st_ctim),
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), linkCount: UInt64(st.st_nlink),
            rdev: UInt64(st.st_rdev)
        )
    }

    /// Access then modification time, as `utimensat` and `futimens` take them.
    var timespecs: [timespec] { [timespec(accessTime), timespec(modificationTime)] }
}

extension FileTime {
    init(_ ts: timespec) { self.init(seconds: Int64(ts.tv_sec), nanoseconds: Int64(ts.tv_nsec)) }
}

extension timespec {
    init(_ time: FileTime) { self.init(tv_sec: Int(time.seconds), tv_nsec: Int(time.nanoseconds)) }
}
