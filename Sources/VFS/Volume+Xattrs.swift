import CatalogStore
import Foundation
import NexusTypes

/// Extended attributes: stored ones (user.*, trusted.*, the POSIX ACLs), DMS fields with rules
/// (status, lock, hold), computed ones that are read by name and never listed, and requests
/// (grant, comment) that are written and never stored (docs/metadata.md).
extension Volume {
    static let maxXattrValue = 64 << 10
    /// A node's attribute names, as listxattr lists them (a NUL after each), fit the kernel's
    /// XATTR_LIST_MAX, so that listxattr, `cp -a` and `rsync -X` always work on it.
    static let maxXattrList = 64 << 10
    /// A node's attribute names and values together: what one node may hold (ext4 gives one
    /// 4 KiB block; this leaves room for sixteen 64 KiB values).
    static let maxXattrBytes = 1 << 20
    static let xattrCreate: Int32 = 1
    static let xattrReplace: Int32 = 2

    private static func checkName(_ name: [UInt8]) throws {
        guard !name.isEmpty, name.count <= 255 else { throw VFSError(.rangeTooSmall, "xattr name too long") }
        guard XattrName.isStored(name) || XattrName.isACL(name) || XattrName.computed.contains(name)
                || name == XattrName.grantRequest || name == XattrName.commentRequest else { throw VFSError(.notSupported) }
        // A namespace prefix alone names nothing.
        guard !XattrName.namespaces.contains(name) else { throw VFSError(.invalid) }
    }

    // MARK: Reading

    public func xattr(_ name: [UInt8], of inode: InodeNumber, caller: Caller) throws -> [UInt8] {
        try Self.checkName(name)
        if let value = try atXattr(name, of: inode, caller: caller) { return value }
        if let view = TrashView.node(inode) {
            guard name == PosixACL.accessName, let acl = try trashACL(view) else { throw VFSError(.noData) }
            return acl.xattr
        }
        if let view = TagsView.node(inode) {
            guard name == TagsView.hitsAttribute, case .tag(let id) = view, let query = tagNames.query(of: id) else {
                throw VFSError(.noData)
            }
            return try hitsJSON(query, caller: caller)
        }
        if let view = VersionsView.node(inode) {
            // A version file shows the document's permissions; who saved it is `user.nexus.author`.
            if name == Array("user.nexus.author".utf8), case .version(let document, let number) = view,
               let version = try namespace.read({ try $0.version(of: document, number: number) }) {
                return Array("\(version.author)".utf8)
            }
            guard name == PosixACL.accessName, let acl = try namespace.read({ try self.versionsACL(view, in: $0) }) else {
                throw VFSError(.noData)
            }
            return acl.xattr
        }
        if XattrName.computed.contains(name) { return try computedXattr(name, of: inode, caller: caller) }
        if name == XattrName.grantRequest || name == XattrName.commentRequest { throw VFSError(.noData) }
        // Without a turn on the connection when the cache knows: the kernel asks for
        // security.capability before the first write to every file, also while a commit runs.
        if XattrName.isStored(name), case .some(.some) = namespace.cachedNode(inode),
           case let cached? = namespace.cachedXattr(name, of: inode) {
            guard let value = cached else { throw VFSError(.noData) }
            return value
        }
        let value = try namespace.read { reader -> [UInt8]? in
            let node = try reader.existingNode(inode)
            if name == PosixACL.accessName {
                // Stored with the classes the mode had; chmod since then changed them.
                return try self.policy.storedAccessACL(of: node, in: reader)?.xattr
            }
            return try reader.xattr(name, of: inode)
        }
        guard let value else { throw VFSError(.noData) }
        return value
    }

    public func xattrNames(of inode: InodeNumber) throws -> [[UInt8]] {
        if let names = try atXattrNames(of: inode) { return names }
        if case .tag(let id)? = TagsView.node(inode), tagNames.query(of: id) != nil { return [TagsView.hitsAttribute] }
        if VersionsView.isVirtual(inode) { return [] }
        return try namespace.read { reader in
            _ = try reader.existingNode(inode)
            return try reader.xattrs(of: inode).map(\.name).filter { XattrName.isStored($0) || XattrName.isACL($0) }
        }
    }

    private func computedXattr(_ name: [UInt8], of inode: InodeNumber, caller: Caller) throws -> [UInt8] {
        func text(_ string: String) -> [UInt8] { Array(string.utf8) }
        switch String(decoding: name.dropFirst("user.nexus.".count), as: UTF8.self) {
        case "access":
            return text(try policy.level(of: caller, on: inode).name)
        case "grants":
            return text(Self.json(try policy.accessReport(of: inode)))
        case "comments":
            return text(Self.newestThatFit(try policy.comments(of: inode), in: Self.maxXattrValue))
        case "id":
            let node = try namespace.read { try $0.existingNode(inode) }
            return text(node.document.map { "doc-\($0)" } ?? "node-\(node.inode.rawValue)")
        case "locked-by":
            guard let holder = try namespace.read({ try $0.xattr(XattrName.lockHolder, of: inode) }) else { throw VFSError(.noData) }
            return text(UserNames.name(ofUser: UInt32(String(decoding: holder, as: UTF8.self)) ?? 0))
        case "version":
            guard let latest = try namespace.read({ reader -> VersionRecord? in
                guard let document = try reader.existingNode(inode).document else { return nil }
                return try reader.latestVersion(of: document)
            }) else { throw VFSError(.noData) }
            return text("\(latest.number.rawValue)")
        case "sha256":
            return text(try files.contentDigest(of: inode))
        default:
            throw VFSError(.noData)
        }
    }

