import CatalogStore
import CryptoCore
import Foundation
import Glibc
import NexusTypes
@testable import RepositoryCore
import Testing

@Suite("Prune")
struct PruneTests {
    /// Imports `count` versions of one document, a day apart (imports take the file's mtime as the version time).
    func versions(_ ws: Workspace, _ repo: Repository, count: Int, size: Int = 300_000) throws {
        for i in 0..<count {
            try ws.write("doc.bin", SecureRandom.bytes(size))
            let stamp = timespec(tv_sec: 1_700_000_000 + i * 86_400, tv_nsec: 0)
            var times = [stamp, stamp]
            utimensat(AT_FDCWD, ws.source + "/doc.bin", &times, 0)
            _ = try repo.importTree(from: ws.source, to: .root)
        }
    }

    @Test("keep rules pick the versions restic's forget would, and never the current one")
    func keepRules() throws {
        var days: [VersionRecord] = []
        for day in 0..<10 {
            let time = FileTime(seconds: Int64(1_700_000_000 - day * 86_400), nanoseconds: 0)
            let manifest = ManifestID(bytes: [UInt8](repeating: UInt8(day), count: 32))!
            days.append(VersionRecord(document: 1, number: VersionNumber(Int64(10 - day)), time: time, author: 0, size: 1,
                                      sha256: nil, manifest: manifest))
        }
        func numbers(_ values: [Int64]) -> Set<VersionNumber> { Set(values.map { VersionNumber($0) }) }
        #expect(PrunePolicy(keepLast: 3).kept(days, current: nil) == numbers([10, 9, 8]))
        #expect(PrunePolicy(keepDaily: 2).kept(days, current: nil) == numbers([10, 9]))
        #expect(PrunePolicy(keepWithin: 2.5 * 86_400).kept(days, current: nil) == numbers([10, 9, 8]))
        // The current content is kept whatever the rules say.
        #expect(PrunePolicy(keepLast: 1).kept(days, current: days[5].manifest) == numbers([10, 5]))
        #expect(PrunePolicy.duration("1d12h") == 129_600)
        #expect(PrunePolicy.duration("7x") == nil)
    }

    @Test("imports, restores and prunes are in the audit log, and a held document keeps every version")
    func auditedAndHeld() throws {
        let ws = try Workspace()
        let repo = try ws.create()
        try versions(ws, repo, count: 4)
        _ = try repo.restore(RepositoryPath("/doc.bin")!, version: VersionNumber(1), author: 1234)
        let held = try repo.catalog.write { w -> InodeNumber in
            let inode = try #require(try w.reader.resolve(RepositoryPath("/doc.bin")!))
            try w.setXattr(Array("user.nexus.hold".utf8), to: Array("case 1".utf8), on: inode)
            return inode
        }
        let kept = try repo.prune(policy: PrunePolicy(keepLast: 1), dryRun: false)
        #expect(kept.removed.isEmpty && kept.held == ["/doc.bin"])
        try repo.catalog.write { try $0.removeXattr(Array("user.nexus.hold".utf8), from: held) }
        let pruned = try repo.prune(policy: PrunePolicy(keepLast: 1), dryRun: false)
        #expect(pruned.removed.map(\.version) == [4, 3, 2], "version 1 holds the current content, as 5 does")
        let actions = try repo.auditEntries().map { "\($0.event.action) \($0.event.printablePath) \($0.event.before ?? "-")" }
        #expect(actions.filter { $0.hasPrefix("import /doc.bin") }.count == 4)
        #expect(actions.contains("restore /doc.bin version 1"))
        #expect(actions.filter { $0.hasPrefix("prune /doc.bin version") }.count == 3, "\(actions)")
        #expect(try repo.verifyAudit().damage == nil)
    }

    @Test("prune removes versions, frees their space, and leaves a repository that checks clean and recovers")
    func pruneFreesSpace() throws {
        let ws = try Workspace()
        let repo = try ws.create()
        try versions(ws, repo, count: 6)
        let before = try repo.statistics()
        let dry = try repo.prune(policy: PrunePolicy(keepLast: 2), dryRun: true)
        #expect(dry.removed.count == 4)
        #expect(try repo.statistics().versions == before.versions)
        let report = try repo.prune(policy: PrunePolicy(keepLast: 2), dryRun: false)
        #expect(report.removed.map(\.version) == [4, 3, 2, 1])
        let after = try repo.statistics()
        #expect(after.versions == 2)
        #expect(after.storedBytes < before.storedBytes * 2 / 5, "\(before.storedBytes) -> \(after.storedBytes)")
        #expect(try repo.check(readData: true).isClean)
        let current = try ws.read(ws.source + "/doc.bin")
        #expect(try ws.exported(repo, "doc.bin") == current)
        try repo.close()
        try FileManager.default.removeItem(atPath: ws.state)
        _ = try Repository.recover(at: ws.repository, passphrase: ws.passphrase, stateRoot: ws.state)
        let recovered = try ws.open()
        #expect(try recovered.statistics().versions == 2)
        #expect(try ws.exported(recovered, "doc.bin") == current)
    }
}
