import Glibc
import NexusTypes

/// Builds the odd source tree of the round-trip tests with plain Glibc calls (not with
/// LocalTreeWriter, so the writer is not checked against itself), and remembers what it made.
struct SourceFixture {
    static let owner: uid_t = 1234
    static let group: gid_t = 5678
    static let longName = [UInt8](repeating: UInt8(ascii: "L"), count: 255)
    static let bigContent: [UInt8] = {
        var state: UInt32 = 0x1234_5678
        return (0..<1_048_576).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }()
    static let binaryValue: [UInt8] = [0, 1, 2, 0xff, 0xfe, 0, 0x80]
    static let bigValue = [UInt8](repeating: 0xab, count: 65536)
    static let preEpoch = FileTime(seconds: -315_619_200, nanoseconds: 5)  // 1960
    static let justBeforeEpoch = FileTime(seconds: -1, nanoseconds: 999_999_999)

    let root: [UInt8]
    /// Every path created below the root.
    private(set) var paths: Set<RepositoryPath> = [.root]
    private var times: [(path: [UInt8], access: FileTime, modification: FileTime)] = []

    /// `withBigXattr`: a 64 KiB xattr value, which ext4 without `ea_inode` refuses (ENOSPC).
    init(at root: [UInt8], withBigXattr: Bool) throws {
        self.root = root
        try file("plain.txt", content: bytes("hello\n"), mode: 0o644)
        try file("empty", content: [], mode: 0o600)
        try file("big.bin", content: Self.bigContent, mode: 0o640)
        try file([UInt8](bytes("name")) + [0xff] + bytes("byte"), content: bytes("ff"), mode: 0o644)
        try file("new\nline", content: bytes("newline\n"), mode: 0o644)
        try file("with space", content: bytes("space"), mode: 0o644)
        try file("-leading-dash", content: bytes("dash"), mode: 0o644)
        try file(Self.longName, content: bytes("long"), mode: 0o644)
        try file("setuid", content: bytes("#!/bin/sh\n"), mode: 0o4755, owned: true)
        try file("setgid", content: bytes("g"), mode: 0o2750, owned: true)
        try file("link-a", content: bytes("shared by two names"), mode: 0o640, owned: true)
        try check(link(cString(join(root, bytes("link-a"))), cString(join(root, bytes("link-b")))), "link")
        paths.insert(path("link-b"))

        try symlink("symlink", to: bytes("plain.txt"), owned: true)
        try symlink("dangling", to: bytes("no/such") + [0xff] + bytes("target"), owned: false)
        try node("fifo", mode: S_IFIFO | 0o640, device: 0)
        try node("chardev", mode: S_IFCHR | 0o600, device: 0x103)  // 1:3, like /dev/null

        try directory("sticky", mode: 0o1777)
        try file("sticky/inner", content: bytes("inner"), mode: 0o666)
        try directory("old", mode: 0o750, owned: true, modification: Self.preEpoch)
        try file("old/ancient", content: bytes("old"), mode: 0o644,
                 access: FileTime(seconds: -1_000_000_000, nanoseconds: 1), modification: Self.justBeforeEpoch)
        try directory("old/deep", mode: 0o700)
        try directory("old/deep/deeper", mode: 0o555)
        try file("old/deep/deeper/leaf", content: bytes("leaf"), mode: 0o444)
        try setXattr("old", bytes("user.dir"), bytes("d"))

        try file("xattrs.bin", content: bytes("x"), mode: 0o644)
        try setXattr("xattrs.bin", bytes("user.plain"), bytes("value"))
        try setXattr("xattrs.bin", bytes("user.binary"), Self.binaryValue)
        try setXattr("xattrs.bin", bytes("user.empty"), [])
        try setXattr("xattrs.bin", bytes("user.n") + [0xff] + bytes("me"), bytes("odd name"))
        if withBigXattr { try setXattr("xattrs.bin", bytes("user.big"), Self.bigValue) }

        // Times last, deepest first, so that creating children does not move them.
        for (target, access, modification) in times.reversed() {
            let specs = [timespec(tv_sec: Int(access.seconds), tv_nsec: Int(access.nanoseconds)),
                         timespec(tv_sec: Int(modification.seconds), tv_nsec: Int(modification.nanoseconds))]
            try check(utimensat(AT_FDCWD, cString(target), specs, AT_SYMLINK_NOFOLLOW), "utimensat", target)
        }
        let specs = [timespec(tv_sec: 1_700_000_000, tv_nsec: 1), timespec(tv_sec: 1_700_000_001, tv_nsec: 2)]
        try check(utimensat(AT_FDCWD, cString(root), specs, AT_SYMLINK_NOFOLLOW), "utimensat", root)
    }

