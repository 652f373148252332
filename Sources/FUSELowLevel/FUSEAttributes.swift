/// The attributes of an inode, as `stat(2)` reports them.
public struct FUSEAttributes: Hashable, Sendable {
    public var ino: UInt64
    /// File type bits (`S_IFREG`, `S_IFDIR`, ...) and permission bits.
    public var mode: UInt32
    public var nlink: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Device number, for character and block devices.
    public var rdev: UInt64
    public var size: Int64
    /// Allocated size in 512-byte units.
    public var blocks: Int64
    /// Preferred I/O size.
    public var blockSize: UInt32
    public var atime: FUSETimespec
    public var mtime: FUSETimespec
    public var ctime: FUSETimespec

    /// Attributes with `blocks` derived from `size` unless given.
    public init(
        ino: UInt64, mode: UInt32, nlink: UInt32 = 1, uid: UInt32 = 0, gid: UInt32 = 0, rdev: UInt64 = 0,
        size: Int64 = 0, blocks: Int64? = nil, blockSize: UInt32 = 4096,
        atime: FUSETimespec = .zero, mtime: FUSETimespec = .zero, ctime: FUSETimespec = .zero
    ) {
        self.ino = ino
        self.mode = mode
        self.nlink = nlink
        self.uid = uid
        self.gid = gid
        self.rdev = rdev
        self.size = size
        self.blocks = blocks ?? (size + 511) / 512
        self.blockSize = blockSize
        self.atime = atime
        self.mtime = mtime
        self.ctime = ctime
    }
}
