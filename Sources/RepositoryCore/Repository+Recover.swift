import BlobStorage
import CatalogStore
import Foundation
import Glibc
import Logging
import NexusTypes

/// What a recovery found and rebuilt.
public struct RecoverySummary: Sendable {
    public var packs = 0
    /// Damaged packs, blobs and checkpoints, one line each.
    public var damagedPacks: [String] = []
    public var checkpointSequence: UInt64 = 0
    public var journalRecords = 0
    public var finalSequence: UInt64 = 0
    /// For a catalog rebuilt as of a time: the newest time its last record says.
    public var finalTime: FileTime?
    public var documents = 0
    public var versions = 0
}

extension Repository {
    /// Rebuilds the catalog of the repository at `path` from its packs alone: the latest
    /// checkpoint that can be restored (or, failing all, an empty catalog), then every
    /// journal record after it.
    ///
    /// The new catalog is built under a temporary name and renamed into place only once it
    /// is complete; only then is an existing catalog moved aside (not deleted). A recover
    /// that fails leaves the old catalog, or none, but never a half-built one.
    public static func recover(at path: String, passphrase: [UInt8], stateRoot: String = defaultStateRoot,
                               logger: Logger = Logger(label: "nexusfs"),
                               progress: ProgressHandler? = nil) throws -> RecoverySummary {
        _ = try RepositoryLayout.readConfig(at: path)
        let lock = try RepositoryLock(repository: path, purpose: "being recovered")
        defer { withExtendedLifetime(lock) {} }
        return try RepositoryError.wrapping("recover of repository \(path) failed") {
            let (config, keys) = try unlock(at: path, passphrase: passphrase)
            if let url = config.store { try lock.holdLease(on: try ObjectStorePacks(url: url), key: keys.lease) }
            let stateDirectory = stateRoot + "/" + config.id
            try RepositoryLayout.makeDirectory(stateDirectory)
            let building = stateDirectory + "/catalog.recovering"
            removeCatalogFiles(building)
            do {
                let summary = try rebuildCatalog(at: path, config: config, keys: keys, stateRoot: stateRoot,
                                                 into: building, logger: logger, progress: progress)
                try install(building, as: catalogPath(stateRoot: stateRoot, id: config.id), logger: logger)
                return summary
            } catch {
                removeCatalogFiles(building)
                throw error
            }
        }
    }

    /// What the packs hold, read through their tables of contents (or frame by frame).
    private struct PackScan {
        var packs: [SealedPack] = []
        var locations: [BlobID: (pack: PackName, entry: PackEntry)] = [:]
        var records: [JournalRecord] = []
        var checkpoints: [(sequence: UInt64, manifest: ContentManifest)] = []
        /// Blobs found damaged; left out of the index, so that new writes store them afresh
        /// instead of deduplicating against them.
        var damaged: Set<BlobID> = []
    }

    /// Builds a catalog into `building` from the packs alone; with `asOf`, only from the
    /// journal records made at or before that time (and a checkpoint among them), and without
    /// writing anything into the repository.
    static func rebuildCatalog(at path: String, config: RepositoryConfig, keys: RepositoryKeys, stateRoot: String,
                               into building: String, asOf: FileTime? = nil, logger: Logger,
                               progress: ProgressHandler?) throws -> RecoverySummary {
        var summary = RecoverySummary()
        let store = try blobStore(at: path, config: config, keys: keys)
        if asOf == nil { for pack in try store.packsNotKept() { try store.keepSealedPack(pack) } }
        var scan = try scanPacks(store, summary: &summary, progress: progress)
        if let asOf { try keepHistory(through: asOf, of: &scan, summary: &summary) }

        // The newest checkpoint whose image reads back, else an empty catalog.
        var restored: UInt64?
        for checkpoint in scan.checkpoints.sorted(by: { $0.sequence > $1.sequence }) {
            do {
                try restoreImage(checkpoint.manifest, sequence: checkpoint.sequence, from: store, scan: &scan, to: building)
                restored = checkpoint.sequence
                break
            } catch {
                removeCatalogFiles(building)
                summary.damagedPacks.append("checkpoint \(checkpoint.sequence) cannot be restored: \(error)")
                logger.warning("checkpoint \(checkpoint.sequence) cannot be restored, trying an older one: \(error)")
            }
        }
        if restored == nil, !scan.checkpoints.isEmpty {
            logger.warning("no checkpoint can be restored; replaying the whole journal into an empty catalog")
        }
        let repo = try Repository(path: path, config: config, keys: keys, stateRoot: stateRoot,
                                  createCatalog: restored == nil, catalogPath: building, logger: logger)
        do {
            summary.checkpointSequence = restored ?? 0
            summary.journalRecords = try repo.replay(scan.records)
            summary.finalSequence = try repo.catalog.read { try $0.journalSequence() }
            guard try repo.catalog.read({ try $0.node(.root) }) != nil else {
                throw RepositoryError(.integrity, "neither a checkpoint nor the journal gives the repository's root folder")
            }
            // Only a catalog that replayed completely gets an index and its repository id.
            try repo.catalog.updateIndex { writer in
                try writer.clearIndex()
                for pack in scan.packs {
                    try writer.insertPack(pack.name, length: Int64(pack.length),
                                          blobs: pack.indexEntries.filter { !scan.damaged.contains($0.id) })
                }
                try writer.setMeta("checkpoint_seq", Int64(restored ?? 0))
                try writer.setMeta("repository_id", bytes: Array(config.id.utf8))
            }
            let stats = try repo.statistics()
            summary.documents = stats.documents
            summary.versions = stats.versions
            if asOf == nil { try repo.checkpointIfDue(force: true) }
            try repo.catalog.close()
        } catch {
            try? repo.catalog.close()
            throw error
        }
        return summary
    }

