import BlobStorage
import CatalogStore
import Foundation
import Glibc
import NexusTypes

/// What a prune did, or would do with `dryRun`.
public struct PruneReport: Sendable, Codable {
    public struct Removal: Sendable, Codable {
        public var document: String
        public var version: Int64
    }

    public var dryRun: Bool
    public var removed: [Removal] = []
    public var keptVersions = 0
    /// Documents under legal hold, every version of which was kept.
    public var held: [String] = []
    /// Paths of documents and folders deleted for good from the trash (`trashDays`).
    public var purgedFromTrash: [String] = []
    public var packsDeleted = 0
    public var packsRewritten = 0
    public var storedBytesBefore: Int64 = 0
    public var storedBytesAfter: Int64 = 0
}

extension Repository {
    /// Packs whose dead bytes exceed this share are rewritten with only their live blobs.
    static let repackThreshold = 0.2
    /// The attribute that puts a document under legal hold.
    static let holdAttribute = Array("user.nexus.hold".utf8)

    /// Forgets versions the policy does not keep, then removes what nothing refers to:
    /// manifests, blobs, whole packs, and rewrites packs that are mostly garbage.
    /// With `trashDays`, what has been in the trash longer is deleted for good first.
    public func prune(policy: PrunePolicy, trashDays: Double? = nil, dryRun: Bool, progress: ProgressHandler? = nil) throws -> PruneReport {
        guard !policy.isEmpty else { throw RepositoryError(.invalidArgument, "prune needs at least one --keep-* rule") }
        return try RepositoryError.wrapping("prune of \(path) failed") {
            var report = PruneReport(dryRun: dryRun)
            report.storedBytesBefore = try statistics().storedBytes
            let expired: [TrashRecord] = try trashDays.map { days -> [TrashRecord] in
                let cutoff = FileTime(totalNanoseconds: FileTime.now.totalNanoseconds - Int64(max(days, 0) * 86_400e9))
                return try catalog.read { try $0.trash(from: FileTime(seconds: -(1 << 32), nanoseconds: 0), to: cutoff) }
            } ?? []
            report.purgedFromTrash = expired.map { "/" + String(decoding: $0.path, as: UTF8.self) }
            if !dryRun && !expired.isEmpty {
                try catalog.write { w in
                    for record in expired {
                        try w.purge(trashed: record.inode)
                        try self.appendAudit(AuditEvent(time: .now, uid: getuid(), action: "purge from the trash", inode: record.inode,
                                                        path: Array(("/" + String(decoding: record.path, as: UTF8.self)).utf8)), in: w)
                    }
                }
            }
            let forget = try selectForgotten(policy, &report)
            if dryRun {
                report.storedBytesAfter = report.storedBytesBefore
                return report
            }
            try catalog.write { w in
                for ((document, number), removal) in zip(forget, report.removed) {
                    try w.removeVersion(of: document, number: number)
                    try self.appendAudit(AuditEvent(time: .now, uid: getuid(), action: "prune",
                                                    inode: try w.reader.node(ofDocument: document),
                                                    path: Array(removal.document.utf8), before: "version \(number.rawValue)"), in: w)
                }
                for manifest in try w.reader.unreferencedManifests() { try w.removeManifest(manifest) }
                try w.removeUnreferencedManifestParts()
            }
            try checkpoint()
            try collectGarbage(&report, progress: progress)
            report.storedBytesAfter = try statistics().storedBytes
            return report
        }
    }

    private func selectForgotten(_ policy: PrunePolicy, _ report: inout PruneReport) throws -> [(Int64, VersionNumber)] {
        try catalog.read { reader in
            var forget: [(Int64, VersionNumber)] = []
            for (document, versions) in try reader.allVersions().sorted(by: { $0.key < $1.key }) {
                let node = try reader.node(ofDocument: document)
                let current = try node.flatMap { try reader.node($0)?.manifest }
                let name = try node.flatMap { try reader.path(of: $0)?.description } ?? "deleted document \(document)"
                // A legal hold keeps every version, whatever the policy says.
                if let node, try reader.xattr(Self.holdAttribute, of: node) != nil {
                    report.held.append(name)
                    report.keptVersions += versions.count
                    continue
                }
                let keep = policy.kept(versions, current: current)
                for version in versions where !keep.contains(version.number) {
                    forget.append((document, version.number))
                    report.removed.append(.init(document: name, version: version.number.rawValue))
                }
                report.keptVersions += keep.count
            }
            return forget
        }
    }

