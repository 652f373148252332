import CatalogStore
import Glibc
import NexusTypes
import RepositoryCore

/// The `/.at` view (see `AtView`, `PastVolumes`): `/.at/TIME/` is the root of a read-only volume
/// over `Repository.pastView(asOf:)`, built on the first lookup of a time. The live volume
/// passes each operation on an inode or handle of the view to that volume and maps the inodes
/// and handles of its answers into the view's ranges. The past tree's own modes, owners, ACLs
/// and DMS levels decide what a caller may do there (the kernel checks the modes and ACLs).
extension Volume {
    // MARK: Names

    /// The view's entry `name` under `parent`, when `parent` or `name` belongs to the view.
    func atLookup(_ name: [UInt8], in parent: InodeNumber, caller: Caller?) throws -> Attributes? {
        if parent == .root && name == AtView.name {
            return try namespace.read { reader in
                // A folder of that name made before the view existed stays reachable (the view then is not).
                if let name = FileName(bytes: name), try reader.entry(named: name, in: .root) != nil { return nil }
                return try atRootAttributes(in: reader)
            }
        }
        guard AtView.contains(parent) else { return nil }
        if parent == AtView.root {
            let key = try pastVolume(named: name)
            // The kernel's reference to the past root, counted there as lookups are.
            guard let attributes = try pastVolumes.using(key, { past -> Attributes in
                let root = try past.attributes(of: .root)
                past.remember(.root)
                return root
            }) else { throw VFSError(.notFound, "a past view that was closed") }
            return mapped(attributes, of: key)
        }
        return try pastVolumes.using(parent) { past, node in
            mapped(try past.lookup(name, in: node.inode, caller: caller), of: node.key)
        }
    }

    /// The key of the past volume for a folder name of `/.at`, built on first use.
    private func pastVolume(named name: [UInt8]) throws -> Int64 {
        if let key = pastVolumes.key(named: name) { return key }
        guard let time = AtView.time(named: name) else { throw VFSError(.notFound, "not a time") }
        let key = time.totalNanoseconds
        return try pastVolumes.building.withLock { _ in
            if pastVolumes.isClosed { throw VFSError(.notFound, "the volume is shutting down") }
            // Another name that resolved to the same time, or a build that finished meanwhile.
            if (try? pastVolumes.using(key, { _ in true })) != nil {
                pastVolumes.name(name, as: key)
                return key
            }
            let started = ContinuousClock.now
            let past: Repository
            do {
                past = try repository.pastView(asOf: time)
            } catch let error as RepositoryError where error.code == .notFound {
                throw VFSError(.notFound, error.message)
            } catch {
                logger.error("cannot build the past view /.at as of \(time.iso8601): \(error)")
                throw VFSError(.io, "cannot build the past view as of \(time.iso8601): \(error)")
            }
            let volume: Volume
            do {
                volume = try Volume(repository: past, options: VolumeOptions(readOnly: true, trashDays: options.trashDays),
                                    logger: logger)
            } catch {
                try? past.close()
                throw error
            }
            logger.info("past view /.at as of \(time.iso8601) built in \(ContinuousClock.now - started)")
            let evicted = pastVolumes.insert(PastVolume(key: key, volume: volume), named: name)
            for old in evicted { try? old.volume.shutdown() }
            return key
        }
    }

    /// The past volume's answer with its inode mapped into the view.
    private func mapped(_ attributes: Attributes, of key: Int64) -> Attributes {
        var attributes = attributes
        attributes.inode = pastVolumes.live(attributes.inode, of: key)
        return attributes
    }

    /// `/.at`: a folder open to all that lists nothing (any time is a name in it).
    private func atRootAttributes(in reader: CatalogReader) throws -> Attributes {
        let root = try reader.existingNode(.root)
        return Attributes(inode: AtView.root, mode: NodeKind.directory.rawValue | 0o555, linkCount: 1, uid: 0, gid: 0, rdev: 0,
                          size: 0, blocks: 0, accessTime: root.accessTime, modificationTime: root.modificationTime,
                          changeTime: root.changeTime)
    }

    /// The attributes of an inode of the view; nil for other inodes.
    func atAttributes(of inode: InodeNumber) throws -> Attributes? {
        guard AtView.contains(inode) else { return nil }
        if inode == AtView.root { return try namespace.read { try atRootAttributes(in: $0) } }
        return try pastVolumes.using(inode) { past, node in mapped(try past.attributes(of: node.inode), of: node.key) }
    }

