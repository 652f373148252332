import BlobStorage
import CatalogStore
import Foundation
import Glibc
import NexusTypes

extension Repository {
    /// Journal records written since the last checkpoint before another is taken.
    static let checkpointInterval: UInt64 = 256

    /// Indexes packs sealed since the last commit (they hold blobs nothing refers to yet).
    func indexSealedPacks() throws {
        let packs = store.takeSealedPacks()
        guard !packs.isEmpty else { return }
        try catalog.updateIndex { writer in
            for pack in packs {
                try writer.insertPack(pack.name, length: Int64(pack.length), blobs: pack.indexEntries)
            }
        }
    }

    /// Brings the catalog up to date with the blob store: replays the journal records
    /// held by packs it does not know (a crash after a pack was sealed but before the
    /// catalog committed), then indexes those packs.
    ///
    /// The packs enter the index only after every record was read and replayed, in one
    /// transaction: until then they stay unknown, so a roll-forward that fails or is
    /// cut short is retried in full by the next open (records already applied are skipped).
    func rollForward() throws {
        let known = Set(try catalog.read { try $0.packs().map(\.name) })
        let unknown = try store.packNames().filter { !known.contains($0) }
        guard !unknown.isEmpty else { return }
        var records: [JournalRecord] = []
        var found: [SealedPack] = []
        let compressor = Compressor()
        for pack in unknown {
            let entries: [PackEntry]
            do {
                entries = try store.tableOfContents(of: pack)
            } catch let error as BlobStoreError where error.code == .unavailable {
                // Not damage: an object store that did not answer. Skipping the pack would index the
                // packs after it while their records stay unreplayed (and the next open would not
                // read them again), so the open fails and is retried whole.
                throw error
            } catch {
                logger.warning("pack \(pack) is not readable, leaving it out of the index: \(error)")
                continue
            }
            found.append(SealedPack(name: pack, length: try store.length(of: pack), entries: entries))
            for entry in entries where entry.kind == .journal {
                let payload = try store.read(entry.id, from: (pack, entry), compressor: compressor)
                if let record = JournalWriter.decode(payload) { records.append(record) }
            }
        }
        let applied = try replay(records)
        if applied > 0 { logger.info("rolled the catalog forward over \(applied) journal records") }
        try catalog.updateIndex { writer in
            for pack in found { try writer.insertPack(pack.name, length: Int64(pack.length), blobs: pack.indexEntries) }
        }
    }

    /// Applies records in sequence order from the catalog's current sequence on;
    /// stops at a gap. Returns how many were applied.
    func replay(_ records: [JournalRecord]) throws -> Int {
        var next = try catalog.read { try $0.journalSequence() } + 1
        var applied = 0
        for record in records.sorted(by: { $0.sequence < $1.sequence }) where record.sequence >= next {
            guard record.sequence == next else {
                logger.warning("journal record \(next) is missing; the catalog stops at record \(next - 1)")
                break
            }
            try catalog.apply(record)
            next += 1
            applied += 1
        }
        return applied
    }

    /// Writes a checkpoint when enough journal records have accumulated (or, with
    /// `force`, whenever there is any record since the last one).
    public func checkpointIfDue(force: Bool) throws {
        if pointInTime != nil { return }
        let (sequence, last) = try catalog.read { (try $0.journalSequence(), UInt64(try $0.meta("checkpoint_seq") ?? 0)) }
        if sequence > last && (force || sequence - last >= Self.checkpointInterval) {
            try checkpoint()
        }
    }

    /// Stores the whole catalog in the blob store (a checkpoint), so that recovery
    /// replays only the journal records after it.
    public func checkpoint() throws {
        let image = stateDirectory + "/checkpoint.tmp"
        defer { try? FileManager.default.removeItem(atPath: image) }
        let sequence = try catalog.snapshot(to: image)
        let fd = Glibc.open(image, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RepositoryLayout.systemError("open", image) }
        defer { Glibc.close(fd) }
        let content = try storeContent(from: fd, kind: .catalogImage, compressor: Compressor())
        var payload = Self.checkpointMagic
        withUnsafeBytes(of: sequence.littleEndian) { payload += $0 }
        payload += content.manifest.encoded
        let id = keys.blobKeys.id(of: payload)
        // After every chunk of the image, in a pack of its own.
        try payload.withUnsafeBytes { try store.addDurably(id: id, kind: .checkpoint, plaintext: $0, compressor: Compressor()) }
        try indexSealedPacks()
        try catalog.updateIndex { try $0.setMeta("checkpoint_seq", Int64(sequence)) }
    }

    static let checkpointMagic = Array("NXC1".utf8)

    /// The sequence and the catalog image's chunks of a checkpoint blob.
    static func decodeCheckpoint(_ payload: [UInt8]) -> (sequence: UInt64, manifest: ContentManifest)? {
        guard payload.count >= 12, Array(payload[0..<4]) == checkpointMagic else { return nil }
        var sequence: UInt64 = 0
        for k in 0..<8 { sequence |= UInt64(payload[4 + k]) << (8 * UInt64(k)) }
        guard let manifest = try? ContentManifest(encoded: Array(payload[12...])) else { return nil }
        return (sequence, manifest)
    }
}
