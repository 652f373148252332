import BlobStorage
import CatalogStore
import Foundation
import NexusTypes

/// A document's history as `nexusfs log` shows it.
public struct DocumentHistory: Sendable, Codable {
    public struct Entry: Sendable, Codable {
        public var number: Int64
        /// Seconds since the epoch, with nanoseconds.
        public var time: Double
        public var author: UInt32
        public var size: Int64
        public var summary: String?
        public var current: Bool

        public init(number: Int64, time: Double, author: UInt32, size: Int64, summary: String?, current: Bool) {
            self.number = number
            self.time = time
            self.author = author
            self.size = size
            self.summary = summary
            self.current = current
        }
    }

    public var path: String
    public var versions: [Entry]

    public init(path: String, versions: [Entry]) {
        self.path = path
        self.versions = versions
    }
}

extension Repository {
    private func document(at path: RepositoryPath, in reader: CatalogReader) throws -> (InodeNumber, NodeRecord, Int64) {
        guard let inode = try reader.resolve(path), let node = try reader.node(inode) else {
            throw RepositoryError(.notFound, "\(path) does not exist in repository \(self.path)")
        }
        guard node.kind == .regular, let document = node.document else {
            throw RepositoryError(.invalidArgument, "\(path) is not a document")
        }
        return (inode, node, document)
    }

    /// The versions of the document at `path`, oldest first.
    public func history(of path: RepositoryPath) throws -> DocumentHistory {
        try RepositoryError.wrapping("cannot read the history of \(path)") {
            try catalog.read { reader in
                let (_, node, document) = try self.document(at: path, in: reader)
                let versions = try reader.versions(of: document)
                return DocumentHistory(path: path.description, versions: versions.map { v in
                    .init(number: v.number.rawValue, time: Double(v.time.seconds) + Double(v.time.nanoseconds) / 1e9,
                          author: v.author, size: v.size, summary: v.summary,
                          current: v.manifest == node.manifest && v.number == versions.last?.number)
                })
            }
        }
    }

    /// Makes version `number` the document's content again, as a new version.
    public func restore(_ path: RepositoryPath, version number: VersionNumber, author: UInt32) throws -> VersionNumber {
        try RepositoryError.wrapping("cannot restore \(path)") {
            try catalog.write { w in
                var (_, node, document) = try self.document(at: path, in: w.reader)
                guard let version = try w.reader.versions(of: document).first(where: { $0.number == number }) else {
                    throw RepositoryError(.notFound, "\(path) has no version \(number)")
                }
                let now = FileTime.now
                node.manifest = version.manifest
                node.size = version.size
                node.modificationTime = now
                node.changeTime = now
                try w.updateNode(node)
                let next = try w.nextVersionNumber(of: document)
                try w.insertVersion(VersionRecord(document: document, number: next, time: now, author: author,
                                                  size: version.size, sha256: version.sha256,
                                                  summary: "restored from version \(number)", manifest: version.manifest))
                try self.appendAudit(AuditEvent(time: now, uid: author, action: "restore", inode: node.inode, path: path.bytes,
                                                before: "version \(number.rawValue)", after: "version \(next.rawValue)"), in: w)
                return next
            }
        }
    }

    /// Writes version `number` of the document to the local file `destination`.
    public func export(_ path: RepositoryPath, version number: VersionNumber, to destination: String) throws {
        try RepositoryError.wrapping("cannot write version \(number) of \(path) to \(destination)") {
            let manifest = try catalog.read { reader -> ContentManifest in
                let (_, _, document) = try self.document(at: path, in: reader)
                guard let version = try reader.versions(of: document).first(where: { $0.number == number }),
                      let manifest = try reader.manifest(version.manifest) else {
                    throw RepositoryError(.notFound, "\(path) has no version \(number)")
                }
                return manifest
            }
            try writeContent(manifest, to: destination, compressor: Compressor())
        }
    }
}