    /// The JSON list of the newest `items` whose encoding fits `limit` bytes (an attribute value
    /// cannot be longer than 64 KiB): a document with many long comments lists its latest ones.
    static func newestThatFit<T: Encodable>(_ items: [T], in limit: Int) -> String {
        var size = 2, first = items.count
        while first > 0 {
            let itemSize = json(items[first - 1]).utf8.count + (first == items.count ? 0 : 1)
            guard size + itemSize <= limit else { break }
            size += itemSize
            first -= 1
        }
        return json(Array(items[first...]))
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    // MARK: Writing

    public func setXattr(_ name: [UInt8], to value: [UInt8], flags: Int32, on inode: InodeNumber, caller: Caller) throws {
        let action = name == XattrName.grantRequest ? "grant" : name == XattrName.commentRequest ? "comment"
            : "xattr.set " + Policy.auditText(name, of: [])
        try auditingRefusals(action, caller: caller, inode: inode) {
            try setXattrChecked(name, to: value, flags: flags, on: inode, caller: caller)
        }
    }

    public func removeXattr(_ name: [UInt8], from inode: InodeNumber, caller: Caller) throws {
        try auditingRefusals("xattr.remove " + Policy.auditText(name, of: []), caller: caller, inode: inode) {
            try removeXattrChecked(name, from: inode, caller: caller)
        }
    }

    /// Runs a request; a refusal (EACCES, EPERM) goes into the audit log before it is returned.
    private func auditingRefusals(_ action: String, caller: Caller, inode: InodeNumber, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as VFSError where error.code == .permissionDenied || error.code == .notPermitted {
            if !VersionsView.isVirtual(inode) { policy.auditRefusal(action, caller: caller, inode: inode, reason: error.message) }
            throw error
        }
    }

    private func setXattrChecked(_ name: [UInt8], to value: [UInt8], flags: Int32, on inode: InodeNumber, caller: Caller) throws {
        try VersionsView.refuseVirtual(inode)
        try Self.checkName(name)
        guard value.count <= Self.maxXattrValue else { throw VFSError(.tooBig) }
        if XattrName.computed.contains(name) {
            throw VFSError(.notPermitted, "\(String(decoding: name, as: UTF8.self)) is computed")
        }
        if name == XattrName.grantRequest {
            // The kernel cached the permissions the grant changed.
            return invalidate(try policy.grantRequest(value, on: inode, caller: caller))
        }
        if name == XattrName.commentRequest {
            guard let text = String(validating: value, as: UTF8.self) else { throw VFSError(.invalid, "a comment is UTF-8 text") }
            return try policy.addComment(text, on: inode, caller: caller)
        }
        try namespace.stage { w in
            var node = try w.reader.existingNode(inode)
            let existing = try w.reader.xattr(name, of: inode)
            if flags & Self.xattrCreate != 0 && existing != nil { throw VFSError(.exists) }
            if flags & Self.xattrReplace != 0 && existing == nil { throw VFSError(.noData) }
            let usage = try w.reader.xattrUsage(of: inode)
            let list = usage.listBytes + (existing == nil ? name.count + 1 : 0)
            let bytes = usage.listBytes + usage.valueBytes + (existing == nil ? name.count + 1 : 0) - (existing?.count ?? 0) + value.count
            guard list <= Self.maxXattrList, bytes <= Self.maxXattrBytes else {
                throw VFSError(.noSpace, "the attributes of a node take at most \(Self.maxXattrList >> 10) KiB of names and \(Self.maxXattrBytes >> 20) MiB in all")
            }
            if XattrName.isACL(name) {
                try self.policy.setACL(name, to: value, on: &node, caller: caller, in: w)
            } else {
                try self.policy.checkAttributeChange(name, to: value, existing: existing, on: node, caller: caller, in: w)
                // A status is stored as its plain name (`echo review`'s newline, a C string's NUL dropped).
                try w.setXattr(name, to: name == XattrName.status ? Array(Policy.printable(value).utf8) : value, on: inode)
            }
            node.changeTime = .now
            try w.updateNode(node)
            try self.policy.audit("xattr.set", caller: caller, node: node, detail: String(decoding: name, as: UTF8.self),
                                  before: existing.map { Policy.auditText($0, of: name) },
                                  after: Policy.auditText(value, of: name), in: w)
        }
    }

    private func removeXattrChecked(_ name: [UInt8], from inode: InodeNumber, caller: Caller) throws {
        try VersionsView.refuseVirtual(inode)
        try Self.checkName(name)
        if XattrName.computed.contains(name) {
            throw VFSError(.notPermitted, "\(String(decoding: name, as: UTF8.self)) is computed")
        }
        if name == XattrName.grantRequest || name == XattrName.commentRequest { throw VFSError(.noData) }
        try namespace.stage { w in
            var node = try w.reader.existingNode(inode)
            guard let existing = try w.reader.xattr(name, of: inode) else {
                // Removing an ACL that is not there succeeds, as on ext4: the kernel asks for it when
                // setxattr gets an empty ACL (`setfacl -b`, `setfattr -v ""`).
                if XattrName.isACL(name) { return try self.policy.requireOwnership(of: node, caller: caller) }
                throw VFSError(.noData)
            }
            if XattrName.isACL(name) {
                try self.policy.removingACL(name, from: node, caller: caller, in: w)
            } else {
                try self.policy.checkAttributeChange(name, to: nil, existing: existing, on: node, caller: caller, in: w)
            }
            try w.removeXattr(name, from: inode)
            node.changeTime = .now
            try w.updateNode(node)
            try self.policy.audit("xattr.remove", caller: caller, node: node, detail: String(decoding: name, as: UTF8.self),
                                  before: Policy.auditText(existing, of: name), after: nil, in: w)
        }
    }
}
