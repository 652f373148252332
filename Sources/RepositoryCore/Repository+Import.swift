import BlobStorage
import CatalogStore
import Foundation
import LocalTree
import NexusTypes

extension Repository {
    /// Namespace changes batched into one catalog transaction.
    static let importBatchEntries = 2000
    /// Content bytes batched into one catalog transaction (each commit seals a pack).
    static let importBatchBytes: Int64 = 64 << 20

    /// Imports the directory tree at `source` into the folder `destination` (created
    /// when missing): folders, documents (a new version where content changed),
    /// symlinks, hard links, FIFOs, modes, owners, times and user xattrs.
    public func importTree(from source: String, to destination: RepositoryPath,
                           progress: ProgressHandler? = nil) throws -> ImportSummary {
        let reader: LocalTreeReader
        do {
            reader = try LocalTreeReader(root: Array(source.utf8))
        } catch {
            throw RepositoryError(.invalidArgument, "cannot import \(source): \(error)")
        }
        var importer = TreeImporter(repository: self, destination: destination)
        var state = OperationProgress(current: source)
        let compressor = Compressor()
        do {
            try reader.walk({ entry, open in
                var item = ImportItem(entry: entry)
                if entry.metadata.kind == .regular && !importer.isKnownHardLink(entry.metadata) {
                    item.content = try LocalIO.withOpenFile(open) { fd in
                        try storeContent(from: fd, compressor: compressor) { bytes in
                            state.bytes += Int64(bytes)
                            progress?(state)
                        }
                    }
                }
                importer.add(item)
                state.items += 1
                state.current = entry.path.description
                progress?(state)
                if importer.pending.count >= Self.importBatchEntries || importer.pendingBytes >= Self.importBatchBytes {
                    try importer.commit()
                }
            }, onError: { error in
                importer.summary.skipped.append(error.description)
            })
            try importer.commit()
            try indexSealedPacks()
            try checkpointIfDue(force: true)
        } catch {
            abandonBatch()
            if let error = error as? LocalTreeError {
                throw RepositoryError(error.errno == ENOSPC || error.errno == EDQUOT ? .noSpace : .failed, "import of \(source) failed: \(error)")
            }
            throw RepositoryError.wrap(error, "import of \(source) failed")
        }
        return importer.summary
    }
}

extension Repository {
    /// Drops the open pack and a batch left staged by a failed commit: the batch refers to
    /// chunks of that pack, so committing it later (at close) would leave references dangling.
    private func abandonBatch() {
        store.discardOpenPack()
        do {
            try catalog.discardStaged()
        } catch {
            logger.error("cannot drop the import batch that failed to commit: \(error)")
        }
    }
}

/// One local entry on its way into the catalog.
struct ImportItem {
    var entry: LocalEntry
    var content: StoredContent?
}

/// Turns local entries into catalog nodes, in batches.
struct TreeImporter {
    let repository: Repository
    let destination: RepositoryPath
    var pending: [ImportItem] = []
    var summary = ImportSummary()
    /// Folder inodes by path relative to the import root.
    private var folders: [RepositoryPath: InodeNumber] = [:]
    /// Inodes of multiply-linked local files, by (device, inode).
    private var hardLinks: [LocalKey: InodeNumber] = [:]
    private var hardLinksSeen: Set<LocalKey> = []

    struct LocalKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    init(repository: Repository, destination: RepositoryPath) {
        self.repository = repository
        self.destination = destination
    }

    var pendingBytes: Int64 { pending.reduce(0) { $0 + ($1.content?.size ?? 0) } }

    /// Whether this file is another name of a file already imported.
    func isKnownHardLink(_ metadata: LocalMetadata) -> Bool {
        metadata.linkCount > 1 && hardLinksSeen.contains(LocalKey(device: metadata.device, inode: metadata.inode))
    }

    mutating func add(_ item: ImportItem) {
        let m = item.entry.metadata
        if m.kind == .regular && m.linkCount > 1 {
            hardLinksSeen.insert(LocalKey(device: m.device, inode: m.inode))
        }
        pending.append(item)
    }

    /// Writes the pending entries in one catalog transaction; their chunks are made
    /// durable by the journal sink before it commits. Takes a checkpoint when enough
    /// journal records have accumulated, so a long import does not outrun the interval.
    mutating func commit() throws {
        guard !pending.isEmpty else { return }
        let items = pending
        try repository.catalog.write { writer in
            var namespace = Namespace(writer: writer, repository: repository)
            for item in items { try apply(item, in: &namespace) }
        }
        pending = []
        try repository.checkpointIfDue(force: false)
    }

    private mutating func apply(_ item: ImportItem, in namespace: inout Namespace) throws {
        let entry = item.entry
        let m = entry.metadata
        if entry.path.isRoot {
            let folder = try namespace.makeFolders(destination, owner: (m.uid, m.gid))
            try namespace.setAttributes(of: folder, from: m, xattrs: entry.xattrs)
            folders[.root] = folder
            summary.folders += 1
            return
        }
        guard let parent = folders[entry.path.parent], let name = entry.path.lastName else {
            summary.skipped.append("\(entry.path): its folder was not imported")
            return
        }
        let key = LocalKey(device: m.device, inode: m.inode)
        if m.kind == .regular, m.linkCount > 1, let existing = hardLinks[key] {
            try namespace.link(existing, as: name, in: parent)
            summary.links += 1
            return
        }
        switch m.kind {
        case .directory:
            folders[entry.path] = try namespace.folder(named: name, in: parent, from: m, xattrs: entry.xattrs)
            summary.folders += 1
        case .regular:
            let content = item.content ?? StoredContent(manifest: ContentManifest(chunks: []), sha256: [])
            let (inode, versioned) = try namespace.document(named: name, in: parent, from: m, xattrs: entry.xattrs, content: content)
            if m.linkCount > 1 { hardLinks[key] = inode }
            summary.documents += 1
            summary.bytes += content.size
            if versioned { summary.newVersions += 1 } else { summary.unchanged += 1 }
        default:
            _ = try namespace.other(named: name, in: parent, from: m, target: entry.symlinkTarget, xattrs: entry.xattrs)
            summary.others += 1
        }
    }
}
