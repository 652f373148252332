import Foundation
import Glibc
import Testing

/// File names and paths as bytes: they need not be UTF-8.
typealias Bytes = [UInt8]

extension String {
    var bytes: Bytes { Array(utf8) }
}

/// A failed system call while building or reading a test tree.
struct SystemCallFailed: Error, CustomStringConvertible {
    let call: String
    let path: Bytes
    let code: Int32
    var description: String { "\(call) \(printable(path)): \(String(cString: strerror(code)))" }
}

/// A path for messages: printable ASCII as is, every other byte as \xNN.
func printable(_ bytes: Bytes) -> String {
    bytes.map { $0 >= 0x20 && $0 < 0x7f && $0 != 0x5c ? String(UnicodeScalar($0)) : String(format: "\\x%02x", $0) }
        .joined()
}

func join(_ base: Bytes, _ name: Bytes) -> Bytes {
    if base.isEmpty { return name }
    if name.isEmpty { return base }
    return base + [0x2f] + name
}

func withCPath<T>(_ path: Bytes, _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
    let c = path.map { CChar(bitPattern: $0) } + [0]
    return try c.withUnsafeBufferPointer { try body($0.baseAddress!) }
}

@discardableResult
func checked<R: BinaryInteger>(_ result: R, _ call: String, _ path: Bytes) throws -> R {
    guard result >= 0 else { throw SystemCallFailed(call: call, path: path, code: errno) }
    return result
}

/// The xattr calls, which Swift's Glibc module does not export; looked up in the C library.
enum XattrCalls {
    typealias Set = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
    typealias List = @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<CChar>?, Int) -> Int
    typealias Get = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int

    static let lset: Set = resolve("lsetxattr")
    static let llist: List = resolve("llistxattr")
    static let lget: Get = resolve("lgetxattr")

    private static func resolve<F>(_ name: String) -> F {
        unsafeBitCast(dlsym(dlopen(nil, RTLD_NOW), name)!, to: F.self)
    }
}

func setXattr(_ path: Bytes, _ name: String, _ value: Bytes) throws {
    let result = withCPath(path) { p in
        value.withUnsafeBytes { v in XattrCalls.lset(p, name, v.baseAddress, v.count, 0) }
    }
    try checked(result, "lsetxattr \(name)", path)
}

/// Every extended attribute of `path` (not following a symlink), by name.
func xattrs(of path: Bytes) throws -> [Bytes: Bytes] {
    try withCPath(path) { p in
        var result: [Bytes: Bytes] = [:]
        let size = XattrCalls.llist(p, nil, 0)
        if size < 0 && (errno == ENOTSUP || errno == EPERM) { return [:] }
        try checked(size, "llistxattr", path)
        guard size > 0 else { return [:] }
        var names = [CChar](repeating: 0, count: size)
        let got = try checked(names.withUnsafeMutableBufferPointer { XattrCalls.llist(p, $0.baseAddress, size) },
                              "llistxattr", path)
        for name in names[..<got].split(separator: 0) {
            let cName = Array(name) + [0]
            let length = try checked(XattrCalls.lget(p, cName, nil, 0), "lgetxattr", path)
            var value = Bytes(repeating: 0, count: length)
            let read = try checked(value.withUnsafeMutableBytes { XattrCalls.lget(p, cName, $0.baseAddress, length) },
                                   "lgetxattr", path)
            result[name.map { UInt8(bitPattern: $0) }] = Array(value[..<read])
        }
        return result
    }
}

/// Builds a tree with exact names and metadata. Contents first; `finish()` then sets owners,
/// modes (after owners: chown clears setuid) and times (children before their folders).
final class TreeBuilder {
    let root: Bytes
    private var created: [Bytes] = [[]]
    private var isLink: Set<Bytes> = []
    private var isSymlink: Set<Bytes> = []
    private var owners: [(Bytes, uid_t, gid_t)] = []
    private var modes: [Bytes: mode_t] = [[]: 0o755]
    private var times: [Bytes: timespec] = [:]

    init(root: String) throws {
        self.root = root.bytes
        try checked(withCPath(self.root) { mkdir($0, 0o700) }, "mkdir", self.root)
    }

    var rootPath: String { String(decoding: root, as: UTF8.self) }

    func full(_ relative: Bytes) -> Bytes { join(root, relative) }

    func directory(_ path: Bytes, mode: mode_t = 0o755) throws {
        try checked(withCPath(full(path)) { mkdir($0, 0o700) }, "mkdir", full(path))
        created.append(path)
        modes[path] = mode
    }

