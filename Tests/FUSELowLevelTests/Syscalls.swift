import FUSELowLevel
import Glibc

/// Direct system calls on the mount, returning errno so tests can check exact error codes.
enum Syscalls {
    /// The errno of a failed call (result < 0), or 0 if it succeeded.
    static func errnoOf(_ call: () -> Int) -> Int32 {
        errno = 0
        return call() < 0 ? errno : 0
    }

    static func errnoOf(_ call: () -> Int32) -> Int32 {
        errnoOf { Int(call()) }
    }

    /// stat(2) of `path`, and its errno.
    static func attributes(_ path: String) -> (st: stat, errno: Int32) {
        var st = stat()
        let error = errnoOf { stat(path, &st) }
        return (st, error)
    }

    /// The kernel's id of the calling thread (what FUSE reports as the request's pid).
    static func threadID() -> Int32 {
        var target = [CChar](repeating: 0, count: 64)
        let count = readlink("/proc/thread-self", &target, target.count - 1)
        guard count > 0 else { return -1 }
        let text = String(decoding: target[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.split(separator: "/").last.flatMap { Int32($0) } ?? -1
    }

    /// Writes `data` to `path` (created or truncated) with write(2).
    static func writeFile(_ path: String, _ data: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw FUSEError(errno) }
        defer { close(fd) }
        var written = 0
        while written < data.count {
            let result = data.withUnsafeBytes { write(fd, $0.baseAddress! + written, data.count - written) }
            guard result > 0 else { throw FUSEError(errno) }
            written += result
        }
    }

    /// Reads all of `path` with read(2), `chunk` bytes at a time.
    static func readFile(_ path: String, chunk: Int = 1 << 20) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FUSEError(errno) }
        defer { close(fd) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, chunk) }
            guard count >= 0 else { throw FUSEError(errno) }
            if count == 0 { return data }
            data += buffer[..<count]
        }
    }

    /// The names in directory `path` via opendir/readdir, "." and ".." included, as raw bytes.
    static func listDirectory(_ path: String) throws -> [[UInt8]] {
        guard let directory = opendir(path) else { throw FUSEError(errno) }
        defer { closedir(directory) }
        var names: [[UInt8]] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { bytes in
                Array(bytes.prefix { $0 != 0 })
            }
            names.append(name)
        }
        return names
    }

    /// A path inside `directory` for a name that need not be UTF-8.
    static func path(_ directory: String, _ name: [UInt8]) -> [CChar] {
        (Array(directory.utf8) + [UInt8(ascii: "/")] + name + [0]).map { CChar(bitPattern: $0) }
    }

    /// This process's descriptors open on /dev/fuse.
    static func fuseDescriptors() -> [Int32] {
        let names = (try? listDirectory("/proc/self/fd")) ?? []
        return names.compactMap { name -> Int32? in
            guard let fd = Int32(String(decoding: name, as: UTF8.self)) else { return nil }
            var target = [CChar](repeating: 0, count: 64)
            let count = readlink("/proc/self/fd/\(fd)", &target, target.count - 1)
            guard count > 0 else { return nil }
            return String(decoding: target[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) == "/dev/fuse"
                ? fd : nil
        }
    }
}
