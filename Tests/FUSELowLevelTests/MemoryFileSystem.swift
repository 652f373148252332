import FUSELowLevel
import Glibc
import Synchronization

/// A small in-memory filesystem for the binding's tests: files, directories, symlinks and xattrs.
final class MemoryFileSystem: FUSEFileSystem {
    /// How the filesystem answers, chosen per test.
    struct Configuration: Sendable {
        /// Keep readdirplus (and let the kernel choose per listing); false drops both capabilities.
        var readdirplus = true
        /// Always use readdirplus (drops readdirplusAuto).
        var readdirplusAlways = false
        /// Seconds a missing name is cached as absent; 0 answers ENOENT instead.
        var negativeTimeout: Double = 0
        var entryTimeout: Double = 1
        var attributeTimeout: Double = 1
        /// Open files with keep_cache, so cached pages survive reopening.
        var keepCache = false
    }

    /// A failure that is no FUSEError: the binding must answer it with EIO.
    struct Failure: Error {}

    /// renameat2's flag, which Glibc's module leaves out (it needs _GNU_SOURCE).
    static let renameNoReplace: UInt32 = 1

    /// A name whose lookup throws `Failure`.
    static let failingName = Array("explode".utf8)

    let configuration: Configuration
    /// Counts calls that outlive the filesystem object (shared with the test).
    let events: Events
    /// The only lock; held briefly by every operation.
    let state: Mutex<State>

    struct State {
        var inodes: [UInt64: MemoryInode]
        var nextIno: UInt64 = 2
        var nextHandle: UInt64 = 1
        /// Directory listings captured at opendir, by handle: stable offsets across readdir calls.
        var listings: [UInt64: [FUSEDirectoryEntry]] = [:]
        /// The context of the last create, by name, for the request-context tests.
        var createContexts: [[UInt8]: FUSERequestContext] = [:]
        var createGroups: [[UInt8]: [UInt32]] = [:]
        /// The largest single write the kernel sent.
        var largestWrite = 0
    }

    final class Events: Sendable {
        let initialized = Atomic<Int>(0)
        let destroyed = Atomic<Int>(0)
    }

    init(configuration: Configuration = Configuration(), events: Events = Events()) {
        self.configuration = configuration
        self.events = events
        let now = MemoryInode.now()
        let root = MemoryInode(
            attributes: FUSEAttributes(ino: 1, mode: S_IFDIR | 0o1777, nlink: 2, atime: now, mtime: now, ctime: now),
            content: .directory(parent: 1, children: [:]))
        state = Mutex(State(inodes: [1: root]))
    }

    func initialize(_ connection: inout FUSEConnection) {
        events.initialized.add(1, ordering: .relaxed)
        if !configuration.readdirplus {
            connection.dropCapability([.readdirplus, .readdirplusAuto])
        } else if configuration.readdirplusAlways {
            connection.dropCapability(.readdirplusAuto)
        }
    }

    func destroy() {
        events.destroyed.add(1, ordering: .relaxed)
    }

