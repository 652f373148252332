import Foundation
import Glibc
import Testing

// Real local accounts for tests that act on a mount as distinct users (permissions, DMS grants).
//
// The accounts are created once per machine, when missing, and kept: they have no home, no password
// and the shell /usr/sbin/nologin, so nobody logs in as them, and keeping them spares every run a
// rewrite of /etc/passwd (which a test running in parallel may be reading). Creation holds an
// flock on /var/tmp/nexusfs-e2e-users.lock, so test processes running side by side do not race.
// An account that exists but is in the wrong groups is put back into exactly its groups.
// To remove them: `userdel nexus-alice` (and bob, carol, dave, erin), `groupdel nexus-team`,
// `groupdel nexus-other`.

/// A local group made for tests.
struct TestGroup: Sendable, Hashable, CustomStringConvertible {
    let name: String
    let gid: gid_t

    var description: String { "\(name) (\(gid))" }
}

/// A local account the tests act as; `root` is the test process's own identity.
struct TestUser: Sendable, Hashable, CustomStringConvertible {
    let name: String
    let uid: uid_t
    /// The primary group (each test account has a private group of its own name).
    let gid: gid_t
    /// Every group the user is in, the primary one included: the supplementary list a login gets.
    let groups: [gid_t]

    static let root = TestUser(name: "root", uid: 0, gid: 0, groups: [0])

    var description: String { name }

    /// The same user with other supplementary groups, as after `newgrp` or a changed /etc/group.
    func with(groups: [gid_t]) -> TestUser { TestUser(name: name, uid: uid, gid: gid, groups: groups) }
}

/// The fixed set of test accounts: nexus-team has alice and bob, nexus-other has carol; dave and
/// erin are in no shared group.
struct TestUsers: Sendable {
    let alice, bob, carol, dave, erin: TestUser
    let team, other: TestGroup

    var all: [TestUser] { [alice, bob, carol, dave, erin] }

    /// The accounts, created on first use in this process (and on this machine when missing).
    static func require() throws -> TestUsers { try shared.get() }

    /// Why the accounts could not be made; thrown to every test that needs them.
    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    private static let shared = Result<TestUsers, Unavailable> { () throws(Unavailable) -> TestUsers in
        do { return try ensure() } catch { throw Unavailable(description: "the test accounts could not be made: \(error)") }
    }

    private static let usersLockPath = "/var/tmp/nexusfs-e2e-users.lock"
    private static let groupNames = ["nexus-team", "nexus-other"]
    private static let memberships: [(user: String, groups: [String])] = [
        ("nexus-alice", ["nexus-team"]), ("nexus-bob", ["nexus-team"]), ("nexus-carol", ["nexus-other"]),
        ("nexus-dave", []), ("nexus-erin", []),
    ]

    private static func ensure() throws -> TestUsers {
        let lock = open(usersLockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw SystemCallFailed(call: "open", path: Array(usersLockPath.utf8), code: errno) }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw SystemCallFailed(call: "flock", path: Array(usersLockPath.utf8), code: errno) }
        }
        for group in groupNames where try lookUpGroup(group) == nil {
            try administer("/usr/sbin/groupadd", [group])
        }
        var users: [TestUser] = []
        for (name, groups) in memberships {
            if try !run("/usr/bin/getent", ["passwd", name]).exitedWith0 {
                try administer("/usr/sbin/useradd", ["--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin",
                                                     "--comment", "nexusfs test account"]
                                                    + (groups.isEmpty ? [] : ["--groups", groups.joined(separator: ",")])
                                                    + [name])
            }
            let current = Set(try administer("/usr/bin/id", ["-Gn", name]).split(separator: " ").map(String.init))
            if current != Set([name] + groups) {
                try administer("/usr/sbin/usermod", ["--groups", groups.joined(separator: ","), name])
            }
            users.append(TestUser(name: name, uid: try number(administer("/usr/bin/id", ["-u", name])),
                                  gid: try number(administer("/usr/bin/id", ["-g", name])),
                                  groups: try administer("/usr/bin/id", ["-G", name]).split(separator: " ")
                                      .map { try number(String($0)) }))
        }
        let team = try #require(try lookUpGroup("nexus-team")), other = try #require(try lookUpGroup("nexus-other"))
        return TestUsers(alice: users[0], bob: users[1], carol: users[2], dave: users[3], erin: users[4],
                         team: team, other: other)
    }

    /// `getent group NAME`, parsed; nil when there is no such group.
    private static func lookUpGroup(_ name: String) throws -> TestGroup? {
        let result = try run("/usr/bin/getent", ["group", name])
        guard result.exitedWith0 else { return nil }
        let fields = result.out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count >= 3 else { return nil }
        return TestGroup(name: name, gid: try number(String(fields[2])))
    }

    /// Runs an account tool; requires exit 0 and returns stdout, trimmed.
    @discardableResult
    private static func administer(_ program: String, _ arguments: [String]) throws -> String {
        let result = try run(program, arguments, timeoutSeconds: 60)
        try #require(result.exitedWith0, "\(result)")
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func number(_ text: String) throws -> UInt32 {
        try #require(UInt32(text.trimmingCharacters(in: .whitespacesAndNewlines)), "not an id: \(text)")
    }
}

