/// The answer to a name lookup: an inode the kernel may cache, or a cached absence.
public struct FUSEEntry: Hashable, Sendable {
    /// The inode number; 0 makes this a negative entry that caches "no such name" for `entryTimeout`.
    public var ino: UInt64
    /// Distinguishes reuses of the same inode number; (ino, generation) must be unique over the
    /// filesystem's lifetime when it is exported over NFS.
    public var generation: UInt64
    public var attributes: FUSEAttributes
    /// Seconds the kernel may cache `attributes`.
    public var attributeTimeout: Double
    /// Seconds the kernel may cache the name-to-inode binding (or its absence).
    public var entryTimeout: Double

    public init(
        ino: UInt64, generation: UInt64 = 0, attributes: FUSEAttributes,
        attributeTimeout: Double = 1, entryTimeout: Double = 1
    ) {
        self.ino = ino
        self.generation = generation
        self.attributes = attributes
        self.attributeTimeout = attributeTimeout
        self.entryTimeout = entryTimeout
    }

    /// An entry that tells the kernel the name does not exist, for `timeout` seconds.
    public static func negative(timeout: Double) -> FUSEEntry {
        FUSEEntry(ino: 0, attributes: FUSEAttributes(ino: 0, mode: 0), attributeTimeout: 0, entryTimeout: timeout)
    }

    /// Whether this entry caches an absence.
    public var isNegative: Bool { ino == 0 }
}
