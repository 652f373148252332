import Foundation
import Glibc
import LocalTree
import NexusTypes

/// A failed system call while building or checking a test tree.
struct CallFailed: Error, CustomStringConvertible {
    let call: String
    let path: [UInt8]
    let code: Int32
    var description: String { "\(call) \(FileName.printable(path)): \(String(cString: strerror(code)))" }
}

/// Throws `CallFailed` when a C call returned a negative value.
@discardableResult
func check<R: BinaryInteger>(_ result: R, _ call: String, _ path: [UInt8] = []) throws -> R {
    guard result >= 0 else { throw CallFailed(call: call, path: path, code: errno) }
    return result
}

func cString(_ bytes: [UInt8]) -> [CChar] { bytes.map { CChar(bitPattern: $0) } + [0] }

func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

func join(_ base: [UInt8], _ name: [UInt8]) -> [UInt8] { base + [UInt8(ascii: "/")] + name }

func path(_ string: String) -> RepositoryPath { RepositoryPath(string)! }

func path(_ raw: [UInt8]) -> RepositoryPath { RepositoryPath(bytes: raw)! }

/// Runs `body` in a fresh directory under /var/tmp, optionally a tmpfs mounted there with
/// `tmpfsBytes` of room, and removes it (after unmounting) whatever happens.
func withScratchDirectory<T>(tmpfsBytes: Int? = nil, _ body: ([UInt8]) throws -> T) throws -> T {
    var template = cString(bytes("/var/tmp/localtree-test-XXXXXX"))
    guard let made = mkdtemp(&template) else { throw CallFailed(call: "mkdtemp", path: [], code: errno) }
    let directory = Array(String(cString: made).utf8)
    defer { _ = try? run("/usr/bin/rm", ["-rf", String(decoding: directory, as: UTF8.self)]) }
    if let size = tmpfsBytes {
        try check(mount("tmpfs", cString(directory), "tmpfs", 0, "size=\(size),mode=755"), "mount", directory)
    }
    defer { if tmpfsBytes != nil { unmount(directory) } }
    // Readable to others, for the tests that drop the file system uid.
    try check(chmod(cString(directory), 0o755), "chmod", directory)
    return try body(directory)
}

/// Unmounts `directory`, waiting out a moment of EBUSY (a child process forked by a parallel
/// test holds every descriptor until it execs) and detaching lazily as a last resort.
private func unmount(_ directory: [UInt8]) {
    for _ in 0..<100 {
        if umount2(cString(directory), 0) == 0 || errno != EBUSY { return }
        usleep(10_000)
    }
    umount2(cString(directory), Int32(MNT_DETACH))
}

/// Runs a program; returns its exit status and standard output.
@discardableResult
func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

/// Calls missing from Swift's Glibc module, looked up in the C library.
enum MissingCalls {
    typealias SetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
    typealias SetFsId = @convention(c) (UInt32) -> Int32

    static let setxattr: SetXattr = resolve("setxattr")
    /// Per-thread: changes only the calling thread's file system uid (and drops
    /// CAP_DAC_OVERRIDE with it when leaving 0).
    static let setfsuid: SetFsId = resolve("setfsuid")
    static let setfsgid: SetFsId = resolve("setfsgid")

    private static func resolve<F>(_ name: String) -> F {
        unsafeBitCast(dlsym(dlopen(nil, RTLD_NOW), name)!, to: F.self)
    }
}

/// Everything a round trip must keep of one entry.
struct Snapshot {
    var entry: LocalEntry
    var content: [UInt8]?
}

/// Walks `root` and reads each regular file's content through the walk's `open`.
func snapshot(_ root: [UInt8]) throws -> (entries: [Snapshot], errors: [LocalTreeError]) {
    var entries: [Snapshot] = []
    var errors: [LocalTreeError] = []
    try LocalTreeReader(root: root).walk({ entry, open in
        var content: [UInt8]?
        if entry.metadata.kind == .regular {
            content = try LocalIO.withOpenFile(open) { fd in try readAll(fd) }
        }
        entries.append(Snapshot(entry: entry, content: content))
    }, onError: { errors.append($0) })
    return (entries, errors)
}

func readAll(_ fd: Int32) throws -> [UInt8] {
    var all: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = try chunk.withUnsafeMutableBytes { try LocalIO.readFully(fd: fd, into: $0) }
        all += chunk[..<count]
        if count < chunk.count { return all }
    }
}

/// Copies `source` to `destination` with a reader and a writer, as an exporter would;
/// returns the metadata the copy was made from.
func copyTree(from source: [UInt8], to destination: [UInt8]) throws -> (seen: [RepositoryPath: LocalMetadata], errors: [LocalTreeError]) {
    let writer = try LocalTreeWriter(root: destination)
    var firstName: [UInt64: RepositoryPath] = [:]
    var seen: [RepositoryPath: LocalMetadata] = [:]
    var errors: [LocalTreeError] = []
    try LocalTreeReader(root: source).walk({ entry, open in
        let metadata = entry.metadata
        seen[entry.path] = metadata
        switch metadata.kind {
        case .directory:
            try writer.makeDirectory(entry.path, metadata: metadata, xattrs: entry.xattrs)
        case .regular:
            if metadata.linkCount > 1, let first = firstName[metadata.inode] {
                try writer.makeHardLink(entry.path, to: first)
                return
            }
            firstName[metadata.inode] = entry.path
            try LocalIO.withOpenFile(open) { input in
                try writer.makeFile(entry.path, metadata: metadata, xattrs: entry.xattrs) { output in
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    while true {
                        let count = try buffer.withUnsafeMutableBytes { try LocalIO.readFully(fd: input, into: $0) }
                        try buffer.withUnsafeBytes { try LocalIO.writeFully(fd: output, UnsafeRawBufferPointer(rebasing: $0[..<count])) }
                        if count < buffer.count { break }
                    }
                }
            }
        case .symlink:
            try writer.makeSymlink(entry.path, target: entry.symlinkTarget ?? [], metadata: metadata)
        case .fifo, .socket, .characterDevice, .blockDevice:
            try writer.makeSpecial(entry.path, metadata: metadata)
        }
    }, onError: { errors.append($0) })
    try writer.finish()
    return (seen, errors)
}

/// This process's open descriptors that refer to something under `directory`.
func openDescriptors(under directory: [UInt8]) throws -> [[UInt8]] {
    guard let listing = opendir("/proc/self/fd") else { throw CallFailed(call: "opendir", path: [], code: errno) }
    defer { closedir(listing) }
    var found: [[UInt8]] = []
    while let record = readdir(listing) {
        let name = withUnsafeBytes(of: record.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
        var target = [UInt8](repeating: 0, count: 4096)
        let count = target.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { readlink(cString(bytes("/proc/self/fd/") + name), $0.baseAddress!, 4096) }
        }
        if count > 0, Array(target[..<count]).starts(with: directory + [UInt8(ascii: "/")]) || Array(target[..<count]) == directory {
            found.append(Array(target[..<count]))
        }
    }
    return found
}
