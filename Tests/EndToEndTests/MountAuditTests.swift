import Foundation
import Glibc
import Testing

// The audit log of a session by three real users, and an rsync -aX round trip of a whole mount
// through a local folder into a fresh repository (CONTRACT.md, "Metadata, permissions, workflow").

@Suite("Mount: audit log and attribute round trips as real users", .serialized,
       .enabled(if: runningAsRoot && FileManager.default.fileExists(atPath: "/dev/fuse"), "mounting needs root and /dev/fuse"))
struct MountAuditTests {
    @Test("audit: a session of 55 operations by alice, bob and carol is in the log with the right users and outcomes; --verify passes, and fails (exit 4) naming a row changed by one byte")
    func auditLog() throws {
        let u = try TestUsers.require()
        let mount = try MountedRepository("workflow-audit", options: ["commit=1", "allow_other"])
        try mount.workspace.openToTestUsers()
        try #require(chmod(mount.mountpoint, 0o755) == 0)
        try PermissionProbe.expect([TestUser.root.does("make_dir('team', 'nexus-alice', 'nexus-alice', 0o770)")], in: mount.mountpoint)
        let session = try auditedSession(u)
        #expect(session.count >= 50)
        try PermissionProbe.expect(session.map(\.step), in: mount.mountpoint)
        try mount.unmount()

        let listing = try mount.workspace.nexusfs(["audit", mount.repo, "--json"])
        try #require(listing.exitedWith0, "\(listing)")
        let entries = try JSONDecoder().decode([AuditRecord].self, from: listing.stdout)
        var missing: [String] = []
        for act in session {
            for expected in act.entries {
                let found = entries.contains {
                    $0.action == expected.action && $0.path == expected.path && $0.user == act.step.user.name
                        && $0.uid == act.step.user.uid && $0.outcome == expected.outcome
                }
                if !found {
                    missing.append("  \(act.step.user.name): \(expected.action) \(expected.path) \(expected.outcome) (after \(act.step.statement))")
                }
            }
        }
        let log = entries.map { "  \($0.seq) \($0.user) \($0.action) \($0.path) \($0.outcome)" }.joined(separator: "\n")
        #expect(missing.isEmpty, "\(missing.count) entries missing from the audit log:\n\(missing.joined(separator: "\n"))\nlog:\n\(log)")
        #expect(Set(entries.map(\.seq)).count == entries.count && entries.map(\.seq).sorted() == Array(1...Int64(entries.count)))

        let carols = try mount.workspace.nexusfs(["audit", mount.repo, "--json", "--user", "nexus-carol"])
        let carolEntries = try JSONDecoder().decode([AuditRecord].self, from: carols.stdout)
        #expect(!carolEntries.isEmpty && carolEntries.allSatisfy { $0.user == "nexus-carol" }, "\(carols)")
        #expect(carolEntries.count == entries.filter { $0.user == "nexus-carol" }.count)

        let verified = try mount.workspace.nexusfs(["audit", mount.repo, "--verify"])
        #expect(verified.exitedWith0 && verified.out.contains("intact"), "\(verified)")

        // One byte of one stored row: the last letter of entry 5's action.
        let catalog = try #require(findFile(named: "catalog.db", under: mount.workspace.state), "no catalog.db under \(mount.workspace.state)")
        let edit = try mustRun("/usr/bin/sqlite3", [catalog, """
            UPDATE audit SET action = substr(action, 1, length(action) - 1) || char(unicode(substr(action, -1)) + 1) WHERE seq = 5;
            SELECT changes();
            """])
        #expect(edit.out.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(edit)")
        let damaged = try mount.workspace.nexusfs(["audit", mount.repo, "--verify"])
        #expect(damaged.status == 4 && !damaged.signaled, "\(damaged)")
        #expect(damaged.out.contains("entry 5 ") || damaged.err.contains("entry 5 "), "\(damaged)")
    }

