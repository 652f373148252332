/// Reads and writes local directory trees with byte-exact names and full metadata, through Glibc only.

import NexusTypes

/// One node met by `LocalTreeReader.walk`.
public struct LocalEntry: Sendable {
    /// Relative to the walked root; the root itself is `.root`.
    public var path: RepositoryPath
    public var metadata: LocalMetadata
    /// For symlinks, the raw target bytes; nil for every other kind.
    public var symlinkTarget: [UInt8]?
    /// The `user.*` extended attributes, names including the prefix, sorted by name bytes.
    /// Always empty for symlinks and special files, which cannot carry them on Linux.
    public var xattrs: [(name: [UInt8], value: [UInt8])]

    public init(
        path: RepositoryPath, metadata: LocalMetadata,
        symlinkTarget: [UInt8]? = nil, xattrs: [(name: [UInt8], value: [UInt8])] = []
    ) {
        self.path = path
        self.metadata = metadata
        self.symlinkTarget = symlinkTarget
        self.xattrs = xattrs
    }
}
