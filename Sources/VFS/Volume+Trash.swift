import CatalogStore
import Glibc
import NexusTypes

/// The trash: a document deleted through the mount (unlink, rmdir, a rename over it that is
/// not a save) keeps its node, content, history, attributes and comments in the catalog, listed
/// under `/.trash/DAY/ORIGINAL/PATH` until `mv` brings it back or `trash_days` passes. Each caller
/// sees only what they deleted, own, or may read.
extension Volume {
    private static let slash = UInt8(ascii: "/")

    // MARK: Into the trash

    /// Puts a node that just lost its last name into the trash, unless it is a swap, lock or
    /// temporary file, a file that never had a version, or the trash is off.
    func moveToTrash(_ node: NodeRecord, name: FileName, from parent: InodeNumber, caller: Caller, in w: CatalogWriter) throws {
        guard options.trashDays > 0, node.linkCount == 0, !SavePatterns.isTransient(name.bytes) else { return }
        switch node.kind {
        case .regular:
            guard let document = node.document, try w.reader.latestVersion(of: document) != nil else { return }
        case .directory:
            break
        default:
            return
        }
        let folder = try w.reader.path(of: parent)?.bytes ?? []
        let path = (folder.first == Self.slash ? Array(folder.dropFirst()) : folder)
        try w.insertTrash(TrashRecord(inode: node.inode, path: path.isEmpty ? name.bytes : path + [Self.slash] + name.bytes,
                                      time: .now, uid: caller.uid))
    }

    /// Deletes what has been in the trash longer than `trash_days` (at mount).
    func expireTrash() throws {
        // 0 keeps nothing new in the trash; what is there already waits for a mount with a number.
        guard !options.readOnly, options.trashDays > 0 else { return }
        let cutoff = FileTime(totalNanoseconds: FileTime.now.totalNanoseconds - Int64(max(options.trashDays, 0) * 86_400e9))
        try namespace.stage { w in
            for record in try w.reader.trash(from: FileTime(seconds: -(1 << 32), nanoseconds: 0), to: cutoff) {
                guard let node = try w.reader.node(record.inode) else {
                    try w.removeTrash(record.inode)
                    continue
                }
                try policy.audit("purge", caller: Caller(uid: 0, gid: 0), node: node, path: RepositoryPath(bytes: record.path),
                                 detail: "from the trash", in: w)
                try w.purge(trashed: record.inode)
            }
        }
    }

    // MARK: The view

    /// The trash entry `name` under `parent`, when `parent` or `name` belongs to the view.
    func trashLookup(_ name: [UInt8], in parent: InodeNumber, caller: Caller?) throws -> Attributes? {
        if parent == .root && name == TrashView.name {
            return try namespace.read { reader in
                // A folder of that name made before the trash existed stays reachable (the view then is not).
                if let name = FileName(bytes: name), try reader.entry(named: name, in: .root) != nil { return nil }
                return try trashAttributes(.root, in: reader)
            }
        }
        guard let view = TrashView.node(parent) else { return nil }
        return try namespace.read { reader -> Attributes in
            let child: TrashView.Node?
            if case .folder(let id) = view, name == VersionsView.name { return try trashAttributes(.versions(folder: id), in: reader) }
            if case .versions(let id) = view {
                guard let folder = trashFolders.key(of: id), let document = try trashedDocuments(in: folder, caller: caller,
                                                                                                  in: reader)[name] else {
                    throw VFSError(.notFound)
                }
                return try versionsAttributes(.document(document), in: reader)
            }
            switch view {
            case .root:
                child = try visibleTrash(on: name, caller: caller, in: reader).isEmpty
                    ? nil : .folder(id: trashFolders.id(of: TrashFolders.Key(day: name, path: [])))
            case .folder(let id):
                guard let folder = trashFolders.key(of: id) else { throw VFSError(.notFound) }
                child = try trashChildren(of: folder, caller: caller, in: reader, only: name)[name]
            case .file, .versions:
                throw VFSError(.notDirectory)
            }
            guard let child else { throw VFSError(.notFound) }
            return try trashAttributes(child, in: reader)
        }
    }

