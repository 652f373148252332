import FUSELowLevel
import CLinux
import Glibc

/// Open files, directory listings and extended attributes of `MemoryFileSystem`.
extension MemoryFileSystem {
    func open(_ ctx: FUSERequestContext, ino: UInt64, flags: Int32) throws -> FUSEOpenOptions {
        try state.withLock { state in
            guard let inode = state.inodes[ino] else { throw FUSEError.noSuchFileOrDirectory }
            guard !inode.isDirectory else { throw FUSEError.isDirectory }
            // atomicOTrunc is wanted by libfuse's defaults, so O_TRUNC arrives here, not as setattr.
            if flags & O_TRUNC != 0 { state.inodes[ino]!.resize(to: 0) }
            state.nextHandle += 1
            return FUSEOpenOptions(handle: state.nextHandle, keepCache: configuration.keepCache)
        }
    }

    func read(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, offset: Int64, size: Int) throws -> [UInt8] {
        try state.withLock { state in
            guard case .file(let data) = state.inodes[ino]?.content else { throw FUSEError.isDirectory }
            let start = min(Int(offset), data.count)
            return Array(data[start..<min(start + size, data.count)])
        }
    }

    func write(
        _ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, offset: Int64, data: UnsafeRawBufferPointer,
        flags: Int32
    ) throws -> Int {
        try state.withLock { state in
            guard case .file(var content) = state.inodes[ino]?.content else { throw FUSEError.isDirectory }
            state.inodes[ino]!.content = .file([])  // so that `content` is the only reference while it grows
            let end = Int(offset) + data.count
            if content.count < end { content += [UInt8](repeating: 0, count: end - content.count) }
            content.replaceSubrange(Int(offset)..<end, with: data)
            state.inodes[ino]!.content = .file(content)
            state.inodes[ino]!.attributes.size = Int64(content.count)
            state.inodes[ino]!.attributes.blocks = Int64(content.count + 511) / 512
            state.inodes[ino]!.attributes.mtime = MemoryInode.now()
            state.largestWrite = max(state.largestWrite, data.count)
            return data.count
        }
    }

    func flush(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, lockOwner: UInt64) throws {}
    func release(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, flags: Int32) throws {}
    func fsync(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, dataOnly: Bool) throws {}

    func create(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], mode: UInt32, flags: Int32) throws
        -> (FUSEEntry, FUSEOpenOptions)
    {
        let entry = try insert(ctx, parent: parent, name: name, mode: S_IFREG | mode & ~S_IFMT, content: .file([]))
        let groups = ctx.supplementaryGroups()
        return state.withLock { state in
            state.createContexts[name] = ctx
            state.createGroups[name] = groups
            state.nextHandle += 1
            return (entry, FUSEOpenOptions(handle: state.nextHandle, keepCache: configuration.keepCache))
        }
    }

    func opendir(_ ctx: FUSERequestContext, ino: UInt64, flags: Int32) throws -> FUSEOpenOptions {
        try state.withLock { state in
            guard case .directory(let parent, let children) = state.inodes[ino]?.content else {
                throw FUSEError.notDirectory
            }
            var listing = [
                FUSEDirectoryEntry(name: Array(".".utf8), ino: ino, mode: S_IFDIR, nextOffset: 1),
                FUSEDirectoryEntry(name: Array("..".utf8), ino: parent, mode: S_IFDIR, nextOffset: 2),
            ]
            for (name, child) in children {
                listing.append(FUSEDirectoryEntry(name: name, ino: child, mode: state.inodes[child]!.attributes.mode,
                                                  nextOffset: Int64(listing.count + 1)))
            }
            state.nextHandle += 1
            state.listings[state.nextHandle] = listing
            return FUSEOpenOptions(handle: state.nextHandle)
        }
    }

    func readdir(
        _ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, offset: Int64, plus: Bool,
        add: (FUSEDirectoryEntry) -> Bool
    ) throws {
        try state.withLock { state in
            guard let listing = state.listings[handle] else { throw FUSEError.badFileDescriptor }
            for var item in listing.dropFirst(Int(offset)) {
                if plus && item.nextOffset > 2, state.inodes[item.ino] != nil {
                    item.entry = entry(item.ino, in: state)
                }
                guard add(item) else { return }
            }
        }
    }

    func releasedir(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64) throws {
        _ = state.withLock { $0.listings.removeValue(forKey: handle) }
    }

    func setxattr(_ ctx: FUSERequestContext, ino: UInt64, name: [UInt8], value: [UInt8], flags: Int32) throws {
        try state.withLock { state in
            guard let inode = state.inodes[ino] else { throw FUSEError.noSuchFileOrDirectory }
            let exists = inode.xattrs[name] != nil
            if flags & Int32(XATTR_CREATE) != 0 && exists { throw FUSEError.fileExists }
            if flags & Int32(XATTR_REPLACE) != 0 && !exists { throw FUSEError.noData }
            state.inodes[ino]!.xattrs[name] = value
        }
    }

    func getxattr(_ ctx: FUSERequestContext, ino: UInt64, name: [UInt8]) throws -> [UInt8] {
        try state.withLock { state in
            guard let inode = state.inodes[ino] else { throw FUSEError.noSuchFileOrDirectory }
            guard let value = inode.xattrs[name] else { throw FUSEError.noData }
            return value
        }
    }

    func listxattr(_ ctx: FUSERequestContext, ino: UInt64) throws -> [[UInt8]] {
        try state.withLock { state in
            guard let inode = state.inodes[ino] else { throw FUSEError.noSuchFileOrDirectory }
            return inode.xattrs.keys.sorted { $0.lexicographicallyPrecedes($1) }
        }
    }

    func removexattr(_ ctx: FUSERequestContext, ino: UInt64, name: [UInt8]) throws {
        try state.withLock { state in
            guard state.inodes[ino] != nil else { throw FUSEError.noSuchFileOrDirectory }
            guard state.inodes[ino]!.xattrs.removeValue(forKey: name) != nil else { throw FUSEError.noData }
        }
    }

    // MARK: Changes behind the kernel's back, for the invalidation tests

    /// Replaces the data of the file `name` in the root without telling the kernel.
    func replaceContent(of name: String, with data: [UInt8]) {
        state.withLock { state in
            guard let ino = state.inodes[1]!.children[Array(name.utf8)] else { return }
            state.inodes[ino]!.content = .file(data)
            state.inodes[ino]!.attributes.size = Int64(data.count)
        }
    }

    /// Adds an empty file `name` to the root without telling the kernel.
    func addFile(_ name: String) {
        state.withLock { state in
            let ino = state.nextIno
            state.nextIno += 1
            state.inodes[ino] = MemoryInode(attributes: FUSEAttributes(ino: ino, mode: S_IFREG | 0o644),
                                            content: .file([]))
            Self.attach(ino, as: Array(name.utf8), to: 1, in: &state)
        }
    }
}
