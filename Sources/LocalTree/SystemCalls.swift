internal import Glibc
import NexusTypes

/// Linux flags Swift's Glibc module hides, and the small wrappers every *at() call here shares.
enum SystemCalls {
    // GNU extensions behind _GNU_SOURCE, which Swift's Glibc module does not define. The
    // values are Linux's generic ones (x86_64, aarch64), not those of alpha, sparc or parisc.
    /// `O_NOATIME`: reading does not touch the access time (owner or root only).
    static let noAccessTime: Int32 = 0o1000000
    /// `O_PATH`: a handle for *at() calls that needs search permission only.
    static let pathOnly: Int32 = 0o10000000

    /// `.` as a C string, naming a directory relative to its own descriptor.
    static let dot: [CChar] = [CChar(UInt8(ascii: ".")), 0]

    /// NUL-terminated bytes for a C call; the caller has made sure `bytes` holds no NUL.
    static func cString(_ bytes: [UInt8]) -> [CChar] {
        var out = [CChar]()
        out.reserveCapacity(bytes.count + 1)
        for b in bytes { out.append(CChar(bitPattern: b)) }
        out.append(0)
        return out
    }

    /// `root` joined with `path`, for messages: `/dest` and `a/b` give `/dest/a/b`.
    static func join(_ root: [UInt8], _ path: RepositoryPath) -> [UInt8] {
        if path.isRoot { return root }
        var base = root
        while base.last == UInt8(ascii: "/") { base.removeLast() }
        return base + path.bytes
    }

    /// Opens `name` under `directory` for reading without touching its access time where the
    /// kernel allows that (`O_NOATIME` fails with EPERM on files of other users), retrying EINTR.
    static func openForReading(_ directory: Int32, _ name: [CChar], flags: Int32) -> Int32 {
        let base = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | flags
        var fd = retryingInterrupts { openat(directory, name, base | noAccessTime) }
        if fd < 0 && errno == EPERM {
            fd = retryingInterrupts { openat(directory, name, base) }
        }
        return fd
    }

    static func retryingInterrupts(_ call: () -> Int32) -> Int32 {
        while true {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
    }
}
