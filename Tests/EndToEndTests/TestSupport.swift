import Foundation
import Glibc
import Testing

/// What one run of a program gave back.
struct RunResult: CustomStringConvertible {
    let command: String
    let status: Int32
    /// Set when the program died of a signal (then `status` is the signal number).
    let signaled: Bool
    let stdout: Data
    let stderr: Data

    var out: String { String(decoding: stdout, as: UTF8.self) }
    var err: String { String(decoding: stderr, as: UTF8.self) }
    var exitedWith0: Bool { !signaled && status == 0 }

    var description: String {
        "`\(command)` " + (signaled ? "died of signal \(status)" : "exited \(status)")
            + "\n--- stdout ---\n\(out.prefix(4000))\n--- stderr ---\n\(err.prefix(4000))"
    }
}

/// Runs `program` with `arguments` under `timeout` (so a hung product fails the test instead of
/// hanging the suite); stdin is /dev/null, stdout and stderr are captured through files, which
/// cannot deadlock the way two pipes read one after the other can.
func run(_ program: String, _ arguments: [String], environment: [String: String] = [:],
         removingEnvironment: [String] = [], directory: String? = nil, timeoutSeconds: Int = 300) throws -> RunResult {
    let capture = "/var/tmp/nexusfs-e2e-io-" + UUID().uuidString
    let outPath = capture + ".out", errPath = capture + ".err"
    FileManager.default.createFile(atPath: outPath, contents: nil)
    FileManager.default.createFile(atPath: errPath, contents: nil)
    defer {
        unlink(outPath)
        unlink(errPath)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
    process.arguments = ["--kill-after=10", String(timeoutSeconds), program] + arguments
    var env = ProcessInfo.processInfo.environment
    for key in env.keys where key.hasPrefix("NEXUSFS_") { env[key] = nil }
    for key in removingEnvironment { env[key] = nil }
    env.merge(environment) { _, new in new }
    process.environment = env
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    process.standardInput = FileHandle.nullDevice
    let outHandle = try #require(FileHandle(forWritingAtPath: outPath))
    let errHandle = try #require(FileHandle(forWritingAtPath: errPath))
    process.standardOutput = outHandle
    process.standardError = errHandle
    try process.run()
    process.waitUntilExit()
    try? outHandle.close()
    try? errHandle.close()
    let command = ([program] + arguments).joined(separator: " ")
    let status = process.terminationStatus
    if status == 124 && process.terminationReason == .exit {
        Issue.record("`\(command)` timed out after \(timeoutSeconds) s")
    }
    return RunResult(command: command, status: status, signaled: process.terminationReason == .uncaughtSignal,
                     stdout: FileManager.default.contents(atPath: outPath) ?? Data(),
                     stderr: FileManager.default.contents(atPath: errPath) ?? Data())
}

/// The `nexusfs` executable built next to this test bundle.
enum Nexusfs {
    static let executable: String? = {
        var candidates: [URL] = []
        let argument0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(argument0.deletingLastPathComponent())
        let bundle = Bundle.main.bundleURL.resolvingSymlinksInPath()
        candidates.append(bundle.deletingLastPathComponent())
        candidates.append(bundle)
        // xctest bundles on Linux may be a directory (debug/X.xctest/...): look a few levels up too.
        for start in [argument0, bundle] {
            var url = start
            for _ in 0..<4 {
                url = url.deletingLastPathComponent()
                candidates.append(url)
            }
        }
        for dir in candidates {
            let path = dir.appendingPathComponent("nexusfs").path
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
               access(path, X_OK) == 0 {
                return path
            }
        }
        return nil
    }()

    /// The executable, or a test failure that says where it was looked for.
    static func path() throws -> String {
        try #require(executable != nil, """
            the nexusfs executable was not found next to the test bundle (\(CommandLine.arguments[0]), \
            \(Bundle.main.bundleURL.path)); build it with `swift build` first
            """)
        return executable!
    }
}

/// A fresh directory under /var/tmp for one test: the repository, its state directory, trees.
/// `cleanup()` (also run by deinit) unmounts what the test mounted and removes everything;
/// call it from a `defer` so that it runs when an expectation throws.
final class Workspace: @unchecked Sendable {
    let root: String
    let repo: String
    let state: String
    var password = "correct horse battery staple 🐎"
    /// Variables every nexusfs run gets besides the passphrase and state directory (an object store's).
    var environment: [String: String] = [:]
    private var mounts: [String] = []
    private var cleaned = false

    init(_ label: String) throws {
        var template = Array("/var/tmp/nexusfs-e2e-\(label)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw SystemCallFailed(call: "mkdtemp", path: [], code: errno)
        }
        root = String(cString: made)
        repo = root + "/repo"
        state = root + "/state"
    }

    deinit { cleanup() }

    func path(_ name: String) -> String { root + "/" + name }

    /// Runs nexusfs with this workspace's passphrase and state directory unless told otherwise.
    @discardableResult
    func nexusfs(_ arguments: [String], password: String? = nil, stateDir: String? = nil,
                 extraEnvironment: [String: String] = [:]) throws -> RunResult {
        var environment = ["NEXUSFS_PASSWORD": password ?? self.password, "NEXUSFS_STATE_DIR": stateDir ?? state]
        environment.merge(self.environment) { _, new in new }
        environment.merge(extraEnvironment) { _, new in new }
        return try run(try Nexusfs.path(), arguments, environment: environment)
    }

    @discardableResult
    func nexusfs(_ arguments: String...) throws -> RunResult { try nexusfs(arguments) }

    /// Runs nexusfs and requires exit status 0.
    @discardableResult
    func succeed(_ arguments: String..., password: String? = nil, stateDir: String? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        let result = try nexusfs(arguments, password: password, stateDir: stateDir)
        try #require(result.exitedWith0, "\(result)", sourceLocation: sourceLocation)
        return result
    }

    /// `stats --json`, decoded.
    func stats(stateDir: String? = nil, repository: String? = nil,
               sourceLocation: SourceLocation = #_sourceLocation) throws -> Stats {
        let result = try nexusfs(["stats", repository ?? repo, "--json"], stateDir: stateDir)
        try #require(result.exitedWith0, "\(result)", sourceLocation: sourceLocation)
        return try JSONDecoder().decode(Stats.self, from: result.stdout)
    }

    /// Mounts a tmpfs of `size` (as mount(8) takes it, e.g. "6m") at `directory`; unmounted by `cleanup()`.
    func mountTmpfs(at directory: String, size: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let result = try run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=755", "tmpfs", directory])
        try #require(result.exitedWith0, "\(result)")
        mounts.append(directory)
    }

    func cleanup() {
        guard !cleaned else { return }
        cleaned = true
        for directory in mounts.reversed() {
            // A child forked by a parallel test may briefly hold descriptors: retry, then detach.
            var done = false
            for _ in 0..<100 where !done {
                if umount2(directory, 0) == 0 || errno != EBUSY { done = true } else { usleep(20_000) }
            }
            if !done { umount2(directory, Int32(MNT_DETACH)) }
        }
        _ = try? run("/usr/bin/rm", ["-rf", "--one-file-system", root])
    }
}

/// The fields of `nexusfs stats --json` the tests look at.
struct Stats: Decodable {
    var documents: Int
    var folders: Int
    var versions: Int
    var logicalBytes: Int64
    var storedBytes: Int64
    var packs: Int
}

/// Whether stderr looks like a crash rather than a one-line message.
func looksLikeCrash(_ text: String) -> Bool {
    ["Fatal error", "Stack dump", "Current stack trace", "backtrace", "Swift runtime failure", "Illegal instruction",
     "Segmentation fault", "\n#0 ", "0x0000"].contains { text.contains($0) }
}

/// Random bytes from the kernel.
func randomBytes(_ count: Int) -> [UInt8] {
    let handle = FileHandle(forReadingAtPath: "/dev/urandom")!
    defer { try? handle.close() }
    var out: [UInt8] = []
    out.reserveCapacity(count)
    while out.count < count { out += handle.readData(ofLength: min(count - out.count, 1 << 24)) }
    return out
}

/// Text that compresses well but does not repeat exactly: numbered lines of prose.
func compressibleText(_ count: Int, seed: Int = 0) -> [UInt8] {
    let words = ["lorem", "ipsum", "dolor", "sit", "amet", "document", "archive", "nexus", "folder", "version",
                 "encrypted", "chunk", "pack", "catalog", "journal", "mount", "export", "import"]
    var out: [UInt8] = []
    out.reserveCapacity(count + 200)
    var line = seed
    while out.count < count {
        out += Array("\(line) ".utf8)
        for k in 0..<10 { out += Array(words[(line &* 7 &+ k &* 13) % words.count].utf8) + [0x20] }
        out.append(0x0a)
        line += 1
    }
    return Array(out.prefix(count))
}
