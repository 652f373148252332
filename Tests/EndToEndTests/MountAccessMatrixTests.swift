import Foundation
import Glibc
import Testing

// The DMS access levels (CONTRACT.md, "Metadata, permissions, workflow") as real users meet them
// on an allow_other mount: one user per level, every operation the level table names, and the
// edges: inheritance, `nexusfs access`, revoking, hard links.

/// A Python statement for `PermissionProbe` that runs `nexusfs ARGUMENTS` through its `command`
/// helper: "OK" on exit 0 (or "OK <stdout>"), else the errno its message names ("EPERM" for
/// "Operation not permitted").
func nexusfsStatement(_ arguments: String...) throws -> String {
    "command(" + ([try Nexusfs.path()] + arguments).map { "'\($0)'" }.joined(separator: ", ") + ")"
}

/// Runs `nexusfs ARGUMENTS` as `user` in `directory` (the request commands: grant, revoke,
/// access, comment, comments); requires exit 0.
@discardableResult
func nexusfsRequest(as user: TestUser, _ arguments: [String], in directory: String,
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
    let result = try runAs(user, try Nexusfs.path(), arguments, directory: directory)
    try #require(result.exitedWith0, "\(result)", sourceLocation: sourceLocation)
    return result
}

/// The system's `nobody`: a sixth user, for the level none (the five test accounts hold the others).
let systemNobody = TestUser(name: "nobody", uid: 65534, gid: 65534, groups: [65534])

/// A DMS level, ordered (the contract's table, public aside: it is view for everyone).
enum DMSLevel: Int, Comparable, CustomStringConvertible {
    case none, view, comment, edit, admin, owner

    static func < (a: DMSLevel, b: DMSLevel) -> Bool { a.rawValue < b.rawValue }

    var description: String { ["none", "view", "comment", "edit", "admin", "owner"][rawValue] }
}

/// One row of the matrix: who acts, in which folder, with which level there.
private struct Row: CustomStringConvertible {
    /// Names the row's own target files (`save-view.txt`).
    let label: String
    let user: TestUser
    let folder: String
    let level: DMSLevel

    var description: String { "\(label) (\(user.name) in \(folder))" }
}

/// One column of the matrix: an operation, the least level that may do it, what it gives below that.
private struct Operation {
    let name: String
    let needs: DMSLevel
    /// The errno name for a user who reaches the document but has too low a level.
    let refusal: String
    /// The statement for a row, run in the mount's root.
    let statement: (Row) -> String
    /// What a permitted run gives ("OK" unless it returns a value).
    var success: (Row) -> String = { _ in "OK" }

    func expected(for row: Row) -> String {
        if row.level == .none { return "EACCES" } // the folder itself is closed: every lookup fails
        return row.level >= needs ? success(row) : refusal
    }
}

/// alice's project on a mount made with allow_other: /proj (owner alice, group nexus-alice, 0770)
/// holding doc.txt with two versions, shared with one user per level by `nexusfs grant --recursive`
/// run as alice; and /pub, laid out the same and shared with everyone (public view).
private struct Project {
    let mount: MountedRepository
    let users: TestUsers
    let rows: [Row]

    /// Names of the per-row target files each operation works on, so one step never disturbs another.
    static let targetPrefixes = ["save", "ren", "del", "tag", "grant", "approve"]

