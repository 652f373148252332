import Foundation
import Glibc
import Testing

/// Root's setup steps: a statement run as root that must succeed.
private func setup(_ statement: String) -> UserStep { TestUser.root.does(statement) }

/// Runs `steps` in a fresh folder of a mount made with `allow_other` and in a folder on the local disk
/// (ext4 under /var/tmp), then `afterRemount` in both (after a remount, for the mount). Each step must
/// give its expected outcome on both: a step where the local disk itself disagrees is a wrong
/// expectation, reported apart from where only the mount does.
private func expectLikeLocalDisk(_ label: String, _ steps: [UserStep], afterRemount: [UserStep] = [],
                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
    let mount = try MountedRepository("perm-" + label, options: ["commit=1", "allow_other"])
    try mount.workspace.openToTestUsers(sourceLocation: sourceLocation)
    let onMount = mount.path("case"), onDisk = mount.workspace.path("local")
    for folder in [onMount, onDisk] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        try #require(chmod(mount.mountpoint, 0o755) == 0 && chmod(folder, 0o755) == 0,
                     "chmod 0755 \(folder): \(String(cString: strerror(errno)))", sourceLocation: sourceLocation)
    }
    var mountOutcomes = try PermissionProbe.perform(steps, in: onMount)
    var diskOutcomes = try PermissionProbe.perform(steps, in: onDisk)
    if !afterRemount.isEmpty {
        try mount.remount(sourceLocation: sourceLocation)
        mountOutcomes += try PermissionProbe.perform(afterRemount, in: onMount)
        diskOutcomes += try PermissionProbe.perform(afterRemount, in: onDisk)
    }
    let all = steps + afterRemount
    var wrongExpectations: [String] = [], differences: [String] = []
    for (index, step) in all.enumerated() {
        let when = index < steps.count ? "" : " (after a remount)"
        if diskOutcomes[index] != step.expected {
            wrongExpectations.append("  #\(index) \(step)\(when): local disk \(diskOutcomes[index]), expected \(step.expected)")
        }
        if mountOutcomes[index] != step.expected {
            differences.append("  #\(index) \(step)\(when): nexusfs \(mountOutcomes[index]), want \(step.expected)"
                               + (diskOutcomes[index] == step.expected ? "" : " (local disk: \(diskOutcomes[index]))"))
        }
    }
    #expect(wrongExpectations.isEmpty, "the local disk itself disagrees with the test:\n\(wrongExpectations.joined(separator: "\n"))",
            sourceLocation: sourceLocation)
    #expect(differences.isEmpty, "\(differences.count) of \(all.count) steps differ on the mount:\n\(differences.joined(separator: "\n"))",
            sourceLocation: sourceLocation)
}

@Suite("Mount: permissions as real users (allow_other)", .serialized,
       .enabled(if: runningAsRoot && FileManager.default.fileExists(atPath: "/dev/fuse"), "mounting needs root and /dev/fuse"))
