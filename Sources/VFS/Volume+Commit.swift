import CatalogStore
import Foundation
import RepositoryCore

extension Volume {
    /// Starts the thread that commits staged changes every `commitInterval` seconds.
    public func startCommitting() {
        let thread = Thread { [self] in
            var last = Date()
            while !stopping.withLock({ $0 }) {
                Thread.sleep(forTimeInterval: min(0.05, options.commitInterval))
                guard Date().timeIntervalSince(last) >= options.commitInterval else { continue }
                last = Date()
                do {
                    try commitNow()
                } catch {
                    logger.error("commit failed, retrying in \(options.commitInterval) s: \(error)")
                }
            }
        }
        thread.name = "nexusfs-commit"
        thread.start()
    }

    /// Makes every staged change durable now.
    public func commitNow() throws {
        guard !options.readOnly, catalog.hasStagedChanges else { return }
        do {
            try catalog.commitStaged()
            try repository.checkpointIfDue(force: false)
        } catch {
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
