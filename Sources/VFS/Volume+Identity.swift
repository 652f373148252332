import CatalogStore
import NexusTypes

/// Document identity across the save patterns of real programs: a temporary file renamed
/// over a document becomes the document (its next version); a file created under a name
/// that was just deleted or renamed to a backup name continues that name's history; files
/// under swap, lock and temporary names have no history of their own.
extension Volume {
    /// Adds a version of `node`'s current content to its document when that is a real save:
    /// the node has a name that is not transient, and the content differs from the latest version.
    func recordVersion(of node: NodeRecord, author: UInt32, in w: CatalogWriter) throws {
        guard node.linkCount > 0, let document = node.document, let manifest = node.manifest else { return }
        let names = try w.reader.names(of: node.inode)
        guard names.contains(where: { !SavePatterns.isTransient($0.name.bytes) }) else { return }
        let latest = try w.reader.latestVersion(of: document)
        if latest?.manifest == manifest { return }
        let now = FileTime.now
        var number = try w.nextVersionNumber(of: document)
        // Coalescing (-o version_interval): a quick re-save by the same author replaces the latest
        // version, unless the document is under legal hold (no version of it may go).
        if options.versionInterval > 0, let latest, latest.author == author,
           try w.reader.xattr(XattrName.hold, of: node.inode) == nil,
           Double(now.totalNanoseconds - latest.time.totalNanoseconds) / 1e9 < options.versionInterval {
            try w.removeVersion(of: document, number: latest.number)
            number = latest.number
        }
        let summary = try w.reader.xattr(Array("user.nexus.summary".utf8), of: node.inode)
        try w.insertVersion(VersionRecord(
            document: document, number: number, time: now, author: author,
            size: node.size, sha256: nil, summary: summary.map { String(decoding: $0, as: UTF8.self) }, manifest: manifest))
        try audit("save", caller: Caller(uid: author, gid: 0), node: node, before: latest.map { "version \($0.number.rawValue)" },
                  after: "version \(number.rawValue), \(node.size) bytes", in: w)
    }

    /// Whether the inode's content has writes not yet saved (its save will record the version).
    func hasUnsavedContent(_ inode: InodeNumber) -> Bool {
        table.withLock { $0.inodes[inode]?.content?.isModified ?? false }
    }

    /// `node` takes over `document`: its history, and the stored attributes it does not set itself.
    /// The document's previous holder, if any, gets a fresh document without history.
    func adopt(_ document: Int64, xattrs: [(name: [UInt8], value: [UInt8])], into node: inout NodeRecord,
               in w: CatalogWriter) throws {
        let abandoned = node.document
        if let holder = try w.reader.node(ofDocument: document), holder != node.inode, var other = try w.reader.node(holder) {
            other.document = try w.allocateDocument()
            try w.updateNode(other)
            // The status, lock and hold are the document's: the old file (vim's backup) is free to go.
            for name in [XattrName.status, XattrName.lock, XattrName.hold, XattrName.lockHolder] {
                try w.removeXattr(name, from: holder)
            }
        }
        node.document = document
        let own = try w.reader.xattrs(of: node.inode).map(\.name)
        // Who may do what is the document's, not what the new file was created with.
        for name in own where Self.isIdentity(name) && !xattrs.contains(where: { $0.name == name }) {
            try w.removeXattr(name, from: node.inode)
        }
        for attribute in xattrs {
            if attribute.name == Self.ownerAttribute {
                let fields = String(decoding: attribute.value, as: UTF8.self).split(separator: " ").compactMap { UInt32($0) }
                guard fields.count == 3 else { continue }
                node.uid = fields[0]
                node.gid = fields[1]
                // Never setuid or setgid bits over content someone else wrote.
                node.permissions = fields[2] & 0o1777
            } else if Self.isIdentity(attribute.name) || (!own.contains(attribute.name) && Self.isStored(attribute.name)) {
                try w.setXattr(attribute.name, to: attribute.value, on: node.inode)
            }
        }
        // The history of a temporary file goes with it, unless another name still holds it.
        if let abandoned, abandoned != document {
            let holder = try w.reader.node(ofDocument: abandoned)
            if holder == nil || holder == node.inode {
                for version in try w.reader.versions(of: abandoned) { try w.removeVersion(of: abandoned, number: version.number) }
            }
        }
    }

    /// Remembers that `node`'s name went away (deleted, or renamed to a backup name), so that a
    /// file created under it soon after continues its history.
    func rememberDeparture(of node: NodeRecord, name: FileName, in folder: InodeNumber, w: CatalogWriter) throws {
        guard node.kind == .regular, let document = node.document, !SavePatterns.isTransient(name.bytes),
              try w.reader.latestVersion(of: document) != nil else { return }
        let xattrs = try identity(of: node, in: w.reader)
        recentNames.withLock { $0.remember(document, xattrs: xattrs, as: name.bytes, in: folder) }
    }

    /// Whether renaming `source` over `replaced` is a save of that document (its next version).
    func continuesDocument(_ source: NodeRecord, from name: FileName, to newName: FileName, replacing replaced: NodeRecord,
                           in reader: CatalogReader) throws -> Bool {
        guard source.kind == .regular, replaced.kind == .regular, replaced.document != nil,
              !SavePatterns.isTransient(newName.bytes) else { return false }
        return try SavePatterns.isTransient(name.bytes) || reader.versions(of: source.document ?? -1).count <= 1
    }

    /// What a document's next holder takes over: its attributes (the ACLs and markers among them)
    /// and, as the pseudo-attribute `nexus.owner`, its owner, group and permission bits.
    func identity(of node: NodeRecord, in reader: CatalogReader) throws -> [(name: [UInt8], value: [UInt8])] {
        try reader.xattrs(of: node.inode) + [(Self.ownerAttribute, Array("\(node.uid) \(node.gid) \(node.permissions)".utf8))]
    }

    static let ownerAttribute = Array("nexus.owner".utf8)

    /// Applied to a regular file after it was renamed to `newName` (over `replaced`, if any).
    func renamedFile(_ source: inout NodeRecord, from name: FileName, in parent: InodeNumber, to newName: FileName,
                     in newParent: InodeNumber, replacing replaced: NodeRecord?, caller: Caller, w: CatalogWriter) throws {
        guard source.kind == .regular else { return }
        let wasTransient = SavePatterns.isTransient(name.bytes)
        let isTransient = SavePatterns.isTransient(newName.bytes)
        if isTransient {
            // vim renames the document to a backup name, then writes a new file under the old name.
            if !wasTransient { try rememberDeparture(of: source, name: name, in: parent, w: w) }
            return
        }
        if let replaced, let document = replaced.document,
           try continuesDocument(source, from: name, to: newName, replacing: replaced, in: w.reader) {
            // A new or temporary file renamed over the document: the save, and the document goes
            // on. A document with a history of its own moved over another keeps its own.
            let xattrs = try identity(of: replaced, in: w.reader)
            try adopt(document, xattrs: xattrs, into: &source, in: w)
        } else if wasTransient, let (document, xattrs) = recentNames.withLock({ $0.adopt(newName.bytes, in: newParent) }) {
            try adopt(document, xattrs: xattrs, into: &source, in: w)
        } else if !wasTransient {
            return
        }
        if source.document == nil { source.document = try w.allocateDocument() }
        try w.updateNode(source)
        // The rename is the save's commit point, unless the file's close is still to come.
        if !hasUnsavedContent(source.inode) { try recordVersion(of: source, author: caller.uid, in: w) }
    }
}