    func file(_ path: Bytes, _ content: Bytes, mode: mode_t = 0o644) throws {
        let fd = try checked(withCPath(full(path)) { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) },
                             "open", full(path))
        defer { close(fd) }
        var done = 0
        while done < content.count {
            let n = content.withUnsafeBytes { write(fd, $0.baseAddress! + done, content.count - done) }
            try checked(n, "write", full(path))
            done += n
        }
        created.append(path)
        modes[path] = mode
    }

    func symlink(_ path: Bytes, target: Bytes) throws {
        try checked(withCPath(target) { t in withCPath(full(path)) { Glibc.symlink(t, $0) } }, "symlink", full(path))
        created.append(path)
        isSymlink.insert(path)
    }

    func hardLink(_ path: Bytes, to existing: Bytes) throws {
        try checked(withCPath(full(existing)) { e in withCPath(full(path)) { link(e, $0) } }, "link", full(path))
        isLink.insert(path)
    }

    func fifo(_ path: Bytes, mode: mode_t = 0o644) throws {
        try checked(withCPath(full(path)) { mkfifo($0, 0o600) }, "mkfifo", full(path))
        created.append(path)
        modes[path] = mode
    }

    func xattr(_ path: Bytes, _ name: String, _ value: Bytes) throws {
        try setXattr(full(path), name, value)
    }

    func owner(_ path: Bytes, uid: uid_t, gid: gid_t) {
        owners.append((path, uid, gid))
    }

    func mtime(_ path: Bytes, seconds: Int, nanoseconds: Int) {
        times[path] = timespec(tv_sec: seconds, tv_nsec: nanoseconds)
    }

    func finish() throws {
        for (path, uid, gid) in owners {
            try checked(withCPath(full(path)) { lchown($0, uid, gid) }, "lchown", full(path))
        }
        for path in created where !isSymlink.contains(path) {
            let mode = modes[path] ?? 0o644
            try checked(withCPath(full(path)) { chmod($0, mode) }, "chmod", full(path))
        }
        // Children were created after their folders: going backwards sets a folder's time last.
        for (index, path) in created.enumerated().reversed() {
            let mtime = times[path] ?? timespec(tv_sec: 1_600_000_000 + index * 3600, tv_nsec: 123_456_789 - index * 1001)
            let both = [timespec(tv_sec: 1_700_000_000, tv_nsec: 5), mtime]
            try checked(withCPath(full(path)) { p in both.withUnsafeBufferPointer {
                utimensat(AT_FDCWD, p, $0.baseAddress, AT_SYMLINK_NOFOLLOW)
            } }, "utimensat", full(path))
        }
    }
}

/// What a user sees of one entry of a tree.
struct EntryInfo: Equatable {
    var kind: mode_t
    var mode: mode_t
    var uid: uid_t
    var gid: gid_t
    var size: Int
    var mtimeSeconds: Int
    var mtimeNanoseconds: Int
    var linkCount: UInt
    var inode: UInt
    var target: Bytes?
    var xattrs: [Bytes: Bytes]

    var isDirectory: Bool { kind == S_IFDIR }
}

/// Every entry under `root` by relative path ([] is the root), read with lstat and byte names.
func snapshot(_ root: String) throws -> [Bytes: EntryInfo] {
    var entries: [Bytes: EntryInfo] = [:]
    func visit(_ relative: Bytes) throws {
        let path = join(root.bytes, relative)
        var st = stat()
        try checked(withCPath(path) { lstat($0, &st) }, "lstat", path)
        var target: Bytes?
        if st.st_mode & S_IFMT == S_IFLNK {
            var buffer = [CChar](repeating: 0, count: 4097)
            let n = try checked(withCPath(path) { readlink($0, &buffer, 4096) }, "readlink", path)
            target = buffer[..<n].map { UInt8(bitPattern: $0) }
        }
        entries[relative] = EntryInfo(
            kind: st.st_mode & S_IFMT, mode: st.st_mode & 0o7777, uid: st.st_uid, gid: st.st_gid, size: st.st_size,
            mtimeSeconds: st.st_mtim.tv_sec, mtimeNanoseconds: st.st_mtim.tv_nsec, linkCount: UInt(st.st_nlink),
            inode: UInt(st.st_ino), target: target, xattrs: try xattrs(of: path))
        guard st.st_mode & S_IFMT == S_IFDIR else { return }
        guard let dir = withCPath(path, { opendir($0) }) else { throw SystemCallFailed(call: "opendir", path: path, code: errno) }
        var names: [Bytes] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if name != [0x2e] && name != [0x2e, 0x2e] { names.append(name) }
        }
        closedir(dir)
        for name in names { try visit(join(relative, name)) }
    }
    try visit([])
    return entries
}

