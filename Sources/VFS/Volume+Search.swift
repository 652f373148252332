import CatalogStore
import Foundation
import NexusTypes
import RepositoryCore
import Synchronization

/// A document a search found, as `nexusfs search` shows it.
public struct SearchHit: Sendable, Equatable {
    public var inode: InodeNumber
    /// From the root, starting with `/`.
    public var path: [UInt8]
    /// bm25: lower is better.
    public var rank: Double
    /// Words around the matches, matches in [brackets].
    public var snippet: String
    public var mime: String
    public var status: String
    public var tags: [String]
    public var modified: FileTime
    public var size: Int64
}

/// Full-text search (see `SearchIndexer` for how the index is kept): what a caller finds is
/// what they may read, in folders they may enter; a document they may not read gives no hit
/// and no snippet.
extension Volume {
    /// Hits at most a search folder lists, and the JSON of its hits attribute holds by default.
    static let listedHits = 1000
    static let reportedHits = 50

    /// Starts indexing in the background (the daemon; tests call `indexPending`).
    public func startIndexing() {
        indexer?.start()
    }

    /// Indexes everything that waits now, on the calling thread.
    public func indexPending() throws {
        try indexer?.indexAll()
    }

    /// Documents indexed, the bytes of their text, and how many changes wait for the indexer.
    public func searchStatistics() throws -> (documents: Int, textBytes: Int64, pending: Int) {
        try namespace.read { try $0.searchStatistics() }
    }

    /// The documents matching `query` that `caller` may read (nil: everything), best first.
    public func search(_ query: SearchQuery, caller: Caller?, limit: Int? = nil) throws -> [SearchHit] {
        let limit = query.limit ?? limit ?? Self.reportedHits
        return try namespace.read { reader in
            var hits: [SearchHit] = []
            var offset = 0
            let page = max(64, limit * 2)
            while hits.count < limit {
                let matches = try reader.search(matching: query.expression, limit: page, offset: offset)
                for match in matches where hits.count < limit {
                    if let hit = try hit(match, for: query, caller: caller, in: reader) { hits.append(hit) }
                }
                guard matches.count == page else { break }
                offset += page
            }
            return hits
        }
    }

    private func hit(_ match: SearchMatch, for query: SearchQuery, caller: Caller?, in reader: CatalogReader) throws -> SearchHit? {
        guard let node = try reader.node(match.inode), node.kind == .regular, node.linkCount > 0,
              query.since.map({ node.modificationTime >= $0 }) ?? true,
              let path = try reader.path(of: match.inode) else { return nil }
        var bytes = path.bytes
        if bytes.first != UInt8(ascii: "/") { bytes = [UInt8(ascii: "/")] + bytes }
        if let prefix = query.path {
            let folder = [UInt8(ascii: "/")] + prefix
            guard bytes.starts(with: folder + [UInt8(ascii: "/")]) else { return nil }
        }
        // As indexed: the queue puts a document whose tags or status change back in line.
        guard let fields = try reader.indexedFields(match.inode) else { return nil }
        let tags = fields.tags.isEmpty ? [] : fields.tags.components(separatedBy: ", ")
        let status = fields.status, mime = fields.mime
        guard query.fieldsMatch(tags: tags, status: status, mime: mime),
              try visible(match.inode, caller: caller, in: reader) else { return nil }
        return SearchHit(inode: match.inode, path: bytes, rank: match.rank, snippet: match.snippet, mime: mime,
                         status: status, tags: tags, modified: node.modificationTime, size: node.size)
    }

