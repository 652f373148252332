/// The repository: config, keys, catalog and blob store composed; import and
/// export, check, stats and recover.
import BlobStorage
import CatalogStore
import CryptoCore
import Foundation
import Logging
import NexusTypes
import Synchronization

/// An unlocked repository: its config, keys, catalog and blob store.
///
/// Thread-safe: the catalog serializes writes, the blob store its packs.
public final class Repository: Sendable {
    public let path: String
    public let config: RepositoryConfig
    public let catalog: Catalog
    public let store: BlobStore
    public let stateDirectory: String
    /// The folder holding the state directories of all repositories (`stateDirectory`'s parent).
    let stateRoot: String
    let keys: RepositoryKeys
    let chunker: Chunker
    let logger: Logger
    let journal: JournalWriter
    /// The flock on `REPO/lock` this process holds while it uses the repository.
    private let heldLock = Mutex<RepositoryLock?>(nil)
    /// The time a repository opened as of a time shows (`open(at:asOf:)`): its catalog is a
    /// temporary one, read-only, removed at close, and nothing is written into the repository.
    public let pointInTime: FileTime?
    /// Past views made so far (`pastView(asOf:)`), for their catalogs' file names.
    let pastViewsMade = Mutex(0)

    /// The catalog file of a repository with id `id` under `stateRoot`.
    public static func catalogPath(stateRoot: String, id: String) -> String {
        stateRoot + "/" + id + "/catalog.db"
    }

    /// Where live catalogs are kept unless told otherwise: `$NEXUSFS_STATE_DIR`,
    /// else `$XDG_STATE_HOME/nexusfs`, else `~/.local/state/nexusfs`.
    public static var defaultStateRoot: String {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["NEXUSFS_STATE_DIR"], !dir.isEmpty { return dir }
        if let xdg = env["XDG_STATE_HOME"], !xdg.isEmpty { return xdg + "/nexusfs" }
        return NSHomeDirectory() + "/.local/state/nexusfs"
    }

    /// Composes the parts; the catalog is the live one unless `catalogPath` names another
    /// (recover builds its catalog under a temporary name).
    init(path: String, config: RepositoryConfig, keys: RepositoryKeys, stateRoot: String,
         createCatalog: Bool, catalogPath: String? = nil, pointInTime: FileTime? = nil, logger: Logger) throws {
        self.path = path
        self.pointInTime = pointInTime
        self.config = config
        self.keys = keys
        self.logger = logger
        self.stateRoot = stateRoot
        stateDirectory = stateRoot + "/" + config.id
        chunker = Chunker(parameters: config.chunker, gear: keys.gear)
        store = try Self.blobStore(at: path, config: config, keys: keys)
        let journal = JournalWriter(store: store, keys: keys.blobKeys)
        self.journal = journal
        try RepositoryLayout.makeDirectory(stateDirectory)
        let catalogPath = catalogPath ?? Self.catalogPath(stateRoot: stateRoot, id: config.id)
        do {
            catalog = try Catalog(path: catalogPath, create: createCatalog, journal: { record, writer in
                try journal.append(record, indexingInto: writer)
            })
        } catch let error as CatalogError where error.code == .notFound {
            throw RepositoryError(.catalogMissing,
                                  "no catalog for repository \(path) at \(catalogPath); run `nexusfs recover \(path)` to rebuild it from the repository")
        } catch let error as CatalogError where error.code == .corrupt {
            throw RepositoryError(.integrity, "\(error); run `nexusfs recover \(path)` to rebuild it from the repository")
        }
    }

    /// The blob store of a repository: its pack folder, which is the store itself or, when the
    /// config names an object store, that store's cache.
    static func blobStore(at path: String, config: RepositoryConfig, keys: RepositoryKeys) throws -> BlobStore {
        let storage: (any PackStorage)? = try config.store.map { try ObjectStorePacks(url: $0) }
        return try BlobStore(directory: path + "/" + RepositoryLayout.packs, keys: keys.blobKeys, storage: storage)
    }

    /// Creates a new, empty repository at `path` protected by `passphrase`; with `store`
    /// (`s3://bucket/prefix`, which must hold nothing yet), its packs are kept in that object
    /// store and `path` holds the config, the key files and a cache of the packs.
    public static func create(at path: String, passphrase: [UInt8], kdf: PassphraseKDF = .interactive,
                              chunker: ChunkerParameters = .default, store: String? = nil,
                              stateRoot: String = defaultStateRoot,
                              logger: Logger = Logger(label: "nexusfs")) throws -> Repository {
        // The object store is checked before anything is created on disk.
        let remote = try store.map { try ObjectStorePacks(url: $0) }
        if let remote, !(try remote.isEmpty()) {
            throw RepositoryError(.invalidArgument,
                                  "cannot create a repository in \(remote.url): it already holds objects (a repository needs a prefix of its own)")
        }
        let id = try RepositoryLayout.initialize(at: path)
        let lock = try RepositoryLock(repository: path, purpose: "being created")
        let repo = try RepositoryError.wrapping("cannot create a repository at \(path)") {
            try create(at: path, id: id, passphrase: passphrase, kdf: kdf, chunker: chunker, store: remote,
                       stateRoot: stateRoot, logger: logger)
        }
        try lock.holdLease(on: repo.store.storage, key: repo.keys.lease)
        repo.heldLock.withLock { $0 = lock }
        return repo
    }

