import Dispatch
import NexusTypes
import Synchronization

/// The content of one regular file while it is open: the stored layout plus the
/// pages written since, in memory. Shared by every handle of the inode.
///
/// Thread-safe. Lock order: `saving`, then `state`, then the catalog (storing and reading
/// chunks use it), then OpenFiles.table. `isModified` takes no lock.
final class FileContent: Sendable {
    /// Bytes per page of written data: the kernel's page, so that the 4 KiB writes of databases,
    /// git and random-write workloads replace whole pages and never read the stored chunk first.
    static let pageSize: Int64 = 4 << 10
    /// The largest file size: 1 PiB (the kernel's own limit is far above; EFBIG past this).
    static let maxFileSize = Int64(1) << 50

    struct State {
        var base: ContentLayout {
            didSet { baseGeneration &+= 1 }
        }
        /// Counts changes of `base`, so that a background spill knows whether its layout still applies.
        var baseGeneration: UInt64 = 0
        var size: Int64
        /// Written pages by index; each holds the page's full bytes (zeros past the end).
        var pages: [Int64: [UInt8]] = [:]
        /// Whether the content differs from what was last staged in the catalog; it stays set
        /// while a save is under way, so that nobody takes the catalog's older content for current.
        var modified = false
        /// Counts changes, so that a save clears `modified` only if nothing changed meanwhile.
        var changes: UInt64 = 0
        /// Whether a write (not only a truncation) happened since the last save: only then is a save a version.
        var wrote = false
        /// uid of the last writer, for the version's author.
        var author: UInt32 = 0
        var modificationTime: FileTime?
    }

    let inode: InodeNumber
    let state: Mutex<State>
    /// Held for a whole save (seal, then stage), for a setattr that stages times of this
    /// content, and for a background spill, so that none stages over another with older values.
    let saving = Mutex(())
    /// Set while a background spill runs (see `spillInBackground`); `spills` is entered meanwhile.
    let spilling = Atomic<Bool>(false)
    let spills = DispatchGroup()
    /// `State.modified`, readable without the state lock (under OpenFiles.table, say); written
    /// under the state lock whenever `modified` changes.
    private let unsaved = Atomic<Bool>(false)
    private let source: ChunkSource

    init(inode: InodeNumber, layout: ContentLayout, size: Int64, source: ChunkSource) {
        self.inode = inode
        self.source = source
        state = Mutex(State(base: layout, size: max(size, layout.size)))
    }

    var size: Int64 { state.withLock { $0.size } }
    var isModified: Bool { unsaved.load(ordering: .acquiring) }

    /// Sets `state.modified` and its lock-free mirror; call with the state lock held.
    func setModified(_ modified: Bool, in state: inout State) {
        state.modified = modified
        unsaved.store(modified, ordering: .releasing)
    }
    var dirtyBytes: Int64 { state.withLock { Int64($0.pages.count) * Self.pageSize } }

    /// Reads up to `count` bytes at `offset`; short only at the end of the file.
    ///
    /// Written pages are copied under the state lock; stored chunks are decoded after it, several
    /// at once (the kernel's read-ahead asks for up to 1 MiB), so that reads of one file by
    /// several threads, and the decoding of one large read, use every core.
    func read(at offset: Int64, count: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        let stored = state.withLock { state -> [StoredPiece] in
            guard offset < state.size, count > 0 else { return [] }
            out = [UInt8](repeating: 0, count: Int(min(state.size, offset + Int64(count)) - offset))
            return out.withUnsafeMutableBytes { Self.copyWrittenPages(into: $0, from: offset, state: state) }
        }
        try out.withUnsafeMutableBytes { try Self.copyStored(stored, into: $0, source: source) }
        return out
    }

    /// Writes `data` at `offset`, growing the file as needed.
    func write(_ data: UnsafeRawBufferPointer, at offset: Int64, author: UInt32, time: FileTime) throws {
        guard !data.isEmpty else { return }
        try state.withLock { state in
            var position = offset
            var consumed = 0
            while consumed < data.count {
                let page = position / Self.pageSize
                let within = Int(position - page * Self.pageSize)
                let n = min(data.count - consumed, Int(Self.pageSize) - within)
                if state.pages[page] == nil {
                    // A page written whole needs none of its old bytes.
                    state.pages[page] = n == Int(Self.pageSize) ? [UInt8](repeating: 0, count: n)
                        : try Self.loadPage(page, state: state, source: source)
                }
                state.pages[page]!.withUnsafeMutableBytes { pageBytes in
                    (pageBytes.baseAddress! + within).copyMemory(from: data.baseAddress! + consumed, byteCount: n)
                }
                position += Int64(n)
                consumed += n
            }
            state.size = max(state.size, offset + Int64(data.count))
            setModified(true, in: &state)
            state.changes += 1
            state.wrote = true
            state.author = author
            state.modificationTime = time
        }
    }

    /// Sets the size; bytes past a shrunken end read as zeros if the file grows again.
    func truncate(to newSize: Int64, author: UInt32, time: FileTime) throws {
        try state.withLock { state in
            if newSize < state.size {
                // Keep the partial chunk at the cut in pages, so the stored layout can end on a boundary.
                if let i = state.base.index(containing: newSize), state.base.extents[i].chunk != nil,
                   state.base.starts[i] < newSize {
                    var page = state.base.starts[i] / Self.pageSize
                    while page * Self.pageSize < newSize {
                        if state.pages[page] == nil { state.pages[page] = try Self.loadPage(page, state: state, source: source) }
                        page += 1
                    }
                    state.base.truncate(to: state.base.starts[i])
                } else {
                    state.base.truncate(to: newSize)
                }
                let lastPage = newSize / Self.pageSize
                state.pages = state.pages.filter { $0.key <= lastPage }
                if let bytes = state.pages[lastPage] {
                    var zeroed = bytes
                    let keep = Int(newSize - lastPage * Self.pageSize)
                    for k in keep..<zeroed.count { zeroed[k] = 0 }
                    state.pages[lastPage] = keep == 0 ? nil : zeroed
                }
            }
            if newSize != state.size {
                setModified(true, in: &state)
                state.changes += 1
            }
            state.size = newSize
            state.author = author
            state.modificationTime = time
        }
    }

