import CatalogStore
import Foundation
import NexusTypes

/// What status, lock and legal hold refuse (docs/metadata.md), and the comments of a document.
extension Policy {
    enum Change {
        /// Writing or truncating the content (opening for write is one).
        case content
        /// Moving the node under another name.
        case rename
        /// Removing a name of it.
        case unlink
        /// Another file renamed over it without continuing it.
        case replace
        /// A save renamed over it that continues it as its next version.
        case save
    }

    /// Refuses a change the document's status, lock or hold does not allow, and audits the refusal.
    func guardChange(_ change: Change, of node: NodeRecord, caller: Caller, in reader: CatalogReader) throws {
        guard node.kind == .regular else { return }
        let refusal: VFSError? = try {
            if change == .unlink || change == .replace, try reader.xattr(XattrName.hold, of: node.inode) != nil {
                return VFSError(.notPermitted, "the document is under legal hold")
            }
            if let holder = try lockHolder(of: node.inode, in: reader), holder != caller.uid {
                return VFSError(.permissionDenied, "the document is locked by \(UserNames.name(ofUser: holder))")
            }
            // A temporary file with the status already set (rsync restoring one) still moves into place.
            let movesInFlight = try change == .rename && isInFlight(node, in: reader)
            if let status = try reader.xattr(XattrName.status, of: node.inode).map(Self.printable),
               status == "approved" || status == "archived", !movesInFlight {
                return VFSError(.permissionDenied, "the document is \(status); an admin returns it to draft")
            }
            return nil
        }()
        guard let refusal else { return }
        noteRefusal("\(change)", caller: caller, node: node, path: try reader.path(of: node.inode), reason: refusal.message)
        throw refusal
    }

    /// A file whose every name is a temporary one: a save on its way to its document.
    private func isInFlight(_ node: NodeRecord, in reader: CatalogReader) throws -> Bool {
        let names = try reader.names(of: node.inode)
        return !names.isEmpty && names.allSatisfy { SavePatterns.isTransient($0.name.bytes) }
    }

    // MARK: Comments

    /// Adds a comment (comment level and above); `setXattr` of `system.nexus.comment` audits refusals.
    /// The longest comment, in UTF-8 bytes: sixteen fit in the 64 KiB of `user.nexus.comments`.
    static let maxCommentBytes = 4000

    func addComment(_ text: String, on inode: InodeNumber, caller: Caller) throws {
        let text = Self.printable(Array(text.utf8))
        guard !text.isEmpty else { throw VFSError(.invalid, "an empty comment") }
        guard !text.contains("\0") else { throw VFSError(.invalid, "a comment cannot hold NUL bytes") }
        guard text.utf8.count <= Self.maxCommentBytes else {
            throw VFSError(.invalid, "a comment is at most \(Self.maxCommentBytes) bytes")
        }
        try VersionsView.refuseVirtual(inode)
        try namespace.stage { w in
            let node = try w.reader.existingNode(inode)
            try self.require(.comment, of: caller, on: node, in: w.reader, "commenting")
            _ = try w.addComment(inode: inode, uid: caller.uid, time: .now, text: text)
            try self.audit("comment", caller: caller, node: node, after: text, in: w)
        }
    }

    struct CommentView: Encodable {
        var time: String
        var uid: UInt32
        var user: String
        var text: String
    }

    func comments(of inode: InodeNumber) throws -> [CommentView] {
        try namespace.read { reader in
            _ = try reader.existingNode(inode)
            return try reader.comments(of: inode).map {
                CommentView(time: Self.isoTime($0.time), uid: $0.uid, user: UserNames.name(ofUser: $0.uid), text: $0.text)
            }
        }
    }

    static func isoTime(_ time: FileTime) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(time.totalNanoseconds) / 1e9))
    }
}
