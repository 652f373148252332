import BlobStorage
import Foundation
import NexusTypes
import RepositoryCore
import Synchronization

/// Reads and stores chunks for file contents, keeping recently decoded chunks.
final class ChunkSource: Sendable {
    private let repository: Repository
    private let cache = Mutex(Cache())
    private let capacity: Int

    private struct Cache {
        var entries: [BlobID: (bytes: [UInt8], used: UInt64)] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    init(repository: Repository, cacheBytes: Int = 64 << 20) {
        self.repository = repository
        capacity = cacheBytes
    }

    var chunker: Chunker { repository.contentChunker }

    /// The calling thread's own compressor (zstd contexts are not thread-safe).
    private func withCompressor<T>(_ body: (Compressor) throws -> T) rethrows -> T {
        let key = "nexusfs.compressor"
        if let compressor = Thread.current.threadDictionary[key] as? Compressor { return try body(compressor) }
        let compressor = Compressor()
        Thread.current.threadDictionary[key] = compressor
        return try body(compressor)
    }

    /// The plaintext of chunk `id`.
    func chunk(_ id: BlobID) throws -> [UInt8] {
        if let hit = cache.withLock({ cache -> [UInt8]? in
            cache.clock += 1
            guard let entry = cache.entries[id] else { return nil }
            cache.entries[id]!.used = cache.clock
            return entry.bytes
        }) { return hit }
        let bytes = try withCompressor { try repository.readBlob(id, compressor: $0) }
        cache.withLock { cache in
            cache.clock += 1
            if cache.entries[id] == nil {
                cache.entries[id] = (bytes, cache.clock)
                cache.bytes += bytes.count
            }
            guard cache.bytes > capacity else { return }
            // Down to three quarters at once, least recently used first: one sort per many inserts.
            for (key, entry) in cache.entries.sorted(by: { $0.value.used < $1.value.used }) {
                guard cache.bytes > capacity / 4 * 3 else { break }
                cache.bytes -= entry.bytes.count
                cache.entries[key] = nil
            }
        }
        return bytes
    }

    /// The plaintexts of `ids`, in order; several are decoded at once.
    func chunks(_ ids: [BlobID]) throws -> [[UInt8]] {
        try concurrentMap(ids) { try self.chunk($0) }
    }

    /// Stores a chunk (deduplicated) and returns its id.
    func store(_ data: UnsafeRawBufferPointer) throws -> BlobID {
        try withCompressor { try repository.storeChunk(data, compressor: $0) }
    }
}
