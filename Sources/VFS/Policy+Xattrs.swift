import CatalogStore
import NexusTypes

/// The DMS side of extended attributes: who may change an ACL, the rules for status, lock and
/// hold, the grant request, and how values appear in the audit log (docs/metadata.md).
extension Policy {
    func requireOwnership(of node: NodeRecord, caller: Caller) throws {
        guard caller.uid == 0 || caller.uid == node.uid else {
            throw VFSError(.notPermitted, "only the owner changes the ACL (nexusfs grant serves admins)")
        }
    }

    /// Before an ACL is removed: the markers that stood on it go with it (the default ACL's
    /// inherited ones, or the access ACL's).
    func removingACL(_ name: [UInt8], from node: NodeRecord, caller: Caller, in w: CatalogWriter) throws {
        try requireOwnership(of: node, caller: caller)
        let inode = node.inode
        if name == PosixACL.defaultName {
            var markers = try self.markers(of: inode, in: w.reader)
            markers.inherited = []
            try self.store(markers, on: inode, in: w)
        } else {
            var markers = try self.markers(of: inode, in: w.reader)
            markers.access = []
            try self.store(markers, on: inode, in: w)
        }
    }

    /// setfacl: the mode follows the access list; markers of principals no longer listed go.
    func setACL(_ name: [UInt8], to value: [UInt8], on node: inout NodeRecord, caller: Caller, in w: CatalogWriter) throws {
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
    func checkAttributeChange(_ name: [UInt8], to value: [UInt8]?, existing: [UInt8]?, on node: NodeRecord,
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

    /// `system.nexus.grant` = "user UID LEVEL", "group GID LEVEL" or "public - LEVEL", then optionally " recursive":
    /// single spaces, ids in decimal digits. Returns the nodes whose permissions changed.
    func grantRequest(_ value: [UInt8], on inode: InodeNumber, caller: Caller) throws -> [InodeNumber] {
        guard let text = String(validating: value, as: UTF8.self) else { throw VFSError(.invalid, "bad grant request") }
        let fields = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 3 || (fields.count == 4 && fields[3] == "recursive"),
              let level = AccessLevel(name: fields[2]) else { throw VFSError(.invalid, "bad grant request") }
        func id(_ field: String) -> UInt32? {
            guard (1...10).contains(field.utf8.count), field.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
            return UInt32(field)
        }
        let principal: Principal
        switch (fields[0], id(fields[1])) {
        case ("user", let id?): principal = .user(id)
        case ("group", let id?): principal = .group(id)
        case ("public", _) where fields[1] == "-": principal = .everyone
        default: throw VFSError(.invalid, "bad grant request")
        }
        return try grant(level, to: principal, on: inode, recursive: fields.count == 4, caller: caller)
    }

    /// An attribute value as the audit log shows it: text as it is, an ACL as `getfacl`'s short form,
    /// anything else (or anything long) as hex with its length.
    static func auditText(_ value: [UInt8], of name: [UInt8]) -> String {
        if XattrName.isACL(name), let acl = try? PosixACL(xattr: value) {
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