    /// Leaves in `scan` the journal records made at or before `time` and the checkpoints they can
    /// be replayed from. A record's time is the newest its audit entries say (see
    /// `JournalRecord.newestTime`); a record that says none happened with the one before it.
    /// Records are in commit order, so the history is a prefix up to the last record at or before
    /// `time`; it must be whole from its starting point (a checkpoint, or the empty catalog) on:
    /// after a prune, records before its checkpoint may be gone, or only partly (packs with little
    /// garbage are kept), and a tree rebuilt across such a gap would be silently older.
    private static func keepHistory(through time: FileTime, of scan: inout PackScan, summary: inout RecoverySummary) throws {
        let records = scan.records.sorted { $0.sequence < $1.sequence }
        var last: UInt64 = 0, lastTime: FileTime?
        for record in records {
            let when = record.newestTime ?? lastTime
            if let when, when > time { break }
            last = record.sequence
            lastTime = when ?? lastTime
        }
        let oldestKept = records.first?.newestTime.map { "the oldest time kept is \($0.iso8601)" } ?? "no change is kept"
        guard last > 0 else {
            throw RepositoryError(.notFound, records.first.map({ $0.sequence > 1 }) ?? false
                ? "the history at \(time.iso8601) was pruned; \(oldestKept)"
                : "the repository has no history at or before \(time.iso8601); \(oldestKept)")
        }
        // Where the replay can start: the newest checkpoint (or the empty catalog) from which every
        // record up to `last` is there.
        var present = Set(records.map(\.sequence).filter { $0 <= last })
        var whole = last
        while whole > 0 && present.contains(whole) { present.remove(whole); whole -= 1 }
        // Records whole+1 ... last are all there; a start at or after `whole` works.
        let starts = scan.checkpoints.map(\.sequence).filter { $0 >= whole && $0 <= last }
        guard whole == 0 || !starts.isEmpty else {
            throw RepositoryError(.notFound, "the history at \(time.iso8601) was pruned; \(oldestKept)")
        }
        scan.checkpoints.removeAll { $0.sequence < whole || $0.sequence > last }
        scan.records.removeAll { $0.sequence > last || $0.sequence <= whole }
        summary.finalTime = lastTime
    }

