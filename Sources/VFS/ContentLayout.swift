/// POSIX and DMS semantics over a repository: inodes, handles, content editing,
/// group commits. No FUSE and no C here, so it is testable without the kernel.
import CatalogStore
import NexusTypes

/// One piece of a file's content: a whole chunk, or a hole that reads as zeros.
struct Extent: Equatable, Sendable {
    /// The chunk, or nil for a hole.
    var chunk: BlobID?
    var length: Int64
}

/// A file's content as extents at known offsets. Data extents are always whole chunks.
struct ContentLayout: Equatable, Sendable {
    /// The id a manifest uses for a hole.
    static let holeID = ContentManifest.holeID

    private(set) var extents: [Extent] = []
    private(set) var starts: [Int64] = []
    private(set) var size: Int64 = 0

    init() {}

    init(extents: [Extent]) {
        for extent in extents { append(extent) }
    }

    init(manifest: ContentManifest) {
        for chunk in manifest.chunks {
            append(Extent(chunk: chunk.id == Self.holeID ? nil : chunk.id, length: Int64(chunk.length)))
        }
    }

    /// The manifest form; holes longer than a manifest entry allows are split.
    var manifest: ContentManifest {
        var chunks: [ContentManifest.Chunk] = []
        for extent in extents {
            if let chunk = extent.chunk {
                chunks.append(.init(id: chunk, length: UInt32(extent.length)))
            } else {
                var left = extent.length
                while left > 0 {
                    let piece = min(left, Int64(UInt32.max))
                    chunks.append(.init(id: Self.holeID, length: UInt32(piece)))
                    left -= piece
                }
            }
        }
        return ContentManifest(chunks: chunks)
    }

    /// Appends an extent, merging adjacent holes and dropping empty ones.
    mutating func append(_ extent: Extent) {
        guard extent.length > 0 else { return }
        if extent.chunk == nil, let last = extents.last, last.chunk == nil {
            extents[extents.count - 1].length += extent.length
        } else {
            extents.append(extent)
            starts.append(size)
        }
        size += extent.length
    }

    /// The index of the extent holding byte `offset`, if any.
    func index(containing offset: Int64) -> Int? {
        guard offset >= 0, offset < size else { return nil }
        var low = 0
        var high = starts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if starts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// Whether an extent starts exactly at `offset`.
    func isBoundary(_ offset: Int64) -> Bool {
        guard let i = index(containing: offset) else { return false }
        return starts[i] == offset
    }

    /// Cuts the layout at `offset`, which must be an extent boundary or fall in a hole.
    mutating func truncate(to offset: Int64) {
        guard offset < size else { return }
        guard let i = index(containing: offset) else { return }
        let keep = extents[..<i]
        let partial = offset - starts[i]
        let cut = extents[i]
        precondition(partial == 0 || cut.chunk == nil, "truncating inside a chunk")
        var rebuilt = ContentLayout(extents: Array(keep))
        if partial > 0 { rebuilt.append(Extent(chunk: nil, length: partial)) }
        self = rebuilt
    }

    /// Makes `start..<end` a hole (past the end, nothing changes); both ends must be extent
    /// boundaries or fall in holes.
    mutating func punch(from start: Int64, to end: Int64) {
        let end = min(end, size)
        guard start < end else { return }
        var rebuilt = self
        rebuilt.truncate(to: start)
        rebuilt.append(Extent(chunk: nil, length: end - rebuilt.size))
        if let i = index(containing: end) {
            let tail = starts[i] + extents[i].length - end
            precondition(starts[i] == end || extents[i].chunk == nil, "punching inside a chunk")
            rebuilt.append(starts[i] == end ? extents[i] : Extent(chunk: nil, length: tail))
            for extent in extents[(i + 1)...] { rebuilt.append(extent) }
        }
        self = rebuilt
    }

    /// Bytes that are not holes.
    var allocatedBytes: Int64 {
        extents.reduce(0) { $0 + ($1.chunk == nil ? 0 : $1.length) }
    }
}
