import Foundation
import Glibc
import Testing

/// A fresh repository under /var/tmp mounted with `nexusfs mount` (never under /tmp: editors
/// and other programs treat /tmp specially). The mount goes away in `deinit`, by `nexusfs umount`
/// or else `fusermount3 -u -z`, so a failing test never leaves a mount behind.
final class MountedRepository: @unchecked Sendable {
    let workspace: Workspace
    /// Where the repository is mounted.
    let mountpoint: String
    /// Options given to every `nexusfs mount` with -o.
    let options: [String]
    private(set) var isMounted = false
    /// The repository directory.
    let repo: String

    /// - Parameter diskSize: put the repository on a tmpfs of this size (as mount(8) takes it, "16m").
    /// - Parameter stateDiskSize: put the state directory (the live catalog) on a tmpfs of this size.
    /// - Parameter initArguments: given to `nexusfs init` before the repository (`--store URL`).
    /// - Parameter environment: given to every nexusfs run (an object store's variables).
    init(_ label: String, options: [String] = ["commit=1"], diskSize: String? = nil, stateDiskSize: String? = nil,
         initArguments: [String] = [], environment: [String: String] = [:]) throws {
        workspace = try Workspace("mount-" + label)
        workspace.environment = environment
        if let stateDiskSize { try workspace.mountTmpfs(at: workspace.state, size: stateDiskSize) }
        mountpoint = workspace.path("mnt")
        self.options = options
        if let diskSize {
            try workspace.mountTmpfs(at: workspace.path("disk"), size: diskSize)
            repo = workspace.path("disk/repo")
        } else {
            repo = workspace.repo
        }
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let created = try workspace.nexusfs(["init"] + initArguments + [repo])
        try #require(created.exitedWith0, "\(created)")
        try mount()
    }

    deinit {
        if isMounted { forceUnmount() }
        workspace.cleanup()
    }

    /// A path inside the mount.
    func path(_ relative: String) -> String { relative.isEmpty ? mountpoint : mountpoint + "/" + relative }

    /// `nexusfs mount REPO MNT -o OPTIONS[,EXTRA]`; requires success and a mount that answers.
    func mount(adding extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
        var arguments = ["mount", repo, mountpoint]
        if !(options + extra).isEmpty { arguments += ["-o", (options + extra).joined(separator: ",")] }
        let result = try workspace.nexusfs(arguments)
        try #require(result.exitedWith0, "\(result)", sourceLocation: sourceLocation)
        isMounted = true
        try #require(Self.isFUSEMount(mountpoint), "`nexusfs mount` returned but \(mountpoint) is not mounted",
                     sourceLocation: sourceLocation)
    }

    /// `nexusfs umount MNT`; requires success (everything saved, the daemon gone).
    func unmount(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try workspace.nexusfs("umount", mountpoint)
        if result.exitedWith0 { isMounted = false }
        try #require(result.exitedWith0, "\(result)", sourceLocation: sourceLocation)
        #expect(!Self.isFUSEMount(mountpoint), "\(mountpoint) is still mounted after umount", sourceLocation: sourceLocation)
        #expect(daemonPID() == nil, "the daemon still holds the repository after umount", sourceLocation: sourceLocation)
    }

    func remount(sourceLocation: SourceLocation = #_sourceLocation) throws {
        try unmount(sourceLocation: sourceLocation)
        try mount(sourceLocation: sourceLocation)
    }

    /// The pid of the process holding REPO/lock: the mount daemon.
    func daemonPID() -> pid_t? {
        let lock = URL(fileURLWithPath: repo + "/lock").standardizedFileURL.path
        guard let processes = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in processes {
            guard let pid = pid_t(entry), pid != getpid(),
                  let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(entry)/fd") else { continue }
            for fd in fds {
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/fd/\(fd)"),
                   target == lock {
                    return pid
                }
            }
        }
        return nil
    }

    /// The daemon's pid, or a test failure.
    func requireDaemonPID(sourceLocation: SourceLocation = #_sourceLocation) throws -> pid_t {
        try #require(daemonPID(), "no process holds \(repo)/lock", sourceLocation: sourceLocation)
    }

    /// Unmounts whatever state the mount is in; never fails.
    private func forceUnmount() {
        let pid = daemonPID()
        if Self.isFUSEMount(mountpoint) || pid != nil {
            let result = try? workspace.nexusfs("umount", "--timeout", "30", mountpoint)
            if result?.exitedWith0 != true {
                _ = try? run("/bin/fusermount3", ["-u", "-z", mountpoint], timeoutSeconds: 30)
            }
        }
        // A daemon that still runs after a lazy unmount is saving or stuck: give it a moment, then end it.
        if let pid = daemonPID() {
            for _ in 0..<100 where kill(pid, 0) == 0 { usleep(100_000) }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }
        if Self.isFUSEMount(mountpoint) { umount2(mountpoint, Int32(MNT_DETACH)) }
        isMounted = false
    }

    /// Whether `path` is a mount point of type fuse.nexusfs (alive or dead) in /proc/self/mountinfo.
    static func isFUSEMount(_ path: String) -> Bool {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return false }
        return text.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            guard let dash = fields.firstIndex(of: "-"), fields.count > dash + 1, fields.count > 4 else { return false }
            return fields[4] == path && fields[dash + 1] == "fuse.nexusfs"
        }
    }
}

/// Expects `program` to exit 0 and returns its result.
@discardableResult
func mustRun(_ program: String, _ arguments: [String], directory: String? = nil, environment: [String: String] = [:],
             timeoutSeconds: Int = 300, sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
    let result = try run(program, arguments, environment: environment, directory: directory, timeoutSeconds: timeoutSeconds)
    try #require(result.exitedWith0, "\(result)", sourceLocation: sourceLocation)
    return result
}

/// Expects `copy` to be `original` as a user sees it: `diff -r`, and lstat (kinds, modes,
/// owners, sizes, mtimes to the nanosecond, link counts, hard links) and user xattrs.
func expectIdenticalTrees(_ original: String, _ copy: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let diff = try diffProblems(original, copy)
    #expect(diff.isEmpty, "diff -r \(original) \(copy):\n\(diff.prefix(40).joined(separator: "\n"))",
            sourceLocation: sourceLocation)
    let problems = treeDifferences(try snapshot(original), try snapshot(copy))
    #expect(problems.isEmpty, "\(copy) differs from \(original):\n\(problems.prefix(40).joined(separator: "\n"))",
            sourceLocation: sourceLocation)
}

/// The folder of this test file's package (for trees of real source code).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// Writes a helper script into `directory` and returns its path.
func writeScript(_ text: String, named name: String, in directory: String) throws -> String {
    let path = directory + "/" + name
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    chmod(path, 0o755)
    return path
}
