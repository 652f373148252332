import CatalogStore
import Foundation
import Glibc
import Logging
import NexusTypes
import Synchronization

/// Turns a document's content into text. The daemon's runs the parsers in a child process
/// (`nexusfs extract-worker`), so that a hostile file can at worst kill that process.
public protocol ContentExtractor: Sendable {
    /// Never throws: what cannot be read is a note.
    func extract(_ content: [UInt8], name: [UInt8]) -> ExtractedText
}

/// Keeps the full-text index current, off the save path: saves, renames and changes of DMS
/// fields put the node on the catalog's search queue (triggers, in the same transaction as the
/// change), and this indexer's thread takes nodes off it, extracts the text outside any lock
/// and stages the index entry into the next group commit. A crash loses nothing: the queue is
/// in the catalog, and a node leaves it only in the transaction that indexes it.
///
/// Thread-safe. `state` is a leaf.
final class SearchIndexer: Sendable {
    /// Content above this is typed from its first bytes and not read for text.
    static let largestIndexed: Int64 = 64 << 20
    static let batch = 32

    private let namespace: Namespace
    private let source: ChunkSource
    private let extractor: any ContentExtractor
    private let logger: Logger
    private struct State {
        var stopping = false
        var running = false
    }
    private let state = Mutex(State())
    private let stopped = DispatchGroup()
    /// Signalled by `stop`, so that a pause ends at once (an unmount must not wait for it).
    private let wakeUp = DispatchSemaphore(value: 0)

    init(namespace: Namespace, source: ChunkSource, extractor: any ContentExtractor, logger: Logger) {
        self.namespace = namespace
        self.source = source
        self.extractor = extractor
        self.logger = logger
    }

    /// Starts the indexer's thread, at a low priority.
    func start() {
        let started = state.withLock { s -> Bool in
            guard !s.running else { return false }
            s.running = true
            return true
        }
        guard started else { return }
        stopped.enter()
        let thread = Thread { [self] in
            defer { stopped.leave() }
            // A background job: the kernel schedules the daemon's request threads first (on Linux, nice
            // is per thread, and 0 names the calling one).
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            while !state.withLock({ $0.stopping }) {
                do {
                    while try indexBatch(yielding: true) > 0 && !state.withLock({ $0.stopping }) {}
                } catch {
                    logger.warning("search indexing failed, trying again later: \(error)")
                    pause(1)
                }
                // A look at the queue is one indexed query: twice a second costs nothing.
                pause(0.5)
            }
        }
        thread.name = "nexusfs-index"
        thread.start()
    }

    /// Stops the thread after the document it is on.
    func stop() {
        let running = state.withLock { s -> Bool in
            s.stopping = true
            return s.running
        }
        wakeUp.signal()
        if running { stopped.wait() }
    }

    /// Sleeps for `seconds`, or until `stop`.
    private func pause(_ seconds: Double) {
        guard !state.withLock({ $0.stopping }) else { return }
        _ = wakeUp.wait(timeout: .now() + seconds)
    }

    /// While programs use the volume, the indexer works at most this share of the time.
    static let busyShare = 0.05
    /// The volume counts as idle when no program's request changed the catalog for this long.
    static let idleAfter = Duration.milliseconds(500)

    /// Indexes up to one batch of queued nodes; returns how many it took off the queue. With
    /// `yielding`, it keeps out of the way of programs: on an idle volume it goes at full speed;
    /// while requests come in, it sleeps after each document for long enough that indexing takes
    /// `busyShare` of the time, so that saves are not slowed and the index still moves on.
    @discardableResult
    func indexBatch(yielding: Bool = false) throws -> Int {
        let queued = try namespace.read { try $0.searchQueue(limit: Self.batch) }
        var done = 0
        for inode in queued {
            if state.withLock({ $0.stopping }) { break }
            let started = ContinuousClock.now
            if try index(inode) { done += 1 }
            guard yielding, namespace.foregroundIdleTime < Self.idleAfter else { continue }
            let rest = started.duration(to: .now) * ((1 - Self.busyShare) / Self.busyShare)
            pause(max(0.01, Double(rest.components.seconds) + Double(rest.components.attoseconds) / 1e18))
        }
        return done
    }

    /// Indexes everything queued now (for tests and `nexusfs search` on a repository).
    func indexAll() throws {
        while try indexBatch() > 0 {}
    }

    /// What is read for one node before its text is extracted.
    private struct Snapshot {
        var node: NodeRecord
        var name: [UInt8]
        var fields: SearchDocument
        /// The text already indexed for this content, when only fields changed.
        var indexed: SearchDocument?
        /// The node's entry as it is, to leave alone when nothing changed.
        var previous: SearchDocument?
        var chunks: [ContentManifest.Chunk]
    }

