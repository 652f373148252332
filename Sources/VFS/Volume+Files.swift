import CatalogStore
import Glibc
import NexusTypes

extension Volume {
    /// Opens a file; regular files share one content object per inode.
    public func open(_ inode: InodeNumber, flags: Int32, caller: Caller) throws -> UInt64 {
        if let view = VersionsView.node(inode) { return try openVersion(view, flags: flags) }
        let access = flags & O_ACCMODE
        let writable = access == O_WRONLY || access == O_RDWR
        let node = try namespace.read { reader in
            let node = try reader.existingNode(inode)
            if writable { try self.policy.guardChange(.content, of: node, caller: caller, in: reader) }
            return node
        }
        if writable && options.readOnly { throw VFSError(.readOnly) }
        if node.kind == .directory && writable { throw VFSError(.isDirectory) }
        // The stored content is read without the table lock (see Volume's lock order); when a
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
                state.opens += 1
                table.inodes[inode] = state
                let handle = table.nextHandle
                table.nextHandle += 1
                table.handles[handle] = .file(inode: inode, writable: writable, append: flags & O_APPEND != 0)
                return handle
            }
            if let handle { return handle }
        }
        throw VFSError(.io, "inode \(inode) kept changing while being opened")
    }

    /// The content the catalog holds for a regular file.
    private func storedContent(of inode: InodeNumber) throws -> (layout: ContentLayout, size: Int64) {
        let node = try namespace.read { try $0.existingNode(inode) }
        guard let id = node.manifest else { return (ContentLayout(), node.size) }
        guard let layout = try layout(of: id) else { throw VFSError(.io, "the content of inode \(inode) is missing") }
        return (layout, node.size)
    }

    /// Opens one version file of the `.versions` view, read-only.
    private func openVersion(_ view: VersionsView.Node, flags: Int32) throws -> UInt64 {
        guard case .version(let document, let number) = view else { throw VFSError(.isDirectory) }
        guard flags & O_ACCMODE == O_RDONLY, flags & O_TRUNC == 0 else { throw VFSError(.readOnly, "versions are read-only") }
        let inode = VersionsView.inode(view)
        let (layout, size) = try versionContent(document: document, number: number)
        return table.withLock { table in
            var state = table.inodes[inode, default: InodeState()]
            if state.content == nil { state.content = FileContent(inode: inode, layout: layout, size: size, source: source) }
            state.opens += 1
            table.inodes[inode] = state
            let handle = table.nextHandle
            table.nextHandle += 1
            table.handles[handle] = .file(inode: inode, writable: false, append: false)
            return handle
        }
    }

    /// Creates and opens a regular file.
    public func create(_ name: [UInt8], in parent: InodeNumber, mode: UInt32, flags: Int32,
                       caller: Caller) throws -> (Attributes, UInt64) {
        let node = try makeNode(name, in: parent, kind: .regular, mode: mode, caller: caller)
        let access = flags & O_ACCMODE
        // A new inode: nobody else has its content, and the catalog has none to read.
        let handle = table.withLock { table in
            var state = table.inodes[node.inode, default: InodeState()]
            if state.content == nil { state.content = FileContent(inode: node.inode, layout: ContentLayout(), size: 0, source: source) }
            state.opens += 1
            table.inodes[node.inode] = state
            let handle = table.nextHandle
            table.nextHandle += 1
            table.handles[handle] = .file(inode: node.inode, writable: access == O_WRONLY || access == O_RDWR,
                                          append: flags & O_APPEND != 0)
            return handle
        }
        return (attributes(node), handle)
    }

    func fileHandle(_ handle: UInt64) throws -> (inode: InodeNumber, writable: Bool, append: Bool, content: FileContent?) {
        try table.withLock { table in
            guard case .file(let inode, let writable, let append)? = table.handles[handle] else { throw VFSError(.badHandle) }
            return (inode, writable, append, table.inodes[inode]?.content)
        }
    }

    public func read(_ handle: UInt64, at offset: Int64, count: Int) throws -> [UInt8] {
        let file = try fileHandle(handle)
        guard let content = file.content else { throw VFSError(.invalid, "not a regular file") }
        do {
            return try content.read(at: offset, count: count)
        } catch {
            throw namespace.mapped(error)
        }
    }

    public func write(_ handle: UInt64, at offset: Int64, data: UnsafeRawBufferPointer, caller: Caller) throws -> Int {
        let file = try fileHandle(handle)
        guard file.writable else { throw VFSError(.badHandle, "not open for writing") }
        guard let content = file.content else { throw VFSError(.invalid, "not a regular file") }
        guard offset >= 0 else { throw VFSError(.invalid) }
        guard offset + Int64(data.count) <= Self.maxFileSize else { throw VFSError(.fileTooLarge) }
        do {
            try content.write(data, at: file.append ? content.size : offset, author: caller.uid, time: .now)
            let dirty = content.dirtyBytes
            if dirty > options.maxDirtyBytesPerFile {
                let logger = self.logger
                content.spillInBackground(chunker: source.chunker, source: source) { logger.warning("\($0)") }
                // Writes faster than spills wait, so that memory stays bounded.
                if dirty > 2 * options.maxDirtyBytesPerFile { content.waitForSpill() }
            }
        } catch {
            throw namespace.mapped(error)
        }
        return data.count
    }

    /// close(2) of the last descriptor of a handle: a save if the file was written.
    public func release(_ handle: UInt64) throws {
        let released = table.withLock { table -> (InodeNumber, FileContent?)? in
            guard case .file(let inode, _, _)? = table.handles.removeValue(forKey: handle) else { return nil }
            table.inodes[inode]?.opens -= 1
            return (inode, table.inodes[inode]?.content)
        }
        guard let (inode, content) = released else { throw VFSError(.badHandle) }
        defer { dropIfIdle(inode) }
        if let content, content.isModified { try save(content) }
    }

    /// close(2) of one descriptor (the kernel's FLUSH, which close waits for): the save, so that
    /// a program that closes and reopens at once sees one version per close. RELEASE comes
    /// later and asynchronously, possibly after the next open.
    public func flush(_ handle: UInt64) throws {
        let file = try fileHandle(handle)
        guard file.writable, let content = file.content, content.isModified else { return }
        try save(content)
    }

    /// fsync(2): saves the file and makes it and every staged change durable.
    public func fsync(_ handle: UInt64) throws {
        let file = try fileHandle(handle)
        if let content = file.content, content.isModified { try save(content) }
        try commitNow()
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

    /// Chunks the written content and stages it as the node's content, with a new version
    /// when it differs from the latest one.
    /// Saves of one content run one at a time; a save that finds nothing new to stage returns at once.
    func save(_ content: FileContent) throws {
        if options.readOnly { return }
        try content.saving.withLock { _ in
            let sealed: FileContent.Sealed
            do {
                sealed = try content.seal(chunker: source.chunker, source: source)
            } catch {
                throw namespace.mapped(error)
            }
            guard sealed.modified else { return }
            try stageSaved(sealed, of: content)
            content.markSaved(changes: sealed.changes)
        }
    }

    private func stageSaved(_ sealed: FileContent.Sealed, of content: FileContent) throws {
        let encoding = ManifestEncoding(sealed.layout.manifest)
        let id = encoding.id
        let now = FileTime.now
        try namespace.stage { w in
            guard var node = try w.reader.node(content.inode) else { return }
            try w.insertManifest(encoding)
            node.manifest = id
            node.size = sealed.size
            node.modificationTime = sealed.time ?? now
            // A write changes both times (POSIX); getattr reported the last write's time for both
            // while the content was unsaved, and the kernel may cache that: the save keeps it.
            node.changeTime = max(node.changeTime, sealed.time ?? now)
            if node.document == nil { node.document = try w.allocateDocument() }
            try w.updateNode(node)
            // A truncation alone (O_TRUNC, `>` without output) is not a save.
            if sealed.wrote { try policy.recordVersion(of: node, author: sealed.author, in: w) }
        }
        remember(sealed.layout, as: id)
    }

    /// setattr: mode, owner, size and times.
    public func setAttributes(_ inode: InodeNumber, _ changes: AttributeChanges, handle: UInt64?, caller: Caller) throws -> Attributes {
        try VersionsView.refuseVirtual(inode)
        let now = FileTime.now
        if let size = changes.size {
            guard size >= 0 else { throw VFSError(.invalid) }
            guard size <= Self.maxFileSize else { throw VFSError(.fileTooLarge) }
            let node = try namespace.read { try $0.existingNode(inode) }
            guard node.kind == .regular else { throw node.kind == .directory ? VFSError(.isDirectory) : VFSError(.invalid) }
            if options.readOnly { throw VFSError(.readOnly) }
            try namespace.read { try self.policy.guardChange(.content, of: node, caller: caller, in: $0) }
            // Through the content object, which an open file shares; a file nobody has open
            // is saved at once, an open one when its writer closes it.
            let own = try open(inode, flags: O_RDWR, caller: caller)
            let (content, shared) = try table.withLock { table -> (FileContent, Bool) in
                guard let state = table.inodes[inode], let content = state.content else { throw VFSError(.io) }
                table.handles[own] = nil
                table.inodes[inode]?.opens -= 1
                return (content, state.opens > 1)
            }
            do {
                try content.truncate(to: size, author: caller.uid, time: now)
                if !shared { try save(content) }
            } catch {
                dropIfIdle(inode)
                throw namespace.mapped(error)
            }
            dropIfIdle(inode)
        }
        let stageChanges = {
            try self.namespace.stage { w -> NodeRecord in
                var node = try w.reader.existingNode(inode)
                let before = node
                if let mode = changes.mode {
                    node.permissions = mode & 0o7777
                    // chmod sets the ACL's owner, group class (its mask) and other entries.
                    if try w.reader.xattr(PosixACL.accessName, of: inode) != nil {
                        try self.policy.store(accessACL: try self.policy.accessACL(of: before, in: w.reader).applying(mode: mode), on: &node, in: w)
                        node.permissions = mode & 0o7777
                    }
                }
                if let uid = changes.uid { node.uid = uid }
                if let gid = changes.gid { node.gid = gid }
                if node.permissions != before.permissions {
                    try self.policy.audit("chmod", caller: caller, node: node, before: Policy.modeText(before), after: Policy.modeText(node), in: w)
                }
                if node.uid != before.uid || node.gid != before.gid {
                    try self.policy.audit("chown", caller: caller, node: node, before: "\(before.uid):\(before.gid)",
                                   after: "\(node.uid):\(node.gid)", in: w)
                }
                if changes.size != nil {
                    try self.policy.audit("truncate", caller: caller, node: node, after: "size \(changes.size ?? 0)", in: w)
                }
                if let atime = changes.accessTime { node.accessTime = atime.resolved(now) }
                if let mtime = changes.modificationTime { node.modificationTime = mtime.resolved(now) }
                if changes.accessTime != nil || changes.modificationTime != nil {
                    try self.policy.audit("times", caller: caller, node: node, before: "mtime \(before.modificationTime.totalNanoseconds)",
                                   after: "mtime \(node.modificationTime.totalNanoseconds)", in: w)
                }
                node.changeTime = now
                try w.updateNode(node)
                return node
            }
        }
        // An open file's save records the content's mtime: set both at once, never during a save.
        guard let mtime = changes.modificationTime, let content = table.withLock({ $0.inodes[inode]?.content }) else {
            return attributes(try stageChanges())
        }
        let node = try content.saving.withLock { _ in
            let node = try stageChanges()
            content.state.withLock { $0.modificationTime = mtime.resolved(now) }
            return node
        }
        return attributes(node)
    }

    /// The largest file size: 1 PiB (the kernel's own limit is far above; EFBIG past this).
    static let maxFileSize = Int64(1) << 50

    /// fallocate(2): allocation (which may grow the file) and punching holes.
    public func allocate(_ handle: UInt64, mode: Int32, offset: Int64, length: Int64, caller: Caller) throws {
        let keepSize: Int32 = 0x01, punchHole: Int32 = 0x02, zeroRange: Int32 = 0x10
        let file = try fileHandle(handle)
        guard let content = file.content, file.writable else { throw VFSError(.badHandle) }
        guard offset >= 0, length > 0 else { throw VFSError(.invalid) }
        guard offset <= Self.maxFileSize - length else { throw VFSError(.fileTooLarge) }
        switch mode {
        case 0:
            if offset + length > content.size { try content.truncate(to: offset + length, author: caller.uid, time: .now) }
        case keepSize:
            return
        case punchHole | keepSize:
            try content.punchHole(at: offset, length: length, author: caller.uid, time: .now)
        case zeroRange, zeroRange | keepSize:
            try content.punchHole(at: offset, length: length, author: caller.uid, time: .now)
            if mode & keepSize == 0 && offset + length > content.size {
                try content.truncate(to: offset + length, author: caller.uid, time: .now)
            }
        default:
            throw VFSError(.notSupported)
        }
    }

    /// lseek(2) with SEEK_DATA and SEEK_HOLE.
    public func seek(_ handle: UInt64, offset: Int64, whence: Int32) throws -> Int64 {
        let seekData: Int32 = 3, seekHole: Int32 = 4
        guard whence == seekData || whence == seekHole else { throw VFSError(.invalid) }
        let file = try fileHandle(handle)
        guard let content = file.content else { throw VFSError(.invalid) }
        let (size, pages, base) = content.state.withLock { ($0.size, $0.pages.keys.sorted(), $0.base) }
        guard offset >= 0, offset < size else { throw VFSError(.noSuchOffset) }
        let page = FileContent.pageSize
        // Data is a written page or a stored chunk; the rest reads as zeros. Both searches jump
        // from run to run (adjacent holes are one extent), so a hole of a petabyte costs nothing.
        func writtenPage(at position: Int64) -> Bool { pages.contains(position / page) }
        func storedExtent(at position: Int64) -> (data: Bool, end: Int64)? {
            guard let i = base.index(containing: position) else { return nil }
            return (base.extents[i].chunk != nil, base.starts[i] + base.extents[i].length)
        }
        var position = offset
        if whence == seekHole {
            while position < size {
                if writtenPage(at: position) {
                    position = (position / page + 1) * page
                } else if let extent = storedExtent(at: position), extent.data {
                    position = extent.end
                } else {
                    return position
                }
            }
            return size
        }
        while position < size {
            if writtenPage(at: position) { return position }
            if let extent = storedExtent(at: position), extent.data { return position }
            // In a hole: the next data is the next written page or the next stored extent.
            let nextPage = pages.first { $0 * page > position }.map { $0 * page }
            let nextExtent = storedExtent(at: position).map(\.end)
            guard let next = [nextPage, nextExtent].compactMap({ $0 }).min() else { break }
            position = next
        }
        throw VFSError(.noSuchOffset)
    }
}

extension AttributeChanges.Time {
    func resolved(_ now: FileTime) -> FileTime {
        switch self {
        case .now: now
        case .at(let time): time
        }
    }
}