    init(_ label: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        users = try TestUsers.require()
        let u = users
        rows = [
            Row(label: "none", user: systemNobody, folder: "proj", level: .none),
            Row(label: "view", user: u.bob, folder: "proj", level: .view),
            Row(label: "comment", user: u.carol, folder: "proj", level: .comment),
            Row(label: "edit", user: u.dave, folder: "proj", level: .edit),
            Row(label: "admin", user: u.erin, folder: "proj", level: .admin),
            Row(label: "owner", user: u.alice, folder: "proj", level: .owner),
            Row(label: "public", user: systemNobody, folder: "pub", level: .view),
        ]
        mount = try MountedRepository("access-" + label, options: ["commit=1", "allow_other"])
        try mount.workspace.openToTestUsers(sourceLocation: sourceLocation)
        try #require(chmod(mount.mountpoint, 0o755) == 0, sourceLocation: sourceLocation)
        var setup: [UserStep] = []
        for folder in ["proj", "pub"] {
            setup += [
                TestUser.root.does("make_dir('\(folder)', 'nexus-alice', 'nexus-alice', 0o770)"),
                TestUser.root.does("make_file('\(folder)/doc.txt', 'nexus-alice', 'nexus-alice', 0o660, b'first\\n')"),
                TestUser.root.does("append('\(folder)/doc.txt', b'second\\n')"),
            ]
        }
        for row in rows {
            for prefix in Self.targetPrefixes {
                setup.append(TestUser.root.does("make_file('\(row.folder)/\(prefix)-\(row.label).txt', 'nexus-alice', 'nexus-alice', 0o660)"))
            }
            setup.append(TestUser.root.does("os.setxattr('\(row.folder)/approve-\(row.label).txt', 'user.nexus.status', b'review')"))
        }
        try PermissionProbe.expect(setup, in: mount.mountpoint, sourceLocation: sourceLocation)
        for row in rows where row.folder == "proj" && row.level < .owner {
            try nexusfsRequest(as: u.alice, ["grant", "proj", row.user.name, "\(row.level)", "--recursive"],
                               in: mount.mountpoint, sourceLocation: sourceLocation)
        }
        try nexusfsRequest(as: u.alice, ["grant", "pub", "public", "view", "--recursive"], in: mount.mountpoint,
                           sourceLocation: sourceLocation)
    }

    func row(_ label: String) -> Row { rows.first { $0.label == label }! }
}

@Suite("Mount: DMS access levels as real users (allow_other)", .serialized,
       .enabled(if: runningAsRoot && FileManager.default.fileExists(atPath: "/dev/fuse"), "mounting needs root and /dev/fuse"))
