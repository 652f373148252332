import CatalogStore
import NexusTypes

/// Extended attributes: stored ones (user.*, trusted.*, the POSIX ACLs), DMS fields with rules
/// (status, lock, hold), computed ones that are read by name and never listed, and requests
/// (grant, comment) that are written and never stored (docs/metadata.md).
extension Volume {
    static let maxXattrValue = 64 << 10
    static let xattrCreate: Int32 = 1
    static let xattrReplace: Int32 = 2

    enum XattrName {
        static let status = Array("user.nexus.status".utf8)
        static let lock = Array("user.nexus.lock".utf8)
        static let hold = Array("user.nexus.hold".utf8)
        /// Who holds the lock: a uid, kept beside `user.nexus.lock` where no program sees it.
        static let lockHolder = Array("nexus.lock-holder".utf8)
        static let computed: Set<[UInt8]> = Set(["version", "sha256", "id", "access", "locked-by", "grants", "comments", "author"]
            .map { Array("user.nexus.\($0)".utf8) })
        static let grantRequest = Array("system.nexus.grant".utf8)
        static let commentRequest = Array("system.nexus.comment".utf8)
    }

    /// Namespaces kept as they are.
    static func isStored(_ name: [UInt8]) -> Bool {
        (name.starts(with: Array("user.".utf8)) && !XattrName.computed.contains(name)) || name.starts(with: Array("trusted.".utf8))
    }

    static func isACL(_ name: [UInt8]) -> Bool { name == PosixACL.accessName || name == PosixACL.defaultName }

    /// Attributes that say who may do what and go with a document's identity across saves.
    static func isIdentity(_ name: [UInt8]) -> Bool {
        isACL(name) || name == LevelMarkers.attributeName || name == XattrName.lockHolder || name == XattrName.status
            || name == XattrName.lock || name == XattrName.hold
    }

    private static func checkName(_ name: [UInt8]) throws {
        guard !name.isEmpty, name.count <= 255 else { throw VFSError(.rangeTooSmall, "xattr name too long") }
        guard isStored(name) || isACL(name) || XattrName.computed.contains(name)
                || name == XattrName.grantRequest || name == XattrName.commentRequest else { throw VFSError(.notSupported) }
        // A namespace prefix alone names nothing.
        guard name != Array("user.".utf8), name != Array("trusted.".utf8) else { throw VFSError(.invalid) }
    }

    // MARK: Reading

    public func xattr(_ name: [UInt8], of inode: InodeNumber, caller: Caller) throws -> [UInt8] {
        try Self.checkName(name)
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
        let value = try namespace.read { reader -> [UInt8]? in
            let node = try reader.existingNode(inode)
            if name == PosixACL.accessName {
                // Stored with the classes the mode had; chmod since then changed them.
                return try self.storedAccessACL(of: node, in: reader)?.xattr
            }
            return try reader.xattr(name, of: inode)
        }
        guard let value else { throw VFSError(.noData) }
        return value
    }

    public func xattrNames(of inode: InodeNumber) throws -> [[UInt8]] {
        if VersionsView.isVirtual(inode) { return [] }
        return try namespace.read { reader in
            _ = try reader.existingNode(inode)
            return try reader.xattrs(of: inode).map(\.name).filter { Self.isStored($0) || Self.isACL($0) }
        }
    }

    private func computedXattr(_ name: [UInt8], of inode: InodeNumber, caller: Caller) throws -> [UInt8] {
        func text(_ string: String) -> [UInt8] { Array(string.utf8) }
        switch String(decoding: name.dropFirst("user.nexus.".count), as: UTF8.self) {
        case "access":
            return text(try level(of: caller, on: inode).name)
        case "grants":
            return text(Self.json(try accessReport(of: inode)))
        case "comments":
            return text(Self.json(try comments(of: inode)))
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
            return text(try contentDigest(of: inode))
        default:
            throw VFSError(.noData)
        }
    }

    // MARK: Writing

    public func setXattr(_ name: [UInt8], to value: [UInt8], flags: Int32, on inode: InodeNumber, caller: Caller) throws {
        let action = name == XattrName.grantRequest ? "grant" : name == XattrName.commentRequest ? "comment"
            : "xattr.set " + Self.auditText(name, of: [])
        try auditingRefusals(action, caller: caller, inode: inode) {
            try setXattrChecked(name, to: value, flags: flags, on: inode, caller: caller)
        }
    }

    public func removeXattr(_ name: [UInt8], from inode: InodeNumber, caller: Caller) throws {
        try auditingRefusals("xattr.remove " + Self.auditText(name, of: []), caller: caller, inode: inode) {
            try removeXattrChecked(name, from: inode, caller: caller)
        }
    }

    /// Runs a request; a refusal (EACCES, EPERM) goes into the audit log before it is returned.
    private func auditingRefusals(_ action: String, caller: Caller, inode: InodeNumber, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as VFSError where error.code == .permissionDenied || error.code == .notPermitted {
            if !VersionsView.isVirtual(inode) { auditRefusal(action, caller: caller, inode: inode, reason: error.message) }
            throw error
        }
    }