    /// Attributes of a view node: folders are open to all (what is in them is filtered by caller)
    /// and read-only but for `mv` out; a trashed file shows its own owner and mode, read-only.
    func trashAttributes(_ view: TrashView.Node, in reader: CatalogReader) throws -> Attributes {
        let inode = TrashView.inode(view)
        switch view {
        case .versions:
            let root = try reader.existingNode(.root)
            return Attributes(inode: inode, mode: NodeKind.directory.rawValue | 0o555, linkCount: 1, uid: 0, gid: 0, rdev: 0,
                              size: 0, blocks: 0, accessTime: root.accessTime, modificationTime: root.modificationTime,
                              changeTime: root.changeTime)
        case .root, .folder:
            let root = try reader.existingNode(.root)
            // A link count of 1 says "not counted" (as btrfs does): with 2, fts-based walkers
            // (Foundation's, for one) would take the folder to have no subfolders.
            return Attributes(inode: inode, mode: NodeKind.directory.rawValue | 0o777, linkCount: 1, uid: 0, gid: 0, rdev: 0,
                              size: 0, blocks: 0, accessTime: root.accessTime, modificationTime: root.modificationTime,
                              changeTime: root.changeTime)
        case .file(let trashed):
            guard try reader.trashRecord(of: trashed) != nil else { throw VFSError(.notFound) }
            // Built here, not by `files` (which reads the catalog itself): callers are inside a read.
            let node = try reader.existingNode(trashed)
            return Attributes(inode: inode, mode: node.mode & ~0o7222, linkCount: 1, uid: node.uid, gid: node.gid, rdev: 0,
                              size: node.size, blocks: (node.size + 511) / 512, accessTime: node.accessTime,
                              modificationTime: node.modificationTime, changeTime: node.changeTime)
        }
    }