    /// Distinct times with nanoseconds for the `index`-th node.
    private static func stampTimes(_ index: Int) -> (FileTime, FileTime) {
        (FileTime(seconds: 1_600_000_000 + Int64(index), nanoseconds: 123_456_789 + Int64(index)),
         FileTime(seconds: 1_500_000_000 + Int64(index), nanoseconds: 987_654_321 - Int64(index)))
    }

    private mutating func stamp(_ full: [UInt8], index: Int, access: FileTime? = nil, modification: FileTime? = nil) throws {
        let (a, m) = Self.stampTimes(index)
        times.append((full, access ?? a, modification ?? m))
    }

    private mutating func register(_ name: [UInt8]) -> [UInt8] {
        paths.insert(path(name))
        return join(root, name)
    }

    private mutating func file(_ name: String, content: [UInt8], mode: mode_t, owned: Bool = false,
                               access: FileTime? = nil, modification: FileTime? = nil) throws {
        try file(bytes(name), content: content, mode: mode, owned: owned, access: access, modification: modification)
    }

    private mutating func file(_ name: [UInt8], content: [UInt8], mode: mode_t, owned: Bool = false,
                               access: FileTime? = nil, modification: FileTime? = nil) throws {
        let full = register(name)
        let fd = try check(open(cString(full), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600), "create", full)
        defer { close(fd) }
        if !content.isEmpty {
            try check(content.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }, "write", full)
        }
        if owned { try check(fchown(fd, Self.owner, Self.group), "fchown", full) }
        try check(fchmod(fd, mode), "fchmod", full)
        try stamp(full, index: times.count, access: access, modification: modification)
    }

    private mutating func directory(_ name: String, mode: mode_t, owned: Bool = false, modification: FileTime? = nil) throws {
        let full = register(bytes(name))
        try check(mkdir(cString(full), 0o700), "mkdir", full)
        if owned { try check(lchown(cString(full), Self.owner, Self.group), "lchown", full) }
        try check(chmod(cString(full), mode), "chmod", full)
        try stamp(full, index: times.count, modification: modification)
    }

    private mutating func symlink(_ name: String, to target: [UInt8], owned: Bool) throws {
        let full = register(bytes(name))
        try check(Glibc.symlink(cString(target), cString(full)), "symlink", full)
        if owned { try check(lchown(cString(full), Self.owner, Self.group), "lchown", full) }
        try stamp(full, index: times.count)
    }

    private mutating func node(_ name: String, mode: mode_t, device: dev_t) throws {
        let full = register(bytes(name))
        try check(mknod(cString(full), mode, device), "mknod", full)
        try check(lchown(cString(full), Self.owner, Self.group), "lchown", full)
        try check(chmod(cString(full), mode & 0o7777), "chmod", full)
        try stamp(full, index: times.count)
    }

    private func setXattr(_ name: String, _ attribute: [UInt8], _ value: [UInt8]) throws {
        let full = join(root, bytes(name))
        let result = value.withUnsafeBytes {
            MissingCalls.setxattr(cString(full), cString(attribute), $0.baseAddress, $0.count, 0)
        }
        try check(result, "setxattr", full)
    }
}
