import Foundation
import Glibc
import NexusTypes

extension Repository {
    /// The prefix of the catalog files that past views keep in the state directory.
    static let pastViewPrefix = "catalog.at-"

    /// A read-only repository showing this one as it was at `time`, for the `/.at/TIME/` view of
    /// a live mount: a catalog rebuilt from the packs with every journal record made until then
    /// (as `open(at:asOf:)` and `recover` do), in the state directory as `catalog.at-PID-N`,
    /// removed by the view's `close()`. It shares this repository's config and keys and takes no
    /// lock: this one holds it, and prune cannot run beside it.
    ///
    /// The scan sees the sealed packs only. Every commit seals what it refers to before its journal
    /// record, so a time up to the last commit is complete; a change staged but not yet committed
    /// (the last commit interval) is not in the view even at a later time.
    ///
    /// Throws `notFound` for a time in the future or before the repository's first record
    /// (or in history that prune removed).
    public func pastView(asOf time: FileTime, progress: ProgressHandler? = nil) throws -> Repository {
        guard time <= FileTime.now else {
            throw RepositoryError(.notFound, "\(time.iso8601) is in the future: repository \(path) has no history then")
        }
        let pid = getpid()
        let number = pastViewsMade.withLock { made -> Int in
            made += 1
            return made
        }
        if number == 1 { removeStalePastViews() }
        let building = stateDirectory + "/" + Self.pastViewPrefix + "\(pid)-\(number)"
        return try RepositoryError.wrapping("cannot show repository \(path) as of \(time.iso8601)") {
            do {
                let summary = try Self.rebuildCatalog(at: path, config: config, keys: keys, stateRoot: stateRoot, into: building,
                                                      asOf: time, logger: logger, progress: progress)
                let past = try Repository(path: path, config: config, keys: keys, stateRoot: stateRoot, createCatalog: false,
                                          catalogPath: building, pointInTime: time, logger: logger)
                logger.info("past view as of \(time.iso8601): \(summary.journalRecords) journal records after checkpoint \(summary.checkpointSequence)")
                return past
            } catch {
                Self.removeCatalogFiles(building)
                throw error
            }
        }
    }

    /// Deletes the catalogs of past views left by a daemon that died: while this process holds
    /// the lock, no other one uses them.
    func removeStalePastViews() {
        let own = Self.pastViewPrefix + "\(getpid())-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: stateDirectory)) ?? []
        where name.hasPrefix(Self.pastViewPrefix) && !name.hasPrefix(own) && !name.hasSuffix("-wal") && !name.hasSuffix("-shm") {
            Self.removeCatalogFiles(stateDirectory + "/" + name)
        }
    }
}