    func lookup(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8]) throws -> FUSEEntry {
        if name == Self.failingName { throw Failure() }
        if name.count > 255 { throw FUSEError.fileNameTooLong }
        return try state.withLock { state in
            guard let directory = state.inodes[parent], directory.isDirectory else { throw FUSEError.notDirectory }
            guard let ino = directory.children[name] else {
                if configuration.negativeTimeout > 0 { return .negative(timeout: configuration.negativeTimeout) }
                throw FUSEError.noSuchFileOrDirectory
            }
            return entry(ino, in: state)
        }
    }

    func getattr(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64?) throws -> (FUSEAttributes, timeout: Double) {
        try state.withLock { state in
            guard let inode = state.inodes[ino] else { throw FUSEError.noSuchFileOrDirectory }
            return (inode.attributes, configuration.attributeTimeout)
        }
    }

    func setattr(_ ctx: FUSERequestContext, ino: UInt64, _ changes: FUSESetAttributes) throws
        -> (FUSEAttributes, timeout: Double)
    {
        try state.withLock { state in
            guard var inode = state.inodes[ino] else { throw FUSEError.noSuchFileOrDirectory }
            let now = MemoryInode.now()
            if let mode = changes.mode { inode.attributes.mode = inode.attributes.mode & S_IFMT | mode & ~S_IFMT }
            if let uid = changes.uid { inode.attributes.uid = uid }
            if let gid = changes.gid { inode.attributes.gid = gid }
            if let size = changes.size {
                guard case .file = inode.content else { throw FUSEError.isDirectory }
                inode.resize(to: size)
                inode.attributes.mtime = now
            }
            if let atime = changes.atime { inode.attributes.atime = Self.resolve(atime, now: now) }
            if let mtime = changes.mtime { inode.attributes.mtime = Self.resolve(mtime, now: now) }
            inode.attributes.ctime = changes.ctime ?? now
            state.inodes[ino] = inode
            return (inode.attributes, configuration.attributeTimeout)
        }
    }

    func readlink(_ ctx: FUSERequestContext, ino: UInt64) throws -> [UInt8] {
        try state.withLock { state in
            guard case .symlink(let target) = state.inodes[ino]?.content else { throw FUSEError.invalidArgument }
            return target
        }
    }

    func mknod(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], mode: UInt32, rdev: UInt64) throws
        -> FUSEEntry
    {
        guard mode & S_IFMT == S_IFREG else { throw FUSEError.notPermitted }
        return try insert(ctx, parent: parent, name: name, mode: mode, content: .file([]))
    }

    func mkdir(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], mode: UInt32) throws -> FUSEEntry {
        try insert(ctx, parent: parent, name: name, mode: S_IFDIR | mode & ~S_IFMT,
                   content: .directory(parent: parent, children: [:]))
    }

    func symlink(_ ctx: FUSERequestContext, target: [UInt8], parent: UInt64, name: [UInt8]) throws -> FUSEEntry {
        try insert(ctx, parent: parent, name: name, mode: S_IFLNK | 0o777, content: .symlink(target))
    }

    func unlink(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8]) throws {
        try state.withLock { state in
            let ino = try Self.child(name, of: parent, in: state)
            guard state.inodes[ino]?.isDirectory == false else { throw FUSEError.isDirectory }
            Self.detach(name, from: parent, in: &state)
        }
    }

    func rmdir(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8]) throws {
        try state.withLock { state in
            let ino = try Self.child(name, of: parent, in: state)
            guard let inode = state.inodes[ino], inode.isDirectory else { throw FUSEError.notDirectory }
            guard inode.children.isEmpty else { throw FUSEError.directoryNotEmpty }
            Self.detach(name, from: parent, in: &state)
        }
    }

    func rename(
        _ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], newParent: UInt64, newName: [UInt8], flags: UInt32
    ) throws {
        guard flags & ~Self.renameNoReplace == 0 else { throw FUSEError.invalidArgument }
        try state.withLock { state in
            let ino = try Self.child(name, of: parent, in: state)
            guard state.inodes[newParent]?.isDirectory == true else { throw FUSEError.notDirectory }
            if let existing = state.inodes[newParent]?.children[newName] {
                guard existing != ino else { return }
                guard flags & Self.renameNoReplace == 0 else { throw FUSEError.fileExists }
                let source = state.inodes[ino]!, target = state.inodes[existing]!
                if target.isDirectory && !source.isDirectory { throw FUSEError.isDirectory }
                if !target.isDirectory && source.isDirectory { throw FUSEError.notDirectory }
                if !target.children.isEmpty { throw FUSEError.directoryNotEmpty }
                Self.detach(newName, from: newParent, in: &state)
            }
            Self.detach(name, from: parent, in: &state, keepingInode: true)
            Self.attach(ino, as: newName, to: newParent, in: &state)
            if case .directory(_, let children) = state.inodes[ino]!.content {
                state.inodes[ino]!.content = .directory(parent: newParent, children: children)
            }
        }
    }

    func link(_ ctx: FUSERequestContext, ino: UInt64, newParent: UInt64, newName: [UInt8]) throws -> FUSEEntry {
        try state.withLock { state in
            guard state.inodes[newParent]?.children[newName] == nil else { throw FUSEError.fileExists }
            guard state.inodes[ino]?.isDirectory == false else { throw FUSEError.notPermitted }
            Self.attach(ino, as: newName, to: newParent, in: &state)
            state.inodes[ino]!.attributes.nlink += 1
            return entry(ino, in: state)
        }
    }

    func statfs(_ ctx: FUSERequestContext, ino: UInt64) throws -> FUSEStatfs {
        FUSEStatfs(blockSize: 4096, blocks: 1_000_000, blocksFree: 250_000, blocksAvailable: 200_000,
                   files: 500_000, filesFree: 400_000, nameMax: 255)
    }

    /// The entry for `ino`, with this filesystem's timeouts.
    func entry(_ ino: UInt64, in state: State) -> FUSEEntry {
        FUSEEntry(ino: ino, attributes: state.inodes[ino]!.attributes,
                  attributeTimeout: configuration.attributeTimeout, entryTimeout: configuration.entryTimeout)
    }

    /// Creates an inode named `name` in `parent`, owned by the caller.
    func insert(
        _ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], mode: UInt32, content: MemoryInode.Content
    ) throws -> FUSEEntry {
        if name.count > 255 { throw FUSEError.fileNameTooLong }
        return try state.withLock { state in
            guard let directory = state.inodes[parent], directory.isDirectory else { throw FUSEError.notDirectory }
            guard directory.children[name] == nil else { throw FUSEError.fileExists }
            let ino = state.nextIno
            state.nextIno += 1
            let now = MemoryInode.now()
            let isDirectory = mode & S_IFMT == S_IFDIR
            var attributes = FUSEAttributes(ino: ino, mode: mode, nlink: isDirectory ? 2 : 1, uid: ctx.uid,
                                            gid: ctx.gid, atime: now, mtime: now, ctime: now)
            if case .symlink(let target) = content { attributes.size = Int64(target.count) }
            state.inodes[ino] = MemoryInode(attributes: attributes, content: content)
            Self.attach(ino, as: name, to: parent, in: &state)
            return entry(ino, in: state)
        }
    }

    static func resolve(_ change: FUSETimeChange, now: FUSETimespec) -> FUSETimespec {
        switch change {
        case .now: now
        case .time(let time): time
        }
    }

    static func child(_ name: [UInt8], of parent: UInt64, in state: State) throws -> UInt64 {
        guard let directory = state.inodes[parent], directory.isDirectory else { throw FUSEError.notDirectory }
        guard let ino = directory.children[name] else { throw FUSEError.noSuchFileOrDirectory }
        return ino
    }

    static func attach(_ ino: UInt64, as name: [UInt8], to parent: UInt64, in state: inout State) {
        guard case .directory(let grandparent, var children) = state.inodes[parent]!.content else { return }
        children[name] = ino
        state.inodes[parent]!.content = .directory(parent: grandparent, children: children)
        if state.inodes[ino]!.isDirectory { state.inodes[parent]!.attributes.nlink += 1 }
        state.inodes[parent]!.attributes.mtime = MemoryInode.now()
    }

    /// Removes `name` from `parent`; the inode stays (open handles may still use it) unless kept for a move.
    static func detach(_ name: [UInt8], from parent: UInt64, in state: inout State, keepingInode: Bool = false) {
        guard case .directory(let grandparent, var children) = state.inodes[parent]!.content,
              let ino = children.removeValue(forKey: name)
        else { return }
        state.inodes[parent]!.content = .directory(parent: grandparent, children: children)
        state.inodes[parent]!.attributes.mtime = MemoryInode.now()
        if state.inodes[ino]!.isDirectory { state.inodes[parent]!.attributes.nlink -= 1 }
        if !keepingInode { state.inodes[ino]!.attributes.nlink -= state.inodes[ino]!.isDirectory ? 2 : 1 }
    }
}
