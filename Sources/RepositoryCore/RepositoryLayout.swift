import CryptoCore
import Foundation
import NexusTypes
import Glibc

/// Files and folders of a repository directory, and writing them durably.
enum RepositoryLayout {
    static let config = "config"
    static let keys = "keys"
    static let packs = "packs"

    /// Creates the folders of a new repository at `path`, which must not exist or be
    /// an empty directory; returns a fresh repository id.
    static func initialize(at path: String) throws -> String {
        var isDirectory: ObjCBool = false
        // Folders this call creates, the repository's own and missing parents included.
        var created: [String] = []
        var missing = path
        while !missing.isEmpty, missing != "/", missing != ".", !FileManager.default.fileExists(atPath: missing) {
            created.append(missing)
            missing = parentDirectory(of: missing)
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw RepositoryError(.invalidArgument, "cannot create a repository at \(path): it is a file")
            }
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            guard contents.isEmpty else {
                throw RepositoryError(.invalidArgument, "cannot create a repository at \(path): the directory is not empty")
            }
        } else {
            try makeDirectory(path)
        }
        try makeDirectory(path + "/" + keys)
        try makeDirectory(path + "/" + packs)
        // The entries of the new folders must be durable before anything in them is: keys/
        // and packs/ in the repository, the repository in its parent, and each folder created
        // on the way in its own parent.
        var synced = Set<String>()
        for folder in [path] + ([path] + created).map(parentDirectory(of:)) where synced.insert(folder).inserted {
            try syncDirectory(folder)
        }
        return Hex.encode(SecureRandom.bytes(16))
    }

    /// fsyncs a folder so that the entries created in it are durable.
    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw systemError("open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw systemError("fsync", path) }
    }

    /// The folder holding `path`: "." for a bare name, "/" at the top. Not NSString's
    /// deletingLastPathComponent, which traps on a one-character name in swift-corelibs-foundation.
    static func parentDirectory(of path: String) -> String {
        var bytes = Array(path.utf8)
        while bytes.count > 1, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        var parent = bytes[..<slash]
        while parent.count > 1, parent.last == UInt8(ascii: "/") { parent.removeLast() }
        return parent.isEmpty ? "/" : String(decoding: parent, as: UTF8.self)
    }

    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw RepositoryError.wrap(error, "cannot create \(path)")
        }
    }

    /// Writes `bytes` to `path` atomically and durably: temp file, fsync, rename, fsync of the folder.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o400) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw systemError("create", temporary) }
        var ok = bytes.withUnsafeBytes { raw -> Bool in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 { if errno == EINTR { continue }; return false }
                done += n
            }
            return true
        }
        if ok { ok = fsync(fd) == 0 }
        let savedErrno = errno
        close(fd)
        guard ok else {
            unlink(temporary)
            throw systemError("write", temporary, savedErrno)
        }
        guard rename(temporary, path) == 0 else {
            let error = systemError("rename", path)
            unlink(temporary)
            throw error
        }
        try syncDirectory(parentDirectory(of: path))
    }

    static func systemError(_ operation: String, _ path: String, _ code: Int32 = errno) -> RepositoryError {
        let reason = String(cString: strerror(code))
        let kind: RepositoryError.Code = (code == ENOSPC || code == EDQUOT) ? .noSpace : .failed
        return RepositoryError(kind, "cannot \(operation) \(path): \(reason)")
    }

    // MARK: Config

    static func writeConfig(_ config: RepositoryConfig, keys: RepositoryKeys, at path: String) throws {
        let sealed = try SealedConfig(config: config, keys: keys)
        try writeAtomically(sealed.encoded(), to: path + "/" + Self.config)
    }

    static func readConfig(at path: String) throws -> SealedConfig {
        let file = path + "/" + config
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RepositoryError(.notARepository, "\(path) is not a nexusfs repository: no such directory")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw RepositoryError(.notARepository, "\(path) is not a nexusfs repository: it has no readable config file")
        }
        return try SealedConfig(decoding: [UInt8](data), path: path)
    }
}