    /// `.`, `..` and what the caller may see in a folder of the view.
    func trashListing(_ view: TrashView.Node, caller: Caller?) throws -> [DirectoryEntry] {
        try namespace.read { reader in
            let directory = NodeKind.directory.rawValue | 0o777
            var entries = [DirectoryEntry(name: [0x2e], inode: TrashView.inode(view), mode: directory),
                           DirectoryEntry(name: [0x2e, 0x2e], inode: .root, mode: directory)]
            let key: TrashFolders.Key?
            switch view {
            case .root: key = nil
            case .folder(let id):
                guard let folder = trashFolders.key(of: id) else { throw VFSError(.notFound) }
                key = folder
            case .versions(let id):
                guard let folder = trashFolders.key(of: id) else { throw VFSError(.notFound) }
                entries[0].mode = NodeKind.directory.rawValue | 0o555
                entries[1].inode = TrashView.inode(.folder(id: id))
                for (name, document) in try trashedDocuments(in: folder, caller: caller, in: reader)
                    .sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                    entries.append(DirectoryEntry(name: name, inode: VersionsView.inode(.document(document)),
                                                  mode: NodeKind.directory.rawValue | 0o555))
                }
                return entries
            case .file: throw VFSError(.notDirectory)
            }
            let children = try key.map { try trashChildren(of: $0, caller: caller, in: reader) }
                ?? trashDays(caller: caller, in: reader)
            for (name, child) in children.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                let mode: UInt32
                if case .file(let trashed) = child { mode = try reader.existingNode(trashed).mode } else { mode = directory }
                entries.append(DirectoryEntry(name: name, inode: TrashView.inode(child), mode: mode))
            }
            return entries
        }
    }

    /// Opens a trashed file, read-only.
    func openTrashed(_ view: TrashView.Node, flags: Int32, caller: Caller) throws -> UInt64 {
        guard case .file(let trashed) = view else { throw VFSError(.isDirectory) }
        guard flags & O_ACCMODE == O_RDONLY, flags & O_TRUNC == 0 else { throw VFSError(.readOnly, "the trash is read-only") }
        let (layout, size) = try namespace.read { reader -> (ContentLayout, Int64) in
            guard let record = try reader.trashRecord(of: trashed) else { throw VFSError(.notFound) }
            let node = try reader.existingNode(trashed)
            guard try sees(record, node, caller: caller, in: reader) else { throw VFSError(.notFound) }
            guard let id = node.manifest else { return (ContentLayout(manifest: ContentManifest(chunks: [])), 0) }
            guard let manifest = try reader.manifest(id) else { throw VFSError(.io, "the manifest of a trashed file is missing") }
            return (ContentLayout(manifest: manifest), node.size)
        }
        return files.attach(TrashView.inode(view), layout: layout, size: size, writable: false, append: false)
    }

    // MARK: What a caller sees

    /// Whether `caller` sees a trashed node (and may put it back): root, who deleted it, or its
    /// owner. Others who could read it are not shown it: whether they could reach it through its
    /// folders then is not known any more.
    private func sees(_ record: TrashRecord, _ node: NodeRecord, caller: Caller?, in reader: CatalogReader) throws -> Bool {
        guard let caller else { return true }
        return caller.uid == 0 || caller.uid == record.uid || caller.uid == node.uid
    }

    /// The access ACL of a trashed file, read-only, so that the kernel checks reads as before.
    func trashACL(_ view: TrashView.Node) throws -> PosixACL? {
        guard case .file(let trashed) = view else { return nil }
        return try namespace.read { reader in
            try policy.storedAccessACL(of: try reader.existingNode(trashed), in: reader)?.mapping { $0 & 5 }
        }
    }

    /// The trashed nodes of one day that `caller` sees.
    private func visibleTrash(on day: [UInt8], caller: Caller?, in reader: CatalogReader) throws -> [(TrashRecord, NodeRecord)] {
        guard let range = TrashView.day(named: day) else { return [] }
        return try reader.trash(from: range.start, to: range.end).compactMap { record in
            guard let node = try reader.node(record.inode), try sees(record, node, caller: caller, in: reader) else { return nil }
            return (record, node)
        }
    }

    /// The days with something the caller sees.
    private func trashDays(caller: Caller?, in reader: CatalogReader) throws -> [[UInt8]: TrashView.Node] {
        var days: [[UInt8]: TrashView.Node] = [:]
        for day in Set(try reader.trashTimes().map(TrashView.dayName)) where try !visibleTrash(on: day, caller: caller, in: reader).isEmpty {
            days[day] = .folder(id: trashFolders.id(of: TrashFolders.Key(day: day, path: [])))
        }
        return days
    }

    /// The documents with history trashed directly in `folder`, by name: what its `.versions` lists.
    private func trashedDocuments(in folder: TrashFolders.Key, caller: Caller?, in reader: CatalogReader) throws -> [[UInt8]: Int64] {
        var documents: [[UInt8]: Int64] = [:]
        for (name, child) in try trashChildren(of: folder, caller: caller, in: reader) {
            guard case .file(let trashed) = child, let node = try reader.node(trashed), node.kind == .regular,
                  let document = node.document, try reader.latestVersion(of: document) != nil else { continue }
            documents[name] = document
        }
        return documents
    }

    /// The names directly under `folder` (a day, or a path in it): a trashed file where a file
    /// was deleted under that name (the latest, if several were), a folder where a folder was, or
    /// where something was deleted below it. With `only`, just that name.
    private func trashChildren(of folder: TrashFolders.Key, caller: Caller?, in reader: CatalogReader,
                               only: [UInt8]? = nil) throws -> [[UInt8]: TrashView.Node] {
        var children: [[UInt8]: TrashView.Node] = [:]
        let prefix = folder.path.isEmpty ? [] : folder.path + [Self.slash]
        for (record, node) in try visibleTrash(on: folder.day, caller: caller, in: reader) {
            guard record.path.count > prefix.count, record.path.starts(with: prefix) else { continue }
            let rest = record.path[prefix.count...]
            let name = Array(rest.prefix { $0 != Self.slash })
            if let only, name != only { continue }
            let leaf = name.count == rest.count
            if leaf && node.kind != .directory {
                if case .folder = children[name] { continue }
                children[name] = .file(record.inode)
            } else {
                children[name] = .folder(id: trashFolders.id(of: TrashFolders.Key(day: folder.day, path: prefix + name)))
            }
        }
        return children
    }

    // MARK: Out of the trash

    /// `mv .trash/DAY/PATH DEST`: puts back what the caller sees at PATH (a file, or a folder
    /// with everything deleted below it that day) under DEST, with its history, attributes and
    /// comments. DEST must not exist; parts that cannot go back stay in the trash.
    func restoreFromTrash(_ name: [UInt8], in folder: UInt64?, to newName: FileName, in newParent: InodeNumber,
                          caller: Caller) throws {
        guard !options.readOnly else { throw VFSError(.readOnly) }
        let now = FileTime.now
        try namespace.stage { w in
            guard try w.reader.existingNode(newParent).kind == .directory else { throw VFSError(.notDirectory) }
            guard try w.reader.entry(named: newName, in: newParent) == nil else {
                throw VFSError(.exists, "restoring from the trash never replaces: \(newName) exists")
            }
            let key: TrashFolders.Key
            if let folder {
                guard let parentKey = trashFolders.key(of: folder) else { throw VFSError(.notFound) }
                key = TrashFolders.Key(day: parentKey.day, path: parentKey.path.isEmpty ? name : parentKey.path + [Self.slash] + name)
            } else {
                key = TrashFolders.Key(day: name, path: [])
            }
            var items = try visibleTrash(on: key.day, caller: caller, in: w.reader).filter { record, _ in
                key.path.isEmpty || record.path == key.path || record.path.starts(with: key.path + [Self.slash])
            }
            guard !items.isEmpty else { throw VFSError(.notFound) }
            for (_, node) in items { try policy.guardChange(.rename, of: node, caller: caller, in: w.reader) }
            items.sort { $0.0.path.count < $1.0.path.count || ($0.0.path.count == $1.0.path.count && $0.0.time > $1.0.time) }

            // A file: its node goes back under the new name.
            if let (record, node) = items.first, record.path == key.path, node.kind != .directory {
                try attach(node, as: newName, in: newParent, record: record, caller: caller, now: now, w: w)
                return
            }
            // A folder: the folder itself (its trashed node, or a new one), then what was below it.
            let top: InodeNumber
            if let (record, node) = items.first(where: { $0.0.path == key.path && $0.1.kind == .directory }) {
                top = try attach(node, as: newName, in: newParent, record: record, caller: caller, now: now, w: w)
            } else {
                top = try makeRestoredFolder(newName, in: newParent, caller: caller, now: now, w: w)
            }
            let base = key.path.isEmpty ? 0 : key.path.count + 1
            for (record, node) in items where record.path.count > base - 1 && record.path != key.path {
                let components = record.path[base...].split(separator: Self.slash, omittingEmptySubsequences: true)
                    .compactMap { FileName(bytes: Array($0)) }
                guard let last = components.last else { continue }
                var current = top
                var reachable = true
                for component in components.dropLast() {
                    if let existing = try w.reader.entry(named: component, in: current) {
                        // A file put back under that name meanwhile: what was below the folder stays in the trash.
                        guard try w.reader.existingNode(existing).kind == .directory else {
                            reachable = false
                            break
                        }
                        current = existing
                    } else {
                        current = try makeRestoredFolder(component, in: current, caller: caller, now: now, w: w)
                    }
                }
                guard reachable, try w.reader.existingNode(current).kind == .directory else { continue }
                if let existing = try w.reader.entry(named: last, in: current) {
                    // A folder created above on the way to something below it: the trashed folder's
                    // attributes are not put back over it; anything else stays in the trash.
                    _ = existing
                    continue
                }
                try attach(node, as: last, in: current, record: record, caller: caller, now: now, w: w)
            }
        }
    }

    /// Gives a trashed node back a name.
    @discardableResult
    private func attach(_ trashed: NodeRecord, as name: FileName, in parent: InodeNumber, record: TrashRecord, caller: Caller,
                        now: FileTime, w: CatalogWriter) throws -> InodeNumber {
        var node = trashed
        try w.insertEntry(EntryRecord(parent: parent, name: name, inode: node.inode))
        node.linkCount = node.kind == .directory ? 2 : 1
        node.changeTime = now
        try w.updateNode(node)
        try w.removeTrash(node.inode)
        try touch(parent, in: w, time: now, linkDelta: node.kind == .directory ? 1 : 0)
        try policy.audit("undelete", caller: caller, node: node, before: "/" + String(decoding: record.path, as: UTF8.self),
                         in: w)
        return node.inode
    }

    /// A folder for restored content whose own folder was not deleted (it was renamed, say).
    private func makeRestoredFolder(_ name: FileName, in parent: InodeNumber, caller: Caller, now: FileTime,
                                    w: CatalogWriter) throws -> InodeNumber {
        let inode = try w.allocateInode()
        try w.insertNode(NodeRecord(inode: inode, kind: .directory, permissions: 0o755 & ~caller.umask, uid: caller.uid,
                                    gid: caller.gid, linkCount: 2, accessTime: now, modificationTime: now, changeTime: now))
        try w.insertEntry(EntryRecord(parent: parent, name: name, inode: inode))
        try touch(parent, in: w, time: now, linkDelta: 1)
        return inode
    }
}
