import CatalogStore
import NexusTypes

/// Document identity across the save patterns of real programs: a temporary file renamed
/// over a document becomes the document (its next version); a file created under a name
/// that was just deleted or renamed to a backup name continues that name's history; files
/// under swap, lock and temporary names have no history of their own.
extension Policy {
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

    /// `node` takes over a document: its history, owner and permissions, and its attributes
    /// (its own status, lock and hold never override the document's). The document's previous
    /// holder, if any, gets a fresh document without history.
    func adopt(_ identity: DocumentIdentity, into node: inout NodeRecord, caller: Caller, in w: CatalogWriter) throws {
        let abandoned = node.document
        let document = identity.document
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
        for name in own where XattrName.isIdentity(name) && !identity.xattrs.contains(where: { $0.name == name }) {
            try w.removeXattr(name, from: node.inode)
        }
        for attribute in identity.xattrs where XattrName.isIdentity(attribute.name) || (!own.contains(attribute.name) && XattrName.isStored(attribute.name)) {
            try w.setXattr(attribute.name, to: attribute.value, on: node.inode)
        }
        let before = node
        node.uid = identity.uid
        node.gid = identity.gid
        // Never setuid or setgid bits over content someone else wrote.
        node.permissions = identity.permissions & 0o1777
        if node.uid != before.uid || node.gid != before.gid || node.permissions != before.permissions {
            try audit("adopt", caller: caller, node: node, before: "\(before.uid):\(before.gid) \(Self.modeText(before))",
                      after: "\(node.uid):\(node.gid) \(Self.modeText(node)) (the document's)", in: w)
        }
        try w.moveComments(from: identity.inode, to: node.inode)
        // Deleted and written again (a save): the old node was never a deletion for the trash.
        if identity.inode != node.inode, try w.reader.trashRecord(of: identity.inode) != nil { try w.removeTrash(identity.inode) }
        // The history of the file that became the save goes with it: at most the one version its
        // own writer made of it, and never a held document's.
        if let abandoned, abandoned != document, try w.reader.node(ofDocument: abandoned).map({ $0 == node.inode }) ?? true {
            let versions = try w.reader.versions(of: abandoned)
            if versions.count <= 1, versions.allSatisfy({ $0.author == caller.uid }) {
                for version in versions {
                    try w.removeVersion(of: abandoned, number: version.number)
                    try audit("discard", caller: caller, node: node, before: "version \(version.number.rawValue) of the saved file",
                              in: w)
                }
            }
        }
    }

    /// A regular file just created as `name` continues the history of a document that lost that
    /// name a moment ago by the caller's doing (deleted, or renamed to a backup name); false if none.
    func continueDeparted(_ name: FileName, in parent: InodeNumber, into node: inout NodeRecord, caller: Caller,
                          in w: CatalogWriter) throws -> Bool {
        guard node.kind == .regular, !SavePatterns.isTransient(name.bytes),
              let identity = recentNames.withLock({ $0.adopt(name.bytes, in: parent, by: caller.uid) }) else { return false }
        try adopt(identity, into: &node, caller: caller, in: w)
        return true
    }

    /// Remembers that `node`'s name went away (deleted, or renamed to a backup name) by the
    /// caller's doing, so that a file the caller creates under it soon after continues its
    /// history. Only for a caller who may edit the document.
    func rememberDeparture(of node: NodeRecord, name: FileName, in folder: InodeNumber, caller: Caller, w: CatalogWriter) throws {
        guard node.kind == .regular, node.document != nil, !SavePatterns.isTransient(name.bytes),
              try w.reader.latestVersion(of: node.document!) != nil,
              try level(of: caller, on: node, in: w.reader) >= .edit else { return }
        let identity = try identity(of: node, in: w.reader)
        recentNames.withLock { $0.remember(identity, departedBy: caller.uid, as: name.bytes, in: folder) }
    }

    /// Whether renaming `source` over `replaced` is a save of that document (its next version):
    /// a new or temporary file of the caller's own, by a caller who may edit the document.
    func continuesDocument(_ source: NodeRecord, to newName: FileName, replacing replaced: NodeRecord,
                           caller: Caller, in reader: CatalogReader) throws -> Bool {
        guard replaced.kind == .regular, replaced.document != nil, !SavePatterns.isTransient(newName.bytes),
              try isFreshSave(source, caller: caller, in: reader) else { return false }
        return try level(of: caller, on: replaced, in: reader) >= .edit
    }

    /// Whether `source` can become a save of some document: a regular file of the caller's own
    /// with at most one version of its own and no legal hold. A document with a history of its
    /// own, someone else's, or under hold is moved, never dissolved into another.
    func isFreshSave(_ source: NodeRecord, caller: Caller, in reader: CatalogReader) throws -> Bool {
        guard source.kind == .regular, caller.uid == 0 || source.uid == caller.uid else { return false }
        return try reader.versions(of: source.document ?? -1).count <= 1
            && reader.xattr(XattrName.hold, of: source.inode) == nil
    }

    /// What a document's next holder takes over (see `DocumentIdentity`).
    func identity(of node: NodeRecord, in reader: CatalogReader) throws -> DocumentIdentity {
        DocumentIdentity(document: node.document ?? -1, inode: node.inode, uid: node.uid, gid: node.gid,
                         permissions: node.permissions, xattrs: try reader.xattrs(of: node.inode))
    }

    /// Applied to a regular file after it was renamed to `newName` (over `replaced`, if any;
    /// `continuesReplaced` is `continuesDocument` for it, as the rename decided). `hasUnsavedContent`
    /// tells whether the file has writes not yet saved (its save will record the version).
    func renamedFile(_ source: inout NodeRecord, from name: FileName, in parent: InodeNumber, to newName: FileName,
                     in newParent: InodeNumber, replacing replaced: NodeRecord?, continuesReplaced: Bool, caller: Caller,
                     hasUnsavedContent: @autoclosure () -> Bool, w: CatalogWriter) throws {
        guard source.kind == .regular else { return }
        let wasTransient = SavePatterns.isTransient(name.bytes)
        let isTransient = SavePatterns.isTransient(newName.bytes)
        if isTransient {
            // vim renames the document to a backup name, then writes a new file under the old name.
            if !wasTransient { try rememberDeparture(of: source, name: name, in: parent, caller: caller, w: w) }
            return
        }
        if let replaced, continuesReplaced {
            // A new or temporary file renamed over the document: the save, and the document goes
            // on. A document with a history of its own moved over another keeps its own.
            try adopt(try identity(of: replaced, in: w.reader), into: &source, caller: caller, in: w)
        } else if replaced == nil, wasTransient, try isFreshSave(source, caller: caller, in: w.reader),
                  let identity = recentNames.withLock({ $0.adopt(newName.bytes, in: newParent, by: caller.uid) }) {
            try adopt(identity, into: &source, caller: caller, in: w)
        } else if !wasTransient {
            return
        }
        if source.document == nil { source.document = try w.allocateDocument() }
        try w.updateNode(source)
        // The rename is the save's commit point, unless the file's close is still to come.
        if !hasUnsavedContent() { try recordVersion(of: source, author: caller.uid, in: w) }
    }
}