struct MountAccessMatrixTests {
    @Test("every level against every operation: list, read, history, own level, comment, save, create, rename, delete, tags, grant, approve")
    func levelMatrix() throws {
        let project = try Project("matrix")
        let comment = try nexusfsStatement("comment", "DOC", "a remark")
        let grant = try nexusfsStatement("grant", "DOC", "@nexus-team", "view")
        let operations = [
            Operation(name: "list", needs: .view, refusal: "EACCES", statement: { "names('\($0.folder)')" },
                      success: { "OK " + Self.listing(of: $0, in: project) }),
            Operation(name: "read", needs: .view, refusal: "EACCES", statement: { "read('\($0.folder)/doc.txt')" }),
            Operation(name: "history", needs: .view, refusal: "EACCES",
                      statement: { "open('\($0.folder)/.versions/doc.txt/doc.00001.txt', 'rb').read().decode().strip()" },
                      success: { _ in "OK first" }),
            Operation(name: "level", needs: .view, refusal: "EACCES",
                      statement: { "os.getxattr('\($0.folder)/doc.txt', 'user.nexus.access').decode()" },
                      success: { "OK \($0.level)" }),
            Operation(name: "comment", needs: .comment, refusal: "EACCES",
                      statement: { comment.replacingOccurrences(of: "DOC", with: "\($0.folder)/doc.txt") }),
            Operation(name: "save", needs: .edit, refusal: "EACCES", statement: { "append('\($0.folder)/save-\($0.label).txt')" }),
            Operation(name: "create", needs: .edit, refusal: "EACCES", statement: { "create('\($0.folder)/new-\($0.label).txt')" }),
            Operation(name: "rename", needs: .edit, refusal: "EACCES",
                      statement: { "os.rename('\($0.folder)/ren-\($0.label).txt', '\($0.folder)/renamed-\($0.label).txt')" }),
            Operation(name: "delete", needs: .edit, refusal: "EACCES", statement: { "os.unlink('\($0.folder)/del-\($0.label).txt')" }),
            Operation(name: "tags", needs: .edit, refusal: "EACCES",
                      statement: { "os.setxattr('\($0.folder)/tag-\($0.label).txt', 'user.xdg.tags', b'urgent')" }),
            Operation(name: "grant", needs: .admin, refusal: "EPERM",
                      statement: { grant.replacingOccurrences(of: "DOC", with: "\($0.folder)/grant-\($0.label).txt") }),
            Operation(name: "approve", needs: .admin, refusal: "EACCES",
                      statement: { "os.setxattr('\($0.folder)/approve-\($0.label).txt', 'user.nexus.status', b'approved')" }),
        ]
        var steps: [UserStep] = []
        for row in project.rows {
            steps += operations.map { row.user.does($0.statement(row), expect: $0.expected(for: row)) }
        }
        try PermissionProbe.expect(steps, in: project.mount.mountpoint)

        // What the permitted operations did, and that the refused ones changed nothing.
        let access = try nexusfsStatement("access", "DOC")
        var effects: [UserStep] = []
        for row in project.rows {
            func did(_ operation: String) -> Bool { operations.first { $0.name == operation }!.expected(for: row).hasPrefix("OK") }
            let (f, r) = (row.folder, row.label)
            effects += [
                TestUser.root.does("os.path.getsize('\(f)/save-\(r).txt')", expect: did("save") ? "OK 6" : "OK 5"),
                TestUser.root.does("os.path.exists('\(f)/new-\(r).txt')", expect: "OK \(did("create") ? "True" : "False")"),
                TestUser.root.does("os.path.exists('\(f)/renamed-\(r).txt')", expect: "OK \(did("rename") ? "True" : "False")"),
                TestUser.root.does("os.path.exists('\(f)/del-\(r).txt')", expect: "OK \(did("delete") ? "False" : "True")"),
                TestUser.root.does("os.getxattr('\(f)/tag-\(r).txt', 'user.xdg.tags').decode()", expect: did("tags") ? "OK urgent" : "ENODATA"),
                TestUser.root.does("'group nexus-team' in " + access.replacingOccurrences(of: "DOC", with: "\(f)/grant-\(r).txt"),
                                   expect: "OK \(did("grant") ? "True" : "False")"),
                TestUser.root.does("os.getxattr('\(f)/approve-\(r).txt', 'user.nexus.status').decode()",
                                   expect: did("approve") ? "OK approved" : "OK review"),
            ]
        }
        let comments = try nexusfsStatement("comments", "--json", "proj/doc.txt")
        effects.append(TestUser.root.does("' '.join(c['user'] + ':' + c['text'] for c in json.loads(\(comments)))",
                                          expect: "OK nexus-carol:a remark nexus-dave:a remark nexus-erin:a remark nexus-alice:a remark"))
        try PermissionProbe.expect(effects, in: project.mount.mountpoint)
    }

    /// What `names(folder)` shows a row's user when it runs: the setup's files less what rows
    /// before it renamed and deleted there, plus what they created.
    private static func listing(of row: Row, in project: Project) -> String {
        var names: Set<String> = ["doc.txt"]
        for other in project.rows where other.folder == row.folder {
            for prefix in Project.targetPrefixes { names.insert("\(prefix)-\(other.label).txt") }
        }
        for earlier in project.rows.prefix(while: { $0.label != row.label }) where earlier.folder == row.folder && earlier.level >= .edit {
            names.insert("new-\(earlier.label).txt")
            names.remove("ren-\(earlier.label).txt")
            names.insert("renamed-\(earlier.label).txt")
            names.remove("del-\(earlier.label).txt")
        }
        return names.sorted().joined(separator: " ")
    }

