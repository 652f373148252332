import CatalogStore
import CryptoCore
import Foundation
import Glibc
import NexusTypes

/// What status, lock and legal hold refuse (docs/metadata.md), the comments of a document, and
/// the audit trail every change leaves.
extension Volume {
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
    public func addComment(_ text: String, on inode: InodeNumber, caller: Caller) throws {
        let text = Self.printable(Array(text.utf8))
        guard !text.isEmpty else { throw VFSError(.invalid, "an empty comment") }
        guard !text.contains("\0") else { throw VFSError(.invalid, "a comment cannot hold NUL bytes") }
        try Self.refuseVirtual(inode)
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

    // MARK: Computed attributes

    /// SHA-256 of the saved content, as hex; remembered per content.
    func contentDigest(of inode: InodeNumber) throws -> String {
        let (node, _) = try readConsistently { try $0.existingNode(inode) }
        guard node.kind == .regular else { throw VFSError(.noData) }
        guard let manifest = node.manifest else { return Hex.encode(SHA256Hasher.hash([])) }
        if let known = digests.withLock({ $0[manifest] }) { return known }
        guard let stored = try namespace.read({ try $0.manifest(manifest) }) else { throw VFSError(.io, "content missing") }
        let content = FileContent(inode: inode, layout: ContentLayout(manifest: stored), size: node.size, source: source)
        var hasher = SHA256Hasher()
        var offset: Int64 = 0
        while offset < node.size {
            let piece = try content.read(at: offset, count: 1 << 20)
            if piece.isEmpty { break }
            hasher.update(piece)
            offset += Int64(piece.count)
        }
        let digest = Hex.encode(hasher.finalize())
        digests.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[manifest] = digest
        }
        return digest
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    static func isoTime(_ time: FileTime) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(time.totalNanoseconds) / 1e9))
    }

    // MARK: Kernel caches

    /// Tells the kernel that the permissions of these nodes changed behind its back.
    func invalidate(_ inodes: [InodeNumber]) {
        guard !inodes.isEmpty, let handler = invalidationHandler.withLock({ $0 }) else { return }
        let known = table.withLock { table in inodes.filter { table.inodes[$0] != nil } }
        handler(known)
    }

    /// Called with nodes whose attributes or ACLs changed other than through the kernel.
    public func onInvalidation(_ handler: @escaping @Sendable ([InodeNumber]) -> Void) {
        invalidationHandler.withLock { $0 = handler }
    }

    // MARK: Audit

    /// Appends an audit entry for a change inside the change's own transaction.
    func audit(_ action: String, caller: Caller, node: NodeRecord?, path: RepositoryPath? = nil, detail: String? = nil,
               before: String? = nil, after: String? = nil, outcome: AuditOutcome = .done, in w: CatalogWriter) throws {
        let where_ = try path ?? node.flatMap { try w.reader.path(of: $0.inode) }
        let event = AuditEvent(time: .now, uid: caller.uid, action: Self.auditSafe(detail.map { "\(action) \($0)" } ?? action),
                               inode: node?.inode, path: where_?.bytes ?? [], before: before.map(Self.auditSafe),
                               after: after.map(Self.auditSafe), outcome: outcome)
        _ = try repository.appendAudit(event, in: w)
    }

    /// Records a refused request; written by the committer (the request's own transaction is
    /// rolled back, and a refusal may come from inside a read).
    func noteRefusal(_ action: String, caller: Caller, node: NodeRecord?, path: RepositoryPath?, reason: String) {
        guard !options.readOnly else { return }
        let event = AuditEvent(time: .now, uid: caller.uid, action: Self.auditSafe(action), inode: node?.inode,
                               path: path?.bytes ?? [], before: nil, after: Self.auditSafe(reason), outcome: .refused)
        refusals.withLock { queue in
            // A flood of refused requests (anyone may ask) is counted, not kept one by one: at most
            // `refusalsPerSecond` a second are logged individually.
            let now = ContinuousClock.now
            if queue.windowStart.duration(to: now) >= .seconds(1) {
                queue.windowStart = now
                queue.inWindow = 0
            }
            queue.inWindow += 1
            if queue.inWindow <= Self.refusalsPerSecond { queue.events.append(event) } else { queue.dropped += 1 }
        }
    }

    /// Audit text never holds NUL or other control characters (SQLite text would cut or keep them
    /// differently from how they were hashed): they become `\u{..}` escapes.
    static func auditSafe(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else { return text }
        return String(text.unicodeScalars.map { scalar in
            scalar.value < 0x20 || scalar.value == 0x7f ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }.joined())
    }

    /// `noteRefusal` for a request made outside any catalog access.
    func auditRefusal(_ action: String, caller: Caller, inode: InodeNumber, reason: String) {
        let found = try? namespace.read { reader in (try reader.node(inode), try reader.path(of: inode)) }
        noteRefusal(action, caller: caller, node: found?.0, path: found?.1, reason: reason)
    }

    static let refusalsPerSecond = 100

    struct RefusalQueue {
        var events: [AuditEvent] = []
        var dropped = 0
        var windowStart = ContinuousClock.now
        var inWindow = 0
    }

    /// Stages the refusals noted since the last call.
    func stageRefusals() {
        let (events, dropped) = refusals.withLock { queue in
            defer {
                queue.events = []
                queue.dropped = 0
            }
            return (queue.events, queue.dropped)
        }
        guard !events.isEmpty || dropped > 0 else { return }
        do {
            try namespace.stage { w in
                // Logged when written (within the committer's tick of the refusal), so times keep their order.
                let now = FileTime.now
                for var event in events {
                    event.time = now
                    _ = try repository.appendAudit(event, in: w)
                }
                if dropped > 0 {
                    _ = try repository.appendAudit(AuditEvent(time: now, uid: 0, action: "refusals not logged", path: [],
                                                              after: "\(dropped) more refused requests", outcome: .refused), in: w)
                }
            }
        } catch {
            logger.warning("could not audit \(events.count) refused requests: \(error)")
        }
    }
}

/// User and group names for messages and reports; the number when the system has no name.
public enum UserNames {
    public static func name(ofUser uid: UInt32) -> String {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else {
            return "\(uid)"
        }
        return String(cString: name)
    }

    public static func name(ofGroup gid: UInt32) -> String {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.gr_name else {
            return "\(gid)"
        }
        return String(cString: name)
    }
}

extension AccessGrant: Encodable {
    enum CodingKeys: String, CodingKey { case principal, kind, id, level, reason }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch principal {
        case .user(let uid):
            try container.encode("user", forKey: .kind)
            try container.encode(uid, forKey: .id)
            try container.encode(UserNames.name(ofUser: uid), forKey: .principal)
        case .group(let gid):
            try container.encode("group", forKey: .kind)
            try container.encode(gid, forKey: .id)
            try container.encode(UserNames.name(ofGroup: gid), forKey: .principal)
        case .everyone:
            try container.encode("public", forKey: .kind)
            try container.encode("public", forKey: .principal)
        }
        try container.encode(level.name, forKey: .level)
        try container.encode(reason, forKey: .reason)
    }
}
