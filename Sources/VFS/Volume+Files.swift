import CatalogStore
import Glibc
import NexusTypes

/// Open files: the volume checks what POSIX and the DMS rules allow, the content path
/// (`OpenFiles`) does the rest.
extension Volume {
    /// Opens a file; regular files share one content object per inode.
    public func open(_ inode: InodeNumber, flags: Int32, caller: Caller) throws -> UInt64 {
        if let handle = try atOpen(inode, flags: flags, caller: caller) { return handle }
        if let view = TrashView.node(inode) { return try openTrashed(view, flags: flags, caller: caller) }
        if let view = TagsView.node(inode) {
            if case .link = view { throw VFSError(.invalid, "a link of the tags view") }
            throw VFSError(.isDirectory)
        }
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
        return try files.open(node, writable: writable, append: flags & O_APPEND != 0)
    }

    /// Opens one version file of the `.versions` view, read-only.
    private func openVersion(_ view: VersionsView.Node, flags: Int32) throws -> UInt64 {
        guard case .version(let document, let number) = view else { throw VFSError(.isDirectory) }
        guard flags & O_ACCMODE == O_RDONLY, flags & O_TRUNC == 0 else { throw VFSError(.readOnly, "versions are read-only") }
        let (layout, size) = try versionContent(document: document, number: number)
        return files.attach(VersionsView.inode(view), layout: layout, size: size, writable: false, append: false)
    }

    /// Creates and opens a regular file.
    public func create(_ name: [UInt8], in parent: InodeNumber, mode: UInt32, flags: Int32,
                       caller: Caller) throws -> (Attributes, UInt64) {
        let node = try makeNode(name, in: parent, kind: .regular, mode: mode, caller: caller)
        let access = flags & O_ACCMODE
        // A new inode: nobody else has its content, and the catalog has none to read.
        let handle = files.attach(node.inode, layout: ContentLayout(), size: 0, writable: access == O_WRONLY || access == O_RDWR,
                                  append: flags & O_APPEND != 0)
        return (files.attributes(node), handle)
    }

    public func read(_ handle: UInt64, at offset: Int64, count: Int) throws -> [UInt8] {
        if let bytes = try atHandle(handle, { past, h in try past.read(h, at: offset, count: count) }) { return bytes }
        return try files.read(handle, at: offset, count: count)
    }

    public func write(_ handle: UInt64, at offset: Int64, data: UnsafeRawBufferPointer, caller: Caller) throws -> Int {
        if AtView.isHandle(handle) { throw VFSError(.readOnly, "the past views of /.at are read-only") }
        return try files.write(handle, at: offset, data: data, caller: caller)
    }

    /// close(2) of the last descriptor of a handle: a save if the file was written.
    public func release(_ handle: UInt64) throws {
        if try atRelease(handle, directory: false) { return }
        try files.release(handle)
    }

    /// close(2) of one descriptor (the kernel's FLUSH, which close waits for): the save, so that
    /// a program that closes and reopens at once sees one version per close. RELEASE comes
    /// later and asynchronously, possibly after the next open.
    public func flush(_ handle: UInt64) throws {
        // Nothing to save in a past view.
        if AtView.isHandle(handle) { return }
        try files.flush(handle)
    }

    /// fsync(2): saves the file and makes it and every staged change durable.
    public func fsync(_ handle: UInt64) throws {
        if AtView.isHandle(handle) { return }
        try files.sync(handle)
        try commitNow()
    }

    /// setattr: mode, owner, size and times.
    public func setAttributes(_ inode: InodeNumber, _ changes: AttributeChanges, handle: UInt64?, caller: Caller) throws -> Attributes {
        try VersionsView.refuseVirtual(inode)
        let now = FileTime.now
        if let size = changes.size {
            guard size >= 0 else { throw VFSError(.invalid) }
            guard size <= FileContent.maxFileSize else { throw VFSError(.fileTooLarge) }
            let node = try namespace.read { try $0.existingNode(inode) }
            guard node.kind == .regular else { throw node.kind == .directory ? VFSError(.isDirectory) : VFSError(.invalid) }
            if options.readOnly { throw VFSError(.readOnly) }
            try namespace.read { try self.policy.guardChange(.content, of: node, caller: caller, in: $0) }
            // Through the content object, which an open file shares.
            let own = try open(inode, flags: O_RDWR, caller: caller)
            try files.truncate(inode, to: size, closing: own, author: caller.uid, time: now)
        }
        let stageChanges = {
            try self.namespace.stage { w -> NodeRecord in
                var node = try w.reader.existingNode(inode)
                let before = node
                if let mode = changes.mode {
                    node.permissions = mode & 0o7777
                    // chmod sets the ACL's owner, group class (its mask) and other entries.
                    if try w.reader.xattr(PosixACL.accessName, of: inode) != nil {
                        let acl = try self.policy.accessACL(of: before, in: w.reader).applying(mode: mode)
                        try self.policy.store(accessACL: acl, on: &node, in: w)
                        node.permissions = mode & 0o7777
                    }
                }
                if let uid = changes.uid { node.uid = uid }
                if let gid = changes.gid { node.gid = gid }
                if node.permissions != before.permissions {
                    try self.policy.audit("chmod", caller: caller, node: node, before: Policy.modeText(before),
                                          after: Policy.modeText(node), in: w)
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
                    try self.policy.audit("times", caller: caller, node: node,
                                          before: "mtime \(before.modificationTime.totalNanoseconds)",
                                          after: "mtime \(node.modificationTime.totalNanoseconds)", in: w)
                }
                node.changeTime = now
                try w.updateNode(node)
                return node
            }
        }
        guard let mtime = changes.modificationTime else { return files.attributes(try stageChanges()) }
        return files.attributes(try files.stageTimes(of: inode, modificationTime: mtime.resolved(now), stageChanges))
    }

    /// fallocate(2): allocation (which may grow the file) and punching holes.
    public func allocate(_ handle: UInt64, mode: Int32, offset: Int64, length: Int64, caller: Caller) throws {
        if AtView.isHandle(handle) { throw VFSError(.readOnly, "the past views of /.at are read-only") }
        try files.allocate(handle, mode: mode, offset: offset, length: length, caller: caller)
    }

    /// lseek(2) with SEEK_DATA and SEEK_HOLE.
    public func seek(_ handle: UInt64, offset: Int64, whence: Int32) throws -> Int64 {
        if let past = try atHandle(handle, { past, h in try past.seek(h, offset: offset, whence: whence) }) { return past }
        return try files.seek(handle, offset: offset, whence: whence)
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
