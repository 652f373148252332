import CatalogStore
import Logging
import NexusTypes
import Synchronization

/// The inodes the kernel holds and the files it has open: per inode the kernel's lookup count,
/// the open handles and the content object every handle of a regular file shares; folder
/// handles with their listing; and the caches of stored layouts, allocated bytes and digests.
///
/// The volume decides whether an open or a change is allowed and then asks this to attach a
/// content (`open`, `attach`), read, write, save (`flush`, `sync`, `release`, `truncate`,
/// `saveAll`), overlay an open file's size and times on a node (`attributes`), and drop an inode
/// when nothing uses it (`forget`, `release`), deleting it when it has no name left.
///
/// Thread-safe. Lock order: a FileContent's `saving`, then a FileContent's `state`, then the
/// catalog (through `namespace`), then `table`. Nothing waits for another lock while holding
/// `table` (it reads a content's `isModified`, which is lock-free): the catalog may be busy for a
/// commit's fsync. `allocated`, `layouts` and `digests` are leaves.
final class OpenFiles: Sendable {
    let source: ChunkSource
    let namespace: Namespace
    let policy: Policy
    let options: VolumeOptions
    let logger: Logger
    let table = Mutex(Table())
    /// Bytes that are not holes, per stored content, for st_blocks.
    let allocated = Mutex([ManifestID: Int64]())
    /// Layouts of contents just saved or opened (see `LayoutCache`).
    let layouts = Mutex(LayoutCache())
    /// SHA-256 per stored content, for `user.nexus.sha256`.
    let digests = Mutex([ManifestID: String]())

    struct InodeState {
        /// Lookups the kernel holds (each reply with an entry adds one; forget removes them).
        var lookups: UInt64 = 0
        var opens = 0
        var content: FileContent?
    }

    enum Handle {
        case file(inode: InodeNumber, writable: Bool, append: Bool)
        case directory(inode: InodeNumber, entries: [DirectoryEntry])
    }

    struct Table {
        var inodes: [InodeNumber: InodeState] = [:]
        var handles: [UInt64: Handle] = [:]
        var nextHandle: UInt64 = 1
        /// Counts contents leaving the table. A content leaves only after its last save is
        /// staged, so a catalog read made while this stayed the same is no older than any
        /// content that is gone: see `readConsistently`.
        var contentEpoch: UInt64 = 0
    }

    init(source: ChunkSource, namespace: Namespace, policy: Policy, options: VolumeOptions, logger: Logger) {
        self.source = source
        self.namespace = namespace
        self.policy = policy
        self.options = options
        self.logger = logger
    }

    // MARK: Inodes

    /// Records that the kernel now holds one more reference to `inode`.
    func remember(_ inode: InodeNumber) {
        table.withLock { $0.inodes[inode, default: InodeState()].lookups += 1 }
    }

    /// The kernel dropped `count` references; a node without names and references goes.
    func forget(_ inode: InodeNumber, count: UInt64) {
        let drop = table.withLock { table -> Bool in
            guard var state = table.inodes[inode] else { return false }
            state.lookups -= min(count, state.lookups)
            table.inodes[inode] = state
            // A content still being saved is dropped by the release that saves it.
            guard state.lookups == 0, state.opens == 0, state.content?.isModified != true else { return false }
            if state.content != nil { table.contentEpoch += 1 }
            table.inodes[inode] = nil
            return true
        }
        if drop { deleteIfUnlinked(inode) }
    }

    /// The inodes among these that the kernel holds or has open.
    func known(_ inodes: [InodeNumber]) -> [InodeNumber] {
        table.withLock { table in inodes.filter { table.inodes[$0] != nil } }
    }

    /// Whether the inode's content has writes not yet saved (its save will record the version).
    func hasUnsavedContent(_ inode: InodeNumber) -> Bool {
        table.withLock { $0.inodes[inode]?.content?.isModified ?? false }
    }

    /// Forgets an inode's in-memory state when nothing uses it any more.
    func dropIfIdle(_ inode: InodeNumber) {
        let drop = table.withLock { table -> Bool in
            guard let state = table.inodes[inode], state.opens == 0 else { return false }
            if let content = state.content, content.isModified { return false }
            if state.content != nil { table.contentEpoch += 1 }
            if state.lookups == 0 {
                table.inodes[inode] = nil
                return true
            }
            table.inodes[inode]?.content = nil
            return false
        }
        if drop { deleteIfUnlinked(inode) }
    }

