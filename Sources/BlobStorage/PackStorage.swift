import Glibc
import NexusTypes

/// Where sealed packs are kept for good. `BlobStore` always seals a pack into its local pack
/// directory first; the storage then makes it durable where it belongs and brings back packs
/// the directory does not hold.
///
/// Two implementations: `LocalPackStorage`, for which the pack directory is the store itself
/// (the embedded default), and the object store adapter in RepositoryCore, for which it is a cache.
public protocol PackStorage: Sendable {
    /// Says where the packs are, for messages: a folder, or a bucket and prefix.
    var location: String { get }
    /// Whether the packs live elsewhere and the local directory only caches them.
    var isRemote: Bool { get }
    /// Makes the pack sealed at `file` durable in the storage; returns once it is.
    func keep(_ pack: PackName, sealedAt file: String) throws
    /// Brings the pack into `file` (whole or not at all); false when the storage has no such pack.
    func fetch(_ pack: PackName, into file: String) throws -> Bool
    /// Every pack the storage holds, in any order.
    func packNames() throws -> [PackName]
    /// Deletes a pack from the storage (the local file is the caller's).
    func remove(_ pack: PackName) throws
}

/// The embedded default: the pack directory is the store, and a sealed pack is durable once
/// renamed into place.
public struct LocalPackStorage: PackStorage {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public var location: String { directory }
    public var isRemote: Bool { false }

    public func keep(_ pack: PackName, sealedAt file: String) throws {}

    public func fetch(_ pack: PackName, into file: String) throws -> Bool {
        false
    }

    public func packNames() throws -> [PackName] {
        try Self.packFiles(in: directory)
    }

    public func remove(_ pack: PackName) throws {}

    /// The packs under `directory`, in its `XX/NAME` shards.
    public static func packFiles(in directory: String) throws -> [PackName] {
        var names: [PackName] = []
        for shard in try BlobStore.listDirectory(directory) where shard.count == 2 && Hex.decode(shard) != nil {
            for file in try BlobStore.listDirectory(directory + "/" + shard) {
                if let name = PackName(hex: file), file.hasPrefix(shard) { names.append(name) }
            }
        }
        return names
    }
}