    /// Indexes one node; false when it changed meanwhile and stays queued.
    private func index(_ inode: InodeNumber) throws -> Bool {
        let snapshot = try namespace.read { reader -> Snapshot? in
            guard let node = try reader.node(inode), node.kind == .regular, node.linkCount > 0,
                  let first = try reader.firstName(of: inode) else { return nil }
            var fields = SearchDocument(inode: inode, manifest: node.manifest?.bytes, mime: "", name: Self.text(first.name.bytes),
                                        tags: "", description: "", fields: "", status: "", author: "", body: "", note: nil)
            var custom: [String] = []
            for (name, value) in try reader.xattrs(of: inode) {
                switch name {
                case TagsView.attribute: fields.tags = TagsView.tags(in: value).map(Self.text).joined(separator: ", ")
                case Array("user.xdg.comment".utf8): fields.description = Self.text(value)
                case XattrName.status: fields.status = Self.text(value)
                default:
                    let prefix = Array("user.nexus.meta.".utf8)
                    if name.starts(with: prefix) { custom.append(Self.text(Array(name.dropFirst(prefix.count))) + ": " + Self.text(value)) }
                }
            }
            fields.fields = custom.joined(separator: "\n")
            var authors = [UserNames.name(ofUser: node.uid)]
            if let document = node.document, let latest = try reader.latestVersion(of: document), latest.author != node.uid {
                authors.append(UserNames.name(ofUser: latest.author))
            }
            fields.author = authors.joined(separator: " ")
            let indexed = try reader.searchDocument(inode)
            var chunks: [ContentManifest.Chunk] = []
            if let manifest = node.manifest, indexed?.manifest != manifest.bytes {
                guard let content = try reader.manifest(manifest) else {
                    throw VFSError(.io, "document \(inode) refers to a content the catalog does not hold")
                }
                chunks = content.chunks
            }
            return Snapshot(node: node, name: first.name.bytes, fields: fields,
                            indexed: indexed?.manifest == node.manifest?.bytes ? indexed : nil, previous: indexed, chunks: chunks)
        }
        guard let snapshot else {
            try namespace.stage(background: true) { try $0.unindex(inode) }
            return true
        }
        var document = snapshot.fields
        if let indexed = snapshot.indexed {
            document.mime = indexed.mime
            document.body = indexed.body
            document.note = indexed.note
        } else {
            let extracted = try extract(snapshot)
            document.mime = extracted.mime
            document.body = extracted.text
            document.note = extracted.note
        }
        return try namespace.stage(background: true) { w -> Bool in
            // Changed while its text was extracted: it was queued again, and is done next turn.
            guard try w.reader.node(inode)?.manifest == snapshot.node.manifest else { return false }
            // Only the indexer writes `search_text`: the entry read before extracting is still the one there.
            if snapshot.previous == document {
                try w.dequeue(inode)
            } else {
                try w.index(document)
            }
            return true
        }
    }

    private func extract(_ snapshot: Snapshot) throws -> ExtractedText {
        let size = snapshot.chunks.reduce(Int64(0)) { $0 + Int64($1.length) }
        guard size > 0 else { return ExtractedText(mime: "application/x-empty", text: "") }
        var wanted = snapshot.chunks[...]
        let tooLarge = size > Self.largestIndexed
        if tooLarge {
            // Enough of the beginning for libmagic.
            var total: Int64 = 0
            wanted = wanted.prefix { chunk in
                defer { total += Int64(chunk.length) }
                return total < 1 << 20
            }
        }
        // A hole (of terabytes, in a sparse file) is read as zeros only up to what is indexed.
        let limit = Int(tooLarge ? 1 << 20 : size)
        var content: [UInt8] = []
        content.reserveCapacity(limit)
        let stored = wanted.filter { $0.id != ContentManifest.holeID }.map(\.id)
        var decoded = try source.chunks(stored).makeIterator()
        for chunk in wanted where content.count < limit {
            if chunk.id == ContentManifest.holeID {
                let zeros = Int(min(Int64(chunk.length), Int64(limit - content.count)))
                content.append(contentsOf: repeatElement(UInt8(0), count: zeros))
            } else if let bytes = decoded.next() {
                content.append(contentsOf: bytes)
            }
        }
        var extracted = extractor.extract(content, name: snapshot.name)
        if tooLarge {
            extracted.text = ""
            extracted.note = "too large to index (\(size >> 20) MiB)"
        }
        return extracted
    }

    /// Bytes as text for the index: invalid UTF-8 becomes U+FFFD.
    static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

/// Text for the index from plain-text documents only, without a child process (tests, and
/// where no extractor is given).
public struct PlainTextExtractor: ContentExtractor {
    public init() {}

    public func extract(_ content: [UInt8], name: [UInt8]) -> ExtractedText {
        let sample = content.prefix(8192)
        guard !sample.contains(0) else { return ExtractedText(mime: "application/octet-stream", text: "", note: "not text") }
        return ExtractedText(mime: "text/plain", text: String(decoding: content.prefix(4 << 20), as: UTF8.self))
    }
}
