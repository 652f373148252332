import CatalogStore
import NexusTypes
import RepositoryCore

extension Volume {
    /// The `.versions` entry `name` under `parent`, when `parent` or `name` belongs to the view.
    func versionsLookup(_ name: [UInt8], in parent: InodeNumber) throws -> Attributes? {
        if let view = VersionsView.node(parent) {
            return try namespace.read { reader -> Attributes in
                switch view {
                case .folder(let dir):
                    guard let fileName = FileName(bytes: name), let inode = try reader.entry(named: fileName, in: dir),
                          let node = try reader.node(inode), node.kind == .regular, let document = node.document,
                          try reader.latestVersion(of: document) != nil else { throw VFSError(.notFound) }
                    return try versionsAttributes(.document(document), in: reader)
                case .document(let document):
                    // `@TIME`, not listed: the version that was the latest then (`@3 days ago`, `@2026-11-27T10:00:00Z`).
                    if name.first == UInt8(ascii: "@"), let text = String(validating: name.dropFirst(), as: UTF8.self),
                       let date = TimeExpression.parse(text) {
                        guard let version = try reader.version(of: document, at: TimeExpression.fileTime(date)) else {
                            throw VFSError(.notFound)
                        }
                        return try versionsAttributes(.version(document: document, number: version.number), in: reader)
                    }
                    guard let current = try documentName(document, in: reader),
                          let number = VersionsView.number(in: name, of: current) else { throw VFSError(.notFound) }
                    return try versionsAttributes(.version(document: document, number: number), in: reader)
                case .version:
                    throw VFSError(.notDirectory)
                }
            }
        }
        guard name == VersionsView.name else { return nil }
        return try namespace.read { reader in
            guard try reader.existingNode(parent).kind == .directory else { throw VFSError(.notDirectory) }
            return try versionsAttributes(.folder(parent), in: reader)
        }
    }

    /// The name under which a document is shown: its current name, or for a document in the
    /// trash the one it had.
    private func documentName(_ document: Int64, in reader: CatalogReader) throws -> [UInt8]? {
        guard let inode = try reader.node(ofDocument: document) else { return nil }
        if let name = try reader.firstName(of: inode)?.name.bytes { return name }
        guard let path = try reader.trashRecord(of: inode)?.path else { return nil }
        return Array(path[((path.lastIndex(of: UInt8(ascii: "/")) ?? -1) + 1)...])
    }

    /// Attributes of a view node: folders are read-only; a version file has the version's
    /// size, time and author, and the document's current read permissions.
    func versionsAttributes(_ view: VersionsView.Node, in reader: CatalogReader) throws -> Attributes {
        let inode = VersionsView.inode(view)
        switch view {
        case .folder(let dir):
            let folder = try reader.existingNode(dir)
            guard folder.kind == .directory else { throw VFSError(.notFound) }
            // It holds a folder per document: 1 is "not counted" (2 would tell fts there are none).
            return Attributes(inode: inode, mode: NodeKind.directory.rawValue | folder.permissions & 0o555, linkCount: 1, uid: folder.uid,
                              gid: folder.gid, rdev: 0, size: 0, blocks: 0, accessTime: folder.accessTime,
                              modificationTime: folder.modificationTime, changeTime: folder.changeTime)
        case .document(let document):
            guard let current = try reader.node(ofDocument: document).flatMap({ try reader.node($0) }),
                  let latest = try reader.latestVersion(of: document) else { throw VFSError(.notFound) }
            return Attributes(inode: inode, mode: NodeKind.directory.rawValue | Self.searchable(current.permissions & 0o444),
                              linkCount: 2, uid: current.uid,
                              gid: current.gid, rdev: 0, size: 0, blocks: 0, accessTime: latest.time,
                              modificationTime: latest.time, changeTime: latest.time)
        case .version(let document, let number):
            guard let current = try reader.node(ofDocument: document).flatMap({ try reader.node($0) }),
                  let version = try reader.version(of: document, number: number) else {
                throw VFSError(.notFound)
            }
            return Attributes(inode: inode, mode: NodeKind.regular.rawValue | (current.permissions & 0o444), linkCount: 1,
                              uid: current.uid, gid: current.gid, rdev: 0, size: version.size,
                              blocks: (version.size + 511) / 512, accessTime: version.time,
                              modificationTime: version.time, changeTime: version.time)
        }
    }

    /// r-x for each class that may read.
    static func searchable(_ readBits: UInt32) -> UInt32 { readBits | readBits >> 2 }

    /// The access list of a view node: the folder's or the document's current one, read-only
    /// (so history is never more open than the document is now).
    func versionsACL(_ view: VersionsView.Node, in reader: CatalogReader) throws -> PosixACL? {
        let source: NodeRecord
        switch view {
        case .folder(let dir):
            source = try reader.existingNode(dir)
        case .document(let document), .version(let document, _):
            guard let inode = try reader.node(ofDocument: document) else { throw VFSError(.notFound) }
            source = try reader.existingNode(inode)
        }
        guard let acl = try policy.storedAccessACL(of: source, in: reader) else { return nil }
        switch view {
        case .folder: return acl.mapping { $0 & 5 }
        case .document: return acl.mapping { $0 & 4 == 0 ? 0 : 5 }
        case .version: return acl.mapping { $0 & 4 }
        }
    }

    /// The listing of a view folder, `.` and `..` first.
    func versionsListing(_ view: VersionsView.Node) throws -> [DirectoryEntry] {
        try namespace.read { reader in
            let directory = NodeKind.directory.rawValue | 0o555
            switch view {
            case .folder(let dir):
                var entries = [DirectoryEntry(name: [0x2e], inode: VersionsView.inode(view), mode: directory),
                               DirectoryEntry(name: [0x2e, 0x2e], inode: dir, mode: NodeKind.directory.rawValue)]
                for entry in try reader.entries(in: dir) {
                    guard let node = try reader.node(entry.inode), node.kind == .regular, let document = node.document,
                          try reader.latestVersion(of: document) != nil else { continue }
                    entries.append(DirectoryEntry(name: entry.name.bytes, inode: VersionsView.inode(.document(document)),
                                                  mode: directory))
                }
                return entries
            case .document(let document):
                guard let current = try documentName(document, in: reader),
                      let inode = try reader.node(ofDocument: document) else { throw VFSError(.notFound) }
                // A trashed document has no folder: its `..` is itself (the kernel keeps the real one).
                let parent = try reader.firstName(of: inode).map { VersionsView.inode(.folder($0.parent)) } ?? VersionsView.inode(view)
                var entries = [DirectoryEntry(name: [0x2e], inode: VersionsView.inode(view), mode: directory),
                               DirectoryEntry(name: [0x2e, 0x2e], inode: parent, mode: directory)]
                for version in try reader.versions(of: document) {
                    entries.append(DirectoryEntry(name: VersionsView.fileName(of: current, number: version.number),
                                                  inode: VersionsView.inode(.version(document: document, number: version.number)),
                                                  mode: NodeKind.regular.rawValue | 0o444))
                }
                return entries
            case .version:
                throw VFSError(.notDirectory)
            }
        }
    }

    /// The stored content of one version, to read through a handle.
    func versionContent(document: Int64, number: VersionNumber) throws -> (ContentLayout, Int64) {
        try namespace.read { reader in
            guard let version = try reader.version(of: document, number: number),
                  let manifest = try reader.manifest(version.manifest) else { throw VFSError(.notFound) }
            return (ContentLayout(manifest: manifest), version.size)
        }
    }
}