struct MountPermissionTests {
    @Test("the helpers act as the users they name: ids, groups, no capabilities left, umask, errno names")
    func helpersSwitchUsers() throws {
        let u = try TestUsers.require()
        #expect(Set(u.all.map(\.uid)).count == 5 && !u.all.contains { $0.uid == 0 }, "\(u.all.map(\.uid))")
        #expect(u.alice.groups.contains(u.team.gid) && u.bob.groups.contains(u.team.gid) && !u.carol.groups.contains(u.team.gid))
        #expect(u.carol.groups.contains(u.other.gid) && u.dave.groups == [u.dave.gid])
        let id = try runAs(u.bob, "/usr/bin/id", [])
        #expect(id.exitedWith0 && id.out.hasPrefix("uid=\(u.bob.uid)(nexus-bob) gid=\(u.bob.gid)(nexus-bob)")
                && id.out.contains("\(u.team.gid)(nexus-team)"), "\(id)")
        let alone = try runAs(u.bob, "/usr/bin/id", ["-G"], groups: [])
        #expect(alone.out.trimmingCharacters(in: .whitespacesAndNewlines) == "\(u.bob.gid)", "\(alone)")
        let status = try runAs(u.carol, "/usr/bin/grep", ["-E", "^Cap(Prm|Eff):", "/proc/self/status"])
        #expect(status.out.split(separator: "\n").allSatisfy { $0.hasSuffix("0000000000000000") }, "\(status)")
        let umask = try runAs(u.alice, "/bin/sh", ["-c", "umask"], umask: 0o027)
        #expect(umask.out.trimmingCharacters(in: .whitespacesAndNewlines) == "0027", "\(umask)")
        let ws = try Workspace("perm-helpers")
        defer { ws.cleanup() }
        try ws.openToTestUsers()
        try PermissionProbe.expect([
            TestUser.root.does("make_file('f', 'nexus-alice', 'nexus-team', 0o640)"),
            u.carol.does("read('f')", expect: "EACCES"), u.bob.does("os.chmod('f', 0o600)", expect: "EPERM"),
            u.bob.does("read('missing')", expect: "ENOENT"), u.alice.does("os.getuid()", expect: "OK \(u.alice.uid)"),
            u.alice.does("owner('f')", expect: "OK nexus-alice:nexus-team"), u.alice.does("1 +", expect: "exception SyntaxError: "
                + "invalid syntax (<step>, line 1)"),
        ], in: ws.root)
    }

    @Test("owner, group and other classes: the first class that matches decides, even with fewer bits; root reads anything but executes only with an x bit")
    func permissionClasses() throws {
        let u = try TestUsers.require()
        let loner = u.bob.with(groups: [u.bob.gid])
        try expectLikeLocalDisk("classes", [
            setup("make_file('f0640', 'nexus-alice', 'nexus-team', 0o640)"),
            setup("make_file('f0604', 'nexus-alice', 'nexus-team', 0o604)"),
            setup("make_file('f0460', 'nexus-alice', 'nexus-team', 0o460)"),
            setup("make_file('f0070', 'nexus-alice', 'nexus-team', 0o070)"),
            setup("make_file('f0000', 'nexus-alice', 'nexus-team', 0o000)"),
            setup("make_program('p0750', 'nexus-alice', 'nexus-team', 0o750)"),
            setup("make_program('p0610', 'nexus-alice', 'nexus-team', 0o610)"),
            setup("make_program('p0601', 'nexus-alice', 'nexus-team', 0o601)"),
            setup("make_program('p0644', 'nexus-alice', 'nexus-team', 0o644)"),
            u.alice.does("read('f0640')"), u.alice.does("write('f0640')"),
            u.alice.does("read('f0604')"), u.alice.does("read('f0460')"), u.alice.does("write('f0460')", expect: "EACCES"),
            u.alice.does("read('f0070')", expect: "EACCES"), u.alice.does("read('f0000')", expect: "EACCES"),
            u.alice.does("execute('p0750')"), u.alice.does("execute('p0610')", expect: "EACCES"),
            u.bob.does("read('f0640')"), u.bob.does("write('f0640')", expect: "EACCES"),
            u.bob.does("read('f0604')", expect: "EACCES"), u.bob.does("read('f0460')"), u.bob.does("write('f0460')"),
            u.bob.does("read('f0070')"), u.bob.does("os.access('f0460', os.W_OK)", expect: "OK True"),
            u.bob.does("execute('p0750')"), u.bob.does("execute('p0610')"), u.bob.does("execute('p0601')", expect: "EACCES"),
            u.carol.does("read('f0640')", expect: "EACCES"), u.carol.does("read('f0604')"),
            u.carol.does("write('f0604')", expect: "EACCES"), u.carol.does("read('f0460')", expect: "EACCES"),
            u.carol.does("os.access('f0640', os.R_OK)", expect: "OK False"),
            u.carol.does("execute('p0750')", expect: "EACCES"), u.carol.does("execute('p0601')"),
            // Without nexus-team among his groups, bob is "other".
            loner.does("read('f0640')", expect: "EACCES"), loner.does("read('f0604')"),
            TestUser.root.does("read('f0000')"), TestUser.root.does("write('f0000')"),
            TestUser.root.does("execute('p0644')", expect: "EACCES"), TestUser.root.does("execute('p0610')"),
        ], afterRemount: [
            u.bob.does("read('f0604')", expect: "EACCES"), u.carol.does("read('f0604')"),
            u.alice.does("write('f0460')", expect: "EACCES"), u.bob.does("write('f0460')"),
            u.alice.does("owner('f0640')", expect: "OK nexus-alice:nexus-team"), u.alice.does("mode('p0610')", expect: "OK 0o610"),
        ])
    }

    @Test("search permission on every path component: a 0700 folder hides what is below it; x without r finds names but cannot list, r without x lists but cannot reach")
    func searchPermission() throws {
        let u = try TestUsers.require()
        try expectLikeLocalDisk("search", [
            setup("make_dir('a', 'nexus-alice', 'nexus-alice', 0o700)"),
            setup("make_dir('a/b', 'nexus-alice', 'nexus-alice', 0o755)"),
            setup("make_file('a/b/c.txt', 'nexus-alice', 'nexus-alice', 0o644)"),
            setup("make_dir('x', 'nexus-alice', 'nexus-alice', 0o711)"),
            setup("make_file('x/f', 'nexus-alice', 'nexus-alice', 0o644)"),
            setup("make_dir('r', 'nexus-alice', 'nexus-alice', 0o744)"),
            setup("make_file('r/f', 'nexus-alice', 'nexus-alice', 0o644)"),
            setup("make_dir('g', 'nexus-alice', 'nexus-team', 0o750)"),
            setup("make_file('g/f', 'nexus-alice', 'nexus-team', 0o644)"),
            u.alice.does("read('a/b/c.txt')"),
            u.bob.does("read('a/b/c.txt')", expect: "EACCES"), u.bob.does("os.stat('a/b')", expect: "EACCES"),
            u.bob.does("listdir('a')", expect: "EACCES"), u.bob.does("write('a/b/c.txt')", expect: "EACCES"),
            u.bob.does("names('x')", expect: "EACCES"), u.bob.does("read('x/f')"), u.bob.does("mode('x/f')", expect: "OK 0o644"),
            u.bob.does("names('r')", expect: "OK f"), u.bob.does("read('r/f')", expect: "EACCES"),
            u.bob.does("mode('r/f')", expect: "EACCES"),
            u.bob.does("read('g/f')"), u.bob.does("names('g')", expect: "OK f"),
            u.carol.does("read('g/f')", expect: "EACCES"), u.carol.does("names('g')", expect: "EACCES"),
        ])
    }

    @Test("chmod only by the owner (EPERM); chown only by root; the owner may chgrp to a group of hers, not another (EPERM); g+s by a non-member is dropped")
    func ownershipChanges() throws {
        let u = try TestUsers.require()
        try expectLikeLocalDisk("owners", [
            setup("make_file('f', 'nexus-alice', 'nexus-team', 0o644)"),
            u.bob.does("os.chmod('f', 0o666)", expect: "EPERM"), u.carol.does("os.chmod('f', 0o666)", expect: "EPERM"),
            u.alice.does("os.chmod('f', 0o600)"), u.alice.does("mode('f')", expect: "OK 0o600"),
            u.alice.does("os.chown('f', uid('nexus-bob'), -1)", expect: "EPERM"),
            u.alice.does("os.chown('f', uid('nexus-alice'), -1)"),
            u.alice.does("os.chown('f', -1, gid('nexus-other'))", expect: "EPERM"),
            u.alice.does("os.chown('f', -1, gid('nexus-alice'))"), u.alice.does("owner('f')", expect: "OK nexus-alice:nexus-alice"),
            u.alice.does("os.chown('f', -1, gid('nexus-team'))"), u.alice.does("owner('f')", expect: "OK nexus-alice:nexus-team"),
            u.bob.does("os.chown('f', -1, gid('nexus-team'))", expect: "EPERM"),
            u.bob.does("os.chown('f', uid('nexus-bob'), -1)", expect: "EPERM"),
            TestUser.root.does("os.chown('f', uid('nexus-bob'), gid('nexus-other'))"),
            TestUser.root.does("owner('f')", expect: "OK nexus-bob:nexus-other"),
            u.bob.does("os.chmod('f', 0o640)"), u.alice.does("os.chmod('f', 0o644)", expect: "EPERM"),
            // Setting the setgid bit on something whose group one is not in silently drops the bit.
            setup("make_file('s', 'nexus-alice', 'nexus-other', 0o644)"),
            u.alice.does("os.chmod('s', 0o2755)"), u.alice.does("mode('s')", expect: "OK 0o755"),
            setup("make_dir('d', 'nexus-alice', 'nexus-other', 0o755)"),
            u.alice.does("os.chmod('d', 0o2775)"), u.alice.does("mode('d')", expect: "OK 0o775"),
            setup("make_file('t', 'nexus-alice', 'nexus-team', 0o644)"),
            u.alice.does("os.chmod('t', 0o2755)"), u.alice.does("mode('t')", expect: "OK 0o2755"),
            u.alice.does("os.chmod('t', 0o4755)"), u.alice.does("mode('t')", expect: "OK 0o4755"),
            TestUser.root.does("os.chmod('s', 0o2755)"), TestUser.root.does("mode('s')", expect: "OK 0o2755"),
        ], afterRemount: [
            u.alice.does("owner('f')", expect: "OK nexus-bob:nexus-other"), u.alice.does("mode('f')", expect: "OK 0o640"),
            u.alice.does("mode('t')", expect: "OK 0o4755"), u.alice.does("mode('s')", expect: "OK 0o2755"),
        ])
    }

    @Test("setuid and setgid (with group x) are cleared by a write or truncate from anyone but root, and by chown or chgrp; setgid without group x stays")
    func privilegeBitsCleared() throws {
        let u = try TestUsers.require()
        try expectLikeLocalDisk("killpriv", [
            setup("make_file('w1', 'nexus-alice', 'nexus-team', 0o6770)"),
            setup("make_file('w2', 'nexus-alice', 'nexus-team', 0o6760)"),
            setup("make_file('w3', 'nexus-alice', 'nexus-team', 0o4766)"),
            setup("make_file('w4', 'nexus-alice', 'nexus-alice', 0o6755)"),
            setup("make_file('w5', 'nexus-alice', 'nexus-team', 0o6775)"),
            setup("make_file('w6', 'nexus-alice', 'nexus-team', 0o6770)"),
            setup("make_file('w7', 'nexus-alice', 'nexus-team', 0o4770)"),
            u.bob.does("write('w1')"), u.bob.does("mode('w1')", expect: "OK 0o770"),
            u.bob.does("write('w2')"), u.bob.does("mode('w2')", expect: "OK 0o2760"),
            u.carol.does("write('w3')"), u.carol.does("mode('w3')", expect: "OK 0o766"),
            u.alice.does("write('w4')"), u.alice.does("mode('w4')", expect: "OK 0o755"),
            TestUser.root.does("write('w5')"), TestUser.root.does("mode('w5')", expect: "OK 0o6775"),
            u.bob.does("truncate('w6')"), u.bob.does("mode('w6')", expect: "OK 0o770"),
            u.bob.does("append('w7')"), u.bob.does("mode('w7')", expect: "OK 0o770"),
            setup("make_file('c1', 'nexus-alice', 'nexus-team', 0o6755)"),
            setup("make_file('c2', 'nexus-alice', 'nexus-team', 0o6745)"),
            setup("make_file('c3', 'nexus-alice', 'nexus-team', 0o4755)"),
            setup("make_dir('c4', 'nexus-alice', 'nexus-team', 0o2775)"),
            TestUser.root.does("os.chown('c1', uid('nexus-bob'), -1)"), TestUser.root.does("mode('c1')", expect: "OK 0o755"),
            TestUser.root.does("owner('c1')", expect: "OK nexus-bob:nexus-team"),
            TestUser.root.does("os.chown('c2', uid('nexus-bob'), -1)"), TestUser.root.does("mode('c2')", expect: "OK 0o2745"),
            u.alice.does("os.chown('c3', -1, gid('nexus-alice'))"), u.alice.does("mode('c3')", expect: "OK 0o755"),
            TestUser.root.does("os.chown('c4', uid('nexus-bob'), -1)"), TestUser.root.does("mode('c4')", expect: "OK 0o2775"),
        ], afterRemount: [
            u.alice.does("mode('w1')", expect: "OK 0o770"), u.alice.does("mode('w2')", expect: "OK 0o2760"),
            u.alice.does("mode('w5')", expect: "OK 0o6775"), u.alice.does("mode('c1')", expect: "OK 0o755"),
        ])
    }

    @Test("sticky folder: only the file's owner, the folder's owner or root may unlink or rename a file in it (EPERM for others)")
    func stickyFolder() throws {
        let u = try TestUsers.require()
        try expectLikeLocalDisk("sticky", [
            setup("make_dir('s', 'root', 'root', 0o1777)"),
            u.alice.does("create('s/a', 0o644)"), u.alice.does("os.mkdir('s/d')"), u.bob.does("create('s/b', 0o644)"),
            u.bob.does("os.unlink('s/a')", expect: "EPERM"), u.bob.does("os.rename('s/a', 's/a2')", expect: "EPERM"),
            u.bob.does("os.rename('s/b', 's/a')", expect: "EPERM"), u.bob.does("os.rmdir('s/d')", expect: "EPERM"),
            u.bob.does("names('s')", expect: "OK a b d"),
            u.alice.does("os.rename('s/a', 's/a3')"), u.alice.does("os.unlink('s/a3')"), u.alice.does("os.rmdir('s/d')"),
            u.bob.does("os.rename('s/b', 's/b2')"), u.bob.does("os.unlink('s/b2')"),
            setup("make_dir('t', 'nexus-dave', 'nexus-dave', 0o1777)"),
            u.alice.does("create('t/a')"), u.erin.does("create('t/e')"),
            u.dave.does("os.unlink('t/a')"), u.bob.does("os.unlink('t/e')", expect: "EPERM"),
            TestUser.root.does("os.unlink('t/e')"), u.bob.does("os.listdir('t')", expect: "OK []"),
        ])
    }

    @Test("utimensat: the owner sets any times; another user with write permission only the current time (EPERM for explicit times); without write EACCES")
    func settingTimes() throws {
        let u = try TestUsers.require()
        try expectLikeLocalDisk("times", [
            setup("make_file('f', 'nexus-alice', 'nexus-team', 0o664)"),
            setup("make_file('r', 'nexus-alice', 'nexus-team', 0o644)"),
            u.alice.does("settimes('f', 1000000000)"), u.alice.does("mtime('f')", expect: "OK 1000000000"),
            u.bob.does("touch('f')"), u.bob.does("mtime('f') > 1000000000", expect: "OK True"),
            u.bob.does("settimes('f', 1100000000)", expect: "EPERM"),
            u.carol.does("touch('f')", expect: "EACCES"), u.carol.does("settimes('f')", expect: "EPERM"),
            u.bob.does("touch('r')", expect: "EACCES"), u.alice.does("touch('r')"),
            TestUser.root.does("settimes('r', 1200000000)"), TestUser.root.does("mtime('r')", expect: "OK 1200000000"),
        ])
    }

    @Test("new files and folders get the creator's umask applied and her ids; in a setgid folder they get its group, and new folders the setgid bit")
    func umaskAndSetgidFolders() throws {
        let u = try TestUsers.require()
        try expectLikeLocalDisk("umask", [
            setup("make_dir('u', 'root', 'root', 0o777)"),
            u.alice.does("create('u/f027', 0o666)", umask: 0o027), u.alice.does("os.mkdir('u/d027', 0o777)", umask: 0o027),
            u.alice.does("create('u/f077', 0o666)", umask: 0o077), u.alice.does("os.mkdir('u/d077', 0o777)", umask: 0o077),
            u.alice.does("create('u/f000', 0o666)", umask: 0), u.alice.does("os.mkdir('u/d000', 0o777)", umask: 0),
            u.alice.does("mode('u/f027')", expect: "OK 0o640"), u.alice.does("mode('u/d027')", expect: "OK 0o750"),
            u.alice.does("mode('u/f077')", expect: "OK 0o600"), u.alice.does("mode('u/d077')", expect: "OK 0o700"),
            u.alice.does("mode('u/f000')", expect: "OK 0o666"), u.alice.does("mode('u/d000')", expect: "OK 0o777"),
            u.alice.does("owner('u/f027')", expect: "OK nexus-alice:nexus-alice"),
            u.bob.does("create('u/fb')"), u.bob.does("owner('u/fb')", expect: "OK nexus-bob:nexus-bob"),
            setup("make_dir('g', 'root', 'nexus-team', 0o2775)"),
            u.alice.does("create('g/f')"), u.alice.does("owner('g/f')", expect: "OK nexus-alice:nexus-team"),
            u.alice.does("mode('g/f')", expect: "OK 0o644"),
            u.alice.does("os.mkdir('g/sub', 0o777)"), u.alice.does("owner('g/sub')", expect: "OK nexus-alice:nexus-team"),
            u.alice.does("mode('g/sub')", expect: "OK 0o2755"),
            u.alice.does("os.mkdir('g/sub/deeper')"), u.alice.does("owner('g/sub/deeper')", expect: "OK nexus-alice:nexus-team"),
            u.alice.does("mode('g/sub/deeper')", expect: "OK 0o2755"),
            setup("make_dir('h', 'root', 'nexus-team', 0o2777)"),
            u.carol.does("create('h/c')"), u.carol.does("owner('h/c')", expect: "OK nexus-carol:nexus-team"),
            u.carol.does("os.mkdir('h/cd')"), u.carol.does("mode('h/cd')", expect: "OK 0o2755"),
            // A non-member cannot get a setgid file of the folder's group out of create.
            u.carol.does("create('h/cs', 0o2755)"), u.carol.does("mode('h/cs')", expect: "OK 0o755"),
            setup("make_dir('n', 'root', 'nexus-team', 0o777)"),
            u.alice.does("create('n/f')"), u.alice.does("owner('n/f')", expect: "OK nexus-alice:nexus-alice"),
        ], afterRemount: [
            u.alice.does("owner('g/sub/deeper')", expect: "OK nexus-alice:nexus-team"),
            u.alice.does("mode('g/sub/deeper')", expect: "OK 0o2755"), u.alice.does("mode('u/f027')", expect: "OK 0o640"),
        ])
    }

    @Test("without write (and search) permission on a folder nobody but root creates, unlinks, renames or links in it (EACCES)")
    func folderWritePermission() throws {
        let u = try TestUsers.require()
        try expectLikeLocalDisk("dir-write", [
            setup("make_dir('ro', 'nexus-alice', 'nexus-alice', 0o755)"),
            setup("make_file('ro/f', 'nexus-alice', 'nexus-alice', 0o666)"),
            setup("make_dir('ro/sub', 'nexus-alice', 'nexus-alice', 0o777)"),
            setup("make_dir('mine', 'nexus-bob', 'nexus-bob', 0o755)"),
            u.bob.does("create('ro/new')", expect: "EACCES"), u.bob.does("os.unlink('ro/f')", expect: "EACCES"),
            u.bob.does("os.mkdir('ro/d')", expect: "EACCES"), u.bob.does("os.rmdir('ro/sub')", expect: "EACCES"),
            u.bob.does("os.rename('ro/f', 'ro/g')", expect: "EACCES"), u.bob.does("os.rename('ro/f', 'mine/f')", expect: "EACCES"),
            u.bob.does("os.symlink('f', 'ro/l')", expect: "EACCES"), u.bob.does("os.link('ro/f', 'ro/h')", expect: "EACCES"),
            u.bob.does("write('ro/f')"), u.bob.does("names('ro')", expect: "OK f sub"),
            u.alice.does("create('ro/mine')"), u.alice.does("os.unlink('ro/mine')"),
            setup("make_dir('wx', 'nexus-alice', 'nexus-alice', 0o703)"),
            u.bob.does("create('wx/n')"), u.bob.does("names('wx')", expect: "EACCES"), u.bob.does("os.unlink('wx/n')"),
            setup("make_dir('wnox', 'nexus-alice', 'nexus-alice', 0o706)"),
            u.bob.does("create('wnox/n')", expect: "EACCES"),
            setup("make_dir('rx', 'root', 'root', 0o555)"),
            TestUser.root.does("create('rx/f')"), u.alice.does("create('rx/g')", expect: "EACCES"),
        ])
    }

    @Test("POSIX ACLs: setfacl grants a named user, getfacl shows it, chmod moves the mask, a default ACL is inherited instead of the umask, setfacl -b restores the mode")
    func accessControlLists() throws {
        let u = try TestUsers.require()
        let defaultACL = "user::rwx | user:nexus-bob:rwx | group::r-x | mask::rwx | other::r-x"
        try expectLikeLocalDisk("acl", [
            setup("make_file('f', 'nexus-alice', 'nexus-alice', 0o600)"),
            u.bob.does("read('f')", expect: "EACCES"),
            u.alice.does("setfacl('-m', 'u:nexus-bob:r', 'f')"),
            u.alice.does("getfacl('f')", expect: "OK user::rw- | user:nexus-bob:r-- | group::--- | mask::r-- | other::---"),
            u.alice.does("mode('f')", expect: "OK 0o640"),
            u.bob.does("read('f')"), u.bob.does("write('f')", expect: "EACCES"), u.carol.does("read('f')", expect: "EACCES"),
            u.bob.does("setfacl('-m', 'u:nexus-carol:r', 'f')", expect: "EPERM"),
            u.alice.does("os.chmod('f', 0o600)"),
            u.alice.does("getfacl('f')", expect: "OK user::rw- | user:nexus-bob:r-- #effective:--- | group::--- | mask::--- | other::---"),
            u.bob.does("read('f')", expect: "EACCES"),
            u.alice.does("os.chmod('f', 0o640)"), u.bob.does("read('f')"),
            u.alice.does("setfacl('-m', 'g:nexus-other:rw', 'f')"), u.carol.does("write('f')"),
            u.alice.does("setfacl('-b', 'f')"), u.alice.does("getfacl('f')", expect: "OK user::rw- | group::--- | other::---"),
            u.alice.does("mode('f')", expect: "OK 0o600"),
            u.bob.does("read('f')", expect: "EACCES"), u.carol.does("write('f')", expect: "EACCES"),

            setup("make_dir('d', 'nexus-alice', 'nexus-alice', 0o755)"),
            u.alice.does("setfacl('-d', '-m', 'u:nexus-bob:rwx', 'd')"),
            u.alice.does("getfacl('-d', 'd')", expect: "OK " + defaultACL),
            u.alice.does("create('d/new', 0o666)", umask: 0o077), u.alice.does("mode('d/new')", expect: "OK 0o664"),
            u.alice.does("getfacl('d/new')", expect: "OK user::rw- | user:nexus-bob:rwx #effective:rw- | group::r-x #effective:r-- | mask::rw- | other::r--"),
            u.bob.does("read('d/new')"), u.bob.does("write('d/new')"), u.carol.does("read('d/new')"),
            u.carol.does("write('d/new')", expect: "EACCES"),
            u.alice.does("os.mkdir('d/sub', 0o777)", umask: 0o077), u.alice.does("mode('d/sub')", expect: "OK 0o775"),
            u.alice.does("getfacl('-d', 'd/sub')", expect: "OK " + defaultACL),
            u.bob.does("create('d/sub/by-bob')"),
            // Without a default ACL the umask applies as before.
            setup("make_dir('p', 'nexus-alice', 'nexus-alice', 0o755)"),
            u.alice.does("create('p/new', 0o666)", umask: 0o077), u.alice.does("mode('p/new')", expect: "OK 0o600"),
        ], afterRemount: [
            u.alice.does("getfacl('-d', 'd/sub')", expect: "OK " + defaultACL),
            u.bob.does("write('d/new')"), u.bob.does("read('f')", expect: "EACCES"),
        ])
    }
}
