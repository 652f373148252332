import BlobStorage
import CatalogStore
import CryptoCore
import Foundation
import Glibc
import NexusTypes
@testable import RepositoryCore
import Testing

/// A repository, its state directory and a source tree under /var/tmp, removed afterwards.
final class Workspace {
    let root = "/var/tmp/nexusfs-repo-test-\(UUID().uuidString)"
    var repository: String { root + "/repo" }
    var state: String { root + "/state" }
    var source: String { root + "/source" }
    let passphrase = Array("correct horse".utf8)

    init() throws {
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func create() throws -> Repository {
        try Repository.create(at: repository, passphrase: passphrase, kdf: .testing, stateRoot: state)
    }

    func open() throws -> Repository {
        try Repository.open(at: repository, passphrase: passphrase, stateRoot: state)
    }

    func write(_ name: String, _ bytes: [UInt8]) throws {
        let path = source + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func read(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Exports everything and returns the bytes of `name` in the export.
    func exported(_ repo: Repository, _ name: String) throws -> [UInt8] {
        let out = root + "/export-\(UUID().uuidString)"
        _ = try repo.exportTree(.root, to: out)
        return try read(out + "/" + name)
    }
}

@Suite("Repository")
struct RepositoryTests {
    @Test("a wrong passphrase and a tampered config are refused with their own errors")
    func unlockFailures() throws {
        let ws = try Workspace()
        try ws.create().close()
        #expect(throws: RepositoryError.self) {
            do { _ = try Repository.open(at: ws.repository, passphrase: Array("wrong".utf8), stateRoot: ws.state) }
            catch let error as RepositoryError { #expect(error.code == .wrongPassphrase); throw error }
        }
        let configPath = ws.repository + "/config"
        var config = try String(contentsOfFile: configPath, encoding: .utf8)
        let body = try #require(config.range(of: "\"config\" : \""))
        let index = config.index(body.upperBound, offsetBy: 12)
        config.replaceSubrange(index...index, with: config[index] == "A" ? "B" : "A")
        chmod(configPath, 0o600)
        try config.write(toFile: configPath, atomically: false, encoding: .utf8)
        #expect(throws: RepositoryError.self) {
            do { _ = try ws.open() }
            catch let error as RepositoryError { #expect(error.code == .integrity); throw error }
        }
    }

    @Test("a commit that reached the packs but not the catalog is rolled forward at the next open")
    func rollForwardAfterCrash() throws {
        let ws = try Workspace()
        try ws.write("a.txt", Array("first".utf8))
        var repo = try ws.create()
        _ = try repo.importTree(from: ws.source, to: .root)
        try repo.close()
        // The catalog as it was before the next import: as if the process died after
        // sealing the pack but before SQLite committed.
        let catalog = Repository.catalogPath(stateRoot: ws.state, id: repo.config.id)
        try FileManager.default.copyItem(atPath: catalog, toPath: ws.root + "/catalog.before")
        try ws.write("a.txt", Array("second".utf8))
        try ws.write("b.txt", Array("new".utf8))
        repo = try ws.open()
        _ = try repo.importTree(from: ws.source, to: .root)
        try repo.close()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: catalog + suffix) }
        try FileManager.default.copyItem(atPath: ws.root + "/catalog.before", toPath: catalog)

        repo = try ws.open()
        #expect(try ws.exported(repo, "a.txt") == Array("second".utf8))
        #expect(try ws.exported(repo, "b.txt") == Array("new".utf8))
        let stats = try repo.statistics()
        #expect(stats.documents == 2)
        #expect(stats.versions == 3)
        #expect(try repo.check(readData: true).isClean)
    }

    @Test("a roll-forward that fails leaves every unknown pack unknown, so the next open replays it all")
    func failedRollForwardIsRetried() throws {
        let ws = try Workspace()
        try ws.write("a.txt", Array("first".utf8))
        var repo = try ws.create()
        _ = try repo.importTree(from: ws.source, to: .root)
        try repo.close()
        let catalog = Repository.catalogPath(stateRoot: ws.state, id: repo.config.id)
        try FileManager.default.copyItem(atPath: catalog, toPath: ws.root + "/catalog.before")
        let packsBefore = Set(try repo.store.packNames())
        try ws.write("b.txt", Array("second".utf8))
        repo = try ws.open()
        _ = try repo.importTree(from: ws.source, to: .root)
        try repo.close()

        // One more unknown pack, holding a journal record that will not read back.
        repo = try ws.open()
        let packsImported = Set(try repo.store.packNames())
        let payload = JournalWriter.encode(JournalRecord(sequence: 1_000, changeset: []))
        try payload.withUnsafeBytes {
            _ = try repo.store.add(id: repo.keys.blobKeys.id(of: $0), kind: .journal, plaintext: $0, compressor: Compressor())
        }
        try repo.store.flush()
        _ = repo.store.takeSealedPacks()
        repo.abandon()
        let extra = try #require(try repo.store.packNames().first { !packsImported.contains($0) })
        let entry = try #require(try repo.store.tableOfContents(of: extra).first)
        let damage = entry.offset + UInt64(entry.frameLength) - 20
        try flipByte(in: repo.store.path(of: extra), at: damage)

        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: catalog + suffix) }
        try FileManager.default.copyItem(atPath: ws.root + "/catalog.before", toPath: catalog)
        let error = #expect(throws: RepositoryError.self) { _ = try ws.open() }
        #expect(error?.code == .integrity, "\(String(describing: error))")
        let indexed = try Catalog(path: catalog, create: false, journal: nil)
        #expect(Set(try indexed.read { try $0.packs().map(\.name) }) == packsBefore)
        try indexed.close()

