/// One entry of a directory listing.
public struct FUSEDirectoryEntry: Hashable, Sendable {
    /// The name's bytes: not empty, no NUL and no "/"; need not be UTF-8.
    public var name: [UInt8]
    public var ino: UInt64
    /// Only the file type bits (`S_IFMT`) are used.
    public var mode: UInt32
    /// The offset that continues the listing after this entry; never 0.
    public var nextOffset: Int64
    /// For readdirplus: the entry the kernel caches as if looked up (a lookup the filesystem must count,
    /// and will later see forgotten). nil answers with attributes only and counts no lookup; use nil
    /// for "." and "..", which the kernel never caches.
    public var entry: FUSEEntry?

    public init(name: [UInt8], ino: UInt64, mode: UInt32, nextOffset: Int64, entry: FUSEEntry? = nil) {
        self.name = name
        self.ino = ino
        self.mode = mode
        self.nextOffset = nextOffset
        self.entry = entry
    }
}
