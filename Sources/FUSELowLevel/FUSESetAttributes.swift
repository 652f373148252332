/// The changes one `setattr` asks for; nil means "leave as is".
public struct FUSESetAttributes: Hashable, Sendable {
    /// Permission bits (chmod); the file type bits are not to be changed.
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    /// New size (truncate).
    public var size: Int64?
    public var atime: FUSETimeChange?
    public var mtime: FUSETimeChange?
    public var ctime: FUSETimespec?
    /// The open file the change came through (ftruncate, fchmod), if any.
    public var handle: UInt64?

    public init(
        mode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil, size: Int64? = nil,
        atime: FUSETimeChange? = nil, mtime: FUSETimeChange? = nil, ctime: FUSETimespec? = nil,
        handle: UInt64? = nil
    ) {
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.atime = atime
        self.mtime = mtime
        self.ctime = ctime
        self.handle = handle
    }
}
