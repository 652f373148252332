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
/// The façade the FUSE frontend and the commands call. It implements the POSIX semantics and
/// composes `Namespace` (the catalog and its group commits), `OpenFiles` (inodes, handles and
/// open contents) and `Policy` (the DMS rules and the audit trail).
///
/// Thread-safe. The lock order is declared at `OpenFiles`; `invalidationHandler` is a leaf.
public final class Volume: Sendable {
    let repository: Repository
    let namespace: Namespace
    let policy: Policy
    let options: VolumeOptions
    let files: OpenFiles
    /// Tells the kernel about permission changes it did not make (set by the FUSE frontend).
    let invalidationHandler = Mutex<InvalidationHandler?>(nil)
    /// The folders of the `/.trash` view handed out so far.
    let trashFolders = TrashFolders()
    /// The tags of the `/.tags` view and the queries of `/.search` handed out so far.
    let tagNames = TagNames()
    /// The latest answers of `/.search` folders' hits attribute (see `hitsJSON`).
    let recentHits = RecentHits()
    /// Keeps the search index current; none on a read-only volume.
    let indexer: SearchIndexer?
    /// The past volumes of the `/.at` view.
    let pastVolumes = PastVolumes()
    let logger: Logger

    public init(repository: Repository, options: VolumeOptions = VolumeOptions(), logger: Logger = Logger(label: "nexusfs.vfs")) throws {
        self.repository = repository
        namespace = Namespace(repository: repository, options: options, logger: logger)
        policy = Policy(namespace: namespace, repository: repository, options: options, logger: logger)
        self.options = options
        self.logger = logger
        let source = ChunkSource(repository: repository)
        files = OpenFiles(source: source, namespace: namespace, policy: policy, options: options, logger: logger)
        indexer = options.readOnly ? nil
            : SearchIndexer(namespace: namespace, source: source, extractor: options.extractor, logger: logger)
        try removeOrphans()
        try expireTrash()
    }

