import CatalogStore
import Foundation
import Glibc
import NexusTypes

extension Volume {
    /// Opens a folder for listing; the listing is a snapshot, taken again on a rewind.
    public func openDirectory(_ inode: InodeNumber) throws -> UInt64 {
        // The listing itself is taken by the first read, at offset 0.
        if let handle = try atOpenDirectory(inode) { return handle }
        if AtView.contains(inode) {
            // `/.at` itself, listed here: it lists nothing.
        } else if let view = TagsView.node(inode) {
            if case .link = view { throw VFSError(.notDirectory) }
        } else if VersionsView.node(inode) == nil && TrashView.node(inode) == nil {
            guard try namespace.read({ try $0.existingNode(inode) }).kind == .directory else { throw VFSError(.notDirectory) }
        }
        return files.openDirectory(inode)
    }

    /// `.`, `..` and the entries of a folder (real or in the `.versions` view).
    func listing(of inode: InodeNumber, caller: Caller?) throws -> [DirectoryEntry] {
        if inode == AtView.root {
            let directory = NodeKind.directory.rawValue | 0o555
            return [DirectoryEntry(name: [0x2e], inode: inode, mode: directory), DirectoryEntry(name: [0x2e, 0x2e], inode: .root, mode: directory)]
        }
        if let view = TrashView.node(inode) { return try trashListing(view, caller: caller) }
        if let view = TagsView.node(inode) { return try tagsListing(view, caller: caller) }
        if let view = VersionsView.node(inode) { return try versionsListing(view) }
        return try namespace.read { reader -> [DirectoryEntry] in
            let node = try reader.existingNode(inode)
            guard node.kind == .directory else { throw VFSError(.notDirectory) }
            let parent = inode == .root ? inode : (try reader.firstName(of: inode)?.parent ?? inode)
            var entries = [DirectoryEntry(name: [0x2e], inode: inode, mode: node.mode),
                           DirectoryEntry(name: [0x2e, 0x2e], inode: parent, mode: NodeKind.directory.rawValue)]
            for (entry, child) in try reader.entriesWithNodes(in: inode) {
                entries.append(DirectoryEntry(name: entry.name.bytes, inode: entry.inode, mode: child.mode))
            }
            return entries
        }
    }

    /// The snapshot's entries from `offset` on; an entry's offset is its index, and the
    /// next offset to ask for is index + 1. Offset 0 (opendir or rewinddir) takes a new snapshot.
    /// `caller` decides what of the trash is listed (nil: everything).
    public func listDirectory(_ handle: UInt64, from offset: Int64, caller: Caller? = nil) throws -> ArraySlice<DirectoryEntry> {
        if let past = try atListDirectory(handle, from: offset, caller: caller) { return past }
        guard offset == 0 else { return try files.entries(of: handle, from: offset) }
        let inode = try files.directory(of: handle)
        let entries = try listing(of: inode, caller: caller)
        files.keep(entries, of: inode, for: handle)
        return entries[0...]
    }

    /// Whether `name` in `directory` still leads to `inode`, as a listing snapshot said. The
    /// kernel links each readdirplus entry to its name, replacing the dentry it holds: an entry
    /// from a snapshot taken before a rename or unlink in the folder would undo that in its cache
    /// (the name would lead to the replaced or deleted node). Views are read-only: always true.
    public func stillNames(_ name: [UInt8], in directory: InodeNumber, inode: InodeNumber) -> Bool {
        if VersionsView.isVirtual(directory) || AtView.contains(directory) { return true }
        guard let name = FileName(bytes: name) else { return false }
        // From the cache when it knows, as `lookup` does: no turn on the connection per entry.
        if case let entry? = namespace.cachedEntry(named: name, in: directory) { return entry == inode }
        return (try? namespace.read { try $0.entry(named: name, in: directory) }) == inode
    }

    /// The attributes of a listed entry, for readdirplus: the kernel then holds a reference.
    public func attributesForListing(_ inode: InodeNumber) throws -> Attributes {
        let attributes = try attributes(of: inode)
        remember(inode)
        return attributes
    }

    public func releaseDirectory(_ handle: UInt64) {
        if (try? atRelease(handle, directory: true)) == true { return }
        files.releaseDirectory(handle)
    }

    /// statfs, as df users expect: free and available space are the repository disk's; the used
    /// blocks are what the repository's packs take (every version, so a delete frees nothing until
    /// `prune`), and the size is the two together. Files: the catalog's nodes and the disk's free inodes.
    public func statistics() throws -> VolumeStatistics {
        var disk = statvfs()
        guard statvfs(repository.path, &disk) == 0 else { throw VFSError(.io, "statvfs \(repository.path)") }
        let (nodes, packBytes) = try namespace.read { (UInt64(try $0.nodeCount()), UInt64(max(0, try $0.packBytes()))) }
        let block: UInt64 = 4096
        let free = UInt64(disk.f_bfree) * UInt64(disk.f_frsize) / block
        return VolumeStatistics(blockSize: block, blocks: free + (packBytes + block - 1) / block, blocksFree: free,
                                blocksAvailable: UInt64(disk.f_bavail) * UInt64(disk.f_frsize) / block,
                                files: nodes + UInt64(disk.f_ffree), filesFree: UInt64(disk.f_ffree))
    }
}
