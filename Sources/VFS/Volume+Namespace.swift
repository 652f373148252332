import CatalogStore
import NexusTypes

extension Volume {
    /// Creates a node named `name` in `parent`, owned by the caller; the kernel then holds a reference.
    func makeNode(_ name: [UInt8], in parent: InodeNumber, kind: NodeKind, mode: UInt32, rdev: UInt64 = 0,
                  target: [UInt8]? = nil, caller: Caller) throws -> NodeRecord {
        try VersionsView.refuseVirtual(parent)
        let name = try Self.creatableName(name, in: parent)
        let now = FileTime.now
        let node = try namespace.stage { w -> NodeRecord in
            var folder = try w.reader.existingNode(parent)
            guard folder.kind == .directory else { throw VFSError(.notDirectory) }
            guard folder.linkCount > 0 else { throw VFSError(.notFound, "the folder was removed") }
            guard try w.reader.entry(named: name, in: parent) == nil else { throw VFSError(.exists) }
            var permissions = mode & 0o7777
            let setgidFolder = folder.permissions & 0o2000 != 0
            if kind == .directory && setgidFolder { permissions |= 0o2000 }
            let inode = try w.allocateInode()
            var node = NodeRecord(inode: inode, kind: kind, permissions: permissions, uid: caller.uid,
                                  gid: setgidFolder ? folder.gid : caller.gid, linkCount: kind == .directory ? 2 : 1,
                                  size: Int64(target?.count ?? 0), accessTime: now, modificationTime: now,
                                  changeTime: now, rdev: rdev, symlinkTarget: target)
            if kind == .regular { node.document = try w.allocateDocument() }
            try w.insertNode(node)
            try w.insertEntry(EntryRecord(parent: parent, name: name, inode: inode))
            try policy.inheritPermissions(into: &node, from: folder, mode: mode, caller: caller, in: w)
            try w.updateNode(node)
            if try policy.continueDeparted(name, in: parent, into: &node, caller: caller, in: w) { try w.updateNode(node) }
            try policy.audit(kind == .directory ? "mkdir" : kind == .symlink ? "symlink" : "create", caller: caller, node: node,
                             after: Policy.modeText(node), in: w)
            if kind == .directory { folder.linkCount += 1 }
            folder.modificationTime = now
            folder.changeTime = now
            try w.updateNode(folder)
            return node
        }
        remember(node.inode)
        return node
    }

    public func makeDirectory(_ name: [UInt8], in parent: InodeNumber, mode: UInt32, caller: Caller) throws -> Attributes {
        files.attributes(try makeNode(name, in: parent, kind: .directory, mode: mode, caller: caller))
    }

    public func makeSymlink(_ name: [UInt8], in parent: InodeNumber, target: [UInt8], caller: Caller) throws -> Attributes {
        guard !target.isEmpty, target.count <= 4096, !target.contains(0) else { throw VFSError(.invalid, "bad symlink target") }
        return files.attributes(try makeNode(name, in: parent, kind: .symlink, mode: 0o777, target: target, caller: caller))
    }

    /// mknod: FIFOs, sockets and device nodes (and regular files, as some programs ask).
    public func makeSpecial(_ name: [UInt8], in parent: InodeNumber, mode: UInt32, rdev: UInt64, caller: Caller) throws -> Attributes {
        guard let kind = NodeKind(mode: mode) else { throw VFSError(.invalid, "unknown file type") }
        if kind == .directory || kind == .symlink { throw VFSError(.invalid) }
        return files.attributes(try makeNode(name, in: parent, kind: kind, mode: mode, rdev: rdev, caller: caller))
    }

    public func readSymlink(_ inode: InodeNumber) throws -> [UInt8] {
        if let target = try atReadSymlink(inode) { return target }
        if let view = TagsView.node(inode) { return try tagsLinkTarget(view) }
        let node = try namespace.read { try $0.existingNode(inode) }
        guard node.kind == .symlink, let target = node.symlinkTarget else { throw VFSError(.invalid) }
        return target
    }