    /// Nodes left without a name by a previous session (unlinked while open) are deleted.
    private func removeOrphans() throws {
        guard !options.readOnly else { return }
        try namespace.stage(mappingErrors: false) { w in
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
    /// A full disk is named: the repository's, or the state directory's (the live catalog's).
    func summary(of error: any Error) -> String {
        let noSpace = (error as? VFSError)?.code == .noSpace || (error as? RepositoryError)?.code == .noSpace
            || (error as? CatalogError)?.code == .noSpace
        guard noSpace else { return "changes could not be saved: an I/O error (details in mount.log beside the live catalog)" }
        let disks = [(repository.path, "the repository's disk"), (repository.stateDirectory, "the state directory's disk")]
            .filter { Self.isFull($0.0) }.map(\.1)
        return "changes could not be saved: no space left on "
            + (disks.isEmpty ? "the repository's or the state directory's disk" : disks.joined(separator: " and "))
    }

    /// Whether the filesystem holding `path` is (nearly) out of blocks.
    static func isFull(_ path: String) -> Bool {
        var disk = statvfs()
        guard statvfs(path, &disk) == 0 else { return false }
        return UInt64(disk.f_bavail) * UInt64(disk.f_frsize) < 1 << 20
    }

    /// Saves every written file, commits, stops the committer and closes the repository.
    public func shutdown() throws {
        // The committer may be in a commit or a checkpoint: closing waits for it.
        indexer?.stop()
        pastVolumes.closeAll()
        namespace.stopCommitting()
        var firstError: (any Error)?
        do { try files.saveAll() } catch { firstError = error }
        policy.stageRefusals()
        do { try commitNow() } catch { firstError = firstError ?? error }
        if let firstError { repository.noteFailure(summary(of: firstError)) }
        do {
            try repository.close()
        } catch {
            repository.noteFailure(summary(of: error))
            firstError = firstError ?? error
        }
        if let firstError { throw firstError }
    }

    /// A name a program may create: `.versions` is taken by the history view.
    static func creatableName(_ bytes: [UInt8]) throws -> FileName {
        if bytes == VersionsView.name { throw VFSError(.exists, "the name .versions is reserved for the version history") }
        return try name(bytes)
    }

    /// A name a program may create in `parent`: `/.trash` is taken by the trash view too.
    static func creatableName(_ bytes: [UInt8], in parent: InodeNumber) throws -> FileName {
        if parent == .root && bytes == TrashView.name { throw VFSError(.exists, "the name /.trash is reserved for the trash") }
        if parent == .root && bytes == TagsView.name { throw VFSError(.exists, "the name /.tags is reserved for the tags view") }
        if parent == .root && bytes == TagsView.searchName { throw VFSError(.exists, "the name /.search is reserved for searches") }
        if parent == .root && bytes == AtView.name { throw VFSError(.exists, "the name /.at is reserved for the past views") }
        return try creatableName(bytes)
    }

    static func name(_ bytes: [UInt8]) throws -> FileName {
        if bytes.count > FileName.maxLength { throw VFSError(.nameTooLong) }
        guard let name = FileName(bytes: bytes) else { throw VFSError(.invalid, "invalid name") }
        return name
    }

    // MARK: Attributes and lookups

    /// The attributes of `inode`, with unsaved writes of an open file taken into account.
    public func attributes(of inode: InodeNumber) throws -> Attributes {
        if let view = try atAttributes(of: inode) { return view }
        if let view = TrashView.node(inode) { return try namespace.read { try trashAttributes(view, in: $0) } }
        if let view = TagsView.node(inode) { return try namespace.read { try tagsAttributes(view, in: $0) } }
        if let view = VersionsView.node(inode) { return try namespace.read { try versionsAttributes(view, in: $0) } }
        let (node, content) = try files.readConsistently(cached: {
            if case let node?? = self.namespace.cachedNode(inode) { return node }
            return nil
        }) { try $0.existingNode(inode) }
        return files.attributes(node, content: content)
    }

    /// Records that the kernel now holds one more reference to `inode`.
    public func remember(_ inode: InodeNumber) {
        if AtView.contains(inode) { return atRemember(inode) }
        files.remember(inode)
    }

    /// Looks `name` up in `parent`; the kernel then holds a reference to the result. `caller`
    /// decides what of the trash is seen (nil: everything).
    public func lookup(_ name: [UInt8], in parent: InodeNumber, caller: Caller? = nil) throws -> Attributes {
        if let view = try atLookup(name, in: parent, caller: caller) { return view }
        if let view = try trashLookup(name, in: parent, caller: caller) { return view }
        if let view = try tagsLookup(name, in: parent, caller: caller) { return view }
        if let view = try versionsLookup(name, in: parent) { return view }
        let name = try Self.name(name)
        let (node, content) = try files.readConsistently(cached: {
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
        files.remember(node.inode)
        return files.attributes(node, content: content)
    }

    /// The kernel dropped `count` references; a node without names and references goes.
    public func forget(_ inode: InodeNumber, count: UInt64) {
        if AtView.contains(inode) { return atForget(inode, count: count) }
        files.forget(inode, count: count)
    }

    // MARK: Kernel caches

    /// Tells the kernel that the permissions of these nodes changed behind its back.
    func invalidate(_ inodes: [InodeNumber]) {
        guard !inodes.isEmpty, let handler = invalidationHandler.withLock({ $0 }) else { return }
        handler.call(files.known(inodes))
    }

    /// Called with nodes whose attributes or ACLs changed other than through the kernel.
    public func onInvalidation(_ handler: @escaping @Sendable ([InodeNumber]) -> Void) {
        invalidationHandler.withLock { $0 = InvalidationHandler(call: handler) }
    }

    // MARK: DMS requests (see `Policy`)

    /// The caller's level on `inode` (`user.nexus.access`).
    public func level(of caller: Caller, on inode: InodeNumber) throws -> AccessLevel {
        if AtView.contains(inode) {
            if inode == AtView.root { return .view }
            return try pastVolumes.using(inode) { past, node in try past.level(of: caller, on: node.inode) }!
        }
        return try policy.level(of: caller, on: inode)
    }

    /// Gives `principal` exactly `level` on the node, and with `recursive` below it (see `Policy.grant`).
    /// Returns the nodes whose permissions changed.
    public func grant(_ level: AccessLevel, to principal: Principal, on inode: InodeNumber, recursive: Bool,
                      caller: Caller) throws -> [InodeNumber] {
        try policy.grant(level, to: principal, on: inode, recursive: recursive, caller: caller)
    }

    /// Everyone with a level on the node, and why (`nexusfs access`).
    public func accessReport(of inode: InodeNumber) throws -> [AccessGrant] {
        if AtView.contains(inode) {
            if inode == AtView.root { return [] }
            return try pastVolumes.using(inode) { past, node in try past.accessReport(of: node.inode) }!
        }
        return try policy.accessReport(of: inode)
    }

    /// Adds a comment (comment level and above); `setXattr` of `system.nexus.comment` audits refusals.
    public func addComment(_ text: String, on inode: InodeNumber, caller: Caller) throws {
        try VersionsView.refuseVirtual(inode)
        try policy.addComment(text, on: inode, caller: caller)
    }
}

/// The frontend's kernel-cache invalidation, held by reference. A function value kept in a generic
/// container (`Mutex`) is reabstracted on every `inout` access, and `withLock { $0 }` wrote back a
/// thunk around the stored thunk each time: after a day of saves by rename, each invalidation ran
/// through tens of thousands of nested thunks (72 % of the daemon's time in an hour's soak) and
/// their memory was never given back.
final class InvalidationHandler: Sendable {
    let call: @Sendable ([InodeNumber]) -> Void

    init(call: @escaping @Sendable ([InodeNumber]) -> Void) { self.call = call }
}
