import CatalogStore
import NexusTypes

/// Saves: the written content chunked and staged as the node's content, at close, fsync, a
/// truncation and unmount (see docs/architecture.md, Saves).
extension OpenFiles {
    /// FLUSH (see `Volume.flush`): the save of a file written through a writable handle.
    func flush(_ handle: UInt64) throws {
        let file = try fileHandle(handle)
        guard file.writable, let content = file.content, content.isModified else { return }
        try save(content)
    }

    /// fsync(2)'s save: the file's, if it was written, whether or not the handle writes.
    func sync(_ handle: UInt64) throws {
        let file = try fileHandle(handle)
        if let content = file.content, content.isModified { try save(content) }
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

    /// setattr's truncation, through the content object an open file shares, under `handle`, a
    /// handle the volume opened for it and that goes here: a file nobody else has open is saved
    /// at once, an open one when its writer closes it.
    func truncate(_ inode: InodeNumber, to size: Int64, closing handle: UInt64, author: UInt32, time: FileTime) throws {
        let (content, shared) = try table.withLock { table -> (FileContent, Bool) in
            guard let state = table.inodes[inode], let content = state.content else { throw VFSError(.io) }
            table.handles[handle] = nil
            table.inodes[inode]?.opens -= 1
            return (content, state.opens > 1)
        }
        do {
            try content.truncate(to: size, author: author, time: time)
            if !shared { try save(content) }
        } catch {
            dropIfIdle(inode)
            throw namespace.mapped(error)
        }
        dropIfIdle(inode)
    }

    /// Runs `stage`, which stages the node's modification time, and gives an open content that
    /// time too: both at once, never during a save (which records the content's mtime).
    func stageTimes(of inode: InodeNumber, modificationTime: FileTime, _ stage: () throws -> NodeRecord) throws -> NodeRecord {
        guard let content = table.withLock({ $0.inodes[inode]?.content }) else { return try stage() }
        return try content.saving.withLock { _ in
            let node = try stage()
            content.state.withLock { $0.modificationTime = modificationTime }
            return node
        }
    }

    /// Saves every written file (unmount); tries them all and throws the first error.
    func saveAll() throws {
        let contents = table.withLock { table in table.inodes.values.compactMap(\.content) }
        var firstError: (any Error)?
        for content in contents where content.isModified {
            do { try save(content) } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }
}