        try flipByte(in: repo.store.path(of: extra), at: damage)
        repo = try ws.open()
        #expect(try ws.exported(repo, "b.txt") == Array("second".utf8))
        #expect(try repo.statistics().documents == 2)
        #expect(try repo.check(readData: true).isClean)
    }

    @Test("recover rebuilds every document and version from the packs alone")
    func recoverFromPacks() throws {
        let ws = try Workspace()
        try ws.write("dir/report.txt", Array(repeating: 0x61, count: 200_000))
        var repo = try ws.create()
        _ = try repo.importTree(from: ws.source, to: .root)
        try ws.write("dir/report.txt", Array(repeating: 0x62, count: 200_000))
        _ = try repo.importTree(from: ws.source, to: .root)
        let before = try repo.statistics()
        try repo.close()
        try FileManager.default.removeItem(atPath: ws.state)
        #expect(throws: RepositoryError.self) {
            do { _ = try ws.open() }
            catch let error as RepositoryError { #expect(error.code == .catalogMissing); throw error }
        }
        let summary = try Repository.recover(at: ws.repository, passphrase: ws.passphrase, stateRoot: ws.state)
        #expect(summary.damagedPacks.isEmpty)
        repo = try ws.open()
        let after = try repo.statistics()
        #expect(after.documents == before.documents)
        #expect(after.versions == before.versions)
        #expect(after.logicalBytes == before.logicalBytes)
        #expect(try ws.exported(repo, "dir/report.txt") == Array(repeating: 0x62, count: 200_000))
        let inode = try #require(try repo.catalog.read { try $0.resolve(RepositoryPath("/dir/report.txt")!) })
        let document = try #require(try repo.catalog.read { try $0.node(inode) }?.document)
        let versions = try repo.catalog.read { try $0.versions(of: document) }
        #expect(versions.map(\.number.rawValue) == [1, 2])
    }

    @Test("recover falls back to an older checkpoint when the latest image is damaged, and leaves the damage out of the index")
    func recoverFallsBackToOlderCheckpoint() throws {
        let ws = try Workspace()
        let repo = try ws.create()
        try ws.write("a.txt", Array("first".utf8))
        _ = try repo.importTree(from: ws.source, to: .root)
        try ws.write("b.txt", Array("second".utf8))
        _ = try repo.importTree(from: ws.source, to: .root)
        try repo.close()
        let checkpoints = try storedCheckpoints(repo).sorted { $0.sequence > $1.sequence }
        try #require(checkpoints.count >= 2)
        let older = Set(checkpoints.dropFirst().flatMap { $0.manifest.chunks.map(\.id) })
        let unique = try #require(checkpoints[0].manifest.chunks.first { !older.contains($0.id) })
        try damage(repo, blob: unique.id)

        try FileManager.default.removeItem(atPath: ws.state)
        let summary = try Repository.recover(at: ws.repository, passphrase: ws.passphrase, stateRoot: ws.state)
        #expect(summary.checkpointSequence == checkpoints[1].sequence)
        #expect(summary.damagedPacks.count == 1 && summary.damagedPacks[0].hasPrefix("checkpoint \(checkpoints[0].sequence)"),
                "\(summary.damagedPacks)")
        #expect(summary.finalSequence == checkpoints[0].sequence)
        let reopened = try ws.open()
        #expect(try ws.exported(reopened, "b.txt") == Array("second".utf8))
        #expect(try reopened.statistics().documents == 2)
        #expect(try reopened.check(readData: false).isClean)
        // New writes must not deduplicate against the damaged chunk.
        #expect(try reopened.catalog.read { try $0.containsBlob(unique.id) } == false)
        try reopened.close()

        // The checkpoint recover wrote (at the same sequence as the damaged one) does not lean
        // on the damaged chunk: it restores.
        try FileManager.default.removeItem(atPath: ws.state)
        let again = try Repository.recover(at: ws.repository, passphrase: ws.passphrase, stateRoot: ws.state)
        #expect(again.checkpointSequence == summary.finalSequence, "\(again.damagedPacks)")
    }

    @Test("with no checkpoint readable, recover replays the whole journal into an empty catalog")
    func recoverFromJournalAlone() throws {
        let ws = try Workspace()
        let repo = try ws.create()
        try ws.write("dir/a.txt", Array("first".utf8))
        _ = try repo.importTree(from: ws.source, to: .root)
        try ws.write("dir/a.txt", Array("changed".utf8))
        _ = try repo.importTree(from: ws.source, to: .root)
        try repo.close()
        for blob in try storedBlobs(repo, kind: .catalogImage) { try damage(repo, blob: blob.entry.id) }

        try FileManager.default.removeItem(atPath: ws.state)
        let summary = try Repository.recover(at: ws.repository, passphrase: ws.passphrase, stateRoot: ws.state)
        #expect(summary.checkpointSequence == 0)
        #expect(summary.journalRecords == Int(summary.finalSequence))
        let reopened = try ws.open()
        #expect(try ws.exported(reopened, "dir/a.txt") == Array("changed".utf8))
        #expect(try reopened.statistics().versions == 2)
    }

    @Test("a recover that fails leaves the old catalog where it was and no half-built one")
    func failedRecoverLeavesNoCatalog() throws {
        let ws = try Workspace()
        let repo = try ws.create()
        try ws.write("a.txt", Array("first".utf8))
        _ = try repo.importTree(from: ws.source, to: .root)
        try repo.close()
        // Nothing to rebuild from: every checkpoint image and the first journal record are damaged.
        for blob in try storedBlobs(repo, kind: .catalogImage) { try damage(repo, blob: blob.entry.id) }
        let first = try #require(try storedBlobs(repo, kind: .journal).first { blob in
            JournalWriter.decode(try repo.store.read(blob.entry.id, from: blob, compressor: Compressor()))?.sequence == 1
        })
        try damage(repo, blob: first.entry.id)
        let catalog = Repository.catalogPath(stateRoot: ws.state, id: repo.config.id)
        let before = try ws.read(catalog)

        let error = #expect(throws: RepositoryError.self) {
            _ = try Repository.recover(at: ws.repository, passphrase: ws.passphrase, stateRoot: ws.state)
        }
        #expect(error?.code == .integrity, "\(String(describing: error))")
        #expect(try ws.read(catalog) == before)
        let left = try FileManager.default.contentsOfDirectory(atPath: (catalog as NSString).deletingLastPathComponent)
        #expect(left == ["catalog.db"], "\(left)")

        try FileManager.default.removeItem(atPath: ws.state)
        #expect(throws: RepositoryError.self) {
            _ = try Repository.recover(at: ws.repository, passphrase: ws.passphrase, stateRoot: ws.state)
        }
        #expect(!FileManager.default.fileExists(atPath: catalog))
        let error6 = #expect(throws: RepositoryError.self) { _ = try ws.open() }
        #expect(error6?.code == .catalogMissing)
    }

    @Test("an import checkpoints as soon as 256 journal records have accumulated, not only at its end")
    func importCheckpointsAtTheInterval() throws {
        let ws = try Workspace()
        let repo = try ws.create()
        let start = try repo.catalog.read { try $0.journalSequence() }
        // One record short of the interval since the checkpoint init wrote.
        for i in 1..<Repository.checkpointInterval {
            try repo.catalog.write { w in try w.setXattr(Array("user.n".utf8), to: Array("\(i)".utf8), on: .root) }
        }
        // Two batches: the first one makes the checkpoint due.
        for i in 0...Repository.importBatchEntries { try ws.write("f\(i)", []) }
        _ = try repo.importTree(from: ws.source, to: .root)
        let sequences = Set(try storedCheckpoints(repo).map(\.sequence))
        let due = start + Repository.checkpointInterval
        #expect(sequences == [start, due, due + 1], "\(sequences.sorted())")
    }

    @Test("journal records after the last checkpoint are replayed by recover")
    func recoverReplaysAfterCheckpoint() throws {
        let ws = try Workspace()
        let repo = try ws.create()
        for i in 0..<3 {
            try ws.write("f\(i).txt", Array("content \(i)".utf8))
            _ = try repo.importTree(from: ws.source, to: .root)
        }
        // A namespace change with no checkpoint after it.
        let inode = try #require(try repo.catalog.read { try $0.resolve(RepositoryPath("/f0.txt")!) })
        try repo.catalog.write { w in try w.setXattr(Array("user.note".utf8), to: Array("kept".utf8), on: inode) }
        repo.abandon()
        try FileManager.default.removeItem(atPath: ws.state)
        let summary = try Repository.recover(at: ws.repository, passphrase: ws.passphrase, stateRoot: ws.state)
        #expect(summary.journalRecords >= 1)
        let reopened = try ws.open()
        let xattrs = try reopened.catalog.read { try $0.xattrs(of: inode) }
        #expect(xattrs.map(\.value) == [Array("kept".utf8)])
    }

    @Test("re-importing an unchanged tree adds no version and stores nothing new")
    func unchangedImportIsFree() throws {
        let ws = try Workspace()
        try ws.write("x/y.bin", SecureRandom.bytes(300_000))
        let repo = try ws.create()
        _ = try repo.importTree(from: ws.source, to: .root)
        let before = try repo.statistics()
        let summary = try repo.importTree(from: ws.source, to: .root)
        let after = try repo.statistics()
        #expect(summary.newVersions == 0 && summary.unchanged == 1)
        #expect(after.versions == before.versions)
        #expect(after.uniqueBytes == before.uniqueBytes)
        // No journal record and no checkpoint either: not a single new pack.
        #expect(after.packs == before.packs)
        #expect(after.storedBytes == before.storedBytes)
    }

    @Test("a re-import records a changed mode or a stray xattr, with a new ctime, and nothing else")
    func changedAttributesAreRecorded() throws {
        let ws = try Workspace()
        try ws.write("a.txt", Array("a".utf8))
        try ws.write("b.txt", Array("b".utf8))
        let repo = try ws.create()
        _ = try repo.importTree(from: ws.source, to: .root)
        func node(_ name: String) throws -> NodeRecord {
            try #require(try repo.catalog.read { r in try r.resolve(RepositoryPath("/" + name)!).flatMap { try r.node($0) } })
        }
        // An xattr the source does not have goes at the next import.
        let b0 = try node("b.txt")
        try repo.catalog.write { w in try w.setXattr(Array("user.stray".utf8), to: [1], on: b0.inode) }
        let (a, b) = (try node("a.txt"), try node("b.txt"))
        let sequence = try repo.catalog.read { try $0.journalSequence() }
        chmod(ws.source + "/a.txt", 0o600)
        _ = try repo.importTree(from: ws.source, to: .root)
        let (a2, b2) = (try node("a.txt"), try node("b.txt"))
        #expect(a2.permissions == 0o600 && a2.changeTime > a.changeTime)
        #expect(b2.changeTime > b.changeTime)
        #expect(try repo.catalog.read { try $0.xattrs(of: b.inode) }.isEmpty)
        #expect(try repo.catalog.read { try $0.journalSequence() } == sequence + 1)
        let folder = try #require(try repo.catalog.read { try $0.node(.root) })
        _ = try repo.importTree(from: ws.source, to: .root)
        #expect(try repo.catalog.read { try $0.node(.root) } == folder)
        #expect(try node("a.txt") == a2)
        #expect(try repo.catalog.read { try $0.journalSequence() } == sequence + 1)
    }

    @Test("a name that exists as another kind is an invalid request, not a catalog failure")
    func importNameClash() throws {
        let ws = try Workspace()
        try ws.write("t", Array("a file".utf8))
        let repo = try ws.create()
        _ = try repo.importTree(from: ws.source, to: .root)
        try FileManager.default.removeItem(atPath: ws.source + "/t")
        try ws.write("t/inner.txt", Array("now a folder".utf8))
        let error = #expect(throws: RepositoryError.self) { _ = try repo.importTree(from: ws.source, to: .root) }
        #expect(error?.code == .invalidArgument, "\(String(describing: error))")
        #expect(error?.message.contains("/t") == true, "\(String(describing: error))")
    }

    @Test("lower layers' errors keep their meaning: a full disk is noSpace, damage is integrity")
    func wrappedErrorCodes() {
        #expect(RepositoryError.wrap(CatalogError(.noSpace, "full"), "import").code == .noSpace)
        #expect(RepositoryError.wrap(BlobStoreError(.noSpace, "full"), "import").code == .noSpace)
        #expect(RepositoryError.wrap(CatalogError(.corrupt, "bad"), "open").code == .integrity)
        #expect(RepositoryError.wrap(BlobStoreError(.corrupt, "bad"), "open").code == .integrity)
        #expect(RepositoryError.wrap(CatalogError(.sqlite, "odd"), "open").code == .failed)
        #expect(RepositoryError.wrap(CatalogError(.noSpace, "full"), "import of /src failed").message
                == "import of /src failed: full")
        #expect(RepositoryError.wrap(BlobStoreError(.io, "read x: EIO")).message == "read x: EIO")
        let original = RepositoryError(.invalidArgument, "as it was")
        #expect(RepositoryError.wrap(original, "context").message == "as it was")
    }

    @Test("a damaged catalog file is an integrity error that points at recover")
    func damagedCatalogFile() throws {
        let ws = try Workspace()
        let repo = try ws.create()
        try repo.close()
        let catalog = Repository.catalogPath(stateRoot: ws.state, id: repo.config.id)
        try Data(repeating: 0x5a, count: 8192).write(to: URL(fileURLWithPath: catalog))
        let error = #expect(throws: RepositoryError.self) { _ = try ws.open() }
        #expect(error?.code == .integrity, "\(String(describing: error))")
        #expect(error?.message.contains("nexusfs recover") == true, "\(String(describing: error))")
    }

    @Test("a damaged journal record met while rolling forward is an integrity error, not a bare pack error")
    func damagedJournalAtRollForward() throws {
        let ws = try Workspace()
        try ws.write("a.txt", Array("first".utf8))
        var repo = try ws.create()
        _ = try repo.importTree(from: ws.source, to: .root)
        try repo.close()
        let catalog = Repository.catalogPath(stateRoot: ws.state, id: repo.config.id)
        try FileManager.default.copyItem(atPath: catalog, toPath: ws.root + "/catalog.before")
        let packsBefore = Set(try repo.store.packNames())
        try ws.write("b.txt", Array("second".utf8))
        repo = try ws.open()
        _ = try repo.importTree(from: ws.source, to: .root)
        try repo.close()
        var damaged = 0
        for pack in try repo.store.packNames() where !packsBefore.contains(pack) {
            for entry in try repo.store.tableOfContents(of: pack) where entry.kind == .journal {
                try flipByte(in: repo.store.path(of: pack), at: entry.offset + UInt64(entry.frameLength) - 20)
                damaged += 1
            }
        }
        #expect(damaged == 1)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: catalog + suffix) }
        try FileManager.default.copyItem(atPath: ws.root + "/catalog.before", toPath: catalog)
        let error = #expect(throws: RepositoryError.self) { _ = try ws.open() }
        #expect(error?.code == .integrity, "\(String(describing: error))")
        #expect(error?.message.hasPrefix("cannot open repository \(ws.repository): ") == true, "\(String(describing: error))")
    }

    @Test("closing the repository commits a staged change instead of dropping it")
    func closeCommitsStaged() throws {
        let ws = try Workspace()
        let repo = try ws.create()
        try repo.catalog.stage { w in try w.setXattr(Array("user.kept".utf8), to: Array("yes".utf8), on: .root) }
        try repo.close()
        let reopened = try ws.open()
        #expect(try reopened.catalog.read { try $0.xattrs(of: .root) }.map(\.value) == [Array("yes".utf8)])
    }

    @Test("an import whose batch cannot be journaled leaves nothing staged that a later close would commit")
    func failedImportLeavesNothingStaged() throws {
        let ws = try Workspace()
        let repo = try ws.create()
        try ws.write("a.bin", SecureRandom.bytes(50_000))
        // Every pack shard is a file for the moment, so no pack can be sealed.
        let packs = ws.repository + "/packs"
        let aside = ws.root + "/shards"
        try FileManager.default.createDirectory(atPath: aside, withIntermediateDirectories: true)
        let shards = (0..<256).map { String(format: "%02x", $0) }
        for shard in shards {
            if FileManager.default.fileExists(atPath: packs + "/" + shard) {
                try FileManager.default.moveItem(atPath: packs + "/" + shard, toPath: aside + "/" + shard)
            }
            #expect(FileManager.default.createFile(atPath: packs + "/" + shard, contents: nil))
        }
        #expect(throws: RepositoryError.self) { _ = try repo.importTree(from: ws.source, to: .root) }
        #expect(!repo.catalog.hasStagedChanges)
        for shard in shards {
            try FileManager.default.removeItem(atPath: packs + "/" + shard)
            if FileManager.default.fileExists(atPath: aside + "/" + shard) {
                try FileManager.default.moveItem(atPath: aside + "/" + shard, toPath: packs + "/" + shard)
            }
        }
        try repo.close()
        let reopened = try ws.open()
        #expect(try reopened.statistics().documents == 0)
        #expect(try reopened.check(readData: true).isClean)
    }

    @Test("export writes a document's user.* attributes and leaves its ACL, markers and lock holder in the catalog")
    func exportWithACL() throws {
        let ws = try Workspace()
        let repo = try ws.create()
        try ws.write("granted.txt", Array("shared".utf8))
        _ = try repo.importTree(from: ws.source, to: .root)
        let inode = try #require(try repo.catalog.read { try $0.resolve(RepositoryPath("/granted.txt")!) })
        // What a grant to uid 65534 leaves: an access ACL, a marker; and a tag.
        let acl: [UInt8] = [2, 0, 0, 0, 1, 0, 6, 0, 255, 255, 255, 255, 2, 0, 4, 0, 254, 255, 0, 0, 4, 0, 4, 0, 255, 255, 255, 255,
                            16, 0, 4, 0, 255, 255, 255, 255, 32, 0, 4, 0, 255, 255, 255, 255]
        try repo.catalog.write { w in
            try w.setXattr(Array("system.posix_acl_access".utf8), to: acl, on: inode)
            try w.setXattr(Array("nexus.lock-holder".utf8), to: Array("0".utf8), on: inode)
            try w.setXattr(Array("user.xdg.tags".utf8), to: Array("a,b".utf8), on: inode)
        }
        let out = ws.root + "/export"
        _ = try repo.exportTree(.root, to: out)
        #expect(try ws.read(out + "/granted.txt") == Array("shared".utf8))
        // getxattr(2) is not in Glibc's module map.
        typealias GetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
        let getxattr = unsafeBitCast(try #require(dlsym(nil, "getxattr")), to: GetXattr.self)
        var value = [UInt8](repeating: 0, count: 64)
        #expect(getxattr(out + "/granted.txt", "user.xdg.tags", &value, value.count) == 3)
        #expect(getxattr(out + "/granted.txt", "system.posix_acl_access", &value, value.count) < 0)
        try repo.close()
    }

    @Test("export writes a tree 3,000 folders deep (past PATH_MAX) instead of overflowing the stack")
    func deepExport() throws {
        let ws = try Workspace()
        // FileManager does not remove a tree deeper than PATH_MAX; rm does.
        defer {
            let rm = Process()
            rm.executableURL = URL(fileURLWithPath: "/bin/rm")
            rm.arguments = ["-rf", ws.root]
            try? rm.run()
            rm.waitUntilExit()
        }
        let repo = try ws.create()
        var fd = open(ws.source, O_RDONLY | O_DIRECTORY)
        for _ in 0..<3000 {
            #expect(mkdirat(fd, "a", 0o755) == 0)
            let next = openat(fd, "a", O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = next
        }
        let file = openat(fd, "bottom.txt", O_WRONLY | O_CREAT, 0o644)
        #expect(write(file, "bottom", 6) == 6)
        close(file)
        close(fd)
        _ = try repo.importTree(from: ws.source, to: .root)
        let summary = try repo.exportTree(.root, to: ws.root + "/export")
        #expect(summary.folders == 3001 && summary.documents == 1)
        try repo.close()
    }

    @Test("planted or damaged key files do not lock the repository: the good key opens, and only when none does is the damage named")
    func hostileKeyFiles() throws {
        let ws = try Workspace()
        try ws.create().close()
        let keys = ws.repository + "/keys"
        let good = try #require(try FileManager.default.contentsOfDirectory(atPath: keys).first)
        var key = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: keys + "/" + good))) as? [String: Any])
        // Sorted before the good key, each would stop unlocking (or cost 4 GiB) if tried first.
        var kdf = try #require(key["kdf"] as? [String: Any])
        kdf["memoryKiB"] = 1 << 20
        kdf["iterations"] = 1
        var costly = key
        costly["kdf"] = kdf
        var badSalt = key
        badSalt["salt"] = "00"
        var badHex = key
        badHex["wrapped"] = "zz"
        var unreasonable = key
        unreasonable["kdf"] = ["algorithm": "argon2id", "iterations": 1000, "memoryKiB": 64, "parallelism": 1]
        for (name, file) in [("0000000000000000", costly), ("0000000000000001", badSalt), ("0000000000000002", badHex),
                             ("0000000000000003", unreasonable)] {
            var file = file
            file["id"] = name
            try JSONSerialization.data(withJSONObject: file).write(to: URL(fileURLWithPath: keys + "/" + name + ".key"))
        }
        try ws.open().close()
        // A wrong passphrase is still that, with the damaged files named; with only damaged files left, integrity.
        do {
            _ = try Repository.open(at: ws.repository, passphrase: Array("wrong".utf8), stateRoot: ws.state)
            Issue.record("a wrong passphrase opened the repository")
        } catch let error as RepositoryError {
            #expect(error.code == .wrongPassphrase)
            #expect(error.message.contains("keys/0000000000000002.key"), "\(error.message)")
        }
        try FileManager.default.removeItem(atPath: keys + "/" + good)
        try FileManager.default.removeItem(atPath: keys + "/0000000000000000.key")
        #expect(throws: RepositoryError.self) {
            do { _ = try ws.open() } catch let error as RepositoryError { #expect(error.code == .integrity); throw error }
        }
    }

    @Test("keys: a second passphrase opens the same repository, and a changed one replaces the old")
    func keyManagement() throws {
        let ws = try Workspace()
        try ws.create().close()
        let second = Array("second".utf8)
        _ = try Repository.addKey(at: ws.repository, passphrase: ws.passphrase, newPassphrase: second, kdf: .testing)
        #expect(try Repository.keys(at: ws.repository, passphrase: second).all.count == 2)
        _ = try Repository.open(at: ws.repository, passphrase: second, stateRoot: ws.state)
        let third = Array("third".utf8)
        _ = try Repository.changePassphrase(at: ws.repository, passphrase: second, newPassphrase: third, kdf: .testing)
        #expect(throws: RepositoryError.self) { _ = try Repository.keys(at: ws.repository, passphrase: second) }
        let (keys, current) = try Repository.keys(at: ws.repository, passphrase: third)
        #expect(keys.count == 2)
        #expect(throws: RepositoryError.self) { try Repository.removeKey(at: ws.repository, id: current, passphrase: third) }
        let other = try #require(keys.first { $0.id != current })
        try Repository.removeKey(at: ws.repository, id: other.id, passphrase: third)
        #expect(throws: RepositoryError.self) { _ = try Repository.keys(at: ws.repository, passphrase: ws.passphrase) }
    }
}

