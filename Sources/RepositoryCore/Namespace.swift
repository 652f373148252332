import CatalogStore
import Glibc
import LocalTree
import NexusTypes

/// Namespace edits for import and restore, inside one catalog transaction.
struct Namespace {
    let writer: CatalogWriter
    let repository: Repository
    let now = FileTime.now

    var reader: CatalogReader { writer.reader }

    private func node(_ inode: InodeNumber) throws -> NodeRecord {
        guard let node = try reader.node(inode) else {
            throw RepositoryError(.integrity, "the catalog has an entry for inode \(inode) but no such node")
        }
        return node
    }

    private func describe(_ name: FileName, in parent: InodeNumber) throws -> String {
        (try reader.path(of: parent)?.appending(name).description) ?? name.description
    }

    /// The folder at `path`, creating missing folders (mode 0755) on the way.
    mutating func makeFolders(_ path: RepositoryPath, owner: (UInt32, UInt32)) throws -> InodeNumber {
        var current = InodeNumber.root
        for component in path.components {
            if let next = try reader.entry(named: component, in: current) {
                guard try node(next).kind == .directory else {
                    throw RepositoryError(.invalidArgument, "\(try describe(component, in: current)) is not a folder")
                }
                current = next
            } else {
                current = try create(.directory, named: component, in: current, permissions: 0o755,
                                      uid: owner.0, gid: owner.1, time: now, touchingParent: true)
            }
        }
        return current
    }

    /// A new node linked as `name` in `parent`. With `touchingParent`, the parent's mtime
    /// moves to now, as for a mkdir; without, the parent is an imported folder whose times
    /// come from its source, which already counts this entry.
    private mutating func create(_ kind: NodeKind, named name: FileName, in parent: InodeNumber, permissions: UInt32,
                                 uid: UInt32, gid: UInt32, time: FileTime, target: [UInt8]? = nil, rdev: UInt64 = 0,
                                 document: Int64? = nil, content: StoredContent? = nil,
                                 touchingParent: Bool = false) throws -> InodeNumber {
        let inode = try writer.allocateInode()
        var record = NodeRecord(inode: inode, kind: kind, permissions: permissions, uid: uid, gid: gid,
                                linkCount: kind == .directory ? 2 : 1, size: 0, accessTime: time,
                                modificationTime: time, changeTime: now, rdev: rdev, symlinkTarget: target,
                                document: document)
        if let target { record.size = Int64(target.count) }
        if let content {
            let encoding = ManifestEncoding(content.manifest)
            try writer.insertManifest(encoding)
            record.manifest = encoding.id
            record.size = content.size
        }
        try writer.insertNode(record)
        try writer.insertEntry(EntryRecord(parent: parent, name: name, inode: inode))
        var folder = try node(parent)
        if kind == .directory { folder.linkCount += 1 }
        if touchingParent { folder.modificationTime = now }
        try save(folder)
        return inode
    }

    /// Gives `inode` the metadata and exactly the xattrs of a local entry. Writes only what
    /// differs, so an unchanged entry changes nothing (and costs no journal record); ctime
    /// moves to now when anything did change.
    func setAttributes(of inode: InodeNumber, from m: LocalMetadata, xattrs: [(name: [UInt8], value: [UInt8])]) throws {
        var record = try node(inode)
        record.permissions = m.permissions
        record.uid = m.uid
        record.gid = m.gid
        record.accessTime = m.accessTime
        record.modificationTime = m.modificationTime
        let xattrsChanged = try replaceXattrs(of: inode, with: xattrs)
        try save(record, xattrsChanged: xattrsChanged)
    }

    /// Writes `record` if it differs from the stored node (or `xattrsChanged`), with ctime now.
    private func save(_ record: NodeRecord, xattrsChanged: Bool = false) throws {
        var record = record
        let stored = try node(record.inode)
        record.changeTime = stored.changeTime
        guard record != stored || xattrsChanged else { return }
        record.changeTime = now
        try writer.updateNode(record)
    }

