import BlobStorage
import Dispatch
import NexusTypes

/// Turns a stored layout plus written pages into a new stored layout, chunking only
/// around the written ranges: chunking starts at the chunk holding the first written
/// byte and stops, once past the written bytes, at the first cut that falls on an old
/// chunk boundary; from there the old chunks are reused as they are.
struct ContentSealer {
    let chunker: Chunker
    let state: FileContent.State
    let source: ChunkSource

    private var base: ContentLayout { state.base }
    private var size: Int64 { state.size }

    /// Written byte ranges, merged, in order, within the file.
    private var runs: [(start: Int64, end: Int64)] {
        var out: [(Int64, Int64)] = []
        let page = FileContent.pageSize
        for index in state.pages.keys.sorted() {
            let start = index * page
            let end = min(start + page, size)
            guard start < end else { continue }
            if let last = out.last, last.1 == start { out[out.count - 1].1 = end } else { out.append((start, end)) }
        }
        return out
    }

    /// The new layout; stores the new chunks.
    func seal() throws -> ContentLayout {
        var out = ContentLayout()
        var batch = ChunkBatch(source: source)
        var position: Int64 = 0
        let runs = self.runs
        var next = 0
        while next < runs.count {
            let run = runs[next]
            if run.end <= position { next += 1; continue }
            // Start at the chunk holding the run's first byte.
            var start = max(run.start, position)
            if let i = base.index(containing: start), base.extents[i].chunk != nil { start = max(base.starts[i], position) }
            try batch.store(into: &out)
            copyOld(into: &out, from: &position, to: start)
            var coveredTo = run.end
            next += 1
            var p = start
            let params = chunker.parameters
            var window = [UInt8](repeating: 0, count: params.maxSize)
            while true {
                // Take in every run that the chunking has reached.
                while next < runs.count, runs[next].start <= max(p, coveredTo) {
                    coveredTo = max(coveredTo, runs[next].end)
                    next += 1
                }
                let limit = min(size, max(coveredTo, base.size))
                if p >= limit { break }
                let count = Int(min(Int64(params.maxSize), limit - p))
                let cut = try window.withUnsafeMutableBytes { buffer -> Int in
                    let view = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count])
                    try FileContent.fill(view, from: p, state: state, source: source)
                    let length = chunker.chunkLength(in: UnsafeRawBufferPointer(view))
                    batch.add(Array(view[0..<length]))
                    return length
                }
                if batch.isFull { try batch.store(into: &out) }
                p += Int64(cut)
                // Past the written bytes, stop where the old layout can go on: at one of its chunk
                // boundaries, or anywhere in a hole (which would otherwise be chunked to its end).
                if p >= coveredTo && (p >= base.size || base.isBoundary(p) || isHole(p)) { break }
            }
            position = p
        }
        try batch.store(into: &out)
        copyOld(into: &out, from: &position, to: size)
        return out
    }

    /// Whether `offset` falls in a hole of the old layout.
    private func isHole(_ offset: Int64) -> Bool {
        guard let i = base.index(containing: offset) else { return true }
        return base.extents[i].chunk == nil
    }

    /// Appends the old layout's extents from `position` to `end` (holes past its end).
    private func copyOld(into out: inout ContentLayout, from position: inout Int64, to end: Int64) {
        guard position < end else { return }
        // One search, then extent by extent.
        var next = base.index(containing: position)
        while position < end {
            guard let i = next else {
                out.append(Extent(chunk: nil, length: end - position))
                position = end
                return
            }
            next = i + 1 < base.extents.count ? i + 1 : nil
            let extent = base.extents[i]
            let extentEnd = base.starts[i] + extent.length
            if extent.chunk == nil {
                let stop = min(extentEnd, end)
                out.append(Extent(chunk: nil, length: stop - position))
                position = stop
            } else {
                precondition(base.starts[i] == position && extentEnd <= end, "copying part of a chunk")
                out.append(extent)
                position = extentEnd
            }
        }
    }
}