    private func setXattrChecked(_ name: [UInt8], to value: [UInt8], flags: Int32, on inode: InodeNumber, caller: Caller) throws {
        try Self.refuseVirtual(inode)
        try Self.checkName(name)
        guard value.count <= Self.maxXattrValue else { throw VFSError(.tooBig) }
        if XattrName.computed.contains(name) {
            throw VFSError(.notPermitted, "\(String(decoding: name, as: UTF8.self)) is computed")
        }
        if name == XattrName.grantRequest { return try grantRequest(value, on: inode, caller: caller) }
        if name == XattrName.commentRequest { return try addComment(String(decoding: value, as: UTF8.self), on: inode, caller: caller) }
        try namespace.stage { w in
            var node = try w.reader.existingNode(inode)
            let existing = try w.reader.xattr(name, of: inode)
            if flags & Self.xattrCreate != 0 && existing != nil { throw VFSError(.exists) }
            if flags & Self.xattrReplace != 0 && existing == nil { throw VFSError(.noData) }
            if Self.isACL(name) {
                try self.setACL(name, to: value, on: &node, caller: caller, in: w)
            } else {
                try self.checkAttributeChange(name, to: value, existing: existing, on: node, caller: caller, in: w)
                try w.setXattr(name, to: value, on: inode)
            }
            node.changeTime = .now
            try w.updateNode(node)
            try self.audit("xattr.set", caller: caller, node: node, detail: String(decoding: name, as: UTF8.self),
                           before: existing.map { Self.auditText($0, of: name) }, after: Self.auditText(value, of: name), in: w)
        }
    }

    private func removeXattrChecked(_ name: [UInt8], from inode: InodeNumber, caller: Caller) throws {
        try Self.refuseVirtual(inode)
        try Self.checkName(name)
        if XattrName.computed.contains(name) {
            throw VFSError(.notPermitted, "\(String(decoding: name, as: UTF8.self)) is computed")
        }
        if name == XattrName.grantRequest || name == XattrName.commentRequest { throw VFSError(.noData) }
        try namespace.stage { w in
            var node = try w.reader.existingNode(inode)
            guard let existing = try w.reader.xattr(name, of: inode) else { throw VFSError(.noData) }
            if Self.isACL(name) {
                try self.requireOwnership(of: node, caller: caller)
                if name == PosixACL.defaultName {
                    var markers = try self.markers(of: inode, in: w.reader)
                    markers.inherited = []
                    try self.store(markers, on: inode, in: w)
                } else {
                    var markers = try self.markers(of: inode, in: w.reader)
                    markers.access = []
                    try self.store(markers, on: inode, in: w)
                }
            } else {
                try self.checkAttributeChange(name, to: nil, existing: existing, on: node, caller: caller, in: w)
            }
            try w.removeXattr(name, from: inode)
            node.changeTime = .now
            try w.updateNode(node)
            try self.audit("xattr.remove", caller: caller, node: node, detail: String(decoding: name, as: UTF8.self),
                           before: Self.auditText(existing, of: name), after: nil, in: w)
        }
    }

    private func requireOwnership(of node: NodeRecord, caller: Caller) throws {
        guard caller.uid == 0 || caller.uid == node.uid else {
            throw VFSError(.notPermitted, "only the owner changes the ACL (nexusfs grant serves admins)")
        }
    }

    /// setfacl: the mode follows the access list; markers of principals no longer listed go.
    private func setACL(_ name: [UInt8], to value: [UInt8], on node: inout NodeRecord, caller: Caller, in w: CatalogWriter) throws {
        try requireOwnership(of: node, caller: caller)
        let acl = try PosixACL(xattr: value)
        var markers = try markers(of: node.inode, in: w.reader)
        // A marker stays only while its principal's entry still gives the POSIX level under it.
        let mask = acl.entry(.mask)?.permissions ?? 7
        func listed(_ marker: LevelMarkers.Marker) -> Bool {
            let needed: UInt32 = marker.level == .comment ? 4 : 6
            return acl.entries.contains { entry in
                let matches = switch marker.principal {
                case .user(let id): entry.tag == .user && entry.id == id
                case .group(let id): entry.tag == .group && entry.id == id
                case .everyone: false
                }
                return matches && entry.permissions & mask & needed == needed
            }
        }
        if name == PosixACL.accessName {
            try store(accessACL: acl, on: &node, in: w)
            // As Linux does (posix_acl_update_mode): setgid goes unless the caller is in the group.
            if caller.uid != 0 && !caller.groups.contains(node.gid) { node.permissions &= ~0o2000 }
            markers.access = markers.access.filter(listed)
        } else {
            guard node.kind == .directory else { throw VFSError(.permissionDenied, "only folders have a default ACL") }
            try w.setXattr(name, to: acl.xattr, on: node.inode)
            markers.inherited = markers.inherited.filter(listed)
        }
        try store(markers, on: node.inode, in: w)
    }