    /// The JSON the hits attribute of a `/.search` folder holds: the query, the hits (path,
    /// rank, snippet, type, status, tags, modified, size) and how many changes wait for the
    /// indexer. Kept under the kernel's 64 KiB for an attribute value by leaving hits out
    /// (`truncated`). getxattr(2) is asked twice, for the size and then the value: the answer
    /// is kept for a second per query and caller while nothing changes, so that the search runs once.
    func hitsJSON(_ text: [UInt8], caller: Caller?) throws -> [UInt8] {
        // The groups are read once here, for the key and for every permission check of the search.
        let caller = caller?.resolvingGroups()
        let key = RecentHits.Key(query: text, uid: caller?.uid, groups: caller?.groups, catalogState: namespace.stageCount)
        if let recent = recentHits.answer(for: key) { return recent }
        let query = try parsedQuery(text)
        let hits = try search(query, caller: caller)
        let pending = try namespace.read { try $0.searchQueueLength() }
        let formatter = ISO8601DateFormatter()
        var reported = hits.map { hit in
            HitsReport.Hit(path: String(decoding: hit.path, as: UTF8.self),
                           // A name that is not UTF-8 is given exactly as well.
                           path_base64: String(validating: hit.path, as: UTF8.self) == nil ? Data(hit.path).base64EncodedString() : nil,
                           rank: hit.rank, snippet: hit.snippet, mime: hit.mime, status: hit.status, tags: hit.tags, size: hit.size,
                           modified: formatter.string(from: Date(timeIntervalSince1970: Double(hit.modified.seconds))))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        while true {
            let report = HitsReport(query: String(decoding: text, as: UTF8.self), hits: reported,
                                    truncated: reported.count < hits.count, pending: pending)
            let data = [UInt8](try encoder.encode(report))
            if data.count <= Self.maxXattrValue || reported.isEmpty {
                recentHits.keep(data, for: key)
                return data
            }
            reported.removeLast(max(1, reported.count / 4))
        }
    }

    /// The hits of a query as the JSON of a `/.search` folder's attribute (`nexusfs search`).
    public func searchReport(_ query: String, caller: Caller?) throws -> [UInt8] {
        try hitsJSON(Array(query.utf8), caller: caller)
    }

    func parsedQuery(_ text: [UInt8]) throws -> SearchQuery {
        guard let string = String(validating: text, as: UTF8.self) else { throw VFSError(.invalid, "a search query must be UTF-8") }
        do {
            return try SearchQuery(parsing: string)
        } catch let error as RepositoryError {
            throw VFSError(.invalid, error.message)
        }
    }

    /// The documents a `/.search` folder lists, by the name they have there, best first.
    func searchedDocuments(_ text: [UInt8], caller: Caller?) throws -> [(name: [UInt8], inode: InodeNumber)] {
        let hits = try search(try parsedQuery(text), caller: caller, limit: Self.listedHits)
        var taken = Set<[UInt8]>()
        return hits.map { hit in
            let base = Array(hit.path[((hit.path.lastIndex(of: UInt8(ascii: "/")) ?? -1) + 1)...])
            var name = base, n = 1
            while taken.contains(name) {
                n += 1
                name = base + Array(" (\(n))".utf8)
            }
            taken.insert(name)
            return (name, hit.inode)
        }
    }
}

/// The JSON of a `/.search` folder's `user.nexus.search` attribute.
struct HitsReport: Encodable {
    struct Hit: Encodable {
        var path: String
        var path_base64: String?
        var rank: Double
        var snippet: String
        var mime: String
        var status: String
        var tags: [String]
        var size: Int64
        var modified: String
    }

    var query: String
    var hits: [Hit]
    var truncated: Bool
    var pending: Int
}

/// The last hits answers, for a second: getxattr(2) asks for the size and then the value.
final class RecentHits: Sendable {
    struct Key: Hashable, Sendable {
        var query: [UInt8]
        var uid: UInt32?
        /// The caller's groups: who may read what depends on them too.
        var groups: [UInt32]?
        /// `Namespace.stageCount` when the answer was made: any change since makes it stale.
        var catalogState: UInt64
    }

    private static let lifetime = Duration.seconds(1)
    private let answers = Mutex<[Key: (answer: [UInt8], at: ContinuousClock.Instant)]>([:])

    func answer(for key: Key) -> [UInt8]? {
        answers.withLock { answers in
            guard let entry = answers[key], entry.at.duration(to: .now) < Self.lifetime else { return nil }
            return entry.answer
        }
    }

    func keep(_ answer: [UInt8], for key: Key) {
        answers.withLock { answers in
            answers = answers.filter { $0.value.at.duration(to: .now) < Self.lifetime }
            answers[key] = (answer, .now)
        }
    }
}
