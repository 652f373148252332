import Foundation
import Glibc
import RepositoryCore

/// A document's history read through a mount's `.versions` view, for `log` and `restore`
/// given a path on a mounted nexusfs. Paths are bytes: a document's name need not be UTF-8.
struct MountedHistory {
    let document: [UInt8]
    let versionsFolder: [UInt8]

    /// Nil when `path` is not a file on a nexusfs mount.
    init?(path: [UInt8]) {
        let slash = UInt8(ascii: "/")
        let name: [UInt8], folderPart: [UInt8]
        if let at = path.lastIndex(of: slash) {
            name = Array(path[(at + 1)...])
            folderPart = at == 0 ? [slash] : Array(path[..<at])
        } else {
            name = path
            folderPart = Array(".".utf8)
        }
        guard !name.isEmpty, name != Array(".".utf8), name != Array("..".utf8),
              let resolved = withCString(folderPart, { realpath($0, nil) }) else { return nil }
        defer { free(resolved) }
        let folder = Array(UnsafeBufferPointer(start: UnsafeRawPointer(resolved).assumingMemoryBound(to: UInt8.self), count: strlen(resolved)))
        let folderText = shown(folder)
        let onMount = MountTable.nexusfsMountPoints().contains { folderText == $0 || folderText.hasPrefix($0 + "/") }
        let base = folder == [slash] ? [] : folder
        var st = stat()
        guard onMount, withCString(base + Array("/.versions".utf8), { stat($0, &st) }) == 0 else { return nil }
        document = base + [slash] + name
        versionsFolder = base + Array("/.versions/".utf8) + name
    }

    /// The version files, with their numbers, oldest first.
    func files() throws -> [(number: Int64, path: [UInt8])] {
        guard let dir = withCString(versionsFolder, { opendir($0) }) else {
            throw RepositoryError(.notFound, "\(shown(document)) has no versions")
        }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if name != Array(".".utf8) && name != Array("..".utf8) { names.append(name) }
        }
        // The stem as the .versions view cuts it: before the last dot that is not the first byte.
        let name = Array(document[(document.lastIndex(of: UInt8(ascii: "/")).map { $0 + 1 } ?? 0)...])
        var base = name
        if let dot = name.lastIndex(of: UInt8(ascii: ".")), dot > 0, dot + 1 < name.count { base = Array(name[..<dot]) }
        let prefix = base + [UInt8(ascii: ".")]
        return names.compactMap { name -> (Int64, [UInt8])? in
            guard name.starts(with: prefix) else { return nil }
            let digits = name.dropFirst(prefix.count).prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            guard let number = Int64(String(decoding: digits, as: UTF8.self)) else { return nil }
            return (number, versionsFolder + [UInt8(ascii: "/")] + name)
        }.sorted { $0.0 < $1.0 }
    }

    /// The history as `log` prints it.
    func history() throws -> DocumentHistory {
        let versions = try files()
        return DocumentHistory(path: shown(document), versions: versions.enumerated().map { index, version in
            var st = stat()
            _ = withCString(version.path) { stat($0, &st) }
            let seconds = Double(st.st_mtim.tv_sec)
            let fraction = Double(st.st_mtim.tv_nsec) / 1e9
            // The file's owner is the document's current one; the version's author is an attribute.
            let author = (try? MountedRequest.get(version.path, "user.nexus.author")).flatMap { UInt32($0) } ?? st.st_uid
            return DocumentHistory.Entry(number: version.number, time: seconds + fraction, author: author,
                                         size: Int64(st.st_size), summary: nil, current: index == versions.count - 1)
        })
    }

    /// Copies version `number` over the document (a new version) or to `destination`.
    func restore(_ number: Int64, to destination: [UInt8]?) throws {
        guard let version = try files().first(where: { $0.number == number }) else {
            throw RepositoryError(.notFound, "\(shown(document)) has no version \(number)")
        }
        let data = try Self.contents(of: version.path)
        let target = destination ?? document
        // Truncated and rewritten in place, so that the document keeps its identity and history.
        let fd = withCString(target) { open($0, O_WRONLY | O_CREAT | O_CLOEXEC, 0o666) }
        guard fd >= 0 else { throw RepositoryError(.failed, "cannot write \(shown(target)): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard ftruncate(fd, 0) == 0 else { throw RepositoryError(.failed, "cannot truncate \(shown(target)): \(String(cString: strerror(errno)))") }
        var done = 0
        while done < data.count {
            let n = data[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw RepositoryError(.failed, "cannot write \(shown(target)): \(String(cString: strerror(errno)))") }
            done += n
        }
        guard fsync(fd) == 0 else { throw RepositoryError(.failed, "cannot write \(shown(target)): \(String(cString: strerror(errno)))") }
    }

    private static func contents(of path: [UInt8]) throws -> [UInt8] {
        let fd = withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw RepositoryError(.failed, "cannot read \(shown(path)): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw RepositoryError(.failed, "cannot read \(shown(path)): \(String(cString: strerror(errno)))") }
            if n == 0 { return out }
            out += buffer[..<n]
        }
    }
}
