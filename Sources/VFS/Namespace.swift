import BlobStorage
import CatalogStore
import Foundation
import Logging
import NexusTypes
import RepositoryCore
import Synchronization

/// The catalog as the volume uses it: changes staged in the open group, reads that see them,
/// errors as `VFSError`, and the thread that commits the group within the commit interval.
///
/// Thread-safe. The catalog serializes every access on its one connection, and a commit holds
/// it for the journal's fsync; `pendingSince` and `stopping` are leaves.
final class Namespace: Sendable {
    private let catalog: Catalog
    private let repository: Repository
    private let options: VolumeOptions
    private let logger: Logger
    /// When the oldest change that is staged but not committed was staged: it must be durable
    /// within the commit interval from then.
    private let pendingSince = Mutex<ContinuousClock.Instant?>(nil)
    private let stopping = Mutex(false)
    /// When a program's request last changed the catalog (a save, a create, a rename...): background
    /// work (the search indexer) keeps out of the way of writers. Reads do not count: a program
    /// that polls (a file manager, a script waiting for a search) would hold the indexer back, and
    /// the indexer's nice level already leaves readers the CPU.
    private let lastForegroundUse = Mutex(ContinuousClock.now)
    /// Counts staged operations, so that what was computed from the catalog can tell it is current.
    private let stages = Mutex<UInt64>(0)
    /// Entered while the committer thread runs.
    private let committing = DispatchGroup()

    init(repository: Repository, options: VolumeOptions, logger: Logger) {
        self.repository = repository
        catalog = repository.catalog
        self.options = options
        self.logger = logger
    }

    /// Runs a catalog change inside the current group, mapping errors.
    /// With `mappingErrors` false (at startup), the catalog's own errors are thrown as they are, so
    /// that a damaged catalog reaches the command line as such and not as EIO.
    func stage<T>(mappingErrors: Bool = true, background: Bool = false, _ body: (CatalogWriter) throws -> T) throws -> T {
        if options.readOnly { throw VFSError(.readOnly) }
        if !background { lastForegroundUse.withLock { $0 = .now } }
        stages.withLock { $0 &+= 1 }
        do {
            let result = try catalog.stage(body)
            pendingSince.withLock { $0 = $0 ?? .now }
            return result
        } catch let error as VFSError {
            throw error
        } catch {
            throw mappingErrors ? mapped(error) : error
        }
    }

    func read<T>(_ body: (CatalogReader) throws -> T) throws -> T {
        do {
            return try catalog.read(body)
        } catch let error as VFSError {
            throw error
        } catch {
            throw mapped(error)
        }
    }

    /// The number of operations staged so far: unchanged means nothing in the catalog changed.
    var stageCount: UInt64 { stages.withLock { $0 } }

    /// How long ago a program's request last changed the catalog.
    var foregroundIdleTime: Duration { lastForegroundUse.withLock { $0 }.duration(to: .now) }

    /// The node as the catalog's cache holds it, without a turn on the connection (see `Catalog.cachedNode`).
    func cachedNode(_ inode: InodeNumber) -> NodeRecord?? {
        catalog.cachedNode(inode)
    }

    /// A stored attribute as the catalog's cache holds it (see `Catalog.cachedXattr`).
    func cachedXattr(_ name: [UInt8], of inode: InodeNumber) -> [UInt8]?? {
        catalog.cachedXattr(name, of: inode)
    }

    /// The entry as the catalog's cache holds it (see `Catalog.cachedEntry`).
    func cachedEntry(named name: FileName, in parent: InodeNumber) -> InodeNumber?? {
        catalog.cachedEntry(named: name, in: parent)
    }

    func mapped(_ error: any Error) -> VFSError {
        if let error = error as? VFSError { return error }
        let text = "\(error)"
        if let error = error as? RepositoryError, error.code == .noSpace { return VFSError(.noSpace, text) }
        if let error = error as? CatalogError, error.code == .noSpace { return VFSError(.noSpace, text) }
        if let error = error as? CatalogError, error.code == .invalid { return VFSError(.invalid, text) }
        if let error = error as? BlobStoreError, error.code == .noSpace { return VFSError(.noSpace, text) }
        logger.error("unexpected error: \(text)")
        return VFSError(.io, text)
    }

    // MARK: Group commit

    /// Starts the thread that commits staged changes so that each is durable within
    /// `commitInterval` of being staged: a commit starts ahead of that deadline by a lead
    /// that follows how long recent commits took. `tick` runs before each look at the group.
    func startCommitting(tick: @escaping @Sendable () -> Void) {
        let interval = Duration.milliseconds(Int64(options.commitInterval * 1000))
        committing.enter()
        let thread = Thread { [self] in
            defer { committing.leave() }
            var lead = Duration.milliseconds(100)
            var lastCheckpointCheck = ContinuousClock.now
            while !stopping.withLock({ $0 }) {
                Thread.sleep(forTimeInterval: min(0.02, options.commitInterval / 4))
                tick()
                let since = pendingSince.withLock { $0 } ?? (catalog.hasStagedChanges ? .now - interval : nil)
                if let since, since.duration(to: .now) >= interval - lead {
                    let started = ContinuousClock.now
                    do {
                        try commitNow()
                    } catch {
                        logger.error("commit failed, retrying: \(error)")
                        Thread.sleep(forTimeInterval: min(1, options.commitInterval))
                    }
                    lead = min(interval / 2, max(.milliseconds(100), started.duration(to: .now) * 2))
                }
                // Checkpoints only here, one at a time, and never in a program's fsync (which
                // commits too): the changes are durable already, a failed checkpoint is tried again.
                guard lastCheckpointCheck.duration(to: .now) >= interval else { continue }
                lastCheckpointCheck = .now
                do {
                    try repository.checkpointIfDue(force: false)
                } catch {
                    logger.warning("checkpoint failed, trying again later: \(error)")
                }
            }
        }
        thread.name = "nexusfs-commit"
        thread.start()
    }

    /// Stops the committer thread, waiting for a commit or checkpoint it is in.
    func stopCommitting() {
        stopping.withLock { $0 = true }
        committing.wait()
    }

    /// Makes every staged change durable now; the committer adds checkpoints.
    func commitNow() throws {
        guard !options.readOnly else { return }
        let since = pendingSince.withLock { pending -> ContinuousClock.Instant? in
            defer { pending = nil }
            return pending
        }
        guard catalog.hasStagedChanges else { return }
        do {
            try catalog.commitStaged()
        } catch {
            // Still staged (a failed commit keeps the group): its deadline stands.
            pendingSince.withLock { pending in pending = [pending, since].compactMap { $0 }.min() }
            throw mapped(error)
        }
    }
}