/// Inverts one byte of a file in place (files in a repository are read-only).
func flipByte(in path: String, at offset: UInt64) throws {
    chmod(path, 0o600)
    defer { chmod(path, 0o400) }
    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: offset)
    let byte = try #require(try handle.read(upToCount: 1)?.first)
    try handle.seek(toOffset: offset)
    try handle.write(contentsOf: [~byte])
}

/// Every blob of `kind` in the repository's packs, with where it is.
func storedBlobs(_ repo: Repository, kind: BlobKind) throws -> [(pack: PackName, entry: PackEntry)] {
    try repo.store.packNames().flatMap { pack in
        try repo.store.tableOfContents(of: pack).filter { $0.kind == kind }.map { (pack, $0) }
    }
}

/// The checkpoints stored in the repository's packs.
func storedCheckpoints(_ repo: Repository) throws -> [(sequence: UInt64, manifest: ContentManifest)] {
    try storedBlobs(repo, kind: .checkpoint).compactMap { blob in
        Repository.decodeCheckpoint(try repo.store.read(blob.entry.id, from: blob, compressor: Compressor()))
    }
}

/// Damages the stored payload of a blob, wherever it is.
func damage(_ repo: Repository, blob id: BlobID) throws {
    for pack in try repo.store.packNames() {
        for entry in try repo.store.tableOfContents(of: pack) where entry.id == id {
            try flipByte(in: repo.store.path(of: pack), at: entry.offset + UInt64(entry.frameLength) - 20)
        }
    }
    repo.store.dropCachedReaders()
}
