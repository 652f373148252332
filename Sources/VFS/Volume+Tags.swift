import CatalogStore
import NexusTypes

/// The `/.tags` view (see `TagsView`): a saved query per tag, for file managers and shells.
/// What a caller sees is what they may read, in folders they may enter.
extension Volume {
    /// The `.tags` entry `name` under `parent`, when `parent` or `name` belongs to the view.
    func tagsLookup(_ name: [UInt8], in parent: InodeNumber, caller: Caller?) throws -> Attributes? {
        if parent == .root && (name == TagsView.name || name == TagsView.searchName) {
            return try namespace.read { reader in
                if let name = FileName(bytes: name), try reader.entry(named: name, in: .root) != nil { return nil }
                return try tagsAttributes(name == TagsView.name ? .root : .searchRoot, in: reader)
            }
        }
        guard let view = TagsView.node(parent) else { return nil }
        if case .searchRoot = view {
            // Any query is a folder; one that does not parse is refused with the reason logged.
            guard name != [0x2e] && name != [0x2e, 0x2e] else { throw VFSError(.notFound) }
            _ = try parsedQuery(name)
            return try namespace.read { try tagsAttributes(.tag(id: tagNames.id(ofQuery: name)), in: $0) }
        }
        if case .tag(let id) = view, let query = tagNames.query(of: id) {
            guard let inode = try searchedDocuments(query, caller: caller).first(where: { $0.name == name })?.inode else {
                throw VFSError(.notFound)
            }
            return try namespace.read { reader in
                try tagsAttributes(.link(inode, target: TagsView.hash(try linkTarget(inode, in: reader))), in: reader)
            }
        }
        return try namespace.read { reader -> Attributes in
            switch view {
            case .root:
                guard try !taggedDocuments(name, caller: caller, in: reader).isEmpty else { throw VFSError(.notFound) }
                return try tagsAttributes(.tag(id: tagNames.id(of: name)), in: reader)
            case .tag(let id):
                guard let tag = tagNames.tag(of: id),
                      let inode = try taggedDocuments(tag, caller: caller, in: reader)[name] else { throw VFSError(.notFound) }
                return try tagsAttributes(.link(inode, target: TagsView.hash(try linkTarget(inode, in: reader))), in: reader)
            case .link, .searchRoot:
                throw VFSError(.notDirectory)
            }
        }
    }

    func tagsAttributes(_ view: TagsView.Node, in reader: CatalogReader) throws -> Attributes {
        let root = try reader.existingNode(.root)
        switch view {
        case .root, .searchRoot, .tag:
            return Attributes(inode: TagsView.inode(view), mode: NodeKind.directory.rawValue | 0o555, linkCount: 1, uid: 0, gid: 0,
                              rdev: 0, size: 0, blocks: 0, accessTime: root.accessTime, modificationTime: root.modificationTime,
                              changeTime: root.changeTime)
        case .link(let inode, _):
            let node = try reader.existingNode(inode)
            let target = try linkTarget(inode, in: reader)
            return Attributes(inode: TagsView.inode(view), mode: NodeKind.symlink.rawValue | 0o777, linkCount: 1, uid: node.uid,
                              gid: node.gid, rdev: 0, size: Int64(target.count), blocks: 0, accessTime: node.accessTime,
                              modificationTime: node.modificationTime, changeTime: node.changeTime)
        }
    }

    /// Where a link of `/.tags/TAG/` points: the document's path, relative to the tag's folder.
    func linkTarget(_ inode: InodeNumber, in reader: CatalogReader) throws -> [UInt8] {
        guard let path = try reader.path(of: inode) else { throw VFSError(.notFound) }
        let bytes = path.bytes
        return Array("../..".utf8) + (bytes.first == UInt8(ascii: "/") ? bytes : [UInt8(ascii: "/")] + bytes)
    }