    /// Deletes a node that has no names left and nobody holding it.
    private func deleteIfUnlinked(_ inode: InodeNumber) {
        guard inode != .root, !options.readOnly, !VersionsView.isVirtual(inode) else { return }
        do {
            // Most forgotten nodes still have names, and a deleted document waits in the trash:
            // look before opening a write.
            guard try namespace.read({ reader in
                try reader.node(inode)?.linkCount == 0 && reader.trashRecord(of: inode) == nil
            }) else { return }
            try namespace.stage { w in
                if let node = try w.reader.node(inode), node.linkCount == 0, try w.reader.trashRecord(of: inode) == nil {
                    try w.deleteNode(inode)
                }
            }
        } catch {
            logger.warning("could not delete unlinked inode \(inode): \(error)")
        }
    }

    // MARK: Nodes with their open content

    /// Reads a node and takes its content from the table such that, if it has none, the read
    /// came after the last save of the content it had: a close saving the file meanwhile must
    /// not leave the caller with the catalog's old size and no content to correct it (the
    /// kernel would cache that size). Reads again while contents keep leaving meanwhile.
    /// `cached`, when given, answers from the catalog's cache alone (nil: ask the catalog).
    func readConsistently(cached: (() throws -> NodeRecord?)? = nil,
                          _ body: (CatalogReader) throws -> NodeRecord) throws -> (NodeRecord, FileContent?) {
        for _ in 0..<100 {
            let epoch = table.withLock { $0.contentEpoch }
            let node = try cached?() ?? namespace.read(body)
            let found = table.withLock { table -> (current: Bool, content: FileContent?) in
                (table.contentEpoch == epoch, table.inodes[node.inode]?.content)
            }
            if found.current { return (node, found.content) }
        }
        throw VFSError(.io, "the catalog kept changing while being read")
    }

    /// The node's attributes, with the unsaved writes of its open content, if any.
    func attributes(_ node: NodeRecord) -> Attributes {
        attributes(node, content: node.kind == .regular ? table.withLock({ $0.inodes[node.inode]?.content }) : nil)
    }

    func attributes(_ node: NodeRecord, content: FileContent?) -> Attributes {
        var size = node.size
        var mtime = node.modificationTime
        var ctime = node.changeTime
        var allocated = node.manifest.map(allocatedBytes(of:)) ?? 0
        if node.kind == .regular, let content {
            let state = content.state.withLock { ($0.size, $0.modificationTime, $0.base.allocatedBytes, $0.pages.count) }
            size = state.0
            if let time = state.1 {
                mtime = max(mtime, time)
                ctime = max(ctime, time)
            }
            allocated = state.2 + Int64(state.3) * FileContent.pageSize
        }
        let blocks = node.kind == .regular ? (min(allocated, size) + 511) / 512 : (node.kind == .directory ? 8 : 0)
        return Attributes(inode: node.inode, mode: node.mode, linkCount: node.linkCount, uid: node.uid, gid: node.gid,
                          rdev: node.rdev, size: size, blocks: blocks, accessTime: node.accessTime,
                          modificationTime: mtime, changeTime: ctime)
    }

    // MARK: Handles

    /// A handle of `node`, which the caller may open so; a regular file gets the content the
    /// catalog holds unless it has one open already.
    func open(_ node: NodeRecord, writable: Bool, append: Bool) throws -> UInt64 {
        let inode = node.inode
        // The stored content is read without the table lock (see the lock order); when a
        // content left the table meanwhile, its save may postdate the read: read again.
        for _ in 0..<100 {
            let (epoch, loaded) = table.withLock { ($0.contentEpoch, $0.inodes[inode]?.content != nil) }
            let stored = try node.kind == .regular && !loaded ? storedContent(of: inode) : nil
            let handle = table.withLock { table -> UInt64? in
                var state = table.inodes[inode, default: InodeState()]
                if node.kind == .regular && state.content == nil {
                    guard table.contentEpoch == epoch, let stored else { return nil }
                    state.content = FileContent(inode: inode, layout: stored.layout, size: stored.size, source: source)
                }
                return Self.addHandle(of: inode, writable: writable, append: append, state: state, in: &table)
            }
            if let handle { return handle }
        }
        throw VFSError(.io, "inode \(inode) kept changing while being opened")
    }