/// Runs `program` as `user` through `setpriv` (real and effective uid and gid, and the supplementary
/// groups: `groups`, or else the user's own; `--clear-groups` when the list is empty), with `umask`,
/// in `directory` (entered as root, before the switch). PATH and HOME are plain system ones, so
/// nothing resolves through root's private directories. `TestUser.root` runs without a switch.
func runAs(_ user: TestUser, _ program: String, _ arguments: [String], groups: [gid_t]? = nil, umask: mode_t? = nil,
           directory: String? = nil, environment: [String: String] = [:], timeoutSeconds: Int = 120) throws -> RunResult {
    var command = [program] + arguments
    if let umask {
        command = ["/bin/sh", "-c", "umask \(String(umask, radix: 8)) && exec \"$0\" \"$@\""] + command
    }
    if user.uid != 0 || groups != nil {
        let list = groups ?? user.groups
        command = ["/usr/bin/setpriv", "--reuid=\(user.uid)", "--regid=\(user.gid)"]
            + (list.isEmpty ? ["--clear-groups"] : ["--groups=" + list.map(String.init).joined(separator: ",")])
            + ["--"] + command
    }
    var env = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/"]
    env.merge(environment) { _, new in new }
    return try run(command[0], Array(command.dropFirst()), environment: env, directory: directory,
                   timeoutSeconds: timeoutSeconds)
}

/// One operation of a permission test: a Python `statement` run as `user` with `umask`, and the
/// outcome it should have: "OK", "OK <value>" when the statement gives a value, or an errno name
/// ("EACCES", "EPERM"). `PermissionProbe.prelude` lists the helpers a statement may call.
struct UserStep: Sendable, CustomStringConvertible {
    let user: TestUser
    let statement: String
    let expected: String
    let umask: mode_t

    var description: String { "\(user.name)\(umask == 0o022 ? "" : " (umask \(String(umask, radix: 8)))"): \(statement)" }
}

extension TestUser {
    /// A step: this user runs `statement`, which should come out as `expect`.
    func does(_ statement: String, expect: String = "OK", umask: mode_t = 0o022) -> UserStep {
        UserStep(user: self, statement: statement, expected: expect, umask: umask)
    }
}

/// Runs Python statements as test users and reports each one's outcome with errno precision.
enum PermissionProbe {
    /// Performs `steps` in order with `directory` as the working directory (so statements use relative
    /// paths); consecutive steps of one user and umask share one python3 process. Returns one
    /// outcome per step: "OK", "OK <value>", an errno name, "exception ..." for a bug in the statement,
    /// or "absent" when its process died first.
    static func perform(_ steps: [UserStep], in directory: String) throws -> [String] {
        var outcomes: [String] = []
        var start = 0
        while start < steps.count {
            var end = start + 1
            while end < steps.count, steps[end].user == steps[start].user, steps[end].umask == steps[start].umask { end += 1 }
            let batch = steps[start..<end].map(\.statement)
            let json = String(decoding: try JSONSerialization.data(withJSONObject: batch), as: UTF8.self)
            let result = try runAs(steps[start].user, "/usr/bin/python3",
                                   ["-I", "-c", prelude, json, String(steps[start].umask, radix: 8)], directory: directory)
            var lines = result.out.split(separator: "\n").map(String.init)
            if lines.count < batch.count {
                lines += Array(repeating: "absent (\(result.err.suffix(300)))", count: batch.count - lines.count)
            }
            outcomes += lines.prefix(batch.count)
            start = end
        }
        return outcomes
    }

    /// One statement as `user`: its outcome.
    static func outcome(as user: TestUser, _ statement: String, in directory: String, umask: mode_t = 0o022) throws -> String {
        try perform([user.does(statement, umask: umask)], in: directory)[0]
    }

    /// Performs `steps` in `directory` and records one issue listing every step whose outcome is not its `expected`.
    static func expect(_ steps: [UserStep], in directory: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let outcomes = try perform(steps, in: directory)
        let wrong = zip(steps.indices, zip(steps, outcomes)).filter { $1.0.expected != $1.1 }
            .map { index, pair in "  #\(index) \(pair.0): \(pair.1) (want \(pair.0.expected))" }
        #expect(wrong.isEmpty, "in \(directory):\n\(wrong.joined(separator: "\n"))", sourceLocation: sourceLocation)
    }

