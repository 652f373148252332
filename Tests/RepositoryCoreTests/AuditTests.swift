import CatalogStore
import Foundation
import GRDB
import NexusTypes
@testable import RepositoryCore
import Testing

private func event(_ action: String, _ path: String, uid: UInt32 = 1000) -> AuditEvent {
    AuditEvent(time: .now, uid: uid, action: action, inode: InodeNumber(2), path: Array(path.utf8))
}

/// Appends `actions` to the audit log, one commit each.
private func audit(_ repo: Repository, _ actions: [String]) throws -> [AuditEntry] {
    try actions.map { action in try repo.catalog.write { try repo.appendAudit(event(action, "/report.odt"), in: $0) } }
}

@Suite("Repository audit log")
struct AuditTests {
    @Test("the audit log survives close and reopen, and recover undoes tampering with the live catalog")
    func survivesReopenAndRecover() throws {
        let ws = try Workspace()
        var repo = try ws.create()
        let entries = try audit(repo, ["create", "write", "status"])
        let comment = try repo.catalog.write { w in
            try w.addComment(inode: InodeNumber(2), uid: 1000, time: .now, text: "please review")
        }
        try repo.close()

        repo = try ws.open()
        #expect(try repo.auditEntries() == entries)
        #expect(try repo.verifyAudit() == AuditVerification(entries: 3, damage: nil))
        try repo.close()

        let catalog = Repository.catalogPath(stateRoot: ws.state, id: repo.config.id)
        let queue = try DatabaseQueue(path: catalog)
        try queue.write { try $0.execute(sql: "UPDATE audit SET uid = 0 WHERE seq = 2; DELETE FROM comments") }
        try queue.close()
        repo = try ws.open()
        let damage = try #require(try repo.verifyAudit().damage)
        #expect(damage.seq == 2)
        #expect(damage.problem == .edited)
        try repo.close()

        // The catalog rebuilt from the packs holds the entries as the journal recorded them.
        _ = try Repository.recover(at: ws.repository, passphrase: ws.passphrase, stateRoot: ws.state)
        repo = try ws.open()
        #expect(try repo.auditEntries() == entries)
        #expect(try repo.verifyAudit() == AuditVerification(entries: 3, damage: nil))
        #expect(try repo.catalog.read { try $0.comments(of: InodeNumber(2)) } == [comment])
        try repo.close()
    }

    @Test("removing the newest entries from the live catalog is found against the journal, and recover brings them back")
    func truncationIsFound() throws {
        let ws = try Workspace()
        var repo = try ws.create()
        let entries = try audit(repo, ["create", "write", "status", "rename", "delete"])
        try repo.close()

        let catalog = Repository.catalogPath(stateRoot: ws.state, id: repo.config.id)
        let queue = try DatabaseQueue(path: catalog)
        try queue.write { try $0.execute(sql: "DELETE FROM audit WHERE seq >= 4") }
        try queue.close()
        repo = try ws.open()
        // What is left is a chain that verifies on its own; only the journal tells.
        #expect(try repo.verifyAudit() == AuditVerification(entries: 3, damage: AuditDamage(seq: 4, problem: .truncated(journaled: 5), entry: nil)))
        try repo.close()

        _ = try Repository.recover(at: ws.repository, passphrase: ws.passphrase, stateRoot: ws.state)
        repo = try ws.open()
        #expect(try repo.auditEntries() == entries)
        #expect(try repo.verifyAudit() == AuditVerification(entries: 5, damage: nil))
        try repo.close()
    }

    @Test("while another process holds the repository, its committed audit log is read and verified read-only")
    func readableWhileHeld() throws {
        let ws = try Workspace()
        let holder = try ws.create()
        defer { try? holder.close() }
        let entries = try audit(holder, ["create", "write"])
        // Staged and not committed: the holder's alone until it commits.
        try holder.catalog.stage { try holder.appendAudit(event("rename", "/other.odt"), in: $0) }

        let read = try Repository.auditEntries(at: ws.repository, passphrase: ws.passphrase, stateRoot: ws.state)
        #expect(read == entries)
        #expect(try Repository.verifyAudit(at: ws.repository, passphrase: ws.passphrase, stateRoot: ws.state)
                == AuditVerification(entries: 2, damage: nil))
        let wrong = #expect(throws: RepositoryError.self) {
            _ = try Repository.verifyAudit(at: ws.repository, passphrase: Array("wrong".utf8), stateRoot: ws.state)
        }
        #expect(wrong?.code == .wrongPassphrase)

        try holder.catalog.commitStaged()
        #expect(try Repository.auditEntries(at: ws.repository, passphrase: ws.passphrase, stateRoot: ws.state,
                                            filter: AuditFilter(path: RepositoryPath("/other.odt"))).map(\.seq) == [3])
    }

    @Test("with the repository free, the audit log is read through an ordinary open")
    func readableWhenFree() throws {
        let ws = try Workspace()
        let repo = try ws.create()
        let entries = try audit(repo, ["create"])
        try repo.close()
        #expect(try Repository.auditEntries(at: ws.repository, passphrase: ws.passphrase, stateRoot: ws.state) == entries)
        // It let go of the lock.
        try ws.open().close()
    }

    @Test("each repository chains under its own audit key")
    func keysDiffer() throws {
        let (one, two) = (try Workspace(), try Workspace())
        let first = try one.create()
        let second = try two.create()
        defer { try? first.close(); try? second.close() }
        #expect(first.auditKey != second.auditKey)
        #expect(first.auditKey.count == 32)
    }
}