    func tagsListing(_ view: TagsView.Node, caller: Caller?) throws -> [DirectoryEntry] {
        let directory = NodeKind.directory.rawValue | 0o555
        if case .tag(let id) = view, let query = tagNames.query(of: id) {
            let documents = try searchedDocuments(query, caller: caller)
            return try namespace.read { reader in
                var entries = [DirectoryEntry(name: [0x2e], inode: TagsView.inode(view), mode: directory),
                               DirectoryEntry(name: [0x2e, 0x2e], inode: TagsView.inode(.searchRoot), mode: directory)]
                for (name, inode) in documents {
                    let link = TagsView.Node.link(inode, target: TagsView.hash(try linkTarget(inode, in: reader)))
                    entries.append(DirectoryEntry(name: name, inode: TagsView.inode(link), mode: NodeKind.symlink.rawValue | 0o777))
                }
                return entries
            }
        }
        return try namespace.read { reader in
            let parent = view == .root || view == .searchRoot ? InodeNumber.root : TagsView.inode(.root)
            var entries = [DirectoryEntry(name: [0x2e], inode: TagsView.inode(view), mode: directory),
                           DirectoryEntry(name: [0x2e, 0x2e], inode: parent, mode: directory)]
            switch view {
            case .searchRoot:
                break
            case .root:
                var seen = Set<[UInt8]>()
                for (inode, value) in try reader.xattrValues(named: TagsView.attribute) {
                    let tags = TagsView.tags(in: value).filter { !seen.contains($0) }
                    guard !tags.isEmpty, try visible(inode, caller: caller, in: reader) else { continue }
                    for tag in tags {
                        seen.insert(tag)
                        entries.append(DirectoryEntry(name: tag, inode: TagsView.inode(.tag(id: tagNames.id(of: tag))), mode: directory))
                    }
                }
            case .tag(let id):
                guard let tag = tagNames.tag(of: id) else { throw VFSError(.notFound) }
                for (name, inode) in try taggedDocuments(tag, caller: caller, in: reader).sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                    let link = TagsView.Node.link(inode, target: TagsView.hash(try linkTarget(inode, in: reader)))
                    entries.append(DirectoryEntry(name: name, inode: TagsView.inode(link), mode: NodeKind.symlink.rawValue | 0o777))
                }
            case .link:
                throw VFSError(.notDirectory)
            }
            return entries
        }
    }

    func tagsLinkTarget(_ view: TagsView.Node) throws -> [UInt8] {
        guard case .link(let inode, _) = view else { throw VFSError(.invalid) }
        return try namespace.read { try linkTarget(inode, in: $0) }
    }

    /// The documents tagged `tag` that the caller sees, by the name they have in the view.
    private func taggedDocuments(_ tag: [UInt8], caller: Caller?, in reader: CatalogReader) throws -> [[UInt8]: InodeNumber] {
        var documents: [(name: [UInt8], inode: InodeNumber, path: [UInt8])] = []
        for (inode, value) in try reader.xattrValues(named: TagsView.attribute) where TagsView.tags(in: value).contains(tag) {
            guard let path = try reader.path(of: inode), let name = path.components.last?.bytes,
                  try visible(inode, caller: caller, in: reader) else { continue }
            documents.append((name, inode, path.bytes))
        }
        var named: [[UInt8]: InodeNumber] = [:]
        // The same name twice: the one with the first path keeps it, the next are NAME (2), NAME (3)...
        for document in documents.sorted(by: { $0.path.lexicographicallyPrecedes($1.path) }) {
            var name = document.name, n = 1
            while named[name] != nil {
                n += 1
                name = document.name + Array(" (\(n))".utf8)
            }
            named[name] = document.inode
        }
        return named
    }

    /// Whether the caller may read the node and enter every folder on its way from the root.
    func visible(_ inode: InodeNumber, caller: Caller?, in reader: CatalogReader) throws -> Bool {
        guard let caller, caller.uid != 0 else { return true }
        guard let node = try reader.node(inode), node.linkCount > 0, try policy.level(of: caller, on: node, in: reader) >= .view else {
            return false
        }
        var current = try reader.firstName(of: inode)?.parent
        var steps = 0
        while let folder = current, steps < 4096 {
            let folderNode = try reader.existingNode(folder)
            guard try policy.level(of: caller, on: folderNode, in: reader) >= .view else { return false }
            if folder == .root { return true }
            current = try reader.firstName(of: folder)?.parent
            steps += 1
        }
        return false
    }
}