    /// fallocate's PUNCH_HOLE: `offset..<offset + length` (within the size) reads as zeros and
    /// takes no space; the size stays.
    func punchHole(at offset: Int64, length: Int64, author: UInt32, time: FileTime) throws {
        try state.withLock { state in
            let end = min(offset + length, state.size)
            guard offset < end else { return }
            // A stored chunk that either end cuts moves into pages, so the hole falls on boundaries.
            for cut in [offset, end] {
                guard let i = state.base.index(containing: cut), state.base.extents[i].chunk != nil,
                      state.base.starts[i] < cut else { continue }
                let chunkStart = state.base.starts[i], chunkEnd = chunkStart + state.base.extents[i].length
                var page = chunkStart / Self.pageSize
                while page * Self.pageSize < chunkEnd {
                    if state.pages[page] == nil { state.pages[page] = try Self.loadPage(page, state: state, source: source) }
                    page += 1
                }
                state.base.punch(from: chunkStart, to: chunkEnd)
            }
            state.base.punch(from: offset, to: end)
            for index in Array(state.pages.keys) {
                let pageStart = index * Self.pageSize, pageEnd = pageStart + Self.pageSize
                guard pageEnd > offset, pageStart < end else { continue }
                if pageStart >= offset && pageEnd <= end {
                    state.pages[index] = nil
                    continue
                }
                let from = Int(max(pageStart, offset) - pageStart), to = Int(min(pageEnd, end) - pageStart)
                state.pages[index]!.withUnsafeMutableBytes { bytes in
                    UnsafeMutableRawBufferPointer(rebasing: bytes[from..<to]).initializeMemory(as: UInt8.self, repeating: 0)
                }
            }
            setModified(true, in: &state)
            state.changes += 1
            state.wrote = true
            state.author = author
            state.modificationTime = time
        }
    }

    /// A full page of the current content, from the stored layout (zeros past its end); for a
    /// page that is not written.
    private static func loadPage(_ page: Int64, state: State, source: ChunkSource) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Int(pageSize))
        try bytes.withUnsafeMutableBytes { try fill($0, from: page * pageSize, state: state, source: source) }
        return bytes
    }

    /// Copies the content at `offset` into `buffer`: written pages over the stored layout over zeros.
    static func fill(_ buffer: UnsafeMutableRawBufferPointer, from offset: Int64, state: State, source: ChunkSource) throws {
        try copyStored(copyWrittenPages(into: buffer, from: offset, state: state), into: buffer, source: source)
    }

    /// Bytes of a stored chunk that go to `buffer[at..<at + count]`.
    struct StoredPiece {
        var chunk: BlobID
        var length: Int64
        var within: Int
        var count: Int
        var at: Int
    }

    /// Copies what `buffer` (the content from `offset` on) takes from written pages and zeros
    /// what is a hole or past the stored layout; returns the pieces that stored chunks fill.
    static func copyWrittenPages(into buffer: UnsafeMutableRawBufferPointer, from offset: Int64, state: State) -> [StoredPiece] {
        var stored: [StoredPiece] = []
        var done = 0
        while done < buffer.count {
            let position = offset + Int64(done)
            let page = position / pageSize
            let within = Int(position - page * pageSize)
            var n = min(buffer.count - done, Int(pageSize) - within)
            if let bytes = state.pages[page] {
                bytes.withUnsafeBytes {
                    UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + n])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[within..<within + n]))
                }
            } else if let i = state.base.index(containing: position) {
                // Up to the extent's end or the next written page, whichever comes first.
                let extentEnd = state.base.starts[i] + state.base.extents[i].length
                var stop = min(offset + Int64(buffer.count), extentEnd)
                var next = page + 1
                while next * pageSize < stop, state.pages[next] == nil { next += 1 }
                stop = min(stop, next * pageSize)
                n = Int(stop - position)
                if let chunk = state.base.extents[i].chunk {
                    stored.append(StoredPiece(chunk: chunk, length: state.base.extents[i].length,
                                              within: Int(position - state.base.starts[i]), count: n, at: done))
                } else {
                    UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + n]).initializeMemory(as: UInt8.self, repeating: 0)
                }
            } else {
                UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + n]).initializeMemory(as: UInt8.self, repeating: 0)
            }
            done += n
        }
        return stored
    }

    /// Decodes the chunks of `pieces` (several at once) and copies them into `buffer`.
    static func copyStored(_ pieces: [StoredPiece], into buffer: UnsafeMutableRawBufferPointer, source: ChunkSource) throws {
        guard !pieces.isEmpty else { return }
        for (piece, bytes) in zip(pieces, try source.chunks(pieces.map(\.chunk))) {
            guard bytes.count == Int(piece.length) else {
                throw VFSError(.io, "chunk \(piece.chunk.short) has \(bytes.count) bytes, expected \(piece.length)")
            }
            bytes.withUnsafeBytes {
                UnsafeMutableRawBufferPointer(rebasing: buffer[piece.at..<piece.at + piece.count])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[piece.within..<piece.within + piece.count]))
            }
        }
    }
}