    private static func create(at path: String, id: String, passphrase: [UInt8], kdf: PassphraseKDF,
                               chunker: ChunkerParameters, store: ObjectStorePacks?, stateRoot: String,
                               logger: Logger) throws -> Repository {
        let master = SymmetricKey.random(byteCount: RepositoryKeys.masterLength)
        let repoConfig = RepositoryConfig(id: id, chunker: chunker, store: store?.url)
        let keys = try RepositoryKeys(master: master, repositoryID: repoConfig.id)
        try RepositoryLayout.writeConfig(repoConfig, keys: keys, at: path)
        let key = try KeyFile.create(master: master, passphrase: passphrase, kdf: kdf, repository: repoConfig, at: path)
        if let store {
            // The key file first: a config in the store says a repository is there, complete.
            try store.putRepositoryFile(keyFileName(key.id), from: path)
            try store.putRepositoryFile(RepositoryLayout.config, from: path)
        }
        let stateDir = stateRoot + "/" + repoConfig.id
        try? FileManager.default.removeItem(atPath: stateDir)
        let repo = try Repository(path: path, config: repoConfig, keys: keys, stateRoot: stateRoot,
                                  createCatalog: true, logger: logger)
        try repo.catalog.write { writer in
            try writer.setMeta("repository_id", bytes: Array(repoConfig.id.utf8))
            if try writer.reader.node(.root) == nil {
                let now = FileTime.now
                try writer.insertNode(NodeRecord(inode: .root, kind: .directory, permissions: 0o755, uid: getuid(),
                                                 gid: getgid(), linkCount: 2, accessTime: now, modificationTime: now,
                                                 changeTime: now))
            }
        }
        try repo.checkpoint()
        return repo
    }

    /// Unlocks the repository at `path` with `passphrase`, rolling the catalog forward
    /// over anything the blob store holds that it does not.
    public static func open(at path: String, passphrase: [UInt8], stateRoot: String = defaultStateRoot,
                            purpose: String = "in use by nexusfs", logger: Logger = Logger(label: "nexusfs")) throws -> Repository {
        _ = try RepositoryLayout.readConfig(at: path)
        let lock = try RepositoryLock(repository: path, purpose: purpose)
        var (config, keys) = try unlock(at: path, passphrase: passphrase)
        if config.version < RepositoryConfig.currentVersion {
            // Raised before anything is written in the newer form, so that an older nexusfs
            // refuses the repository instead of misreading it.
            var raised = config
            raised.version = RepositoryConfig.currentVersion
            // A repository that cannot be written (a read-only copy) is read as it is.
            if (try? RepositoryLayout.writeConfig(raised, keys: keys, at: path)) != nil { config = raised }
        }
        return try RepositoryError.wrapping("cannot open repository \(path)") {
            let repo = try Repository(path: path, config: config, keys: keys, stateRoot: stateRoot,
                                      createCatalog: false, logger: logger)
            do {
                try repo.verifyCatalogIdentity()
                try lock.holdLease(on: repo.store.storage, key: repo.keys.lease)
                try repo.keepUnkeptPacks()
                try RepositoryError.wrapping("cannot open repository \(path): rolling the catalog forward failed") {
                    try repo.rollForward()
                }
            } catch let error as CatalogError where error.code == .corrupt {
                // Found damaged on its first reads (not at open): the same advice as there.
                try? repo.catalog.close()
                throw RepositoryError(.integrity, "cannot open repository \(path): \(error); run `nexusfs recover \(path)` to rebuild it from the repository")
            } catch let error as RepositoryError where error.code == .integrity && error.message.contains("is damaged")
                        && !error.message.contains("nexusfs recover") {
                try? repo.catalog.close()
                throw RepositoryError(.integrity, error.message + "; run `nexusfs recover \(path)` to rebuild it from the repository")
            } catch {
                try? repo.catalog.close()
                throw error
            }
            repo.heldLock.withLock { $0 = lock }
            repo.removeStalePastViews()
            return repo
        }
    }

