import CatalogStore
import Foundation
import RepositoryCore

extension Volume {
    /// Starts the thread that commits staged changes so that each is durable within
    /// `commitInterval` of being staged: a commit starts ahead of that deadline by a lead
    /// that follows how long recent commits took.
    public func startCommitting() {
        let interval = Duration.milliseconds(Int64(options.commitInterval * 1000))
        let thread = Thread { [self] in
            var lead = Duration.milliseconds(100)
            while !stopping.withLock({ $0 }) {
                Thread.sleep(forTimeInterval: min(0.02, options.commitInterval / 4))
                let since = pendingSince.withLock { $0 } ?? (catalog.hasStagedChanges ? .now - interval : nil)
                guard let since, since.duration(to: .now) >= interval - lead else { continue }
                let started = ContinuousClock.now
                do {
                    try commitNow()
                } catch {
                    logger.error("commit failed, retrying: \(error)")
                    Thread.sleep(forTimeInterval: min(1, options.commitInterval))
                }
                lead = min(interval / 2, max(.milliseconds(100), started.duration(to: .now) * 2))
            }
        }
        thread.name = "nexusfs-commit"
        thread.start()
    }

    /// Makes every staged change durable now.
    public func commitNow() throws {
        guard !options.readOnly else { return }
        let since = pendingSince.withLock { pending -> ContinuousClock.Instant? in
            defer { pending = nil }
            return pending
        }
        guard catalog.hasStagedChanges else { return }
        do {
            try catalog.commitStaged()
            try repository.checkpointIfDue(force: false)
        } catch {
            // Still staged (a failed commit keeps the group): its deadline stands.
            pendingSince.withLock { pending in pending = [pending, since].compactMap { $0 }.min() }
            throw mapped(error)
        }
    }

    /// Saves every written file, commits, stops the committer and closes the repository.
    public func shutdown() throws {
        stopping.withLock { $0 = true }
        let contents = table.withLock { table in table.inodes.values.compactMap(\.content) }
        var firstError: (any Error)?
        for content in contents where content.isModified {
            do { try save(content) } catch { firstError = firstError ?? error }
        }
        do { try commitNow() } catch { firstError = firstError ?? error }
        do { try repository.close() } catch { firstError = firstError ?? error }
        if let firstError { throw firstError }
    }
}
