/// Filesystem statistics, as `statvfs(3)` and `df` report them.
public struct FUSEStatfs: Hashable, Sendable {
    public var blockSize: UInt64
    /// The unit of `blocks`, `blocksFree` and `blocksAvailable`.
    public var fragmentSize: UInt64
    public var blocks: UInt64
    public var blocksFree: UInt64
    /// Free blocks available to unprivileged users.
    public var blocksAvailable: UInt64
    public var files: UInt64
    public var filesFree: UInt64
    public var filesAvailable: UInt64
    /// Longest file name in bytes.
    public var nameMax: UInt64

    public init(
        blockSize: UInt64 = 4096, fragmentSize: UInt64? = nil, blocks: UInt64 = 0, blocksFree: UInt64 = 0,
        blocksAvailable: UInt64? = nil, files: UInt64 = 0, filesFree: UInt64 = 0, filesAvailable: UInt64? = nil,
        nameMax: UInt64 = 255
    ) {
        self.blockSize = blockSize
        self.fragmentSize = fragmentSize ?? blockSize
        self.blocks = blocks
        self.blocksFree = blocksFree
        self.blocksAvailable = blocksAvailable ?? blocksFree
        self.files = files
        self.filesFree = filesFree
        self.filesAvailable = filesAvailable ?? filesFree
        self.nameMax = nameMax
    }
}
