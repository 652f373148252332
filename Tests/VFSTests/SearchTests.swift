import CatalogStore
import Foundation
import Glibc
import NexusTypes
import RepositoryCore
@testable import VFS
import Testing

/// Full-text search at the volume: what the index finds after saves, renames, field changes and
/// deletes, in what order, for whom; and that it survives a reopen, a recover and a lost index.
/// The mount tests check the same through real programs and real formats.
@Suite("Search")
struct SearchTests {
    let bob = Caller(uid: 2002, gid: 2002)

    func name(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The paths `query` finds for `caller` (nil: everything), best first.
    func found(_ volume: Volume, _ query: String, as caller: Caller? = nil) throws -> [String] {
        try volume.search(SearchQuery(parsing: query), caller: caller).map { String(decoding: $0.path, as: UTF8.self) }
    }

    /// Four documents in two folders, indexed.
    func corpus() throws -> (TestVolume, legal: InodeNumber, notes: InodeNumber) {
        let t = try TestVolume()
        let legal = try t.volume.makeDirectory(name("legal"), in: .root, mode: 0o755, caller: t.user).inode
        let notes = try t.create("acme-contract.txt", in: legal, name("The Acme master contract, signed in March.\n"))
        _ = try t.create("globex.txt", in: legal, name("Globex invoice for March; the contract is pending.\n"))
        _ = try t.create("minutes.txt", name("Minutes: acme acme acme acme, then lunch.\n"))
        _ = try t.create("lunch.txt", name("Lunch menu for Thursday.\n"))
        try t.volume.indexPending()
        return (t, legal, notes)
    }

    @Test("every query finds exactly the documents holding its words, fields or phrase")
    func exactSets() throws {
        let (t, _, _) = try corpus()
        #expect(Set(try found(t.volume, "acme")) == ["/legal/acme-contract.txt", "/minutes.txt"])
        #expect(try found(t.volume, "acme contract") == ["/legal/acme-contract.txt"])
        #expect(Set(try found(t.volume, "march")) == ["/legal/acme-contract.txt", "/legal/globex.txt"])
        #expect(try found(t.volume, "\"contract is pending\"") == ["/legal/globex.txt"])
        #expect(Set(try found(t.volume, "acme OR globex")) == ["/legal/acme-contract.txt", "/legal/globex.txt", "/minutes.txt"])
        #expect(try found(t.volume, "march -globex") == ["/legal/acme-contract.txt"])
        #expect(Set(try found(t.volume, "lunch*")) == ["/minutes.txt", "/lunch.txt"])
        #expect(try found(t.volume, "thursday path:legal").isEmpty)
        #expect(Set(try found(t.volume, "march path:legal")) == ["/legal/acme-contract.txt", "/legal/globex.txt"])
        #expect(try found(t.volume, "nothing-like-this").isEmpty)
        // Diacritics and case do not matter.
        _ = try t.create("cafe.txt", name("Le Café de l'Économie\n"))
        try t.volume.indexPending()
        #expect(try found(t.volume, "cafe economie") == ["/cafe.txt"])
        #expect(try found(t.volume, "ÉCONOMIE") == ["/cafe.txt"])
    }

    @Test("a word four times ranks above once, and a word in the name above one in the text")
    func ranking() throws {
        let (t, _, _) = try corpus()
        _ = try t.create("memo.txt", name("A memo that names acme once among many other words of no interest.\n"))
        try t.volume.indexPending()
        #expect(try found(t.volume, "acme") == ["/legal/acme-contract.txt", "/minutes.txt", "/memo.txt"])
        _ = try t.create("thursday.txt", name("Nothing here.\n"))
        try t.volume.indexPending()
        #expect(try found(t.volume, "thursday") == ["/thursday.txt", "/lunch.txt"])
    }

    @Test("saves, renames, tags, status, description, fields and deletes are indexed")
    func keptCurrent() throws {
        let (t, legal, doc) = try corpus()
        // A new content replaces the old words.
        let handle = try t.volume.open(doc, flags: O_RDWR, caller: t.user)
        _ = try t.volume.setAttributes(doc, AttributeChanges(size: 0), handle: handle, caller: t.user)
        try t.write(handle, name("Initech memo.\n"))
        try t.volume.release(handle)
        try t.volume.indexPending()
        #expect(try found(t.volume, "initech") == ["/legal/acme-contract.txt"])
        let march = try found(t.volume, "march")
        #expect(march == ["/legal/globex.txt"], "the old text is gone")
        #expect(Set(try found(t.volume, "acme")) == ["/legal/acme-contract.txt", "/minutes.txt"], "the name still says acme")
        try t.volume.rename(name("acme-contract.txt"), in: legal, to: name("initech.txt"), in: .root, flags: [], caller: t.user)
        try t.volume.setXattr(name("user.xdg.tags"), to: name("contract, big deal"), flags: 0, on: doc, caller: t.user)
        try t.volume.setXattr(name("user.xdg.comment"), to: name("Signed by Bob in person"), flags: 0, on: doc, caller: t.user)
        try t.volume.setXattr(name("user.nexus.meta.client"), to: name("Initrode"), flags: 0, on: doc, caller: t.user)
        try t.volume.indexPending()
        #expect(try found(t.volume, "initech") == ["/initech.txt"])
        #expect(try found(t.volume, "tag:contract") == ["/initech.txt"])
        #expect(try found(t.volume, "tag:\"big deal\"") == ["/initech.txt"])
        #expect(try found(t.volume, "tag:big").isEmpty, "a tag matches whole")
        #expect(try found(t.volume, "person") == ["/initech.txt"])
        #expect(try found(t.volume, "initrode") == ["/initech.txt"])
        #expect(try found(t.volume, "name:initech") == ["/initech.txt"])
        #expect(try found(t.volume, "initech type:text") == ["/initech.txt"])
        #expect(try found(t.volume, "initech type:pdf").isEmpty)
        try t.volume.setXattr(name("user.nexus.status"), to: name("review"), flags: 0, on: doc, caller: t.user)
        try t.volume.indexPending()
        #expect(try found(t.volume, "status:review") == ["/initech.txt"])
        #expect(try found(t.volume, "initech status:approved").isEmpty)
        try t.volume.unlink(name("initech.txt"), in: .root, caller: t.user)
        try t.volume.indexPending()
        #expect(try found(t.volume, "initech").isEmpty, "deleted (in the trash) is not found")
        #expect(try t.volume.searchStatistics().pending == 0)
    }

    @Test("a sparse file of a terabyte is indexed by its name without reading its hole into memory")
    func sparseFile() throws {
        let t = try TestVolume()
        let huge = try t.create("huge-sparse.img", name(""))
        let handle = try t.volume.open(huge, flags: O_RDWR, caller: t.user)
        _ = try t.volume.setAttributes(huge, AttributeChanges(size: 1 << 40), handle: handle, caller: t.user)
        try t.volume.release(handle)
        try t.volume.indexPending()
        #expect(try found(t.volume, "huge") == ["/huge-sparse.img"])
        #expect(try t.volume.searchStatistics().pending == 0)
    }

    @Test("a caller who may not read a document, or enter its folder, gets no hit and no snippet")
    func permissions() throws {
        let (t, legal, doc) = try corpus()
        #expect(try found(t.volume, "acme", as: bob).count == 2)
        _ = try t.volume.setAttributes(doc, AttributeChanges(mode: 0o600), handle: nil, caller: t.user)
        #expect(try found(t.volume, "acme", as: bob) == ["/minutes.txt"])
        #expect(try found(t.volume, "acme", as: t.user).count == 2)
        _ = try t.volume.setAttributes(doc, AttributeChanges(mode: 0o644), handle: nil, caller: t.user)
        _ = try t.volume.setAttributes(legal, AttributeChanges(mode: 0o700), handle: nil, caller: t.user)
        #expect(try found(t.volume, "march", as: bob).isEmpty)
        let report = try t.volume.searchReport("march", caller: bob)
        #expect(!String(decoding: report, as: UTF8.self).contains("March"), "no snippet leaks")
        #expect(try found(t.volume, "march").count == 2, "root sees everything")
    }

    @Test("the queue survives a reopen, and a recover rebuilds the index from the journal")
    func durability() throws {
        let t = try TestVolume()
        _ = try t.create("a.txt", name("Zanzibar ledger\n"))
        try t.volume.commitNow()
        #expect(try t.volume.searchStatistics().pending == 1, "not indexed yet")
        var (repository, volume) = try t.reopen()
        #expect(try volume.searchStatistics().pending == 1, "still queued after a reopen")
        try volume.indexPending()
        #expect(try found(volume, "zanzibar") == ["/a.txt"])
        try repository.checkpoint()
        try volume.shutdown()
        _ = try Repository.recover(at: t.root + "/repo", passphrase: name("pw"), stateRoot: t.root + "/state")
        repository = try Repository.open(at: t.root + "/repo", passphrase: name("pw"), stateRoot: t.root + "/state")
        volume = try Volume(repository: repository)
        #expect(try found(volume, "zanzibar") == ["/a.txt"], "the index is rebuilt from the checkpoint's text")
        #expect(try volume.searchStatistics().pending == 0)
        // Indexed after the checkpoint: the text comes back by replaying the journal.
        let (_, handle) = try volume.create(name("b.txt"), in: .root, mode: 0o644, flags: O_RDWR, caller: t.user)
        _ = try name("Timbuktu ledger\n").withUnsafeBytes { try volume.write(handle, at: 0, data: $0, caller: t.user) }
        try volume.release(handle)
        try volume.indexPending()
        try volume.shutdown()
        _ = try Repository.recover(at: t.root + "/repo", passphrase: name("pw"), stateRoot: t.root + "/state")
        repository = try Repository.open(at: t.root + "/repo", passphrase: name("pw"), stateRoot: t.root + "/state")
        volume = try Volume(repository: repository)
        #expect(Set(try found(volume, "ledger")) == ["/a.txt", "/b.txt"])
        #expect(try found(volume, "timbuktu") == ["/b.txt"])
        #expect(try volume.searchStatistics().documents == 2)
        try volume.shutdown()
    }

    @Test("a query FTS5 would take as syntax is searched for as words, and a bad one is refused with a reason")
    func hostileQueries() throws {
        let (t, _, _) = try corpus()
        for text in ["NEAR(acme", "acme AND", "*", "\"", "acme:", "-", "tag:", "OR acme", "since:never", "limit:0", "col:x acme"] {
            do {
                _ = try t.volume.search(SearchQuery(parsing: text), caller: nil)
            } catch let error as RepositoryError {
                #expect(error.code == .invalidArgument, "\(text): \(error)")
            }
        }
        #expect(try found(t.volume, "NEAR(acme").isEmpty, "searched as the phrase \"near acme\"")
        #expect(try found(t.volume, "acme:") == found(t.volume, "acme"))
    }
}
