import BlobStorage
import CatalogStore
import CryptoCore
import Glibc
import LocalTree
import NexusTypes

/// The chunks of one stored content, with its size and SHA-256.
struct StoredContent {
    var manifest: ContentManifest
    var sha256: [UInt8]
    var size: Int64 { manifest.size }
}

extension Repository {
    /// Chunks what `fd` reads into the blob store (new chunks only) and returns the manifest.
    func storeContent(from fd: Int32, kind: BlobKind = .data, compressor: Compressor,
                      progress: ((Int) -> Void)? = nil) throws -> StoredContent {
        var stream = ChunkStream(chunker: chunker) { buffer in
            while true {
                let n = read(fd, buffer.baseAddress, buffer.count)
                if n >= 0 { return n }
                if errno != EINTR { throw RepositoryLayout.systemError("read", "a source file") }
            }
        }
        var hasher = SHA256Hasher()
        var chunks: [ContentManifest.Chunk] = []
        while let chunk = try stream.next({ data -> ContentManifest.Chunk in
            hasher.update(data)
            let id = keys.blobKeys.id(of: data)
            if try !catalog.read({ try $0.containsBlob(id) }) {
                try store.add(id: id, kind: kind, plaintext: data, compressor: compressor)
            }
            progress?(data.count)
            return ContentManifest.Chunk(id: id, length: UInt32(data.count))
        }) {
            chunks.append(chunk)
        }
        return StoredContent(manifest: ContentManifest(chunks: chunks), sha256: hasher.finalize())
    }

    /// Stores one chunk of content unless the repository has it already; returns its id.
    public func storeChunk(_ data: UnsafeRawBufferPointer, compressor: Compressor) throws -> BlobID {
        let id = keys.blobKeys.id(of: data)
        if try !catalog.read({ try $0.containsBlob(id) }) {
            try store.add(id: id, kind: .data, plaintext: data, compressor: compressor)
        }
        return id
    }

    /// The chunker that cuts this repository's content.
    public var contentChunker: Chunker { chunker }

    /// Reads one blob's plaintext, wherever it is.
    public func readBlob(_ id: BlobID, compressor: Compressor) throws -> [UInt8] {
        if let location = try catalog.read({ try $0.location(of: id) }) {
            return try store.read(id, from: (location.pack, try location.packEntry(id: id)), compressor: compressor)
        }
        return try store.read(id, from: nil, compressor: compressor)
    }

    /// Streams a content's bytes, chunk by chunk.
    func readContent(_ manifest: ContentManifest, compressor: Compressor, hole: ((Int) throws -> Void)? = nil,
                     _ body: ([UInt8]) throws -> Void) throws {
        for chunk in manifest.chunks {
            if chunk.id == ContentManifest.holeID, let hole {
                try hole(Int(chunk.length))
                continue
            }
            if chunk.id == ContentManifest.holeID {
                // A hole: zeros, in pieces of at most 1 MiB.
                var left = Int(chunk.length)
                while left > 0 {
                    let piece = min(left, 1 << 20)
                    try body([UInt8](repeating: 0, count: piece))
                    left -= piece
                }
                continue
            }
            let bytes = try readBlob(chunk.id, compressor: compressor)
            guard bytes.count == Int(chunk.length) else {
                throw RepositoryError(.integrity, "chunk \(chunk.id.short) has \(bytes.count) bytes, the manifest says \(chunk.length)")
            }
            try body(bytes)
        }
    }

    /// The manifest id of a content (SHA-256 of its encoding).
    public func manifestID(of manifest: ContentManifest) -> ManifestID {
        ManifestEncoding(manifest).id
    }
}

extension Repository {
    /// Writes a stored content into a new local file (mode 0600 until the caller changes it), durably.
    func writeContent(_ manifest: ContentManifest, to file: String, compressor: Compressor) throws {
        let fd = Glibc.open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RepositoryLayout.systemError("create", file) }
        defer { Glibc.close(fd) }
        try readContent(manifest, compressor: compressor, hole: { length in
            guard lseek(fd, off_t(length), SEEK_CUR) >= 0 else { throw RepositoryLayout.systemError("seek in", file) }
        }) { bytes in
            try bytes.withUnsafeBytes { try LocalIO.writeFully(fd: fd, $0, path: Array(file.utf8)) }
        }
        guard ftruncate(fd, off_t(manifest.size)) == 0 else { throw RepositoryLayout.systemError("truncate", file) }
        guard fsync(fd) == 0 else { throw RepositoryLayout.systemError("fsync", file) }
    }
}