    /// Makes the xattrs of `inode` exactly `xattrs`, touching only those that differ;
    /// returns whether any did.
    private func replaceXattrs(of inode: InodeNumber, with xattrs: [(name: [UInt8], value: [UInt8])]) throws -> Bool {
        var wanted = Dictionary(xattrs.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        var changed = false
        for old in try reader.xattrs(of: inode) {
            if let value = wanted.removeValue(forKey: old.name) {
                guard value != old.value else { continue }
                try writer.setXattr(old.name, to: value, on: inode)
            } else {
                try writer.removeXattr(old.name, from: inode)
            }
            changed = true
        }
        for (name, value) in wanted {
            try writer.setXattr(name, to: value, on: inode)
            changed = true
        }
        return changed
    }

    /// The folder `name` in `parent`, created or updated from a local folder.
    mutating func folder(named name: FileName, in parent: InodeNumber, from m: LocalMetadata,
                         xattrs: [(name: [UInt8], value: [UInt8])]) throws -> InodeNumber {
        if let existing = try reader.entry(named: name, in: parent) {
            guard try node(existing).kind == .directory else {
                throw RepositoryError(.invalidArgument, "cannot import the folder \(try describe(name, in: parent)): a file of that name exists")
            }
            try setAttributes(of: existing, from: m, xattrs: xattrs)
            return existing
        }
        let inode = try create(.directory, named: name, in: parent, permissions: m.permissions, uid: m.uid, gid: m.gid,
                               time: m.modificationTime)
        try setAttributes(of: inode, from: m, xattrs: xattrs)
        return inode
    }

    /// The document `name` in `parent` with `content`: created with version 1, or given a
    /// new version when its content differs. Returns the inode and whether a version was added.
    mutating func document(named name: FileName, in parent: InodeNumber, from m: LocalMetadata,
                           xattrs: [(name: [UInt8], value: [UInt8])], content: StoredContent) throws -> (InodeNumber, Bool) {
        let encoding = ManifestEncoding(content.manifest)
        let manifest = encoding.id
        let inode: InodeNumber
        let document: Int64
        if let existing = try reader.entry(named: name, in: parent) {
            var record = try node(existing)
            guard record.kind == .regular else {
                throw RepositoryError(.invalidArgument, "cannot import the document \(try describe(name, in: parent)): a \(record.kind) of that name exists")
            }
            inode = existing
            if record.manifest == manifest, record.document != nil {
                try setAttributes(of: inode, from: m, xattrs: xattrs)
                return (inode, false)
            }
            document = try record.document ?? writer.allocateDocument()
            try writer.insertManifest(encoding)
            record.document = document
            record.manifest = manifest
            record.size = content.size
            try save(record)
        } else {
            document = try writer.allocateDocument()
            inode = try create(.regular, named: name, in: parent, permissions: m.permissions, uid: m.uid, gid: m.gid,
                               time: m.modificationTime, document: document, content: content)
        }
        try setAttributes(of: inode, from: m, xattrs: xattrs)
        let number = try writer.nextVersionNumber(of: document)
        try writer.insertVersion(VersionRecord(document: document, number: number,
                                               time: m.modificationTime, author: m.uid, size: content.size,
                                               sha256: content.sha256, manifest: manifest))
        try repository.appendAudit(AuditEvent(time: now, uid: getuid(), action: "import", inode: inode,
                                              path: try reader.path(of: inode)?.bytes ?? [],
                                              after: "version \(number.rawValue), \(content.size) bytes"), in: writer)
        return (inode, true)
    }

    /// Another name for an existing node (a hard link).
    func link(_ inode: InodeNumber, as name: FileName, in parent: InodeNumber) throws {
        if let existing = try reader.entry(named: name, in: parent) {
            if existing == inode { return }
            throw RepositoryError(.invalidArgument, "cannot link \(try describe(name, in: parent)): the name is taken")
        }
        try writer.insertEntry(EntryRecord(parent: parent, name: name, inode: inode))
        var record = try node(inode)
        record.linkCount += 1
        record.changeTime = now
        try writer.updateNode(record)
    }

    /// A symlink, FIFO, socket or device node, created or updated.
    mutating func other(named name: FileName, in parent: InodeNumber, from m: LocalMetadata, target: [UInt8]?,
                        xattrs: [(name: [UInt8], value: [UInt8])]) throws -> InodeNumber {
        if let existing = try reader.entry(named: name, in: parent) {
            var record = try node(existing)
            guard record.kind == m.kind else {
                throw RepositoryError(.invalidArgument, "cannot import \(try describe(name, in: parent)): a \(record.kind) of that name exists")
            }
            record.symlinkTarget = target
            record.size = Int64(target?.count ?? 0)
            record.rdev = m.rdev
            try save(record)
            try setAttributes(of: existing, from: m, xattrs: xattrs)
            return existing
        }
        let inode = try create(m.kind, named: name, in: parent, permissions: m.permissions, uid: m.uid, gid: m.gid,
                               time: m.modificationTime, target: target, rdev: m.rdev)
        try setAttributes(of: inode, from: m, xattrs: xattrs)
        return inode
    }
}
