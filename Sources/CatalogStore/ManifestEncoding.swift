import CryptoCore
import NexusTypes

/// How a manifest is stored, and its id.
///
/// A manifest of up to `partThreshold` chunks is one row of `manifests`, its chunks encoded in
/// order. A longer one (a file over some 32 MiB) is cut into parts at content-defined points,
/// each part a row of `manifest_parts` named by the SHA-256 of its encoding; its `manifests`
/// row then lists the parts behind a marker entry. A save that changes a few chunks of a large
/// file stores one new part and a short list, not the whole manifest again, and versions of
/// a large file share their unchanged parts.
public struct ManifestEncoding: Sendable {
    /// Manifests with more chunks than this are stored as parts.
    public static let partThreshold = 1024
    /// A part ends after a chunk whose id has its first 10 bits clear (1 in 1,024 chunks on
    /// average), or at this many chunks.
    static let maxPartChunks = 8192

    /// The first entry of a list of parts: a hole of length 0, which no content has.
    static let marker = ContentManifest.Chunk(id: ContentManifest.holeID, length: 0)

    /// The manifest's id: the SHA-256 of its `manifests` row's encoding.
    public let id: ManifestID
    /// The content's size.
    public let size: Int64
    /// The `manifests` row's encoding: the chunks, or the marker and the parts.
    let row: [UInt8]
    /// The parts, for a manifest stored as parts, with their chunks (encoded again only for a
    /// part that is not stored yet).
    let parts: [(id: ManifestID, chunks: ArraySlice<ContentManifest.Chunk>)]

    public init(_ manifest: ContentManifest) {
        size = manifest.size
        let chunks = manifest.chunks
        guard chunks.count > Self.partThreshold else {
            row = manifest.encoded
            parts = []
            id = ManifestID(bytes: SHA256Hasher.hash(row))!
            return
        }
        var parts: [(id: ManifestID, chunks: ArraySlice<ContentManifest.Chunk>)] = []
        var row = [UInt8]()
        ContentManifest.append(Self.marker.id, Self.marker.length, to: &row)
        var start = 0
        var scratch = [UInt8]()
        for (i, chunk) in chunks.enumerated() where Self.endsPart(chunk) || i - start + 1 == Self.maxPartChunks || i == chunks.count - 1 {
            let slice = chunks[start...i]
            scratch.removeAll(keepingCapacity: true)
            for c in slice { ContentManifest.append(c.id, c.length, to: &scratch) }
            let partID = ManifestID(bytes: SHA256Hasher.hash(scratch))!
            parts.append((partID, slice))
            // The list uses the chunk entries' shape: the part's id, then its chunk count.
            ContentManifest.append(BlobID(bytes: partID.bytes)!, UInt32(slice.count), to: &row)
            start = i + 1
        }
        self.row = row
        self.parts = parts
        id = ManifestID(bytes: SHA256Hasher.hash(row))!
    }

    static func endsPart(_ chunk: ContentManifest.Chunk) -> Bool {
        chunk.id[0] == 0 && chunk.id[1] & 0xc0 == 0 && chunk.id != ContentManifest.holeID
    }

    /// The parts a `manifests` row lists, or nil for a row that holds chunks.
    static func partList(_ row: [UInt8]) throws -> [(id: ManifestID, count: Int)]? {
        guard row.count >= ContentManifest.entrySize, row.prefix(ContentManifest.entrySize).allSatisfy({ $0 == 0 }) else { return nil }
        return try ContentManifest.decode(row).dropFirst().map { (ManifestID(bytes: $0.id.bytes)!, Int($0.length)) }
    }
}