/// How `copy` differs from `original` in what a user sees: entries, kinds, modes, owners, sizes,
/// mtimes to the nanosecond, link targets, xattrs, link counts, and hard links kept together.
func treeDifferences(_ original: [Bytes: EntryInfo], _ copy: [Bytes: EntryInfo]) -> [String] {
    var problems: [String] = []
    for path in Set(original.keys).union(copy.keys).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
        let name = "/" + printable(path)
        guard let a = original[path] else { problems.append("\(name): only in the copy"); continue }
        guard let b = copy[path] else { problems.append("\(name): missing from the copy"); continue }
        func compare<T: Equatable>(_ what: String, _ x: T, _ y: T) {
            if x != y { problems.append("\(name): \(what) \(x) became \(y)") }
        }
        compare("kind", String(a.kind, radix: 8), String(b.kind, radix: 8))
        guard a.kind == b.kind else { continue }
        compare("mode", String(a.mode, radix: 8), String(b.mode, radix: 8))
        compare("uid", a.uid, b.uid)
        compare("gid", a.gid, b.gid)
        if !a.isDirectory { compare("size", a.size, b.size) }
        compare("mtime", "\(a.mtimeSeconds).\(a.mtimeNanoseconds)", "\(b.mtimeSeconds).\(b.mtimeNanoseconds)")
        compare("link count", a.linkCount, b.linkCount)
        compare("symlink target", a.target.map(printable), b.target.map(printable))
        if a.xattrs != b.xattrs {
            let describe = { (x: [Bytes: Bytes]) in
                x.map { "\(printable($0.key))=\($0.value.count) bytes" }.sorted().joined(separator: ", ")
            }
            problems.append("\(name): xattrs [\(describe(a.xattrs))] became [\(describe(b.xattrs))]"
                + (a.xattrs.keys == b.xattrs.keys ? " (values differ)" : ""))
        }
    }
    // Names that share an inode in the original share one in the copy, and only those.
    let groups = Dictionary(grouping: original.filter { !$0.value.isDirectory && $0.value.linkCount > 1 }, by: { $0.value.inode })
    for group in groups.values {
        let names = group.map { "/" + printable($0.key) }.sorted()
        let inodes = Set(group.compactMap { copy[$0.key]?.inode })
        if inodes.count != 1 { problems.append("hard links \(names) are \(inodes.count) files in the copy") }
    }
    return problems
}

/// Lines of `diff -r --no-dereference original copy` other than FIFO notices (diff reports
/// every pair of FIFOs as different); empty when the trees' contents and links agree.
func diffProblems(_ original: String, _ copy: String) throws -> [String] {
    let result = try run("/usr/bin/diff", ["-r", "--no-dereference", original, copy])
    if result.exitedWith0 { return [] }
    guard result.status == 1, !result.signaled else { return ["diff failed: \(result)"] }
    return result.stdout.split(separator: 0x0a).map { Bytes($0) }.filter { line in
        let text = String(decoding: line, as: UTF8.self)
        return !(text.hasPrefix("File \(original)/") && text.hasSuffix(" is a fifo")
            && text.contains(" is a fifo while file \(copy)/"))
    }.map(printable)
}

/// `getfattr -R -h -d -m - -e hex .` run in `directory`, as a set of per-file blocks (its
/// output order follows readdir, which differs between two copies of a tree).
func getfattrDump(_ directory: String) throws -> Set<String> {
    let result = try run("/usr/bin/getfattr", ["-R", "-h", "-d", "-m", "-", "-e", "hex", "."], directory: directory)
    #expect(result.exitedWith0, "\(result)")
    return Set(result.out.components(separatedBy: "\n\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        .filter { !$0.isEmpty })
}

/// Every pack file of a repository: REPO/packs/XX/NAME.
func packFiles(_ repository: String) throws -> [String] {
    let packs = repository + "/packs"
    var found: [String] = []
    for shard in try FileManager.default.contentsOfDirectory(atPath: packs) where shard.count == 2 {
        for name in try FileManager.default.contentsOfDirectory(atPath: packs + "/" + shard) where name.hasPrefix(shard) {
            found.append(packs + "/" + shard + "/" + name)
        }
    }
    return found.sorted()
}

func fileSize(_ path: String) throws -> Int {
    var st = stat()
    try checked(stat(path, &st), "stat", path.bytes)
    return st.st_size
}
