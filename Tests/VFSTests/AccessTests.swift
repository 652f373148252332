import CatalogStore
import CryptoCore
import Foundation
import Glibc
import NexusTypes
@testable import VFS
import Testing

/// ACLs, DMS levels and the workflow rules at the volume, without the kernel: the mount tests
/// check the same through real programs as real users.
@Suite("Access")
struct AccessTests {
    let alice = Caller(uid: 2001, gid: 2001)
    let bob = Caller(uid: 2002, gid: 2002)
    let carol = Caller(uid: 2003, gid: 2003, supplementaryGroups: { [2100] })

    func name(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// A folder owned by alice (0750) with a document she wrote.
    func fixture() throws -> (TestVolume, folder: InodeNumber, doc: InodeNumber) {
        let t = try TestVolume()
        let folder = try t.volume.makeDirectory(name("proj"), in: .root, mode: 0o750, caller: alice).inode
        let (attributes, handle) = try t.volume.create(name("doc.txt"), in: folder, mode: 0o644, flags: O_RDWR, caller: alice)
        _ = try Array("one\n".utf8).withUnsafeBytes { try t.volume.write(handle, at: 0, data: $0, caller: alice) }
        try t.volume.release(handle)
        return (t, folder, attributes.inode)
    }

    @Test("the ACL xattr round-trips, sets the mode, and a minimal one is not kept")
    func aclRoundTrip() throws {
        let acl = try PosixACL(entries: [.init(.userObject, 6), .init(.user, 4, id: 2002), .init(.groupObject, 4),
                                         .init(.mask, 4), .init(.other, 0)])
        #expect(try PosixACL(xattr: acl.xattr) == acl)
        #expect(acl.modeBits == 0o640)
        #expect(acl.permissions(uid: 2002, groups: [2002], owner: 2001, ownerGroup: 2001) == 4)
        #expect(acl.permissions(uid: 2003, groups: [2003], owner: 2001, ownerGroup: 2001) == 0)
        #expect(acl.applying(mode: 0o600).permissions(uid: 2002, groups: [2002], owner: 2001, ownerGroup: 2001) == 0,
                "chmod g-r masks the named entry")
        #expect(throws: VFSError.self) { try PosixACL(xattr: [2, 0, 0, 0, 1, 0, 6, 0]) }
        #expect(throws: VFSError.self) {
            try PosixACL(entries: [.init(.userObject, 6), .init(.user, 4, id: 7), .init(.groupObject, 4), .init(.other, 0)])
        }