    /// One more kernel reference to an inode of the view (readdirplus).
    func atRemember(_ inode: InodeNumber) {
        _ = try? pastVolumes.using(inode) { past, node in past.remember(node.inode) }
    }

    /// The kernel dropped references to an inode of the view.
    func atForget(_ inode: InodeNumber, count: UInt64) {
        _ = try? pastVolumes.using(inode) { past, node in past.forget(node.inode, count: count) }
    }

    /// The target of a symlink of a past volume; nil for other inodes.
    func atReadSymlink(_ inode: InodeNumber) throws -> [UInt8]? {
        guard AtView.contains(inode) else { return nil }
        if inode == AtView.root { throw VFSError(.invalid) }
        return try pastVolumes.using(inode) { past, node in try past.readSymlink(node.inode) }
    }

    // MARK: Folders

    /// Opens a folder of a past volume; nil for other inodes (and for `/.at`, listed by the live volume).
    func atOpenDirectory(_ inode: InodeNumber) throws -> UInt64? {
        guard AtView.id(inode) != nil else { return nil }
        return try pastVolumes.using(inode) { past, node in
            pastVolumes.register(try past.openDirectory(node.inode), of: node.key, inode: node.inode)
        }
    }

    /// The entries of a past folder, mapped; `..` of a past root is `/.at`.
    func atListDirectory(_ handle: UInt64, from offset: Int64, caller: Caller?) throws -> ArraySlice<DirectoryEntry>? {
        try pastVolumes.using(handle: handle) { past, open in
            ArraySlice(try past.listDirectory(open.handle, from: offset, caller: caller).map { entry in
                var entry = entry
                entry.inode = entry.name == [0x2e, 0x2e] && open.inode == .root
                    ? AtView.root : pastVolumes.live(entry.inode, of: open.key)
                return entry
            })
        }
    }

    /// Closes a handle of the view: the past volume's, then the live number.
    func atRelease(_ handle: UInt64, directory: Bool) throws -> Bool {
        guard AtView.isHandle(handle) else { return false }
        defer { pastVolumes.unregister(handle) }
        _ = try pastVolumes.using(handle: handle) { past, open in
            if directory { past.releaseDirectory(open.handle) } else { try past.release(open.handle) }
        }
        return true
    }

    // MARK: Files

    /// Opens a file of a past volume, read-only; nil for other inodes.
    func atOpen(_ inode: InodeNumber, flags: Int32, caller: Caller) throws -> UInt64? {
        guard AtView.contains(inode) else { return nil }
        if inode == AtView.root { throw VFSError(.isDirectory) }
        guard flags & O_ACCMODE == O_RDONLY, flags & O_TRUNC == 0 else {
            throw VFSError(.readOnly, "the past views of /.at are read-only")
        }
        return try pastVolumes.using(inode) { past, node in
            pastVolumes.register(try past.open(node.inode, flags: flags, caller: caller), of: node.key, inode: node.inode)
        }
    }

    /// Runs `body` with the past volume and its handle when `handle` is one of the view's.
    func atHandle<T>(_ handle: UInt64, _ body: (Volume, UInt64) throws -> T) throws -> T? {
        try pastVolumes.using(handle: handle) { past, open in try body(past, open.handle) }
    }

    // MARK: Extended attributes

    /// An attribute of an inode of the view; nil for other inodes.
    func atXattr(_ name: [UInt8], of inode: InodeNumber, caller: Caller) throws -> [UInt8]? {
        guard AtView.contains(inode) else { return nil }
        if inode == AtView.root { throw VFSError(.noData) }
        return try pastVolumes.using(inode) { past, node in try past.xattr(name, of: node.inode, caller: caller) }
    }

    /// The attribute names of an inode of the view; nil for other inodes.
    func atXattrNames(of inode: InodeNumber) throws -> [[UInt8]]? {
        guard AtView.contains(inode) else { return nil }
        if inode == AtView.root { return [] }
        return try pastVolumes.using(inode) { past, node in try past.xattrNames(of: node.inode) }
    }

    /// How many past volumes are open (for tests).
    var pastVolumeCount: Int { pastVolumes.count }
}
