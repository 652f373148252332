import CatalogStore
import Foundation
import RepositoryCore

extension Volume {
    /// Starts the thread that commits staged changes so that each is durable within
    /// `commitInterval` of being staged: a commit starts ahead of that deadline by a lead
    /// that follows how long recent commits took.
    public func startCommitting() {
        let interval = Duration.milliseconds(Int64(options.commitInterval * 1000))
        committing.enter()
        let thread = Thread { [self] in
            defer { committing.leave() }
            var lead = Duration.milliseconds(100)
            var lastCheckpointCheck = ContinuousClock.now
            while !stopping.withLock({ $0 }) {
                Thread.sleep(forTimeInterval: min(0.02, options.commitInterval / 4))
                stageRefusals()
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

    /// Makes every staged change durable now (fsync, fsyncdir, shutdown); the committer adds checkpoints.
    public func commitNow() throws {
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

    /// What went wrong, without names or content (it is left in the repository's lock file).
    static func summary(of error: any Error) -> String {
        let noSpace = (error as? VFSError)?.code == .noSpace || (error as? RepositoryError)?.code == .noSpace
            || (error as? CatalogError)?.code == .noSpace
        return noSpace ? "changes could not be saved: no space left on the repository's disk"
            : "changes could not be saved: an I/O error (details in mount.log beside the live catalog)"
    }

    /// Saves every written file, commits, stops the committer and closes the repository.
    public func shutdown() throws {
        stopping.withLock { $0 = true }
        // The committer may be in a commit or a checkpoint: closing waits for it.
        committing.wait()
        let contents = table.withLock { table in table.inodes.values.compactMap(\.content) }
        var firstError: (any Error)?
        for content in contents where content.isModified {
            do { try save(content) } catch { firstError = firstError ?? error }
        }
        stageRefusals()
        do { try commitNow() } catch { firstError = firstError ?? error }
        if let firstError { repository.noteFailure(Self.summary(of: firstError)) }
        do {
            try repository.close()
        } catch {
            repository.noteFailure(Self.summary(of: error))
            firstError = firstError ?? error
        }
        if let firstError { throw firstError }
    }
}
