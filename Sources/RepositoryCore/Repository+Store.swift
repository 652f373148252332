import BlobStorage
import Logging
import Foundation

extension Repository {
    /// Removes the lease another repository folder holds on this repository's object store
    /// (a host that is gone for good), after the passphrase opened the repository's key.
    /// Returns who held it, or nil when nobody did. Refused while this folder is in use.
    public static func unlockStore(at path: String, passphrase: [UInt8]) throws -> String? {
        _ = try RepositoryLayout.readConfig(at: path)
        let lock = try RepositoryLock(repository: path, purpose: "being unlocked")
        defer { withExtendedLifetime(lock) {} }
        let (config, keys) = try unlock(at: path, passphrase: passphrase)
        guard let url = config.store else {
            throw RepositoryError(.invalidArgument, "repository \(path) keeps its packs in its own folder: there is no lease to remove")
        }
        let store = try ObjectStorePacks(url: url)
        let holder: String
        do {
            guard let current = try StoreLease.current(in: store, key: keys.lease) else { return nil }
            holder = "host \(current.host), repository folder \(current.folder), pid \(current.pid), since \(current.since)"
        } catch let error as RepositoryError where error.code == .integrity {
            holder = "a holder it does not name (the lease object is damaged)"
        }
        try store.deleteObject(StoreLease.objectKey, what: "remove the lease on")
        return holder
    }
}

/// What `attach` and `migrate` did.
public struct StoreSummary: Sendable {
    /// Packs copied (uploaded or downloaded), and packs already where they had to be.
    public var copied = 0
    public var present = 0
    public var bytes: UInt64 = 0
    /// Where the packs are kept now: a folder or an `s3://` URL.
    public var location = ""
}

extension Repository {
    /// Makes `path` (which must not exist or be empty) a repository folder for the repository
    /// kept in the object store `url`: its config and key files, a pack cache, and a catalog
    /// rebuilt from the store, as on a host that takes over from one that is gone. The
    /// passphrase must open one of the store's keys; on any failure nothing is left at `path`.
    /// With `takeOver`, a lease another folder holds on the store is removed first (that host is
    /// gone for good); without it, such a lease refuses the attach.
    public static func attach(url: String, at path: String, passphrase: [UInt8], takeOver: Bool = false,
                              stateRoot: String = defaultStateRoot,
                              logger: Logger = Logger(label: "nexusfs"), progress: ProgressHandler? = nil) throws -> RecoverySummary {
        let store = try ObjectStorePacks(url: url)
        guard let config = try store.config() else {
            throw RepositoryError(.notARepository, "\(store.url) holds no nexusfs repository (no config object)")
        }
        let keyFiles = try store.keyFiles()
        let existed = FileManager.default.fileExists(atPath: path)
        _ = try RepositoryLayout.initialize(at: path)
        do {
            for file in keyFiles {
                try RepositoryLayout.writeAtomically(file.bytes, to: path + "/" + RepositoryLayout.keys + "/" + file.name)
            }
            try RepositoryLayout.writeAtomically(config, to: path + "/" + RepositoryLayout.config)
            let sealed = try RepositoryLayout.readConfig(at: path)
            guard sealed.config.store == store.url else {
                throw RepositoryError(.integrity, "the config in \(store.url) says its packs are in \(sealed.config.store ?? "its own folder")")
            }
            if takeOver {
                let (_, keys) = try unlock(at: path, passphrase: passphrase)
                let holder = try? StoreLease.current(in: store, key: keys.lease)
                if let holder {
                    logger.warning("taking over \(store.url) from host \(holder.host) (repository folder \(holder.folder), since \(holder.since))")
                }
                try store.deleteObject(StoreLease.objectKey, what: "remove the lease on")
            }
            return try recover(at: path, passphrase: passphrase, stateRoot: stateRoot, logger: logger, progress: progress)
        } catch {
            if existed {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                    try? FileManager.default.removeItem(atPath: path + "/" + name)
                }
            } else {
                try? FileManager.default.removeItem(atPath: path)
            }
            throw error
        }
    }

    /// Moves the packs of the repository at `path` into the object store `url` (which must hold
    /// no other repository), or with `url` nil back into the repository folder; the config then
    /// says where they are. Everything is copied before the config changes, so a migrate cut
    /// short leaves the repository as it was (run it again to finish). Packs left in the object
    /// store after a move back are not deleted.
    public static func migrate(at path: String, passphrase: [UInt8], to url: String?, stateRoot: String = defaultStateRoot,
                               logger: Logger = Logger(label: "nexusfs"), progress: ProgressHandler? = nil) throws -> StoreSummary {
        let repo = try open(at: path, passphrase: passphrase, stateRoot: stateRoot, purpose: "being migrated", logger: logger)
        var closed = false
        defer { if !closed { try? repo.close() } }
        try repo.catalog.commitStaged()
        try repo.store.flush()
        try repo.indexSealedPacks()
        let summary = try url.map { try repo.moveIntoStore($0, progress: progress) } ?? (try repo.moveIntoFolder(progress: progress))
        closed = true
        try repo.close()
        return summary
    }

    private func moveIntoStore(_ url: String, progress: ProgressHandler?) throws -> StoreSummary {
        guard config.store == nil else {
            throw RepositoryError(.invalidArgument, "repository \(path) already keeps its packs in \(config.store!)")
        }
        let target = try ObjectStorePacks(url: url)
        if try target.config() != nil {
            throw RepositoryError(.invalidArgument, "\(target.url) already holds a nexusfs repository")
        }
        // A migrate cut short left some packs there: those are not sent again.
        let there = Set(try target.packNames())
        let packs = try store.packNames()
        var summary = StoreSummary(location: target.url)
        for (index, pack) in packs.enumerated() {
            progress?(OperationProgress(items: index, totalItems: packs.count, current: pack.hex))
            if there.contains(pack) { summary.present += 1; continue }
            let file = store.path(of: pack)
            try RepositoryError.wrapping("cannot upload pack \(pack.hex) to \(target.url)") {
                try target.keep(pack, sealedAt: file)
            }
            summary.copied += 1
            summary.bytes += (try? store.length(of: pack)) ?? 0
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: path + "/" + RepositoryLayout.keys) where name.hasSuffix(KeyFile.suffix) {
            try target.putRepositoryFile(RepositoryLayout.keys + "/" + name, from: path)
        }
        var moved = config
        moved.store = target.url
        moved.version = RepositoryConfig.objectStoreVersion
        try RepositoryLayout.writeConfig(moved, keys: keys, at: path)
        try target.putRepositoryFile(RepositoryLayout.config, from: path)
        return summary
    }

    private func moveIntoFolder(progress: ProgressHandler?) throws -> StoreSummary {
        guard let url = config.store else {
            throw RepositoryError(.invalidArgument, "repository \(path) already keeps its packs in its own folder")
        }
        let packs = try store.packNames()
        var summary = StoreSummary(location: path + "/" + RepositoryLayout.packs)
        for (index, pack) in packs.enumerated() {
            progress?(OperationProgress(items: index, totalItems: packs.count, current: pack.hex))
            let cached = FileManager.default.fileExists(atPath: store.path(of: pack))
            _ = try store.localPath(of: pack)
            if cached { summary.present += 1 } else { summary.copied += 1; summary.bytes += (try? store.length(of: pack)) ?? 0 }
        }
        var moved = config
        moved.store = nil
        moved.version = RepositoryConfig.currentVersion
        try RepositoryLayout.writeConfig(moved, keys: keys, at: path)
        logger.info("the packs in \(url) were left there; delete them once they are no longer needed")
        return summary
    }
}
