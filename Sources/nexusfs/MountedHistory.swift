import Foundation
import Glibc
import RepositoryCore

/// A document's history read through a mount's `.versions` view, for `log` and `restore`
/// given a path on a mounted nexusfs.
struct MountedHistory {
    let document: String
    let versionsFolder: String

    /// Nil when `path` is not a file on a nexusfs mount.
    init?(path: String) {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let folder = (absolute as NSString).deletingLastPathComponent
        let name = (absolute as NSString).lastPathComponent
        let onMount = MountTable.nexusfsMountPoints().contains { folder == $0 || folder.hasPrefix($0 + "/") }
        guard onMount, FileManager.default.fileExists(atPath: folder + "/.versions") else { return nil }
        document = absolute
        versionsFolder = folder + "/.versions/" + name
    }

    /// The version files, with their numbers, oldest first.
    func files() throws -> [(number: Int64, path: String)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: versionsFolder) else {
            throw RepositoryError(.notFound, "\(document) has no versions")
        }
        // The stem as the .versions view cuts it: before the last dot that is not the first character.
        let name = (document as NSString).lastPathComponent
        var base = name
        if let dot = name.lastIndex(of: "."), dot > name.startIndex, name.index(after: dot) < name.endIndex {
            base = String(name[..<dot])
        }
        return names.compactMap { name -> (Int64, String)? in
            guard name.hasPrefix(base + ".") else { return nil }
            let digits = name.dropFirst(base.count + 1).prefix(while: \.isNumber)
            guard let number = Int64(digits) else { return nil }
            return (number, versionsFolder + "/" + name)
        }.sorted { $0.0 < $1.0 }
    }

    /// The history as `log` prints it.
    func history() throws -> DocumentHistory {
        let versions = try files()
        return DocumentHistory(path: document, versions: versions.enumerated().map { index, version in
            var st = stat()
            stat(version.path, &st)
            let seconds = Double(st.st_mtim.tv_sec)
            let fraction = Double(st.st_mtim.tv_nsec) / 1e9
            // The file's owner is the document's current one; the version's author is an attribute.
            let author = (try? MountedRequest.get(version.path, "user.nexus.author")).flatMap { UInt32($0) } ?? st.st_uid
            return DocumentHistory.Entry(number: version.number, time: seconds + fraction, author: author,
                                         size: Int64(st.st_size), summary: nil, current: index == versions.count - 1)
        })
    }

    /// Copies version `number` over the document (a new version) or to `destination`.
    func restore(_ number: Int64, to destination: String?) throws {
        guard let version = try files().first(where: { $0.number == number }) else {
            throw RepositoryError(.notFound, "\(document) has no version \(number)")
        }
        let target = destination ?? document
        guard let data = FileManager.default.contents(atPath: version.path) else {
            throw RepositoryError(.failed, "cannot read \(version.path)")
        }
        guard FileManager.default.createFile(atPath: target, contents: nil) || FileManager.default.fileExists(atPath: target),
              let handle = FileHandle(forWritingAtPath: target) else {
            throw RepositoryError(.failed, "cannot write \(target)")
        }
        defer { try? handle.close() }
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: data)
        try handle.synchronize()
    }
}