    /// Removes the name of a non-folder; the node lives on while it is open or referenced.
    public func unlink(_ name: [UInt8], in parent: InodeNumber, caller: Caller) throws {
        try VersionsView.refuseVirtual(parent)
        let name = try Self.name(name)
        let now = FileTime.now
        try namespace.stage { w in
            guard let inode = try w.reader.entry(named: name, in: parent) else { throw VFSError(.notFound) }
            var node = try w.reader.existingNode(inode)
            guard node.kind != .directory else { throw VFSError(.isDirectory) }
            try policy.guardChange(.unlink, of: node, caller: caller, in: w.reader)
            try policy.audit("delete", caller: caller, node: node, in: w)
            try w.removeEntry(named: name, in: parent)
            node.linkCount -= 1
            node.changeTime = now
            try w.updateNode(node)
            try touch(parent, in: w, time: now, linkDelta: 0)
            if node.linkCount == 0 {
                try policy.rememberDeparture(of: node, name: name, in: parent, caller: caller, w: w)
                try moveToTrash(node, name: name, from: parent, caller: caller, in: w)
            }
        }
    }

    /// Removes an empty folder.
    public func removeDirectory(_ name: [UInt8], in parent: InodeNumber, caller: Caller) throws {
        try VersionsView.refuseVirtual(parent)
        if name == VersionsView.name { throw VFSError(.readOnly, "the version history is read-only") }
        let name = try Self.name(name)
        let now = FileTime.now
        try namespace.stage { w in
            guard let inode = try w.reader.entry(named: name, in: parent) else { throw VFSError(.notFound) }
            var node = try w.reader.existingNode(inode)
            guard node.kind == .directory else { throw VFSError(.notDirectory) }
            guard try !w.reader.hasEntries(inode) else { throw VFSError(.notEmpty) }
            try policy.audit("rmdir", caller: caller, node: node, in: w)
            try w.removeEntry(named: name, in: parent)
            node.linkCount = 0
            node.changeTime = now
            try w.updateNode(node)
            try moveToTrash(node, name: name, from: parent, caller: caller, in: w)
            try touch(parent, in: w, time: now, linkDelta: -1)
        }
    }

    /// Another name for a non-folder node.
    public func link(_ inode: InodeNumber, as name: [UInt8], in parent: InodeNumber, caller: Caller) throws -> Attributes {
        try VersionsView.refuseVirtual(inode, parent)
        let name = try Self.creatableName(name, in: parent)
        let now = FileTime.now
        let node = try namespace.stage { w -> NodeRecord in
            var node = try w.reader.existingNode(inode)
            guard node.kind != .directory else { throw VFSError(.notPermitted, "hard links to folders are not allowed") }
            guard node.linkCount > 0 else { throw VFSError(.notFound) }
            guard node.linkCount < 65000 else { throw VFSError(.tooManyLinks) }
            let folder = try w.reader.existingNode(parent)
            guard folder.kind == .directory else { throw VFSError(.notDirectory) }
            guard try w.reader.entry(named: name, in: parent) == nil else { throw VFSError(.exists) }
            try w.insertEntry(EntryRecord(parent: parent, name: name, inode: inode))
            try policy.audit("link", caller: caller, node: node, path: try w.reader.path(of: parent).map { $0.appending(name) }, in: w)
            node.linkCount += 1
            node.changeTime = now
            try w.updateNode(node)
            try touch(parent, in: w, time: now, linkDelta: 0)
            return node
        }
        remember(inode)
        return files.attributes(node)
    }

    /// Updates a folder's times (and link count) after an entry changed.
    func touch(_ folder: InodeNumber, in w: CatalogWriter, time: FileTime, linkDelta: Int) throws {
        var node = try w.reader.existingNode(folder)
        node.modificationTime = time
        node.changeTime = time
        node.linkCount = UInt32(Int(node.linkCount) + linkDelta)
        try w.updateNode(node)
    }
}
