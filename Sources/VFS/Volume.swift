import BlobStorage
import CatalogStore
import Foundation
import Logging
import NexusTypes
import RepositoryCore
import Synchronization

/// A mounted repository as a POSIX filesystem: inode numbers are the catalog's,
/// namespace changes are staged in the catalog and committed in groups, open
/// files keep their written pages in memory until they are saved.
///
/// Thread-safe. Lock order: a FileContent's `saving`, then a FileContent's state, then the
/// catalog, then `table`. Nothing waits for another lock while holding `table` (it reads a
/// content's `isModified`, which is lock-free): the catalog may be busy for a commit's fsync.
public final class Volume: Sendable {
    let repository: Repository
    let namespace: Namespace
    let policy: Policy
    let options: VolumeOptions
    let source: ChunkSource
    let logger: Logger
    let table = Mutex(Table())
    /// Bytes that are not holes, per stored content, for st_blocks.
    let allocated = Mutex([ManifestID: Int64]())
    /// Layouts of contents just saved or opened (see `LayoutCache`).
    let layouts = Mutex(LayoutCache())
    /// SHA-256 per stored content, for `user.nexus.sha256`.
    let digests = Mutex([ManifestID: String]())
    /// Tells the kernel about permission changes it did not make (set by the FUSE frontend).
    let invalidationHandler = Mutex<(@Sendable ([InodeNumber]) -> Void)?>(nil)

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

    public init(repository: Repository, options: VolumeOptions = VolumeOptions(), logger: Logger = Logger(label: "nexusfs.vfs")) throws {
        self.repository = repository
        namespace = Namespace(repository: repository, options: options, logger: logger)
        policy = Policy(namespace: namespace, repository: repository, options: options, logger: logger)
        self.options = options
        self.logger = logger
        source = ChunkSource(repository: repository)
        try removeOrphans()
    }

    /// Nodes left without a name by a previous session (unlinked while open) are deleted.
    private func removeOrphans() throws {
        guard !options.readOnly else { return }
        try namespace.stage { w in
            for inode in try w.reader.orphanNodes() where inode != .root { try w.deleteNode(inode) }
        }
    }

    /// Starts the thread that commits staged changes within the commit interval (see `Namespace`);
    /// it also audits the refusals noted since its last turn.
    public func startCommitting() {
        namespace.startCommitting { [policy] in policy.stageRefusals() }
    }

    /// Makes every staged change durable now (fsync, fsyncdir, shutdown); the committer adds checkpoints.
    public func commitNow() throws {
        try namespace.commitNow()
    }

    /// What went wrong, without names or content (it is left in the repository's lock file).
    static func summary(of error: any Error) -> String {
        let noSpace = (error as? VFSError)?.code == .noSpace || (error as? RepositoryError)?.code == .noSpace
            || (error as? CatalogError)?.code == .noSpace
        return noSpace ? "changes could not be saved: no space left on the repository's disk"
            : "changes could not be saved: an I/O error (details in mount.log beside the live catalog)"
    }

    /// Saves every written file, commits, stops the committer and closes the repository.
    public func shutdown() throws {
        // The committer may be in a commit or a checkpoint: closing waits for it.
        namespace.stopCommitting()
        let contents = table.withLock { table in table.inodes.values.compactMap(\.content) }
        var firstError: (any Error)?
        for content in contents where content.isModified {
            do { try save(content) } catch { firstError = firstError ?? error }
        }
        policy.stageRefusals()
        do { try commitNow() } catch { firstError = firstError ?? error }
        if let firstError { repository.noteFailure(Self.summary(of: firstError)) }
        do {
            try repository.close()
        } catch {
            repository.noteFailure(Self.summary(of: error))
            firstError = firstError ?? error
        }
        if let firstError { throw firstError }
    }

    /// A name a program may create: `.versions` is taken by the history view.
    static func creatableName(_ bytes: [UInt8]) throws -> FileName {
        if bytes == VersionsView.name { throw VFSError(.exists, "the name .versions is reserved for the version history") }
        return try name(bytes)
    }

    static func name(_ bytes: [UInt8]) throws -> FileName {
        if bytes.count > FileName.maxLength { throw VFSError(.nameTooLong) }
        guard let name = FileName(bytes: bytes) else { throw VFSError(.invalid, "invalid name") }
        return name
    }

    // MARK: Attributes and lookups

    /// The attributes of `inode`, with unsaved writes of an open file taken into account.
    public func attributes(of inode: InodeNumber) throws -> Attributes {
        if let view = VersionsView.node(inode) { return try namespace.read { try versionsAttributes(view, in: $0) } }
        let (node, content) = try readConsistently(cached: {
            if case let node?? = self.namespace.cachedNode(inode) { return node }
            return nil
        }) { try $0.existingNode(inode) }
        return attributes(node, content: content)
    }

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

    private func allocatedBytes(of manifest: ManifestID) -> Int64 {
        if let known = allocated.withLock({ $0[manifest] }) { return known }
        // Not through the layout cache: a listing of a million small files must not fill it.
        let cached = layouts.withLock { $0.layout(of: manifest) }
        guard let layout = cached ?? (try? namespace.read({ try $0.manifest(manifest) }).map(ContentLayout.init(manifest:))) else { return 0 }
        return noteAllocated(layout, as: manifest)
    }

