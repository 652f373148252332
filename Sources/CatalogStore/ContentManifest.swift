import NexusTypes

/// The id of a content manifest: SHA-256 of its encoding, so identical contents share one.
public struct ManifestID: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }
    public var description: String { Hex.encode(bytes.prefix(8)) }
}

/// The chunks that make up one content, in order.
public struct ContentManifest: Sendable, Equatable {
    public struct Chunk: Sendable, Equatable {
        public var id: BlobID
        public var length: UInt32
        public init(id: BlobID, length: UInt32) {
            self.id = id
            self.length = length
        }
    }

    public var chunks: [Chunk]

    /// The id of a hole: a run of zeros that no blob stores (sparse files).
    public static let holeID = BlobID(bytes: [UInt8](repeating: 0, count: BlobID.byteCount))!

    /// The chunks that are stored as blobs (not holes).
    public var storedChunks: [Chunk] { chunks.filter { $0.id != Self.holeID } }

    public init(chunks: [Chunk]) { self.chunks = chunks }

    public var size: Int64 { chunks.reduce(0) { $0 + Int64($1.length) } }

    static let entrySize = BlobID.byteCount + 4

    /// 36 bytes per chunk: the id, then the length little-endian.
    public var encoded: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(chunks.count * Self.entrySize)
        for chunk in chunks {
            out += chunk.id.bytes
            withUnsafeBytes(of: chunk.length.littleEndian) { out += $0 }
        }
        return out
    }

    public init(encoded: [UInt8]) throws {
        guard encoded.count % Self.entrySize == 0 else {
            throw CatalogError(.corrupt, "content manifest of \(encoded.count) bytes is not a whole number of entries")
        }
        var chunks = [Chunk]()
        chunks.reserveCapacity(encoded.count / Self.entrySize)
        var i = 0
        while i < encoded.count {
            let id = BlobID(bytes: Array(encoded[i..<i + BlobID.byteCount]))!
            var length: UInt32 = 0
            for k in 0..<4 { length |= UInt32(encoded[i + BlobID.byteCount + k]) << (8 * k) }
            chunks.append(Chunk(id: id, length: length))
            i += Self.entrySize
        }
        self.chunks = chunks
    }

}