    /// The DMS rules for status, lock and hold, and a lock's hold on every other attribute.
    private func checkAttributeChange(_ name: [UInt8], to value: [UInt8]?, existing: [UInt8]?, on node: NodeRecord,
                                      caller: Caller, in w: CatalogWriter) throws {
        let holder = try lockHolder(of: node.inode, in: w.reader)
        // A locked document is read-only for everyone but the holder, its attributes included;
        // an admin may still lift the lock, and place or lift a legal hold (which outranks it).
        if let holder, holder != caller.uid, name != XattrName.lock, name != XattrName.hold {
            throw VFSError(.permissionDenied, "locked by \(UserNames.name(ofUser: holder))")
        }
        switch name {
        case XattrName.status:
            try checkStatusChange(from: existing.map(Self.printable), to: value.map(Self.printable), on: node,
                                  caller: caller, in: w)
        case XattrName.lock:
            if let holder, holder != caller.uid {
                // Another's lock: only an admin lifts it, nobody takes it over.
                guard value == nil, try level(of: caller, on: node, in: w.reader) >= .admin else {
                    throw VFSError(.permissionDenied, "locked by \(UserNames.name(ofUser: holder))")
                }
            } else {
                try require(.edit, of: caller, on: node, in: w.reader, "locking")
            }
            if value == nil {
                try w.removeXattr(XattrName.lockHolder, from: node.inode)
            } else {
                try w.setXattr(XattrName.lockHolder, to: Array("\(caller.uid)".utf8), on: node.inode)
            }
        case XattrName.hold:
            try require(.admin, of: caller, on: node, in: w.reader, "a legal hold")
        default:
            break
        }
    }

    static let statuses = ["draft", "review", "approved", "archived"]

    /// Workflow: draft -> review (edit), -> approved or archived (admin), back to draft (admin).
    private func checkStatusChange(from current: String?, to new: String?, on node: NodeRecord, caller: Caller,
                                   in w: CatalogWriter) throws {
        let level = try level(of: caller, on: node, in: w.reader)
        guard let new else {
            guard level >= .admin else { throw VFSError(.permissionDenied, "clearing the status needs admin") }
            return
        }
        guard Self.statuses.contains(new) else {
            throw VFSError(.invalid, "status must be one of \(Self.statuses.joined(separator: ", "))")
        }
        let from = current ?? "draft"
        if from == new { return }
        let needed: AccessLevel
        switch (from, new) {
        case ("draft", "review"): needed = .edit
        case ("archived", "approved"), (_, "review"):
            throw VFSError(.invalid, "no transition from \(from) to \(new)")
        default: needed = .admin // to draft, approved or archived
        }
        guard level >= needed else {
            throw VFSError(.permissionDenied, "\(from) -> \(new) needs the \(needed.name) level; the caller has \(level.name)")
        }
    }

    func lockHolder(of inode: InodeNumber, in reader: CatalogReader) throws -> UInt32? {
        try reader.xattr(XattrName.lockHolder, of: inode).flatMap { UInt32(String(decoding: $0, as: UTF8.self)) }
    }

    /// `system.nexus.grant` = "user UID LEVEL", "group GID LEVEL" or "public - LEVEL", then optionally " recursive".
    private func grantRequest(_ value: [UInt8], on inode: InodeNumber, caller: Caller) throws {
        let fields = String(decoding: value, as: UTF8.self).split(separator: " ").map(String.init)
        guard fields.count == 3 || (fields.count == 4 && fields[3] == "recursive"),
              let level = AccessLevel(name: fields[2]) else { throw VFSError(.invalid, "bad grant request") }
        let principal: Principal
        switch (fields[0], UInt32(fields[1])) {
        case ("user", let id?): principal = .user(id)
        case ("group", let id?): principal = .group(id)
        case ("public", _): principal = .everyone
        default: throw VFSError(.invalid, "bad grant request")
        }
        let changed = try grant(level, to: principal, on: inode, recursive: fields.count == 4, caller: caller)
        invalidate(changed)
    }

    /// An attribute value as the audit log shows it: text as it is, an ACL as `getfacl`'s short form,
    /// anything else (or anything long) as hex with its length.
    static func auditText(_ value: [UInt8], of name: [UInt8]) -> String {
        if isACL(name), let acl = try? PosixACL(xattr: value) {
            return acl.entries.map { entry in
                let tag = switch entry.tag {
                case .userObject: "u::"
                case .user: "u:\(entry.id):"
                case .groupObject: "g::"
                case .group: "g:\(entry.id):"
                case .mask: "m::"
                case .other: "o::"
                }
                let bits = entry.permissions
                return tag + (bits & 4 != 0 ? "r" : "-") + (bits & 2 != 0 ? "w" : "-") + (bits & 1 != 0 ? "x" : "-")
            }.joined(separator: ",")
        }
        if value.count <= 1024, let text = String(validating: value, as: UTF8.self),
           !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\t" || $0.value == 0x7f }) {
            return printable(value)
        }
        return "hex:" + Hex.encode(value.prefix(256)) + (value.count > 256 ? "..." : "") + " (\(value.count) bytes)"
    }

    static func printable(_ value: [UInt8]) -> String {
        var text = String(decoding: value, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\0") { text.removeLast() }
        return text
    }
}