    @Test("rsync -aX of a whole mount to a local folder and into a fresh repository's mount keeps every stored attribute, never trips on a computed one")
    func rsyncRoundTrip() throws {
        let source = try MountedRepository("workflow-rsync-a", options: ["commit=1", "allow_other"])
        try PermissionProbe.expect([
            TestUser.root.does("make_dir('docs', 'nexus-alice', 'nexus-team', 0o775)"),
            TestUser.root.does("os.setxattr('docs', 'user.xdg.tags', b'folder,tagged')"),
            TestUser.root.does("make_file('docs/plain.txt', 'nexus-alice', 'nexus-team', 0o664)"),
            TestUser.root.does("make_file('docs/tagged.txt', 'nexus-bob', 'nexus-team', 0o644)"),
            TestUser.root.does("os.setxattr('docs/tagged.txt', 'user.xdg.tags', b'red,blue')"),
            TestUser.root.does("os.setxattr('docs/tagged.txt', 'user.xdg.comment', b'a description')"),
            TestUser.root.does("os.setxattr('docs/tagged.txt', 'user.nexus.meta.client', b'ACME')"),
            TestUser.root.does("os.setxattr('docs/tagged.txt', 'user.nexus.meta.due', b'2026-12-01')"),
            TestUser.root.does("make_file('docs/approved.txt', 'nexus-alice', 'nexus-team', 0o664)"),
            TestUser.root.does("os.setxattr('docs/approved.txt', 'user.nexus.status', b'approved')"),
            TestUser.root.does("make_file('docs/review.txt', 'nexus-alice', 'nexus-team', 0o664)"),
            TestUser.root.does("os.setxattr('docs/review.txt', 'user.nexus.status', b'review')"),
            TestUser.root.does("make_file('docs/held.txt', 'nexus-alice', 'nexus-team', 0o664)"),
            TestUser.root.does("os.setxattr('docs/held.txt', 'user.nexus.hold', b'case 42')"),
            TestUser.root.does("make_file('docs/locked.txt', 'nexus-alice', 'nexus-team', 0o664)"),
            TestUser.root.does("os.setxattr('docs/locked.txt', 'user.nexus.lock', b'checked out')"),
            TestUser.root.does("os.setxattr('docs/locked.txt', 'user.xdg.tags', b'busy')"),
        ], in: source.mountpoint)
        let names = ["docs", "docs/plain.txt", "docs/tagged.txt", "docs/approved.txt", "docs/review.txt", "docs/held.txt", "docs/locked.txt"]
        var expected: [String: [String: String]] = [:]
        for name in names { expected[name] = try userAttributes(of: source.path(name)) }
        #expect(expected["docs/tagged.txt"]?.count == 4 && expected["docs/locked.txt"]?.count == 2, "\(expected)")

        let local = source.workspace.path("local")
        let out = try run("/usr/bin/rsync", ["-aX", source.mountpoint + "/", local + "/"])
        #expect(out.exitedWith0, "\(out)")
        for name in names {
            #expect(try userAttributes(of: local + "/" + name) == expected[name], "\(name) on the local copy")
        }
        try source.unmount()

        let target = try MountedRepository("workflow-rsync-b", options: ["commit=1", "allow_other"])
        let back = try run("/usr/bin/rsync", ["-aX", local + "/", target.mountpoint + "/"])
        #expect(back.exitedWith0, "\(back)")
        for name in names {
            #expect(try userAttributes(of: target.path(name)) == expected[name], "\(name) on the second mount")
        }
        let diff = try run("/usr/bin/diff", ["-r", local, target.mountpoint])
        #expect(diff.exitedWith0, "\(diff)")
        // The copied status, hold and lock act on the second mount.
        let u = try TestUsers.require()
        try target.workspace.openToTestUsers()
        try PermissionProbe.expect([
            TestUser.root.does("append('docs/approved.txt')", expect: "EACCES"),
            TestUser.root.does("os.unlink('docs/held.txt')", expect: "EPERM"),
            u.alice.does("append('docs/locked.txt')", expect: "EACCES"),
        ], in: target.mountpoint)
    }
}

/// One entry of `nexusfs audit --json`.
private struct AuditRecord: Decodable {
    var seq: Int64
    var uid: UInt32
    var user: String
    var action: String
    var path: String
    var outcome: String
}

/// One operation of the audited session and the audit entries it must leave.
private struct AuditedAct {
    let step: UserStep
    let entries: [(action: String, path: String, outcome: String)]
}

/// A step and its entries, each "ACTION PATH" (the action may hold a space, the path does not);
/// their outcome is "done" when the step should succeed, else "refused".
private func act(_ step: UserStep, _ entries: String...) -> AuditedAct {
    let outcome = step.expected.hasPrefix("OK") ? "done" : "refused"
    return AuditedAct(step: step, entries: entries.map { entry in
        let space = entry.lastIndex(of: " ")!
        return (String(entry[..<space]), String(entry[entry.index(after: space)...]), outcome)
    })
}

