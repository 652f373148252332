import CatalogStore
import Foundation
import NexusTypes
import RepositoryCore

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
        let tags = try reader.xattr(TagsView.attribute, of: match.inode).map { TagsView.tags(in: $0).map(SearchIndexer.text) } ?? []
        let status = try reader.xattr(XattrName.status, of: match.inode).map(SearchIndexer.text) ?? ""
        let mime = try reader.indexedType(match.inode) ?? ""
        guard query.fieldsMatch(tags: tags, status: status, mime: mime),
              try visible(match.inode, caller: caller, in: reader) else { return nil }
        return SearchHit(inode: match.inode, path: bytes, rank: match.rank, snippet: match.snippet, mime: mime,
                         status: status, tags: tags, modified: node.modificationTime, size: node.size)
    }

    /// The JSON the hits attribute of a `/.search` folder holds: the query, the hits (path,
    /// rank, snippet, type, status, tags, modified, size) and how many changes wait for the
    /// indexer. Kept under the kernel's 64 KiB for an attribute value by leaving hits out
    /// (`truncated`).
    func hitsJSON(_ text: [UInt8], caller: Caller?) throws -> [UInt8] {
        let query = try parsedQuery(text)
        let hits = try search(query, caller: caller)
        let pending = try namespace.read { try $0.searchQueueLength() }
        let formatter = ISO8601DateFormatter()
        var objects: [[String: Any]] = hits.map { hit in
            var object: [String: Any] = [
                "path": String(decoding: hit.path, as: UTF8.self), "rank": hit.rank, "snippet": hit.snippet, "mime": hit.mime,
                "status": hit.status, "tags": hit.tags, "size": hit.size,
                "modified": formatter.string(from: Date(timeIntervalSince1970: Double(hit.modified.seconds))),
            ]
            // A name that is not UTF-8 is given exactly as well.
            if String(validating: hit.path, as: UTF8.self) == nil { object["path_base64"] = Data(hit.path).base64EncodedString() }
            return object
        }
        while true {
            let document: [String: Any] = ["query": String(decoding: text, as: UTF8.self), "hits": objects,
                                           "truncated": objects.count < hits.count, "pending": pending]
            let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
            if data.count <= Self.maxXattrValue || objects.isEmpty { return [UInt8](data) }
            objects.removeLast(max(1, objects.count / 4))
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
