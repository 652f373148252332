import ArgumentParser
import Foundation
import CLinux
import Glibc
import RepositoryCore
import VFS

/// `nexusfs search REPO-OR-MOUNT QUERY [--tag T] ...`: ranked hits with a snippet each, of what
/// the caller may read. On a mount the daemon answers as the calling user, through the query
/// folder's `user.nexus.search` attribute (`/.search/QUERY/`); on a repository that is not
/// mounted, the index is brought up to date first, and the caller is the invoking user.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Find documents by their words, names, tags, status, author and dates.",
        discussion: """
            QUERY: words (all must occur), "a phrase", prefix*, a OR b, -excluded, and the fields \
            tag:T status:S author:U name:N type:pdf since:TIME path:FOLDER limit:N. \
            On a mount, QUERY is also a folder: ls /MOUNT/.search/'acme contract'/ lists the hits as links.
            """)

    @OptionGroup var options: RepositoryOptions

    @Argument(help: "A nexusfs mount (or a folder on one), or a repository directory that is not mounted.")
    var target: String

    /// Words starting with `-` are exclusions, not options.
    @Argument(parsing: .allUnrecognized, help: "What to look for (see above).")
    var query: [String] = []

    @Option(name: .long, help: "Only documents with this tag (repeatable).")
    var tag: [String] = []

    @Option(name: .long, help: "Only documents in this workflow status.")
    var status: String?

    @Option(name: .long, help: "Only documents owned or last saved by this user.")
    var author: String?

    @Option(name: .long, help: ArgumentHelp("Only documents changed since this time.", valueName: "time"))
    var since: String?

    @Option(name: .long, help: "Only documents below this folder (a path in the repository, or on the mount).")
    var path: String?

    @Option(name: .long, help: "At most this many hits.")
    var limit: Int = 20

    @Flag(name: .long, help: "Print the hits as JSON.")
    var json = false

    func validate() throws {
        if let since, TimeExpression.parse(since) == nil { throw ValidationError("--since \(since) is not \(TimeExpression.help)") }
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
        for value in tag + [status, author].compactMap({ $0 }) where value.contains("\"") {
            throw ValidationError("a field value cannot contain a double quote: \(value)")
        }
    }

    func run() throws {
        LoggingSetup.once
        try reportingErrors {
            let absolute = URL(fileURLWithPath: target).standardizedFileURL.path
            let mount = MountTable.nexusfsMountPoints().filter { absolute == $0 || absolute.hasPrefix($0 + "/") }
                .max { $0.count < $1.count }
            let report: [UInt8]
            if let mount {
                // A folder on the mount (or --path on it) narrows the search to it.
                var folder = path.map { URL(fileURLWithPath: $0, relativeTo: URL(fileURLWithPath: mount + "/")).standardizedFileURL.path }
                    ?? absolute
                if folder.hasPrefix(mount + "/") { folder = String(folder.dropFirst(mount.count)) } else if folder == mount { folder = "/" }
                report = try searchMount(mount, text: try queryText(folder: folder))
            } else {
                report = try searchRepository(text: try queryText(folder: path ?? "/"))
            }
            try show(report)
        }
    }

    /// The query as one line, with the options as fields.
    func queryText(folder: String) throws -> String {
        var parts = query
        parts += tag.map { "tag:\"\($0)\"" }
        if let status { parts.append("status:\"\(status)\"") }
        if let author { parts.append("author:\"\(author)\"") }
        if let since { parts.append("since:\"\(since)\"") }
        let trimmed = folder.split(separator: "/").joined(separator: "/")
        if !trimmed.isEmpty {
            // A folder name of /.search has no slash: the path's are %2F.
            let encoded = trimmed.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2F")
            parts.append("path:\"\(encoded)\"")
        }
        parts.append("limit:\(limit)")
        let text = parts.joined(separator: " ")
        _ = try SearchQuery(parsing: text)
        return text
    }

    private func searchMount(_ mount: String, text: String) throws -> [UInt8] {
        // The query is one folder name of /.search: no slash, at most 255 bytes.
        guard text.utf8.count <= 255 else {
            throw RepositoryError(.invalidArgument, "the query is too long for a mount (255 bytes as a folder name of /.search)")
        }
        let folder = mount + "/.search/" + text
        var size = getxattr(folder, "user.nexus.search", nil, 0)
        var buffer: [UInt8] = []
        while size >= 0 {
            buffer = [UInt8](repeating: 0, count: size + 4096)
            let got = getxattr(folder, "user.nexus.search", &buffer, buffer.count)
            if got >= 0 { return Array(buffer.prefix(got)) }
            guard errno == ERANGE else { break }
            size = getxattr(folder, "user.nexus.search", nil, 0)
        }
        let reason = errno == EINVAL ? "the daemon refused the query (its log says why)" : String(cString: strerror(errno))
        throw RepositoryError(errno == EINVAL ? .invalidArgument : .failed, "cannot search \(mount): \(reason)")
    }

    private func searchRepository(text: String) throws -> [UInt8] {
        let passphrase = try options.passphrase()
        let repo = try Repository.open(at: target, passphrase: passphrase, stateRoot: options.stateRoot, purpose: "searched",
                                       logger: options.logger)
        let volume: Volume
        do {
            // trashDays 0: searching never expires the trash (a mount does that).
            volume = try Volume(repository: repo, options: VolumeOptions(trashDays: 0, extractor: DaemonExtractor.make()),
                                logger: options.logger)
        } catch {
            try? repo.close()
            throw error
        }
        do {
            let pending = try volume.searchStatistics().pending
            if pending > 0 { printError("indexing \(pending) changed documents first") }
            try volume.indexPending()
            let caller = Caller(uid: getuid(), gid: getgid(), supplementaryGroups: { Self.groups() })
            let report = try volume.searchReport(text, caller: caller)
            try volume.shutdown()
            return report
        } catch {
            try? volume.shutdown()
            throw error
        }
    }

    private static func groups() -> [UInt32] {
        let count = getgroups(0, nil)
        guard count > 0 else { return [] }
        var list = [gid_t](repeating: 0, count: Int(count))
        let got = getgroups(count, &list)
        return got > 0 ? Array(list.prefix(Int(got))) : []
    }

    private func show(_ report: [UInt8]) throws {
        if json {
            FileHandle.standardOutput.write(Data(report + [0x0a]))
            return
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(report)) as? [String: Any],
              let hits = object["hits"] as? [[String: Any]] else {
            throw RepositoryError(.failed, "the search answer could not be read")
        }
        for hit in hits {
            var facts: [String] = []
            if let status = hit["status"] as? String, !status.isEmpty { facts.append(status) }
            if let tags = hit["tags"] as? [String], !tags.isEmpty { facts.append("tags: " + tags.joined(separator: ", ")) }
            if let modified = hit["modified"] as? String { facts.append(String(modified.prefix(10))) }
            print((hit["path"] as? String ?? "?") + (facts.isEmpty ? "" : "  (" + facts.joined(separator: "; ") + ")"))
            if let snippet = hit["snippet"] as? String, !snippet.isEmpty {
                print("    " + snippet.split(whereSeparator: \.isNewline).joined(separator: " "))
            }
        }
        if hits.isEmpty { printError("no documents found") }
        if (object["truncated"] as? Bool) == true { printError("more hits than fit in one answer: narrow the query or lower --limit") }
        if let pending = object["pending"] as? Int, pending > 0 {
            printError("\(pending) changed documents are still being indexed; they may be missing from these hits")
        }
    }
}
