import CatalogStore
import CryptoCore
import NexusTypes

/// Reading and writing open contents, and what the volume knows of stored ones: their layouts,
/// their allocated bytes (st_blocks) and their digests.
extension OpenFiles {
    func read(_ handle: UInt64, at offset: Int64, count: Int) throws -> [UInt8] {
        let file = try fileHandle(handle)
        guard let content = file.content else { throw VFSError(.invalid, "not a regular file") }
        do {
            return try content.read(at: offset, count: count)
        } catch {
            throw namespace.mapped(error)
        }
    }

    func write(_ handle: UInt64, at offset: Int64, data: UnsafeRawBufferPointer, caller: Caller) throws -> Int {
        let file = try fileHandle(handle)
        guard file.writable else { throw VFSError(.badHandle, "not open for writing") }
        guard let content = file.content else { throw VFSError(.invalid, "not a regular file") }
        guard offset >= 0 else { throw VFSError(.invalid) }
        guard offset + Int64(data.count) <= FileContent.maxFileSize else { throw VFSError(.fileTooLarge) }
        do {
            try content.write(data, at: file.append ? content.size : offset, author: caller.uid, time: .now)
            let dirty = content.dirtyBytes
            if dirty > options.maxDirtyBytesPerFile {
                let logger = self.logger
                content.spillInBackground(chunker: source.chunker, source: source) { logger.warning("\($0)") }
                // Writes faster than spills wait, so that memory stays bounded.
                if dirty > 2 * options.maxDirtyBytesPerFile { content.waitForSpill() }
            }
        } catch {
            throw namespace.mapped(error)
        }
        return data.count
    }

    /// fallocate(2): allocation (which may grow the file) and punching holes.
    func allocate(_ handle: UInt64, mode: Int32, offset: Int64, length: Int64, caller: Caller) throws {
        let keepSize: Int32 = 0x01, punchHole: Int32 = 0x02, zeroRange: Int32 = 0x10
        let file = try fileHandle(handle)
        guard let content = file.content, file.writable else { throw VFSError(.badHandle) }
        guard offset >= 0, length > 0 else { throw VFSError(.invalid) }
        guard offset <= FileContent.maxFileSize - length else { throw VFSError(.fileTooLarge) }
        switch mode {
        case 0:
            if offset + length > content.size { try content.truncate(to: offset + length, author: caller.uid, time: .now) }
        case keepSize:
            return
        case punchHole | keepSize:
            try content.punchHole(at: offset, length: length, author: caller.uid, time: .now)
        case zeroRange, zeroRange | keepSize:
            try content.punchHole(at: offset, length: length, author: caller.uid, time: .now)
            if mode & keepSize == 0 && offset + length > content.size {
                try content.truncate(to: offset + length, author: caller.uid, time: .now)
            }
        default:
            throw VFSError(.notSupported)
        }
    }

    /// lseek(2) with SEEK_DATA and SEEK_HOLE.
    func seek(_ handle: UInt64, offset: Int64, whence: Int32) throws -> Int64 {
        let seekData: Int32 = 3, seekHole: Int32 = 4
        guard whence == seekData || whence == seekHole else { throw VFSError(.invalid) }
        let file = try fileHandle(handle)
        guard let content = file.content else { throw VFSError(.invalid) }
        let (size, pages, base) = content.state.withLock { ($0.size, $0.pages.keys.sorted(), $0.base) }
        guard offset >= 0, offset < size else { throw VFSError(.noSuchOffset) }
        let page = FileContent.pageSize
        // Data is a written page or a stored chunk; the rest reads as zeros. Both searches jump
        // from run to run (adjacent holes are one extent), so a hole of a petabyte costs nothing.
        func writtenPage(at position: Int64) -> Bool { pages.contains(position / page) }
        func storedExtent(at position: Int64) -> (data: Bool, end: Int64)? {
            guard let i = base.index(containing: position) else { return nil }
            return (base.extents[i].chunk != nil, base.starts[i] + base.extents[i].length)
        }
        var position = offset
        if whence == seekHole {
            while position < size {
                if writtenPage(at: position) {
                    position = (position / page + 1) * page
                } else if let extent = storedExtent(at: position), extent.data {
                    position = extent.end
                } else {
                    return position
                }
            }
            return size
        }
        while position < size {
            if writtenPage(at: position) { return position }
            if let extent = storedExtent(at: position), extent.data { return position }
            // In a hole: the next data is the next written page or the next stored extent.
            let nextPage = pages.first { $0 * page > position }.map { $0 * page }
            let nextExtent = storedExtent(at: position).map(\.end)
            guard let next = [nextPage, nextExtent].compactMap({ $0 }).min() else { break }
            position = next
        }
        throw VFSError(.noSuchOffset)
    }

    // MARK: Stored contents

    func allocatedBytes(of manifest: ManifestID) -> Int64 {
        if let known = allocated.withLock({ $0[manifest] }) { return known }
        // Not through the layout cache: a listing of a million small files must not fill it.
        let cached = layouts.withLock { $0.layout(of: manifest) }
        guard let layout = cached ?? (try? namespace.read({ try $0.manifest(manifest) }).map(ContentLayout.init(manifest:))) else { return 0 }
        return noteAllocated(layout, as: manifest)
    }

    /// Records a stored content's allocated bytes, for st_blocks.
    @discardableResult
    private func noteAllocated(_ layout: ContentLayout, as manifest: ManifestID) -> Int64 {
        let bytes = layout.allocatedBytes
        allocated.withLock { cache in
            if cache.count > 100_000 { cache.removeAll() }
            cache[manifest] = bytes
        }
        return bytes
    }

    /// The layout of a stored content, from the cache or the catalog.
    func layout(of manifest: ManifestID) throws -> ContentLayout? {
        if let cached = layouts.withLock({ $0.layout(of: manifest) }) { return cached }
        guard let stored = try namespace.read({ try $0.manifest(manifest) }) else { return nil }
        let layout = ContentLayout(manifest: stored)
        remember(layout, as: manifest)
        return layout
    }

    /// Caches a stored content's layout and its allocated bytes.
    func remember(_ layout: ContentLayout, as manifest: ManifestID) {
        layouts.withLock { $0.insert(layout, as: manifest) }
        noteAllocated(layout, as: manifest)
    }

    /// SHA-256 of the saved content, as hex; remembered per content.
    func contentDigest(of inode: InodeNumber) throws -> String {
        let (node, _) = try readConsistently { try $0.existingNode(inode) }
        guard node.kind == .regular else { throw VFSError(.noData) }
        guard let manifest = node.manifest else { return Hex.encode(SHA256Hasher.hash([])) }
        if let known = digests.withLock({ $0[manifest] }) { return known }
        guard let stored = try namespace.read({ try $0.manifest(manifest) }) else { throw VFSError(.io, "content missing") }
        let content = FileContent(inode: inode, layout: ContentLayout(manifest: stored), size: node.size, source: source)
        var hasher = SHA256Hasher()
        var offset: Int64 = 0
        while offset < node.size {
            let piece = try content.read(at: offset, count: 1 << 20)
            if piece.isEmpty { break }
            hasher.update(piece)
            offset += Int64(piece.count)
        }
        let digest = Hex.encode(hasher.finalize())
        digests.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[manifest] = digest
        }
        return digest
    }
}
