/// What `open`, `opendir` and `create` hand back: the handle and how the kernel should cache.
public struct FUSEOpenOptions: Hashable, Sendable {
    /// Opaque to the kernel; passed back in every operation on this open file.
    public var handle: UInt64
    /// Bypass the page cache: every read and write reaches the filesystem, sizes need not match `st_size`.
    public var directIO: Bool
    /// Keep cached pages from earlier opens instead of dropping them on this open.
    public var keepCache: Bool
    /// The file does not support seeking (like a pipe).
    public var nonSeekable: Bool
    /// For `opendir`: let the kernel cache the directory's entries.
    public var cacheDirectory: Bool
    /// `flush` need not be called on close.
    public var noFlush: Bool

    public init(
        handle: UInt64 = 0, directIO: Bool = false, keepCache: Bool = false, nonSeekable: Bool = false,
        cacheDirectory: Bool = false, noFlush: Bool = false
    ) {
        self.handle = handle
        self.directIO = directIO
        self.keepCache = keepCache
        self.nonSeekable = nonSeekable
        self.cacheDirectory = cacheDirectory
        self.noFlush = noFlush
    }
}