    /// Records a stored content's allocated bytes, for st_blocks.
    @discardableResult
    private func noteAllocated(_ layout: ContentLayout, as manifest: ManifestID) -> Int64 {
        let bytes = layout.allocatedBytes
        allocated.withLock { cache in
            if cache.count > 100_000 { cache.removeAll() }
            cache[manifest] = bytes
        }
        return bytes
    }

    /// The layout of a stored content, from the cache or the catalog.
    func layout(of manifest: ManifestID) throws -> ContentLayout? {
        if let cached = layouts.withLock({ $0.layout(of: manifest) }) { return cached }
        guard let stored = try namespace.read({ try $0.manifest(manifest) }) else { return nil }
        let layout = ContentLayout(manifest: stored)
        remember(layout, as: manifest)
        return layout
    }

    /// Caches a stored content's layout and its allocated bytes.
    func remember(_ layout: ContentLayout, as manifest: ManifestID) {
        layouts.withLock { $0.insert(layout, as: manifest) }
        noteAllocated(layout, as: manifest)
    }

    /// Records that the kernel now holds one more reference to `inode`.
    public func remember(_ inode: InodeNumber) {
        table.withLock { $0.inodes[inode, default: InodeState()].lookups += 1 }
    }

    /// Looks `name` up in `parent`; the kernel then holds a reference to the result.
    public func lookup(_ name: [UInt8], in parent: InodeNumber) throws -> Attributes {
        if let view = try versionsLookup(name, in: parent) { return view }
        let name = try Self.name(name)
        let (node, content) = try readConsistently(cached: {
            guard case let folder?? = self.namespace.cachedNode(parent) else { return nil }
            guard folder.kind == .directory else { throw VFSError(.notDirectory) }
            guard case let entry? = self.namespace.cachedEntry(named: name, in: parent) else { return nil }
            guard let inode = entry else { throw VFSError(.notFound) }
            guard case let node?? = self.namespace.cachedNode(inode) else { return nil }
            return node
        }) { reader -> NodeRecord in
            let folder = try reader.existingNode(parent)
            guard folder.kind == .directory else { throw VFSError(.notDirectory) }
            guard let inode = try reader.entry(named: name, in: parent) else { throw VFSError(.notFound) }
            return try reader.existingNode(inode)
        }
        remember(node.inode)
        return attributes(node, content: content)
    }

    /// The kernel dropped `count` references; a node without names and references goes.
    public func forget(_ inode: InodeNumber, count: UInt64) {
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

    /// Deletes a node that has no names left and nobody holding it.
    func deleteIfUnlinked(_ inode: InodeNumber) {
        guard inode != .root, !options.readOnly, !VersionsView.isVirtual(inode) else { return }
        do {
            // Most forgotten nodes still have names: look before opening a write.
            guard try namespace.read({ try $0.node(inode)?.linkCount == 0 }) else { return }
            try namespace.stage { w in
                if let node = try w.reader.node(inode), node.linkCount == 0 { try w.deleteNode(inode) }
            }
        } catch {
            logger.warning("could not delete unlinked inode \(inode): \(error)")
        }
    }

    /// Whether the inode's content has writes not yet saved (its save will record the version).
    func hasUnsavedContent(_ inode: InodeNumber) -> Bool {
        table.withLock { $0.inodes[inode]?.content?.isModified ?? false }
    }

    // MARK: Kernel caches

    /// Tells the kernel that the permissions of these nodes changed behind its back.
    func invalidate(_ inodes: [InodeNumber]) {
        guard !inodes.isEmpty, let handler = invalidationHandler.withLock({ $0 }) else { return }
        let known = table.withLock { table in inodes.filter { table.inodes[$0] != nil } }
        handler(known)
    }

    /// Called with nodes whose attributes or ACLs changed other than through the kernel.
    public func onInvalidation(_ handler: @escaping @Sendable ([InodeNumber]) -> Void) {
        invalidationHandler.withLock { $0 = handler }
    }

    // MARK: DMS requests (see `Policy`)

    /// The caller's level on `inode` (`user.nexus.access`).
    public func level(of caller: Caller, on inode: InodeNumber) throws -> AccessLevel {
        try policy.level(of: caller, on: inode)
    }

    /// Gives `principal` exactly `level` on the node, and with `recursive` below it (see `Policy.grant`).
    /// Returns the nodes whose permissions changed.
    public func grant(_ level: AccessLevel, to principal: Principal, on inode: InodeNumber, recursive: Bool,
                      caller: Caller) throws -> [InodeNumber] {
        try policy.grant(level, to: principal, on: inode, recursive: recursive, caller: caller)
    }

    /// Everyone with a level on the node, and why (`nexusfs access`).
    public func accessReport(of inode: InodeNumber) throws -> [AccessGrant] {
        try policy.accessReport(of: inode)
    }

    /// Adds a comment (comment level and above); `setXattr` of `system.nexus.comment` audits refusals.
    public func addComment(_ text: String, on inode: InodeNumber, caller: Caller) throws {
        try policy.addComment(text, on: inode, caller: caller)
    }
}