        let (t, _, doc) = try fixture()
        try t.volume.setXattr(PosixACL.accessName, to: acl.xattr, flags: 0, on: doc, caller: alice)
        #expect(try t.volume.attributes(of: doc).mode & 0o777 == 0o640)
        #expect(try t.volume.xattr(PosixACL.accessName, of: doc, caller: alice) == acl.xattr)
        #expect(try t.volume.xattrNames(of: doc).contains(PosixACL.accessName))
        #expect { try t.volume.setXattr(PosixACL.accessName, to: acl.xattr, flags: 0, on: doc, caller: bob) } throws: {
            ($0 as? VFSError)?.code == .notPermitted
        }
        _ = try t.volume.setAttributes(doc, AttributeChanges(mode: 0o2640), handle: nil, caller: alice)
        try t.volume.setXattr(PosixACL.accessName, to: acl.xattr, flags: 0, on: doc,
                              caller: Caller(uid: 2001, gid: 2999, supplementaryGroups: { [] }))
        #expect(try t.volume.attributes(of: doc).mode & 0o2000 == 0, "setgid goes when the owner is outside the group")
        _ = try t.volume.setAttributes(doc, AttributeChanges(mode: 0o600), handle: nil, caller: alice)
        let masked = try PosixACL(xattr: try t.volume.xattr(PosixACL.accessName, of: doc, caller: alice))
        #expect(masked.entry(.mask)?.permissions == 0, "chmod sets the mask, as on a local disk")
        try t.volume.setXattr(PosixACL.accessName, to: PosixACL(mode: 0o644).xattr, flags: 0, on: doc, caller: alice)
        #expect { try t.volume.xattr(PosixACL.accessName, of: doc, caller: alice) } throws: { ($0 as? VFSError)?.code == .noData }
        // Binary values (the ACL, a NUL byte) reach the audit log in a form its chain verifies.
        try t.volume.setXattr(name("user.raw"), to: [0, 1, 2, 0xff], flags: 0, on: doc, caller: alice)
        let audit = try t.repository.verifyAudit()
        #expect(audit.damage == nil, "\(String(describing: audit.damage))")
        let entries = try t.repository.auditEntries()
        #expect(entries.contains { $0.event.action == "xattr.set system.posix_acl_access" && $0.event.after == "u::rw-,u:2002:r--,g::r--,m::r--,o::---" })
        #expect(entries.contains { $0.event.action == "xattr.set user.raw" && $0.event.after == "hex:000102ff (4 bytes)" })
    }

    @Test("a folder's default ACL is inherited without the umask; without one the umask applies")
    func inheritance() throws {
        let (t, folder, _) = try fixture()
        let masked = try t.volume.makeDirectory(name("plain"), in: folder, mode: 0o777,
                                                caller: Caller(uid: 2001, gid: 2001, umask: 0o027))
        #expect(masked.mode & 0o7777 == 0o750)
        let changed = try t.volume.grant(.edit, to: .user(2002), on: folder, recursive: false, caller: alice)
        #expect(changed == [folder])
        let (child, handle) = try t.volume.create(name("new.txt"), in: folder, mode: 0o666, flags: O_RDWR,
                                                  caller: Caller(uid: 2001, gid: 2001, umask: 0o077))
        try t.volume.release(handle)
        #expect(try t.volume.level(of: bob, on: child.inode) == .edit)
        #expect(child.mode & 0o777 == 0o660, "the default ACL limited by the creation mode; the umask (077) does not apply")
        let sub = try t.volume.makeDirectory(name("sub"), in: folder, mode: 0o755, caller: alice)
        #expect(try t.volume.xattr(PosixACL.defaultName, of: sub.inode, caller: alice).isEmpty == false,
                "a subfolder inherits the default ACL itself")
        _ = try t.volume.grant(.view, to: .user(2003), on: child.inode, recursive: false, caller: alice)
        #expect(try t.volume.attributes(of: child.inode).mode & 0o111 == 0,
                "the folder's rwx entries do not make the document executable when the mask is recomputed")
        let report = try t.volume.accessReport(of: child.inode)
        #expect(report.contains(AccessGrant(principal: .user(2002), level: .edit, reason: "inherited from /proj")))
    }

    @Test("levels: owner, grants with comment and admin markers, groups, public, and who may grant")
    func levels() throws {
        let (t, folder, doc) = try fixture()
        #expect(try t.volume.level(of: alice, on: doc) == .owner)
        #expect(try t.volume.level(of: bob, on: doc) == .view, "0644: everyone reads")
        _ = try t.volume.grant(.none, to: .everyone, on: doc, recursive: false, caller: alice)
        #expect(try t.volume.level(of: bob, on: doc) == .none)
        _ = try t.volume.grant(.comment, to: .user(2002), on: doc, recursive: false, caller: alice)
        #expect(try t.volume.level(of: bob, on: doc) == .comment)
        _ = try t.volume.grant(.admin, to: .group(2100), on: folder, recursive: true, caller: alice)
        #expect(try t.volume.level(of: carol, on: doc) == .admin)
        #expect { _ = try t.volume.grant(.edit, to: .user(2004), on: doc, recursive: false, caller: bob) } throws: {
            ($0 as? VFSError)?.code == .notPermitted
        }
        _ = try t.volume.grant(.edit, to: .user(2004), on: doc, recursive: false, caller: carol)
        #expect(try t.volume.level(of: Caller(uid: 2004, gid: 2004), on: doc) == .edit)
        #expect { _ = try t.volume.grant(.owner, to: .user(2003), on: doc, recursive: false, caller: carol) } throws: {
            ($0 as? VFSError)?.code == .notPermitted
        }
        #expect { _ = try t.volume.grant(.edit, to: .everyone, on: doc, recursive: false, caller: alice) } throws: {
            ($0 as? VFSError)?.code == .invalid
        }
        _ = try t.volume.grant(.none, to: .user(2002), on: doc, recursive: false, caller: alice)
        #expect(try t.volume.level(of: bob, on: doc) == .none)
        #expect(try t.volume.accessReport(of: doc).contains { $0.principal == .user(2002) } == false)
    }

    @Test("workflow: edit submits for review, admin approves; approved refuses writes until back to draft")
    func workflow() throws {
        let (t, folder, doc) = try fixture()
        _ = try t.volume.grant(.edit, to: .user(2002), on: folder, recursive: true, caller: alice)
        let status = name("user.nexus.status")
        func set(_ value: String, as caller: Caller) -> VFSError.Code? {
            do {
                try t.volume.setXattr(status, to: name(value), flags: 0, on: doc, caller: caller)
                return nil
            } catch let error as VFSError {
                return error.code
            } catch {
                return .io
            }
        }
        #expect(set("published", as: alice) == .invalid)
        #expect(set("approved", as: bob) == .permissionDenied)
        #expect(set("review", as: bob) == nil)
        #expect(set("approved", as: bob) == .permissionDenied)
        #expect(try t.volume.xattr(status, of: doc, caller: bob) == name("review"), "a refusal changes nothing")
        #expect(set("approved", as: alice) == nil)
        #expect { _ = try t.volume.open(doc, flags: O_WRONLY, caller: alice) } throws: { ($0 as? VFSError)?.code == .permissionDenied }
        #expect { try t.volume.unlink(name("doc.txt"), in: folder, caller: alice) } throws: { ($0 as? VFSError)?.code == .permissionDenied }
        #expect(set("review", as: alice) == .invalid)
        #expect(set("archived", as: alice) == nil)
        #expect(set("approved", as: alice) == .invalid)
        #expect(set("draft", as: bob) == .permissionDenied)
        #expect(set("draft", as: alice) == nil)
        try t.volume.release(try t.volume.open(doc, flags: O_WRONLY, caller: bob))
    }

    @Test("lock: the holder keeps writing; others are refused until the holder or an admin releases it")
    func lock() throws {
        let (t, folder, doc) = try fixture()
        _ = try t.volume.grant(.edit, to: .user(2002), on: folder, recursive: true, caller: alice)
        try t.volume.setXattr(name("user.nexus.lock"), to: name("editing"), flags: 0, on: doc, caller: bob)
        #expect(try t.volume.xattr(name("user.nexus.locked-by"), of: doc, caller: alice) == name(UserNames.name(ofUser: 2002)))
        #expect { _ = try t.volume.open(doc, flags: O_WRONLY, caller: alice) } throws: { ($0 as? VFSError)?.code == .permissionDenied }
        #expect { try t.volume.rename(name("doc.txt"), in: folder, to: name("x.txt"), in: folder, flags: [], caller: alice) } throws: {
            ($0 as? VFSError)?.code == .permissionDenied
        }
        #expect { try t.volume.setXattr(name("user.xdg.tags"), to: name("x"), flags: 0, on: doc, caller: alice) } throws: {
            ($0 as? VFSError)?.code == .permissionDenied
        }
        try t.volume.release(try t.volume.open(doc, flags: O_WRONLY, caller: bob))
        try t.volume.removeXattr(name("user.nexus.lock"), from: doc, caller: alice)
        #expect { try t.volume.xattr(name("user.nexus.locked-by"), of: doc, caller: alice) } throws: { ($0 as? VFSError)?.code == .noData }
        try t.volume.release(try t.volume.open(doc, flags: O_WRONLY, caller: alice))
    }

    @Test("hold: unlink and replacing are refused, a save renamed over the document is not")
    func hold() throws {
        let (t, folder, doc) = try fixture()
        try t.volume.setXattr(name("user.nexus.hold"), to: name("case 7"), flags: 0, on: doc, caller: alice)
        #expect { try t.volume.unlink(name("doc.txt"), in: folder, caller: alice) } throws: { ($0 as? VFSError)?.code == .notPermitted }
        let (_, handle) = try t.volume.create(name(".doc.txt.tmp1"), in: folder, mode: 0o644, flags: O_RDWR, caller: alice)
        _ = try Array("two\n".utf8).withUnsafeBytes { try t.volume.write(handle, at: 0, data: $0, caller: alice) }
        try t.volume.release(handle)
        try t.volume.rename(name(".doc.txt.tmp1"), in: folder, to: name("doc.txt"), in: folder, flags: [], caller: alice)
        let saved = try t.volume.lookup(name("doc.txt"), in: folder).inode
        #expect(try t.volume.xattr(name("user.nexus.hold"), of: saved, caller: alice) == name("case 7"))
        #expect(try t.versions(saved).count == 2)
        #expect { try t.volume.unlink(name("doc.txt"), in: folder, caller: alice) } throws: { ($0 as? VFSError)?.code == .notPermitted }
    }

    @Test("computed attributes are readable, never listed, and refuse writes")
    func computed() throws {
        let (t, _, doc) = try fixture()
        #expect(try t.volume.xattr(name("user.nexus.sha256"), of: doc, caller: alice)
                == name(Hex.encode(SHA256Hasher.hash(Array("one\n".utf8)))))
        #expect(try t.volume.xattr(name("user.nexus.version"), of: doc, caller: alice) == name("1"))
        #expect(try t.volume.xattr(name("user.nexus.access"), of: doc, caller: bob) == name("view"))
        for computed in ["version", "sha256", "id", "access", "locked-by"] {
            #expect { try t.volume.setXattr(name("user.nexus.\(computed)"), to: name("x"), flags: 0, on: doc, caller: alice) } throws: {
                ($0 as? VFSError)?.code == .notPermitted
            }
        }
        try t.volume.setXattr(name("user.xdg.tags"), to: name("red"), flags: 0, on: doc, caller: alice)
        #expect(try t.volume.xattrNames(of: doc) == [name("user.xdg.tags")])
    }

    /// A file named `name` in `folder`, written by `caller` (one save: one version).
    func write(_ t: TestVolume, _ name: String, in folder: InodeNumber, _ text: String, as caller: Caller,
               mode: UInt32 = 0o644) throws -> InodeNumber {
        let (attributes, handle) = try t.volume.create(self.name(name), in: folder, mode: mode, flags: O_RDWR, caller: caller)
        _ = try Array(text.utf8).withUnsafeBytes { try t.volume.write(handle, at: 0, data: $0, caller: caller) }
        try t.volume.release(handle)
        return attributes.inode
    }

    @Test("renaming another user's document over your own file moves it, as on a local disk: no takeover, no lost history")
    func noTakeoverByRename() throws {
        let t = try TestVolume()
        let shared = try t.volume.makeDirectory(name("shared"), in: .root, mode: 0o777, caller: .root).inode
        let secret = try write(t, "salary.txt", in: shared, "alice salary\n", as: alice, mode: 0o600)
        let handle = try t.volume.open(secret, flags: O_WRONLY, caller: alice)
        _ = try Array("v2\n".utf8).withUnsafeBytes { try t.volume.write(handle, at: 0, data: $0, caller: alice) }
        try t.volume.release(handle)
        _ = try write(t, "bob.txt", in: shared, "bob\n", as: bob)
        try t.volume.rename(name("salary.txt"), in: shared, to: name("salary.txt.tmp"), in: shared, flags: [], caller: bob)
        try t.volume.rename(name("salary.txt.tmp"), in: shared, to: name("bob.txt"), in: shared, flags: [], caller: bob)
        let moved = try t.volume.lookup(name("bob.txt"), in: shared)
        #expect(moved.inode == secret && moved.uid == alice.uid && moved.mode & 0o777 == 0o600)
        #expect(try t.versions(secret).count == 2, "the history went with the document")
        #expect(try t.volume.level(of: bob, on: secret) == .none)
    }

    @Test("a save by rename keeps the document's status, hold and lock, not the temporary file's; comments stay")
    func saveKeepsTheDocumentsRules() throws {
        let (t, folder, doc) = try fixture()
        _ = try t.volume.grant(.edit, to: .user(2002), on: folder, recursive: true, caller: alice)
        try t.volume.addComment("first look", on: doc, caller: alice)
        try t.volume.setXattr(name("user.nexus.status"), to: name("review"), flags: 0, on: doc, caller: bob)
        let temp = try write(t, ".doc.txt.tmp", in: folder, "two\n", as: bob)
        // Bob owns the temporary file, so he may approve it; that is not an approval of the document.
        try t.volume.setXattr(name("user.nexus.status"), to: name("approved"), flags: 0, on: temp, caller: bob)
        try t.volume.rename(name(".doc.txt.tmp"), in: folder, to: name("doc.txt"), in: folder, flags: [], caller: bob)
        let saved = try t.volume.lookup(name("doc.txt"), in: folder).inode
        #expect(saved == temp && saved != doc)
        #expect(try t.volume.xattr(name("user.nexus.status"), of: saved, caller: alice) == name("review"))
        #expect(try t.volume.attributes(of: saved).uid == alice.uid, "the document keeps its owner")
        #expect(try t.volume.policy.comments(of: saved).map(\.text) == ["first look"])
        #expect(try t.versions(saved).count == 2)

        // A file under hold is never dissolved into a document: renamed over it, it replaces it.
        let held = try write(t, ".doc.txt.tmp2", in: folder, "three\n", as: bob)
        try t.volume.setXattr(name("user.nexus.hold"), to: name("mine"), flags: 0, on: held, caller: bob)
        try t.volume.rename(name(".doc.txt.tmp2"), in: folder, to: name("doc.txt"), in: folder, flags: [], caller: bob)
        #expect(try t.volume.attributes(of: held).uid == bob.uid)
        #expect(try t.versions(saved).count == 2, "the replaced document's history stays")
    }

    @Test("view-level users cannot save by rename or by delete and recreate; another user's recreate is their own file")
    func noSaveWithoutEdit() throws {
        let t = try TestVolume()
        let shared = try t.volume.makeDirectory(name("shared"), in: .root, mode: 0o777, caller: .root).inode
        let doc = try write(t, "policy.txt", in: shared, "policy\n", as: alice)
        _ = try write(t, "policy.txt.new", in: shared, "bob rewrote\n", as: bob)
        try t.volume.rename(name("policy.txt.new"), in: shared, to: name("policy.txt"), in: shared, flags: [], caller: bob)
        let replaced = try t.volume.lookup(name("policy.txt"), in: shared)
        #expect(replaced.uid == bob.uid, "a plain replace: bob's file, not a version of alice's document")
        #expect(try t.versions(doc).count == 1)

        _ = try write(t, "notes.txt", in: shared, "alice notes\n", as: alice)
        try t.volume.unlink(name("notes.txt"), in: shared, caller: alice)
        let recreated = try write(t, "notes.txt", in: shared, "bob private\n",
                                  as: Caller(uid: 2002, gid: 2002, umask: 0o077), mode: 0o666)
        let attributes = try t.volume.attributes(of: recreated)
        #expect(attributes.uid == bob.uid && attributes.mode & 0o777 == 0o600)
    }

    @Test("a recursive grant needs the caller to manage everything it reaches (all or nothing); a recursive revoke reaches everything")
    func recursiveGrantStaysInItsLane() throws {
        let (t, folder, _) = try fixture()
        _ = try t.volume.grant(.edit, to: .user(2002), on: folder, recursive: false, caller: alice)
        _ = try t.volume.grant(.edit, to: .user(2003), on: folder, recursive: false, caller: alice)
        let bobs = try write(t, "bob-secret.txt", in: folder, "bob only\n", as: bob, mode: 0o600)
        try t.volume.setXattr(PosixACL.accessName, to: PosixACL(mode: 0o600).xattr, flags: 0, on: bobs, caller: bob)
        #expect { _ = try t.volume.grant(.owner, to: .user(2001), on: folder, recursive: true, caller: alice) } throws: {
            ($0 as? VFSError)?.code == .notPermitted
        }
        #expect { _ = try t.volume.grant(.view, to: .user(2004), on: folder, recursive: true, caller: alice) } throws: {
            ($0 as? VFSError)?.code == .notPermitted
        }
        #expect(try t.volume.attributes(of: bobs).uid == bob.uid)
        #expect(try t.volume.level(of: Caller(uid: 2004, gid: 2004), on: folder) == .none, "a refused grant changes nothing")
        try t.volume.setXattr(PosixACL.accessName, to: PosixACL(xattr: try t.volume.xattr(PosixACL.accessName, of: folder, caller: alice))
                                .setting(.user, id: 2003, permissions: 6).xattr, flags: 0, on: bobs, caller: bob)
        #expect(try t.volume.level(of: carol, on: bobs) == .edit)
        _ = try t.volume.grant(.none, to: .user(2003), on: folder, recursive: true, caller: alice)
        #expect(try t.volume.level(of: carol, on: bobs) == .none, "the folder's owner revokes inside her folder")
        #expect { _ = try t.volume.grant(.view, to: .user(UInt32.max), on: folder, recursive: false, caller: alice) } throws: {
            ($0 as? VFSError)?.code == .invalid
        }
    }

    @Test("a temporary name moved into a just-deleted name continues that document only with a file of the mover's own")
    func noTakeoverThroughARecentName() throws {
        let t = try TestVolume()
        let shared = try t.volume.makeDirectory(name("shared"), in: .root, mode: 0o777, caller: .root).inode
        let held = try write(t, "HX", in: shared, "legal\n", as: alice, mode: 0o600)
        try t.volume.setXattr(name("user.nexus.hold"), to: name("case 7"), flags: 0, on: held, caller: alice)
        _ = try write(t, "E9", in: shared, "e\n", as: bob)
        try t.volume.unlink(name("E9"), in: shared, caller: bob)
        try t.volume.rename(name("HX"), in: shared, to: name(".hx.tmp"), in: shared, flags: [], caller: bob)
        try t.volume.rename(name(".hx.tmp"), in: shared, to: name("E9"), in: shared, flags: [], caller: bob)
        let moved = try t.volume.attributes(of: held)
        #expect(moved.uid == alice.uid && moved.mode & 0o777 == 0o600)
        #expect(try t.volume.xattr(name("user.nexus.hold"), of: held, caller: alice) == name("case 7"))
        #expect { try t.volume.unlink(name("E9"), in: shared, caller: bob) } throws: { ($0 as? VFSError)?.code == .notPermitted }
    }

    @Test("a lock freezes the status for others (not a legal hold); edit needs one ACL entry with read and write")
    func lockAndPerEntryLevels() throws {
        let (t, folder, doc) = try fixture()
        _ = try t.volume.grant(.admin, to: .user(2002), on: folder, recursive: true, caller: alice)
        try t.volume.setXattr(name("user.nexus.lock"), to: name("mine"), flags: 0, on: doc, caller: alice)
        #expect { try t.volume.setXattr(name("user.nexus.status"), to: name("approved"), flags: 0, on: doc, caller: bob) } throws: {
            ($0 as? VFSError)?.code == .permissionDenied
        }
        // A legal hold outranks a check-out: an admin places it on a locked document.
        try t.volume.setXattr(name("user.nexus.hold"), to: name("x"), flags: 0, on: doc, caller: bob)
        try t.volume.removeXattr(name("user.nexus.lock"), from: doc, caller: bob)

        let acl = try PosixACL(entries: [.init(.userObject, 6), .init(.groupObject, 4), .init(.group, 4, id: 2100),
                                         .init(.group, 2, id: 2101), .init(.mask, 6), .init(.other, 0)])
        #expect(acl.allows(4, uid: 2005, groups: [2100, 2101], owner: 2001, ownerGroup: 2001))
        #expect(!acl.allows(6, uid: 2005, groups: [2100, 2101], owner: 2001, ownerGroup: 2001),
                "no single group entry holds read and write: the kernel refuses O_RDWR")
    }
}
