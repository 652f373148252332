import BlobStorage
import CatalogStore
import Foundation
import Glibc
import Logging
import NexusTypes

/// What a recovery found and rebuilt.
public struct RecoverySummary: Sendable {
    public var packs = 0
    public var damagedPacks: [String] = []
    public var checkpointSequence: UInt64 = 0
    public var journalRecords = 0
    public var finalSequence: UInt64 = 0
    public var documents = 0
    public var versions = 0
}

extension Repository {
    /// Rebuilds the catalog of the repository at `path` from its packs alone: the
    /// latest checkpoint, then every journal record after it. An existing catalog
    /// is moved aside, not deleted.
    public static func recover(at path: String, passphrase: [UInt8], stateRoot: String = defaultStateRoot,
                               logger: Logger = Logger(label: "nexusfs"),
                               progress: ProgressHandler? = nil) throws -> RecoverySummary {
        try RepositoryError.wrapping("recover of repository \(path) failed") {
            try rebuildCatalog(at: path, passphrase: passphrase, stateRoot: stateRoot, logger: logger, progress: progress)
        }
    }

    private static func rebuildCatalog(at path: String, passphrase: [UInt8], stateRoot: String, logger: Logger,
                                       progress: ProgressHandler?) throws -> RecoverySummary {
        let (config, _) = try unlock(at: path, passphrase: passphrase)
        let catalogPath = catalogPath(stateRoot: stateRoot, id: config.id)
        let fm = FileManager.default
        try RepositoryLayout.makeDirectory(stateRoot + "/" + config.id)
        if fm.fileExists(atPath: catalogPath) {
            let aside = catalogPath + ".replaced-" + String(Int(Date().timeIntervalSince1970))
            try fm.moveItem(atPath: catalogPath, toPath: aside)
            for suffix in ["-wal", "-shm"] where fm.fileExists(atPath: catalogPath + suffix) {
                try fm.moveItem(atPath: catalogPath + suffix, toPath: aside + suffix)
            }
            logger.info("moved the old catalog aside to \(aside)")
        }
        // Open on an empty catalog first, to read the packs with the repository's keys.
        let scratch = try Repository.create(existing: path, stateRoot: stateRoot, passphrase: passphrase, logger: logger)
        var summary = RecoverySummary()
        let compressor = Compressor()
        var records: [JournalRecord] = []
        var checkpoint: (sequence: UInt64, manifest: ContentManifest)?
        var indexed: [SealedPack] = []
        let names = try scratch.store.packNames()
        var state = OperationProgress(totalItems: names.count, current: "reading packs")
        for name in names {
            let sealed: SealedPack
            do {
                sealed = SealedPack(name: name, length: try scratch.store.length(of: name),
                                    entries: try scratch.store.tableOfContents(of: name))
            } catch {
                // Keep what can still be read frame by frame.
                var entries: [PackEntry] = []
                let stop = try scratch.store.scanFrames(of: name) { entry, _ in entries.append(entry) }
                summary.damagedPacks.append("\(name): \(error)" + (stop.map { "; \($0)" } ?? ""))
                sealed = SealedPack(name: name, length: (try? scratch.store.length(of: name)) ?? 0, entries: entries)
            }
            indexed.append(sealed)
            for entry in sealed.entries where entry.kind == .journal || entry.kind == .checkpoint {
                guard let payload = try? scratch.store.read(entry.id, from: (name, entry), compressor: compressor) else {
                    summary.damagedPacks.append("\(name): blob \(entry.id.short) is damaged")
                    continue
                }
                if entry.kind == .journal, let record = JournalWriter.decode(payload) {
                    records.append(record)
                } else if entry.kind == .checkpoint, let found = decodeCheckpoint(payload),
                          found.sequence >= (checkpoint?.sequence ?? 0) {
                    checkpoint = found
                }
            }
            summary.packs += 1
            state.items += 1
            progress?(state)
        }
        try scratch.catalog.updateIndex { writer in
            for pack in indexed { try writer.insertPack(pack.name, length: Int64(pack.length), blobs: pack.indexEntries) }
        }
        var repo = scratch
        if let checkpoint {
            let image = scratch.stateDirectory + "/checkpoint.restore"
            try scratch.writeContent(checkpoint.manifest, to: image, compressor: compressor)
            try scratch.catalog.close()
            try? fm.removeItem(atPath: catalogPath + "-wal")
            try? fm.removeItem(atPath: catalogPath + "-shm")
            try fm.removeItem(atPath: catalogPath)
            try fm.moveItem(atPath: image, toPath: catalogPath)
            repo = try Repository.create(existing: path, stateRoot: stateRoot, passphrase: passphrase, logger: logger)
            try repo.catalog.updateIndex { writer in
                try writer.clearIndex()
                for pack in indexed { try writer.insertPack(pack.name, length: Int64(pack.length), blobs: pack.indexEntries) }
                try writer.setMeta("checkpoint_seq", Int64(checkpoint.sequence))
            }
            summary.checkpointSequence = checkpoint.sequence
        }
        summary.journalRecords = try repo.replay(records)
        summary.finalSequence = try repo.catalog.read { try $0.journalSequence() }
        try repo.catalog.updateIndex { try $0.setMeta("repository_id", bytes: Array(config.id.utf8)) }
        let stats = try repo.statistics()
        summary.documents = stats.documents
        summary.versions = stats.versions
        try repo.checkpointIfDue(force: true)
        try repo.catalog.close()
        return summary
    }

    /// Opens an existing repository onto a catalog that may be empty (recovery only).
    private static func create(existing path: String, stateRoot: String, passphrase: [UInt8], logger: Logger) throws -> Repository {
        let (config, keys) = try unlock(at: path, passphrase: passphrase)
        return try Repository(path: path, config: config, keys: keys, stateRoot: stateRoot, createCatalog: true, logger: logger)
    }

    /// Writes a stored content into a local file.
    func writeContent(_ manifest: ContentManifest, to file: String, compressor: Compressor) throws {
        let fd = Glibc.open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RepositoryLayout.systemError("create", file) }
        defer { Glibc.close(fd) }
        try readContent(manifest, compressor: compressor) { bytes in
            try bytes.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let n = write(fd, raw.baseAddress! + done, raw.count - done)
                    if n < 0 { if errno == EINTR { continue }; throw RepositoryLayout.systemError("write", file) }
                    done += n
                }
            }
        }
        guard fsync(fd) == 0 else { throw RepositoryLayout.systemError("fsync", file) }
    }
}
