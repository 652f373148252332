import BlobStorage
import CatalogStore
import CryptoCore
import Logging
import NexusTypes

/// The result of checking the audit log's hash chain.
public struct AuditVerification: Sendable, Equatable {
    /// The number of stored entries.
    public var entries: Int
    /// The first damaged entry; nil when the chain is intact.
    public var damage: AuditDamage?

    public init(entries: Int, damage: AuditDamage?) {
        self.entries = entries
        self.damage = damage
    }
}

extension Repository {
    /// The HMAC key of the audit log's hash chain, for `CatalogWriter.appendAudit`.
    public var auditKey: SymmetricKey { keys.audit }

    /// Appends `event` to the audit log inside the caller's catalog transaction, so that it
    /// commits (and is journaled) with the change it records, or not at all.
    @discardableResult
    public func appendAudit(_ event: AuditEvent, in writer: CatalogWriter) throws -> AuditEntry {
        try writer.appendAudit(event, key: keys.audit)
    }

    /// The audit entries `filter` selects, oldest first.
    public func auditEntries(_ filter: AuditFilter = AuditFilter()) throws -> [AuditEntry] {
        try RepositoryError.wrapping("cannot read the audit log of repository \(path)") {
            try catalog.read { try $0.auditEntries(filter) }
        }
    }

    /// Checks the audit log's hash chain.
    public func verifyAudit() throws -> AuditVerification {
        try RepositoryError.wrapping("cannot verify the audit log of repository \(path)") {
            try catalog.read { try Self.verification($0, key: keys.audit, journal: self) }
        }
    }

    /// The audit entries of the repository at `path`; see `readAudit`.
    public static func auditEntries(at path: String, passphrase: [UInt8], stateRoot: String = defaultStateRoot,
                                    logger: Logger = Logger(label: "nexusfs"),
                                    filter: AuditFilter = AuditFilter()) throws -> [AuditEntry] {
        try readAudit(at: path, passphrase: passphrase, stateRoot: stateRoot, logger: logger, "read") { reader, _, _ in
            try reader.auditEntries(filter)
        }
    }

    /// Checks the audit log of the repository at `path`; see `readAudit`.
    public static func verifyAudit(at path: String, passphrase: [UInt8], stateRoot: String = defaultStateRoot,
                                   logger: Logger = Logger(label: "nexusfs")) throws -> AuditVerification {
        try readAudit(at: path, passphrase: passphrase, stateRoot: stateRoot, logger: logger, "verify") { reader, key, repo in
            try verification(reader, key: key, journal: repo)
        }
    }

    /// The chain's damage, or else, with `journal` (a repository opened, not one a mount holds),
    /// entries missing from its end: the newest entry any journal record in the packs added is
    /// the head the log must reach. A chain cut short verifies on its own; the journal, encrypted
    /// and authenticated, cannot be cut the same way without `check` noticing missing packs.
    private static func verification(_ reader: CatalogReader, key: SymmetricKey, journal: Repository?) throws -> AuditVerification {
        var damage = try reader.verifyAudit(key: key)
        if damage == nil, let head = try journal?.journaledAuditHead() {
            let stored = try reader.newestAuditSeq() ?? 0
            if stored < head.seq { damage = AuditDamage(seq: stored + 1, problem: .truncated(journaled: head.seq), entry: nil) }
        }
        return AuditVerification(entries: try reader.auditCount(), damage: damage)
    }

    /// The newest audit entry the journal records in the packs add (records older than the last
    /// checkpoint may be gone after `prune`; those after it stay).
    func journaledAuditHead() throws -> (seq: Int64, hash: [UInt8])? {
        var head: (seq: Int64, hash: [UInt8])?
        let compressor = Compressor()
        for pack in try store.packNames() {
            guard let entries = try? store.tableOfContents(of: pack) else { continue }
            for entry in entries where entry.kind == .journal {
                guard let payload = try? store.read(entry.id, from: (pack, entry), compressor: compressor),
                      let newest = JournalWriter.decode(payload)?.newestAuditEntry, newest.seq > head?.seq ?? 0 else { continue }
                head = newest
            }
        }
        return head
    }

    /// Opens the repository as usual when it is free. When another process holds it (a mount),
    /// reads the committed state of its live catalog read-only instead: the passphrase is still
    /// checked, but what the holder has staged and not yet committed is not seen.
    private static func readAudit<T>(at path: String, passphrase: [UInt8], stateRoot: String, logger: Logger,
                                     _ verb: String, _ body: (CatalogReader, SymmetricKey, Repository?) throws -> T) throws -> T {
        let repo: Repository
        do {
            repo = try open(at: path, passphrase: passphrase, stateRoot: stateRoot, purpose: "reading its audit log",
                            logger: logger)
        } catch let error as RepositoryError where error.code == .locked {
            let (config, keys) = try unlock(at: path, passphrase: passphrase)
            let catalogPath = catalogPath(stateRoot: stateRoot, id: config.id)
            return try RepositoryError.wrapping("cannot \(verb) the audit log of repository \(path)") {
                do {
                    return try Catalog.readCommitted(path: catalogPath) { reader in
                        let id = try reader.metaBytes("repository_id").map { String(decoding: $0, as: UTF8.self) }
                        guard id == config.id else {
                            throw RepositoryError(.catalogMissing, "the catalog at \(catalogPath) belongs to another repository")
                        }
                        return try body(reader, keys.audit, nil)
                    }
                } catch let error as CatalogError where error.code == .notFound {
                    throw RepositoryError(.catalogMissing, "no catalog for repository \(path) at \(catalogPath) "
                                                         + "(is it mounted with another --state-dir?)")
                }
            }
        }
        let result: T
        do {
            result = try RepositoryError.wrapping("cannot \(verb) the audit log of repository \(path)") {
                try repo.catalog.read { try body($0, repo.keys.audit, repo) }
            }
        } catch {
            try? repo.close()
            throw error
        }
        try repo.close()
        return result
    }
}