/// 55 operations on /team (alice's, 0770): alice grants bob admin and carol edit, then the three
/// create, save, rename, delete, link, tag, move through the workflow, lock, hold and comment, and
/// try things their level, a lock, a status or a hold refuses.
private func auditedSession(_ u: TestUsers) throws -> [AuditedAct] {
    let (a, b, c) = (u.alice, u.bob, u.carol)
    func write(_ path: String, _ text: String) -> String { "with open('\(path)', 'w') as f: f.write('\(text)\\n')" }
    return [
        act(a.does(try nexusfsStatement("grant", "team", "nexus-bob", "admin", "--recursive")), "grant /team"),
        act(a.does(try nexusfsStatement("grant", "team", "nexus-carol", "edit", "--recursive")), "grant /team"),
        act(a.does(write("team/spec.txt", "spec v1")), "create /team/spec.txt", "save /team/spec.txt"),
        act(a.does("append('team/spec.txt', b'more\\n')"), "save /team/spec.txt"),
        act(a.does("os.mkdir('team/drafts')"), "mkdir /team/drafts"),
        act(a.does("os.setxattr('team/spec.txt', 'user.xdg.tags', b'spec,q3')"), "xattr.set user.xdg.tags /team/spec.txt"),
        act(a.does("os.setxattr('team/spec.txt', 'user.xdg.comment', b'the spec')"), "xattr.set user.xdg.comment /team/spec.txt"),
        act(a.does("os.setxattr('team/spec.txt', 'user.nexus.meta.client', b'ACME')"), "xattr.set user.nexus.meta.client /team/spec.txt"),
        act(a.does("os.symlink('spec.txt', 'team/latest')"), "symlink /team/latest"),
        act(a.does("os.chmod('team/spec.txt', 0o664)"), "chmod /team/spec.txt"),
        act(a.does(try nexusfsStatement("comment", "team/spec.txt", "first draft is up")), "comment /team/spec.txt"),
        act(a.does(write("team/drafts/a.txt", "draft a")), "create /team/drafts/a.txt", "save /team/drafts/a.txt"),
        act(a.does("os.link('team/spec.txt', 'team/spec-link.txt')"), "link /team/spec-link.txt"),
        act(a.does("os.unlink('team/spec-link.txt')"), "delete /team/spec-link.txt"),

        act(b.does(write("team/bob.txt", "notes")), "create /team/bob.txt", "save /team/bob.txt"),
        act(b.does("append('team/bob.txt')"), "save /team/bob.txt"),
        act(b.does("os.rename('team/bob.txt', 'team/bob-notes.txt')"), "rename /team/bob-notes.txt"),
        act(b.does("os.setxattr('team/bob-notes.txt', 'user.nexus.status', b'review')"), "xattr.set user.nexus.status /team/bob-notes.txt"),
        act(b.does("os.setxattr('team/bob-notes.txt', 'user.nexus.status', b'approved')"), "xattr.set user.nexus.status /team/bob-notes.txt"),
        act(b.does("append('team/bob-notes.txt')", expect: "EACCES"), "content /team/bob-notes.txt"),
        act(b.does("os.setxattr('team/bob-notes.txt', 'user.nexus.status', b'draft')"), "xattr.set user.nexus.status /team/bob-notes.txt"),
        act(b.does("os.setxattr('team/spec.txt', 'user.nexus.lock', b'revising')"), "xattr.set user.nexus.lock /team/spec.txt"),
        act(b.does("append('team/spec.txt', b'by bob\\n')"), "save /team/spec.txt"),
        act(b.does(try nexusfsStatement("comment", "team/spec.txt", "revising section 2")), "comment /team/spec.txt"),
        act(b.does("truncate('team/bob-notes.txt', 3)"), "truncate /team/bob-notes.txt"),
        act(b.does("os.mkdir('team/archive')"), "mkdir /team/archive"),
        act(b.does("os.rename('team/bob-notes.txt', 'team/archive/bob-notes.txt')"), "rename /team/archive/bob-notes.txt"),
        act(b.does("os.setxattr('team/archive/bob-notes.txt', 'user.nexus.hold', b'audit 2026')"),
            "xattr.set user.nexus.hold /team/archive/bob-notes.txt"),

        act(c.does("append('team/spec.txt')", expect: "EACCES"), "content /team/spec.txt"),
        act(c.does("os.unlink('team/spec.txt')", expect: "EACCES"), "unlink /team/spec.txt"),
        act(c.does("os.setxattr('team/spec.txt', 'user.xdg.tags', b'mine')", expect: "EACCES"), "xattr.set user.xdg.tags /team/spec.txt"),
        act(c.does("os.unlink('team/archive/bob-notes.txt')", expect: "EPERM"), "unlink /team/archive/bob-notes.txt"),
        act(c.does("os.setxattr('team/drafts/a.txt', 'user.nexus.hold', b'mine')", expect: "EACCES"),
            "xattr.set user.nexus.hold /team/drafts/a.txt"),
        act(c.does(try nexusfsStatement("grant", "team/drafts/a.txt", "nexus-dave", "view"), expect: "EPERM"),
            "grant /team/drafts/a.txt"),
        act(c.does(write("team/carol.txt", "carol")), "create /team/carol.txt", "save /team/carol.txt"),
        act(c.does("os.rename('team/carol.txt', 'team/carol-final.txt')"), "rename /team/carol-final.txt"),
        act(c.does("os.setxattr('team/drafts/a.txt', 'user.nexus.status', b'review')"), "xattr.set user.nexus.status /team/drafts/a.txt"),
        act(c.does("os.setxattr('team/drafts/a.txt', 'user.nexus.status', b'approved')", expect: "EACCES"),
            "xattr.set user.nexus.status /team/drafts/a.txt"),
        act(c.does(try nexusfsStatement("comment", "team/carol-final.txt", "ready")), "comment /team/carol-final.txt"),
        act(c.does("os.setxattr('team/carol-final.txt', 'user.xdg.tags', b'final')"), "xattr.set user.xdg.tags /team/carol-final.txt"),
        act(c.does("os.unlink('team/carol-final.txt')"), "delete /team/carol-final.txt"),
        act(c.does("os.mkdir('team/carol-dir')"), "mkdir /team/carol-dir"),
        act(c.does("os.rmdir('team/carol-dir')"), "rmdir /team/carol-dir"),
        act(c.does(write("team/drafts/c.txt", "draft c")), "create /team/drafts/c.txt", "save /team/drafts/c.txt"),
        act(c.does("os.rename('team/drafts/c.txt', 'team/drafts/b.txt')"), "rename /team/drafts/b.txt"),
        act(c.does("os.setxattr('team/drafts/b.txt', 'user.xdg.tags', b'b')"), "xattr.set user.xdg.tags /team/drafts/b.txt"),
        act(c.does("os.removexattr('team/drafts/b.txt', 'user.xdg.tags')"), "xattr.remove user.xdg.tags /team/drafts/b.txt"),

        act(b.does("os.removexattr('team/spec.txt', 'user.nexus.lock')"), "xattr.remove user.nexus.lock /team/spec.txt"),
        act(b.does("os.removexattr('team/archive/bob-notes.txt', 'user.nexus.hold')"),
            "xattr.remove user.nexus.hold /team/archive/bob-notes.txt"),

        act(a.does("os.setxattr('team/spec.txt', 'user.nexus.status', b'approved')"), "xattr.set user.nexus.status /team/spec.txt"),
        act(a.does("os.rename('team/spec.txt', 'team/spec2.txt')", expect: "EACCES"), "rename /team/spec.txt"),
        act(a.does("os.setxattr('team/spec.txt', 'user.nexus.status', b'draft')"), "xattr.set user.nexus.status /team/spec.txt"),
        act(a.does(try nexusfsStatement("revoke", "team/drafts", "nexus-carol", "--recursive")), "grant /team/drafts"),
        act(a.does("truncate('team/drafts/a.txt', 0)"), "truncate /team/drafts/a.txt"),
        act(a.does("os.chown('team/spec.txt', -1, gid('nexus-team'))"), "chown /team/spec.txt"),
        // The kernel refuses this one from the ACL: it never reaches nexusfs.
        act(c.does("append('team/drafts/b.txt')", expect: "EACCES")),
    ]
}

/// The first file called `name` below `folder`.
private func findFile(named name: String, under folder: String) -> String? {
    guard let walker = FileManager.default.enumerator(atPath: folder) else { return nil }
    while let relative = walker.nextObject() as? String {
        if (relative as NSString).lastPathComponent == name { return folder + "/" + relative }
    }
    return nil
}