/// New chunks waiting to be stored, in order: hashing, compressing and encrypting them runs
/// on every core (a large write is otherwise bound by one), and their extents follow in order.
struct ChunkBatch {
    static let maxBytes = 8 << 20

    let source: ChunkSource
    private var chunks: [[UInt8]] = []
    private var bytes = 0

    init(source: ChunkSource) { self.source = source }

    var isFull: Bool { bytes >= Self.maxBytes }

    mutating func add(_ chunk: [UInt8]) {
        chunks.append(chunk)
        bytes += chunk.count
    }

    /// Stores the waiting chunks and appends their extents to `layout`.
    mutating func store(into layout: inout ContentLayout) throws {
        defer {
            chunks.removeAll(keepingCapacity: true)
            bytes = 0
        }
        let source = self.source
        let ids = try concurrentMap(chunks) { chunk in try chunk.withUnsafeBytes { try source.store($0) } }
        for (chunk, id) in zip(chunks, ids) { layout.append(Extent(chunk: id, length: Int64(chunk.count))) }
    }
}

extension FileContent {
    /// What a save stages: the stored layout and what to record with it.
    struct Sealed {
        var layout: ContentLayout
        var size: Int64
        /// Whether the content differs from what was last staged.
        var modified: Bool
        var author: UInt32
        var time: FileTime?
        /// The change count sealed; see `markSaved`.
        var changes: UInt64
        /// Whether anything was written, not only truncated.
        var wrote: Bool
    }

    /// Chunks the written pages into the blob store and makes the result the stored layout.
    /// The content stays modified until `markSaved`.
    func seal(chunker: Chunker, source: ChunkSource) throws -> Sealed {
        try state.withLock { state in
            if !state.pages.isEmpty || state.base.size != state.size {
                let layout = try ContentSealer(chunker: chunker, state: state, source: source).seal()
                state.base = layout
                state.pages = [:]
            }
            return Sealed(layout: state.base, size: state.size, modified: state.modified, author: state.author,
                          time: state.modificationTime, changes: state.changes, wrote: state.wrote)
        }
    }

    /// Records that what `seal` returned with `changes` is staged; later changes keep the content modified.
    func markSaved(changes: UInt64) {
        state.withLock { state in
            if state.changes == changes {
                setModified(false, in: &state)
                state.wrote = false
            }
        }
    }

    /// Makes written pages part of the stored layout without ending the save (keeps memory
    /// bounded), on a thread of its own while writes go on: the pages are chunked and stored
    /// from a snapshot, outside the state lock, and the new layout replaces the stored one
    /// unless something else replaced or cut it meanwhile; pages written since stay pages.
    /// At most one spill runs per content; `waitForSpill` waits for it.
    func spillInBackground(chunker: Chunker, source: ChunkSource, logger: @escaping @Sendable (String) -> Void) {
        guard spilling.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        spills.enter()
        DispatchQueue.global().async { [self] in
            defer {
                spilling.store(false, ordering: .releasing)
                spills.leave()
            }
            do {
                try saving.withLock { _ in try spillSnapshot(chunker: chunker, source: source) }
            } catch {
                logger("could not spill the written pages of inode \(inode) (they stay in memory until the save): \(error)")
            }
        }
    }

    /// Returns once no background spill of this content runs.
    func waitForSpill() {
        spills.wait()
    }

    private func spillSnapshot(chunker: Chunker, source: ChunkSource) throws {
        let snapshot = state.withLock { $0 }
        guard !snapshot.pages.isEmpty else { return }
        let layout = try ContentSealer(chunker: chunker, state: snapshot, source: source).seal()
        state.withLock { state in
            guard state.baseGeneration == snapshot.baseGeneration, state.size >= snapshot.size else { return }
            // A page the snapshot holds and nobody wrote since shares its storage with it.
            state.pages = state.pages.filter { index, bytes in
                guard let old = snapshot.pages[index] else { return true }
                return old.withUnsafeBufferPointer { $0.baseAddress } != bytes.withUnsafeBufferPointer { $0.baseAddress }
            }
            state.base = layout
        }
    }
}