    /// Deletes packs with no live blob and rewrites those with too much garbage.
    private func collectGarbage(_ report: inout PruneReport, progress: ProgressHandler?) throws {
        let live = try liveBlobs()
        let blobs = try catalog.read { try $0.allBlobs() }
        var byPack: [PackName: [(id: BlobID, location: ChunkLocation)]] = [:]
        for blob in blobs { byPack[blob.location.pack, default: []].append(blob) }
        var state = OperationProgress(totalItems: byPack.count, current: "collecting garbage")
        var retired: [PackName] = []
        for (pack, entries) in byPack {
            let total = entries.reduce(Int64(0)) { $0 + Int64($1.location.storedLength) }
            let keep = entries.filter { live.contains($0.id) }
            let kept = keep.reduce(Int64(0)) { $0 + Int64($1.location.storedLength) }
            state.items += 1
            progress?(state)
            if keep.count == entries.count { continue }
            if !keep.isEmpty {
                // A little garbage is cheaper to keep than to copy a pack for.
                if Double(total - kept) <= Double(total) * Self.repackThreshold { continue }
                for blob in keep {
                    let entry = try blob.location.packEntry(id: blob.id)
                    let payload = try store.payload(of: entry, in: pack)
                    try payload.withUnsafeBytes {
                        _ = try store.add(id: blob.id, kind: entry.kind, rawLength: Int(entry.rawLength), payload: $0,
                                          compressed: entry.compressed)
                    }
                }
                report.packsRewritten += 1
            } else {
                report.packsDeleted += 1
            }
            retired.append(pack)
        }
        // New packs are durable and indexed before any old one goes.
        try store.flush()
        let sealed = store.takeSealedPacks()
        try catalog.updateIndex { w in
            for pack in sealed { try w.relocate(pack.indexEntries, to: pack.name, length: Int64(pack.length)) }
            for pack in retired { try w.removePack(pack) }
        }
        for pack in retired { try store.removePack(pack) }
        for stray in try store.strayFiles() { unlink(stray) }
    }

    /// Blobs something still needs: document content, the latest checkpoint and its
    /// catalog image, and journal records after it.
    func liveBlobs() throws -> Set<BlobID> {
        var live = Set<BlobID>()
        try catalog.read { reader in
            try reader.forEachManifest { _, manifest in for chunk in manifest.storedChunks { live.insert(chunk.id) } }
        }
        let compressor = Compressor()
        var latest: (id: BlobID, sequence: UInt64, manifest: ContentManifest)?
        var journals: [(BlobID, UInt64)] = []
        for blob in try catalog.read({ try $0.allBlobs() }) where blob.location.kind != BlobKind.data.rawValue
            && blob.location.kind != BlobKind.catalogImage.rawValue {
            let payload = try store.read(blob.id, from: (blob.location.pack, try blob.location.packEntry(id: blob.id)),
                                         compressor: compressor)
            if blob.location.kind == BlobKind.checkpoint.rawValue, let found = Self.decodeCheckpoint(payload),
               found.sequence >= latest?.sequence ?? 0 {
                latest = (blob.id, found.sequence, found.manifest)
            } else if blob.location.kind == BlobKind.journal.rawValue, let record = JournalWriter.decode(payload) {
                journals.append((blob.id, record.sequence))
            }
        }
        if let latest {
            live.insert(latest.id)
            for chunk in latest.manifest.chunks { live.insert(chunk.id) }
        }
        for (id, sequence) in journals where sequence > latest?.sequence ?? 0 { live.insert(id) }
        return live
    }
}