    @Test("a grant on a folder reaches what is created in it later, and `nexusfs access` says it is inherited from /proj")
    func inheritedGrants() throws {
        let project = try Project("inherit")
        let u = project.users
        try PermissionProbe.expect([
            u.alice.does("with open('proj/later.txt', 'w') as f: f.write('made after the grants\\n')"),
            u.alice.does("os.mkdir('proj/sub')"),
            u.alice.does("with open('proj/sub/deeper.txt', 'w') as f: f.write('below\\n')"),
        ], in: project.mount.mountpoint)
        var steps: [UserStep] = []
        for row in project.rows where row.folder == "proj" {
            for document in ["proj/later.txt", "proj/sub/deeper.txt"] {
                let level = row.level == .none ? "EACCES" : "OK \(row.level)"
                steps += [
                    row.user.does("os.getxattr('\(document)', 'user.nexus.access').decode()", expect: level),
                    row.user.does("read('\(document)')", expect: row.level >= .view ? "OK" : "EACCES"),
                    row.user.does("append('\(document)')", expect: row.level >= .edit ? "OK" : "EACCES"),
                    row.user.does(try nexusfsStatement("comment", document, "noted"), expect: row.level >= .comment ? "OK" : "EACCES"),
                ]
            }
        }
        try PermissionProbe.expect(steps, in: project.mount.mountpoint)

        struct Grant: Decodable, Equatable {
            var principal: String
            var level: String
            var reason: String
        }
        let report = try nexusfsRequest(as: u.alice, ["access", "--json", "proj/later.txt"], in: project.mount.mountpoint)
        let grants = try JSONDecoder().decode([Grant].self, from: report.stdout)
        for row in project.rows where row.folder == "proj" && row.level > .none && row.level < .owner {
            #expect(grants.contains(Grant(principal: row.user.name, level: "\(row.level)", reason: "inherited from /proj")),
                    "\(row): \(report.out)")
        }
        #expect(grants.contains(Grant(principal: u.alice.name, level: "owner", reason: "owner")), "\(report.out)")
        #expect(!grants.contains { $0.principal == systemNobody.name || $0.principal == "public" }, "\(report.out)")
        let text = try nexusfsRequest(as: u.bob, ["access", "proj/later.txt"], in: project.mount.mountpoint).out
        let bobLine = text.split(separator: "\n").first { $0.contains("nexus-bob") }
        #expect(bobLine.map { $0.contains("view") && $0.hasSuffix("inherited from /proj") } == true, "\(text)")
        #expect(text.contains("your level: view"), "\(text)")
        let deeper = try nexusfsRequest(as: u.alice, ["access", "proj/sub/deeper.txt"], in: project.mount.mountpoint).out
        #expect(deeper.contains("inherited from /proj"), "\(deeper)")
    }

    @Test("a revoke takes effect at the next system call, for the document and its history; a folder revoke closes the folder")
    func revokeIsImmediate() throws {
        let project = try Project("revoke")
        let u = project.users
        let version = "proj/.versions/doc.txt/doc.00001.txt"
        try PermissionProbe.expect([
            u.bob.does("read('proj/doc.txt')"), u.bob.does("read('\(version)')"),
            u.bob.does("names('proj/.versions/doc.txt')", expect: "OK doc.00001.txt doc.00002.txt"),
            u.dave.does("append('proj/doc.txt')"), u.dave.does("read('\(version)')"),
            u.alice.does(try nexusfsStatement("revoke", "proj/doc.txt", "nexus-bob")),
            u.alice.does(try nexusfsStatement("revoke", "proj/doc.txt", "nexus-dave")),
            u.bob.does("read('proj/doc.txt')", expect: "EACCES"), u.bob.does("read('\(version)')", expect: "EACCES"),
            u.bob.does("read('proj/.versions/doc.txt/doc.00002.txt')", expect: "EACCES"),
            u.bob.does("read('proj/save-view.txt')"),
            u.dave.does("append('proj/doc.txt')", expect: "EACCES"), u.dave.does("read('proj/doc.txt')", expect: "EACCES"),
            u.dave.does("read('\(version)')", expect: "EACCES"), u.dave.does("append('proj/save-edit.txt')"),
            // The whole folder, recursively: the folder closes at once.
            u.carol.does("'doc.txt' in os.listdir('proj/.versions')", expect: "OK True"),
            u.alice.does(try nexusfsStatement("revoke", "proj", "nexus-carol", "--recursive")),
            u.carol.does("listdir('proj')", expect: "EACCES"), u.carol.does("read('proj/doc.txt')", expect: "EACCES"),
            u.carol.does("read('\(version)')", expect: "EACCES"),
            u.carol.does(try nexusfsStatement("comment", "proj/doc.txt", "too late"), expect: "EACCES"),
            // Granting again opens it again.
            u.alice.does(try nexusfsStatement("grant", "proj/doc.txt", "nexus-bob", "view")),
            u.bob.does("read('proj/doc.txt')"), u.bob.does("read('\(version)')"),
        ], in: project.mount.mountpoint)
    }

    @Test("a hard link in a folder a user can read does not let her read a document she has no access to")
    func hardLinkGivesNoAccess() throws {
        let project = try Project("link")
        let u = project.users
        try PermissionProbe.expect([
            TestUser.root.does("make_dir('private', 'nexus-alice', 'nexus-alice', 0o700)"),
            TestUser.root.does("make_file('private/secret.txt', 'nexus-alice', 'nexus-alice', 0o600, b'secret\\n')"),
            TestUser.root.does("append('private/secret.txt', b'more\\n')"),
            u.alice.does("os.link('private/secret.txt', 'proj/secret-link.txt')"),
            u.alice.does("os.link('private/secret.txt', 'pub/secret-link.txt')"),
            u.bob.does("'secret-link.txt' in os.listdir('proj')", expect: "OK True"),
            u.bob.does("read('proj/secret-link.txt')", expect: "EACCES"),
            u.bob.does("os.getxattr('proj/secret-link.txt', 'user.nexus.access')", expect: "EACCES"),
            u.erin.does("read('proj/secret-link.txt')", expect: "EACCES"),
            u.erin.does("append('proj/secret-link.txt')", expect: "EACCES"),
            u.erin.does(try nexusfsStatement("grant", "proj/secret-link.txt", "nexus-erin", "view"), expect: "EPERM"),
            systemNobody.does("'secret-link.txt' in os.listdir('pub')", expect: "OK True"),
            systemNobody.does("read('pub/secret-link.txt')", expect: "EACCES"),
            u.alice.does("' '.join(open('pub/secret-link.txt').read().split())", expect: "OK secret more"),
        ], in: project.mount.mountpoint)
    }

    @Test("no way around the path: a file handle taken by a user with access cannot be opened by another user (open_by_handle_at is EPERM)")
    func noOpeningByHandle() throws {
        let project = try Project("handle")
        let u = project.users
        // name_to_handle_at by the owner, then open_by_handle_at by bob with that handle: the kernel
        // reserves opening by handle to CAP_DAC_READ_SEARCH, so guessing or borrowing inodes gets nowhere.
        let handle = """
            import ctypes, ctypes.util
            libc = ctypes.CDLL(None, use_errno=True)
            class FH(ctypes.Structure):
                _fields_ = [("size", ctypes.c_uint), ("type", ctypes.c_int), ("bytes", ctypes.c_ubyte * 128)]
            def handle_of(path):
                fh, mount = FH(), ctypes.c_int()
                fh.size = 128
                if libc.name_to_handle_at(-100, path.encode(), ctypes.byref(fh), ctypes.byref(mount), 0) != 0:
                    raise OSError(ctypes.get_errno(), "name_to_handle_at")
                return bytes(fh)
            def open_handle(raw):
                fh = FH.from_buffer_copy(raw)
                fd = libc.open_by_handle_at(os.open('.', os.O_RDONLY), ctypes.byref(fh), os.O_RDONLY)
                if fd < 0:
                    raise OSError(ctypes.get_errno(), "open_by_handle_at")
                os.close(fd)
            """
        try PermissionProbe.expect([
            TestUser.root.does("make_dir('private', 'nexus-alice', 'nexus-alice', 0o700)"),
            TestUser.root.does("make_file('private/secret.txt', 'nexus-alice', 'nexus-alice', 0o600, b'secret\\n')"),
            u.alice.does(handle + "\nopen('/var/tmp/nexusfs-handle', 'wb').write(handle_of('private/secret.txt'))"),
            u.bob.does(handle + "\nopen_handle(open('/var/tmp/nexusfs-handle', 'rb').read())", expect: "EPERM"),
            u.bob.does("read('private/secret.txt')", expect: "EACCES"),
        ], in: project.mount.mountpoint)
        try? FileManager.default.removeItem(atPath: "/var/tmp/nexusfs-handle")
    }

    @Test("principals: a group grant reaches its members only, a uid works as a name, public is view only (EINVAL), only the owner transfers ownership")
    func principals() throws {
        let project = try Project("principals")
        let u = project.users
        try PermissionProbe.expect([
            u.alice.does(try nexusfsStatement("grant", "pub/save-public.txt", "group:nexus-other", "edit")),
            u.carol.does("os.getxattr('pub/save-public.txt', 'user.nexus.access').decode()", expect: "OK edit"),
            u.carol.does("append('pub/save-public.txt')"),
            u.bob.does("os.getxattr('pub/save-public.txt', 'user.nexus.access').decode()", expect: "OK view"),
            u.bob.does("append('pub/save-public.txt')", expect: "EACCES"),
            u.alice.does(try nexusfsStatement("grant", "pub/ren-public.txt", "\(u.dave.uid)", "edit")),
            u.dave.does("os.rename('pub/ren-public.txt', 'pub/renamed-by-uid.txt')", expect: "EACCES"), // the folder is view for him
            u.dave.does("append('pub/ren-public.txt')"),
            u.alice.does(try nexusfsStatement("grant", "pub/doc.txt", "public", "edit"), expect: "EINVAL"),
            systemNobody.does("append('pub/doc.txt')", expect: "EACCES"),
            u.erin.does(try nexusfsStatement("grant", "proj/doc.txt", "nexus-erin", "owner"), expect: "EPERM"),
            u.erin.does("owner('proj/doc.txt')", expect: "OK nexus-alice:nexus-alice"),
            u.alice.does(try nexusfsStatement("grant", "proj/doc.txt", "nexus-dave", "owner")),
            u.dave.does("owner('proj/doc.txt')", expect: "OK nexus-dave:nexus-alice"),
            u.dave.does("os.getxattr('proj/doc.txt', 'user.nexus.access').decode()", expect: "OK owner"),
            u.dave.does(try nexusfsStatement("grant", "proj/doc.txt", "nexus-bob", "edit")),
            u.bob.does("append('proj/doc.txt')"),
        ], in: project.mount.mountpoint)
    }

    @Test("history takes the document's current owner, group, ACL and read bits: read-only for everyone, and a grant, revoke or new owner applies to old versions at once")
    func historyFollowsTheDocument() throws {
        let project = try Project("history")
        let u = project.users
        let version = "pub/.versions/doc.txt/doc.00001.txt"
        try PermissionProbe.expect([
            TestUser.root.does("owner('\(version)')", expect: "OK nexus-alice:nexus-alice"),
            TestUser.root.does("mode('pub/doc.txt') + ' ' + mode('\(version)')", expect: "OK 0o664 0o444"),
            u.alice.does("append('\(version)')", expect: "EACCES"), TestUser.root.does("append('\(version)')", expect: "EROFS"),
            u.alice.does("os.unlink('\(version)')", expect: "EACCES"), TestUser.root.does("os.unlink('\(version)')", expect: "EROFS"),
            systemNobody.does("read('\(version)')"),
            u.alice.does(try nexusfsStatement("revoke", "pub/doc.txt", "public")),
            systemNobody.does("read('\(version)')", expect: "EACCES"), u.bob.does("read('\(version)')", expect: "EACCES"),
            u.alice.does(try nexusfsStatement("grant", "pub/doc.txt", "nexus-bob", "view")),
            u.bob.does("read('\(version)')"), systemNobody.does("read('\(version)')", expect: "EACCES"),
            TestUser.root.does("getfacl('\(version)')", expect: "OK user::r-- | user:nexus-bob:r-- | group::r-- | mask::r-- | other::---"),
            u.alice.does(try nexusfsStatement("grant", "pub/doc.txt", "nexus-dave", "owner")),
            TestUser.root.does("owner('\(version)')", expect: "OK nexus-dave:nexus-alice"),
        ], in: project.mount.mountpoint)
    }
}
