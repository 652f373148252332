import BlobStorage
import CatalogStore
import NexusTypes
import Synchronization

/// Writes catalog journal records into the blob store and makes them durable
/// before the catalog commits (the sink of `Catalog.write`).
final class JournalWriter: Sendable {
    static let magic = Array("NXJ1".utf8)

    private let store: BlobStore
    private let keys: BlobKeys
    private let compressor = Mutex(Compressor())

    init(store: BlobStore, keys: BlobKeys) {
        self.store = store
        self.keys = keys
    }

    /// Seals every open pack, then stores `record` in a pack of its own and seals it (so the
    /// record is never durable before the chunks its group refers to), and indexes every sealed
    /// pack in the transaction about to commit. A failure after the record's pack was renamed
    /// into place throws `JournalRecordWritten`: the record is durable, so its sequence is used up.
    func append(_ record: JournalRecord, indexingInto writer: CatalogWriter) throws {
        let payload = Self.encode(record)
        let id = keys.id(of: payload)
        do {
            try compressor.withLock { compressor in
                try payload.withUnsafeBytes { try store.addDurably(id: id, kind: .journal, plaintext: $0, compressor: compressor) }
            }
        } catch let error as BlobStoreError where error.afterRename {
            throw JournalRecordWritten(underlying: error)
        }
        do {
            for pack in store.takeSealedPacks() {
                try writer.insertPack(pack.name, length: Int64(pack.length), blobs: pack.indexEntries)
            }
        } catch {
            throw JournalRecordWritten(underlying: error)
        }
    }

    static func encode(_ record: JournalRecord) -> [UInt8] {
        var out = magic
        withUnsafeBytes(of: record.sequence.littleEndian) { out += $0 }
        return out + record.changeset
    }

    static func decode(_ payload: [UInt8]) -> JournalRecord? {
        guard payload.count >= 12, Array(payload[0..<4]) == magic else { return nil }
        var sequence: UInt64 = 0
        for k in 0..<8 { sequence |= UInt64(payload[4 + k]) << (8 * UInt64(k)) }
        return JournalRecord(sequence: sequence, changeset: Array(payload[12...]))
    }
}

extension SealedPack {
    /// The index rows for this pack's blobs.
    var indexEntries: [(id: BlobID, location: ChunkLocation)] {
        entries.map { ($0.id, ChunkLocation(entry: $0, pack: name)) }
    }
}

extension ChunkLocation {
    init(entry: PackEntry, pack: PackName) {
        self.init(pack: pack, offset: Int64(entry.offset), storedLength: Int32(entry.frameLength),
                  rawLength: Int32(entry.rawLength), kind: entry.kind.rawValue, compressed: entry.compressed)
    }

    /// The pack entry the index row describes.
    func packEntry(id: BlobID) throws -> PackEntry {
        guard let kind = BlobKind(rawValue: kind) else {
            throw RepositoryError(.integrity, "the index gives blob \(id.short) an unknown kind \(kind)")
        }
        // The catalog is not authenticated: a damaged row must give an error, not trap.
        guard let raw = UInt32(exactly: rawLength), let at = UInt64(exactly: offset),
              let frame = UInt32(exactly: storedLength) else {
            throw RepositoryError(.integrity, "the index gives blob \(id.short) an impossible place (offset \(offset), length \(storedLength))")
        }
        return PackEntry(id: id, kind: kind, compressed: compressed, rawLength: raw, offset: at, frameLength: frame)
    }
}