    /// Opens the repository read-only as it was at `time`: a catalog rebuilt from the packs
    /// with every journal record made until then (see `rebuildCatalog`), in the state
    /// directory under a temporary name that `close` removes. Nothing is written into the
    /// repository, and the lock is held as for any other use (prune must not take packs away).
    public static func open(at path: String, passphrase: [UInt8], asOf time: FileTime, stateRoot: String = defaultStateRoot,
                            purpose: String = "in use by nexusfs", logger: Logger = Logger(label: "nexusfs"),
                            progress: ProgressHandler? = nil) throws -> Repository {
        _ = try RepositoryLayout.readConfig(at: path)
        let lock = try RepositoryLock(repository: path, purpose: purpose)
        let (config, keys) = try unlock(at: path, passphrase: passphrase)
        return try RepositoryError.wrapping("cannot open repository \(path) as of \(time.iso8601)") {
            let stateDirectory = stateRoot + "/" + config.id
            try RepositoryLayout.makeDirectory(stateDirectory)
            // Left by a process that died: nobody else uses them while this one holds the lock.
            for name in (try? FileManager.default.contentsOfDirectory(atPath: stateDirectory)) ?? []
            where name.hasPrefix("catalog.as-of-") && !name.hasSuffix("-wal") && !name.hasSuffix("-shm") {
                removeCatalogFiles(stateDirectory + "/" + name)
            }
            let building = stateDirectory + "/catalog.as-of-\(getpid())"
            do {
                let summary = try rebuildCatalog(at: path, config: config, keys: keys, stateRoot: stateRoot, into: building,
                                                 asOf: time, logger: logger, progress: progress)
                let repo = try Repository(path: path, config: config, keys: keys, stateRoot: stateRoot, createCatalog: false,
                                          catalogPath: building, pointInTime: time, logger: logger)
                logger.info("catalog rebuilt as of \(time.iso8601): \(summary.journalRecords) journal records after checkpoint \(summary.checkpointSequence)")
                repo.heldLock.withLock { $0 = lock }
                return repo
            } catch {
                removeCatalogFiles(building)
                throw error
            }
        }
    }

    /// Reads the config and finds the key that `passphrase` opens.
    static func unlock(at path: String, passphrase: [UInt8]) throws -> (RepositoryConfig, RepositoryKeys) {
        let sealed = try RepositoryLayout.readConfig(at: path)
        let master = try KeyFile.unlock(repositoryAt: path, repositoryID: sealed.config.id, passphrase: passphrase)
        let keys = try RepositoryKeys(master: master, repositoryID: sealed.config.id)
        try sealed.verify(with: keys)
        return (sealed.config, keys)
    }

    /// Hands to the object store the packs sealed into the cache but never kept there (a process
    /// that died between the two), before the catalog is rolled forward over what the store holds.
    func keepUnkeptPacks() throws {
        let unkept = try store.packsNotKept()
        for pack in unkept { try store.keepSealedPack(pack) }
        if !unkept.isEmpty { logger.info("stored \(unkept.count) packs sealed but not yet in \(store.storage.location)") }
    }

    private func verifyCatalogIdentity() throws {
        let stored = try catalog.read { try $0.metaBytes("repository_id") }
        guard let stored else {
            // An empty or truncated catalog file opens as a new database without the row.
            throw RepositoryError(.integrity,
                                  "the catalog at \(catalog.path) is empty or damaged (it names no repository); run `nexusfs recover \(path)` to rebuild it from the repository")
        }
        guard String(decoding: stored, as: UTF8.self) == config.id else {
            throw RepositoryError(.catalogMissing,
                                  "the catalog at \(catalog.path) belongs to another repository; run `nexusfs recover \(path)`")
        }
    }

    /// Stops using the repository as a crash would: the catalog is closed as it is, without
    /// a checkpoint, and the lock is released. For tests of recovery.
    func abandon() {
        try? catalog.close()
        heldLock.withLock { $0 = nil }
    }

    /// Commits what is staged, makes everything durable and closes the catalog.
    /// Leaves `summary` in the lock file when the lock goes (see `RepositoryLock.noteFailure`).
    public func noteFailure(_ summary: String) {
        heldLock.withLock { $0?.noteFailure(summary) }
    }

    public func close() throws {
        if pointInTime != nil {
            defer { heldLock.withLock { $0 = nil } }
            try? catalog.close()
            Self.removeCatalogFiles(catalog.path)
            return
        }
        try RepositoryError.wrapping("cannot close repository \(path)") {
            try catalog.commitStaged()
            try store.flush()
            try indexSealedPacks()
            try checkpointIfDue(force: false)
            try catalog.close()
        }
        heldLock.withLock { $0 = nil }
    }
}

extension FileTime {
    /// The current time.
    public static var now: FileTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return FileTime(seconds: Int64(ts.tv_sec), nanoseconds: Int64(ts.tv_nsec))
    }
}
