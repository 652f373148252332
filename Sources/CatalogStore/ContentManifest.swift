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
    public var encoded: [UInt8] { Self.encode(chunks[...]) }

    static func encode(_ chunks: ArraySlice<Chunk>) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(chunks.count * entrySize)
        for chunk in chunks { append(chunk.id, chunk.length, to: &out) }
        return out
    }

    static func append(_ id: BlobID, _ length: UInt32, to out: inout [UInt8]) {
        id.append(to: &out)
        withUnsafeBytes(of: length.littleEndian) { out.append(contentsOf: $0) }
    }

    public init(encoded: [UInt8]) throws {
        self.init(chunks: try Self.decode(encoded))
    }

    static func decode(_ encoded: [UInt8]) throws -> [Chunk] {
        guard encoded.count % Self.entrySize == 0 else {
            throw CatalogError(.corrupt, "content manifest of \(encoded.count) bytes is not a whole number of entries")
        }
        var chunks = [Chunk]()
        chunks.reserveCapacity(encoded.count / Self.entrySize)
        encoded.withUnsafeBytes { raw in
            var i = 0
            while i < raw.count {
                let id = BlobID(copying: UnsafeRawBufferPointer(rebasing: raw[i..<i + BlobID.byteCount]))
                let length = raw.loadUnaligned(fromByteOffset: i + BlobID.byteCount, as: UInt32.self)
                chunks.append(Chunk(id: id, length: UInt32(littleEndian: length)))
                i += Self.entrySize
            }
        }
        return chunks
    }
}