    /// Reads every pack's table of contents (a damaged pack frame by frame, up to the first
    /// bad frame), and the journal records and checkpoints they hold.
    private static func scanPacks(_ store: BlobStore, summary: inout RecoverySummary,
                                  progress: ProgressHandler?) throws -> PackScan {
        var scan = PackScan()
        let compressor = Compressor()
        let names = try store.packNames()
        var state = OperationProgress(totalItems: names.count, current: "reading packs")
        for name in names {
            let sealed: SealedPack
            do {
                sealed = SealedPack(name: name, length: try store.length(of: name), entries: try store.tableOfContents(of: name))
            } catch {
                // Frame by frame; a file that is no pack at all (bad magic, not a regular file) gives
                // nothing, and the other packs still count.
                var entries: [PackEntry] = []
                let stop: String?
                do {
                    stop = try store.scanFrames(of: name) { entry, _ in entries.append(entry) }.map { "\($0)" }
                } catch let scanError {
                    stop = "\(scanError)" == "\(error)" ? nil : "\(scanError)"
                }
                summary.damagedPacks.append("\(name): \(error)" + (stop.map { "; \($0)" } ?? ""))
                sealed = SealedPack(name: name, length: (try? store.length(of: name)) ?? 0, entries: entries)
            }
            if let problem = try store.headerProblem(of: name) {
                summary.damagedPacks.append("\(name): \(problem) (its blobs are read without it)")
            }
            scan.packs.append(sealed)
            for entry in sealed.entries {
                scan.locations[entry.id] = (name, entry)
                guard entry.kind == .journal || entry.kind == .checkpoint else { continue }
                guard let payload = try? store.read(entry.id, from: (name, entry), compressor: compressor) else {
                    summary.damagedPacks.append("\(name): blob \(entry.id.short) is damaged")
                    scan.damaged.insert(entry.id)
                    continue
                }
                if entry.kind == .journal, let record = JournalWriter.decode(payload) {
                    scan.records.append(record)
                } else if entry.kind == .checkpoint, let found = decodeCheckpoint(payload) {
                    scan.checkpoints.append(found)
                }
            }
            summary.packs += 1
            state.items += 1
            progress?(state)
        }
        return scan
    }

    /// Writes a checkpoint's catalog image to `file` and checks that it opens as the
    /// catalog at `sequence`.
    private static func restoreImage(_ manifest: ContentManifest, sequence: UInt64, from store: BlobStore,
                                     scan: inout PackScan, to file: String) throws {
        let fd = Glibc.open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RepositoryLayout.systemError("create", file) }
        defer { Glibc.close(fd) }
        let compressor = Compressor()
        var offset: UInt64 = 0
        for chunk in manifest.chunks {
            guard let location = scan.locations[chunk.id] else {
                throw RepositoryError(.integrity, "its chunk \(chunk.id.short) is in no pack")
            }
            let bytes: [UInt8]
            do {
                bytes = try store.read(chunk.id, from: location, compressor: compressor)
            } catch {
                scan.damaged.insert(chunk.id)
                throw error
            }
            guard bytes.count == Int(chunk.length) else {
                throw RepositoryError(.integrity, "its chunk \(chunk.id.short) has \(bytes.count) bytes, the manifest says \(chunk.length)")
            }
            try bytes.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
                    if n < 0 { if errno == EINTR { continue }; throw RepositoryLayout.systemError("write", file) }
                    done += n
                }
            }
            offset += UInt64(bytes.count)
        }
        guard fsync(fd) == 0 else { throw RepositoryLayout.systemError("fsync", file) }
        let image = try Catalog(path: file, create: false, journal: nil)
        defer { try? image.close() }
        let holds = try image.read { try $0.journalSequence() }
        guard holds == sequence else {
            throw RepositoryError(.integrity, "its image holds journal record \(holds), the checkpoint says \(sequence)")
        }
    }

    /// Moves an existing catalog aside and puts the rebuilt one in its place.
    private static func install(_ building: String, as catalogPath: String, logger: Logger) throws {
        let fm = FileManager.default
        if ["", "-wal", "-shm"].contains(where: { fm.fileExists(atPath: catalogPath + $0) }) {
            let aside = catalogPath + ".replaced-" + String(Int(Date().timeIntervalSince1970))
            try moveCatalogFiles(catalogPath, to: aside)
            logger.info("moved the old catalog aside to \(aside)")
        }
        try moveCatalogFiles(building, to: catalogPath)
        try RepositoryLayout.syncDirectory(RepositoryLayout.parentDirectory(of: catalogPath))
    }

    /// Renames a catalog file with its -wal and -shm files, if any.
    private static func moveCatalogFiles(_ from: String, to: String) throws {
        for suffix in ["-wal", "-shm", ""] where FileManager.default.fileExists(atPath: from + suffix) {
            guard rename(from + suffix, to + suffix) == 0 else { throw RepositoryLayout.systemError("rename", from + suffix) }
        }
    }

    static func removeCatalogFiles(_ file: String) {
        for suffix in ["", "-wal", "-shm"] { unlink(file + suffix) }
    }
}

extension FileTime {
    /// The time in UTC as ISO 8601, to the second: 2026-12-03T13:50:07Z.
    public var iso8601: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