    /// A handle of a content the catalog does not hold as the node's: a new file (empty), or a
    /// version of the `.versions` view.
    func attach(_ inode: InodeNumber, layout: ContentLayout, size: Int64, writable: Bool, append: Bool) -> UInt64 {
        table.withLock { table in
            var state = table.inodes[inode, default: InodeState()]
            if state.content == nil { state.content = FileContent(inode: inode, layout: layout, size: size, source: source) }
            return Self.addHandle(of: inode, writable: writable, append: append, state: state, in: &table)
        }
    }

    /// Counts one more open of `inode`, whose state is `state`, and hands out a new file handle.
    private static func addHandle(of inode: InodeNumber, writable: Bool, append: Bool, state: InodeState,
                                  in table: inout Table) -> UInt64 {
        var state = state
        state.opens += 1
        table.inodes[inode] = state
        let handle = table.nextHandle
        table.nextHandle += 1
        table.handles[handle] = .file(inode: inode, writable: writable, append: append)
        return handle
    }

    /// The content the catalog holds for a regular file.
    private func storedContent(of inode: InodeNumber) throws -> (layout: ContentLayout, size: Int64) {
        let node = try namespace.read { try $0.existingNode(inode) }
        guard let id = node.manifest else { return (ContentLayout(), node.size) }
        guard let layout = try layout(of: id) else { throw VFSError(.io, "the content of inode \(inode) is missing") }
        return (layout, node.size)
    }

    func fileHandle(_ handle: UInt64) throws -> (inode: InodeNumber, writable: Bool, append: Bool, content: FileContent?) {
        try table.withLock { table in
            guard case .file(let inode, let writable, let append)? = table.handles[handle] else { throw VFSError(.badHandle) }
            return (inode, writable, append, table.inodes[inode]?.content)
        }
    }

    /// close(2) of the last descriptor of a handle: a save if the file was written.
    func release(_ handle: UInt64) throws {
        let released = table.withLock { table -> (InodeNumber, FileContent?)? in
            guard case .file(let inode, _, _)? = table.handles.removeValue(forKey: handle) else { return nil }
            table.inodes[inode]?.opens -= 1
            return (inode, table.inodes[inode]?.content)
        }
        guard let (inode, content) = released else { throw VFSError(.badHandle) }
        defer { dropIfIdle(inode) }
        if let content, content.isModified { try save(content) }
    }

    // MARK: Folder handles

    /// A folder handle; its listing is taken by the first read, at offset 0.
    func openDirectory(_ inode: InodeNumber) -> UInt64 {
        let entries: [DirectoryEntry] = []
        return table.withLock { table in
            let handle = table.nextHandle
            table.nextHandle += 1
            table.handles[handle] = .directory(inode: inode, entries: entries)
            return handle
        }
    }

    /// The folder a folder handle lists.
    func directory(of handle: UInt64) throws -> InodeNumber {
        guard case .directory(let inode, _)? = table.withLock({ $0.handles[handle] }) else { throw VFSError(.badHandle) }
        return inode
    }

    /// Makes `entries` the handle's listing (a snapshot, taken again on a rewind).
    func keep(_ entries: [DirectoryEntry], of inode: InodeNumber, for handle: UInt64) {
        table.withLock { $0.handles[handle] = .directory(inode: inode, entries: entries) }
    }

    /// The listing's entries from `offset` on, an entry's offset being its index.
    func entries(of handle: UInt64, from offset: Int64) throws -> ArraySlice<DirectoryEntry> {
        try table.withLock { table in
            guard case .directory(_, let entries)? = table.handles[handle] else { throw VFSError(.badHandle) }
            let start = Int(max(0, min(offset, Int64(entries.count))))
            return entries[start...]
        }
    }

    func releaseDirectory(_ handle: UInt64) {
        _ = table.withLock { $0.handles.removeValue(forKey: handle) }
    }
}
