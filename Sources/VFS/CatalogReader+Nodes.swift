import CatalogStore
import NexusTypes

extension CatalogReader {
    /// The node `inode`, or ENOENT.
    func existingNode(_ inode: InodeNumber) throws -> NodeRecord {
        guard let node = try node(inode) else { throw VFSError(.notFound, "no inode \(inode)") }
        return node
    }
}