    /// argv[1]: a JSON list of statements; argv[2]: the umask in octal. Prints one outcome per line.
    /// Helpers: read, write, append, create, truncate, execute (a program, by exec), listdir, names (sorted,
    /// space-separated), mode (octal), owner ("user:group"), touch (times to now), settimes (explicit),
    /// mtime (seconds), uid and gid (of a name), setfacl and getfacl (the tools; getfacl's lines joined by
    /// " | "), command (any tool: its exit message becomes the errno). For root's setup: give (chown, then
    /// chmod), and make_file, make_dir, make_program (a copy of /usr/bin/true), each taking path, user,
    /// group, mode. `os`, `stat`, `errno` and `shutil` are imported.
    static let prelude = #"""
        import errno, grp, json, os, pwd, shutil, stat, subprocess, sys
        statements = json.loads(sys.argv[1])
        os.umask(int(sys.argv[2], 8))

        def read(path):
            with open(path, "rb") as f:
                f.read()

        def _write(path, data, flags):
            fd = os.open(path, flags)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)

        def write(path, data=b"w"): _write(path, data, os.O_WRONLY)
        def append(path, data=b"a"): _write(path, data, os.O_WRONLY | os.O_APPEND)
        def create(path, mode=0o666): os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
        def truncate(path, size=0): os.truncate(path, size)
        def listdir(path="."): os.listdir(path)
        def names(path="."): return " ".join(sorted(os.listdir(path)))
        def mode(path): return oct(stat.S_IMODE(os.lstat(path).st_mode))
        def touch(path): os.utime(path, None)
        def settimes(path, seconds=1000000000): os.utime(path, (seconds, seconds))
        def mtime(path): return int(os.stat(path).st_mtime)

        def owner(path):
            st = os.lstat(path)
            try: user = pwd.getpwuid(st.st_uid).pw_name
            except KeyError: user = str(st.st_uid)
            try: group = grp.getgrgid(st.st_gid).gr_name
            except KeyError: group = str(st.st_gid)
            return f"{user}:{group}"

        def execute(path):
            done = subprocess.run([os.path.abspath(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
            if done.returncode != 0:
                raise RuntimeError(f"{path} exited {done.returncode}")

        _messages = sorted(((os.strerror(code), code) for code in errno.errorcode), key=lambda m: -len(m[0]))

        def command(*argv):
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            if done.returncode != 0:
                for message, code in _messages:
                    if message in done.stderr:
                        raise OSError(code, done.stderr.strip())
                raise RuntimeError(f"{argv[0]} exited {done.returncode}: {done.stderr.strip()}")
            lines = [" ".join(line.split()) for line in done.stdout.splitlines() if line.strip()]
            return " | ".join(lines) if lines else None

        def uid(name): return pwd.getpwnam(name).pw_uid
        def gid(name): return grp.getgrnam(name).gr_gid

        def give(path, user, group, mode):
            os.chown(path, uid(user), gid(group))
            os.chmod(path, mode)

        def make_file(path, user, group, mode, data=b"data\n"):
            with open(path, "wb") as f:
                f.write(data)
            give(path, user, group, mode)

        def make_dir(path, user, group, mode):
            os.mkdir(path)
            give(path, user, group, mode)

        def make_program(path, user, group, mode):
            shutil.copyfile("/usr/bin/true", path)
            give(path, user, group, mode)

        def setfacl(*args): command("/usr/bin/setfacl", *args)
        def getfacl(*args): return command("/usr/bin/getfacl", "--omit-header", *args)

        for statement in statements:
            try:
                try:
                    code, evaluate = compile(statement, "<step>", "eval"), True
                except SyntaxError:
                    code, evaluate = compile(statement, "<step>", "exec"), False
                value = eval(code) if evaluate else exec(code)
                outcome = "OK" if value is None else f"OK {value}"
            except OSError as error:
                outcome = errno.errorcode.get(error.errno, f"errno {error.errno}") if error.errno else f"exception OSError: {error}"
            except Exception as error:
                outcome = f"exception {type(error).__name__}: {error}"
            print(outcome.replace("\n", " "), flush=True)
        """#
}

extension Workspace {
    /// Lets the test accounts reach into this workspace (mkdtemp makes it 0700): its root becomes 0755,
    /// and every folder above it must already be searchable by others.
    func openToTestUsers(sourceLocation: SourceLocation = #_sourceLocation) throws {
        try #require(chmod(root, 0o755) == 0, "chmod 0755 \(root): \(String(cString: strerror(errno)))",
                     sourceLocation: sourceLocation)
        var folder = URL(fileURLWithPath: root).deletingLastPathComponent()
        while folder.path != "/" {
            var st = stat()
            try #require(stat(folder.path, &st) == 0 && st.st_mode & 0o001 != 0,
                         "\(folder.path) is not searchable by other users", sourceLocation: sourceLocation)
            folder = folder.deletingLastPathComponent()
        }
    }
}
