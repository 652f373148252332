import CatalogStore
import NexusTypes

/// POSIX ACLs and the DMS access levels on top of them (docs/permissions.md). The kernel checks
/// modes and ACLs (default_permissions with POSIX ACL support); the volume keeps them, applies
/// folder defaults to new nodes, and decides what POSIX cannot say: comment and admin levels,
/// granting, workflow, locks and holds.
extension Policy {
    /// The node's access ACL: the stored one with the mode's classes, or the mode's three entries.
    func accessACL(of node: NodeRecord, in reader: CatalogReader) throws -> PosixACL {
        try storedAccessACL(of: node, in: reader) ?? PosixACL(mode: node.permissions)
    }

    /// The node's stored access ACL with the mode's classes; nil when the mode says it all.
    func storedAccessACL(of node: NodeRecord, in reader: CatalogReader) throws -> PosixACL? {
        try reader.xattr(PosixACL.accessName, of: node.inode).flatMap { try? PosixACL(xattr: $0) }?.applying(mode: node.permissions)
    }

    func defaultACL(of folder: NodeRecord, in reader: CatalogReader) throws -> PosixACL? {
        guard folder.kind == .directory, let bytes = try reader.xattr(PosixACL.defaultName, of: folder.inode) else { return nil }
        return try? PosixACL(xattr: bytes)
    }

    func markers(of inode: InodeNumber, in reader: CatalogReader) throws -> LevelMarkers {
        try reader.xattr(LevelMarkers.attributeName, of: inode).map(LevelMarkers.init(bytes:)) ?? LevelMarkers()
    }

    func store(_ markers: LevelMarkers, on inode: InodeNumber, in w: CatalogWriter) throws {
        if markers.isEmpty {
            try w.removeXattr(LevelMarkers.attributeName, from: inode)
        } else {
            try w.setXattr(LevelMarkers.attributeName, to: markers.bytes, on: inode)
        }
    }

    /// Makes `acl` the node's access ACL: the mode takes its classes, a list the mode can say is not stored.
    func store(accessACL acl: PosixACL, on node: inout NodeRecord, in w: CatalogWriter) throws {
        node.permissions = node.permissions & 0o7000 | acl.modeBits
        if acl.isMinimal {
            try w.removeXattr(PosixACL.accessName, from: node.inode)
        } else {
            try w.setXattr(PosixACL.accessName, to: acl.xattr, on: node.inode)
        }
    }

    /// The permissions a node created in `folder` gets: from the folder's default ACL (which it
    /// inherits, with the folder's inherited markers), or the requested mode less the umask.
    func inheritPermissions(into node: inout NodeRecord, from folder: NodeRecord, mode: UInt32, caller: Caller,
                            in w: CatalogWriter) throws {
        guard node.kind != .symlink else { return }
        guard let defaults = try defaultACL(of: folder, in: w.reader) else {
            node.permissions &= ~(caller.umask & 0o777)
            return
        }
        try store(accessACL: defaults.inherited(creationMode: mode), on: &node, in: w)
        let inherited = try markers(of: folder.inode, in: w.reader).inherited
        var markers = LevelMarkers()
        markers.access = inherited
        if node.kind == .directory {
            try w.setXattr(PosixACL.defaultName, to: defaults.xattr, on: node.inode)
            markers.inherited = inherited
        }
        try store(markers, on: node.inode, in: w)
    }

    /// The caller's DMS level on a node.
    func level(of caller: Caller, on node: NodeRecord, in reader: CatalogReader) throws -> AccessLevel {
        if caller.uid == 0 || caller.uid == node.uid { return .owner }
        let groups = caller.groups
        let acl = try accessACL(of: node, in: reader)
        func allows(_ bits: UInt32) -> Bool {
            acl.allows(bits, uid: caller.uid, groups: groups, owner: node.uid, ownerGroup: node.gid)
        }
        // As the kernel decides opens: edit needs one entry with read and write together.
        var level: AccessLevel = allows(6) ? .edit : allows(4) ? .view : .none
        for marker in try markers(of: node.inode, in: reader).access where marker.level > level {
            let applies = switch marker.principal {
            case .user(let id): id == caller.uid
            case .group(let id): groups.contains(id)
            case .everyone: false
            }
            // A marker raises the POSIX level it stands on: comment needs view, admin needs edit.
            if applies && level >= (marker.level == .comment ? .view : .edit) { level = marker.level }
        }
        return level
    }

    /// The caller's level on `inode` (`user.nexus.access`).
    func level(of caller: Caller, on inode: InodeNumber) throws -> AccessLevel {
        try namespace.read { reader in try self.level(of: caller, on: try reader.existingNode(inode), in: reader) }
    }

    /// EACCES unless the caller has at least `required` on the node.
    func require(_ required: AccessLevel, of caller: Caller, on node: NodeRecord, in reader: CatalogReader,
                 _ what: String, error: VFSError.Code = .permissionDenied) throws {
        let level = try level(of: caller, on: node, in: reader)
        guard level >= required else {
            throw VFSError(error, "\(what) needs the \(required.name) level; the caller has \(level.name)")
        }
    }

    // MARK: Granting

    /// Gives `principal` exactly `level` on the node (and, with `recursive`, on everything below a
    /// folder that the caller may manage too); `.none` revokes. Folders also pass the grant on to
    /// what is created in them. Needs admin on the node (EPERM otherwise); `owner` transfers
    /// ownership and needs the owner, on every node it reaches. Returns the nodes whose
    /// permissions changed.
    func grant(_ level: AccessLevel, to principal: Principal, on inode: InodeNumber, recursive: Bool,
                      caller: Caller) throws -> [InodeNumber] {
        try VersionsView.refuseVirtual(inode)
        if case .user(let id) = principal, id == PosixACL.undefinedID { throw VFSError(.invalid, "no such user id") }
        if case .group(let id) = principal, id == PosixACL.undefinedID { throw VFSError(.invalid, "no such group id") }
        let caller = caller.resolvingGroups()
        return try namespace.stage { w -> [InodeNumber] in
            let top = try w.reader.existingNode(inode)
            try self.require(.admin, of: caller, on: top, in: w.reader, "granting", error: .notPermitted)
            if level == .owner {
                guard case .user = principal else { throw VFSError(.invalid, "only a user can own a document") }
                try self.require(.owner, of: caller, on: top, in: w.reader, "transferring ownership", error: .notPermitted)
            }
            if principal == .everyone && level > .view {
                throw VFSError(.invalid, "public access is view or none")
            }
            var nodes: [NodeRecord] = []
            var pending = [top]
            while let node = pending.popLast() {
                nodes.append(node)
                guard recursive, node.kind == .directory else { continue }
                for entry in try w.reader.entries(in: node.inode) {
                    if let child = try w.reader.node(entry.inode) { pending.append(child) }
                }
            }
            // Giving access (or ownership) below the top needs the caller to manage each node, so
            // nobody reads or takes over others' private files this way: all or nothing. Taking
            // access away needs only the top.
            if level != .none {
                let needed: AccessLevel = level == .owner ? .owner : .admin
                let unmanaged = try nodes.filter { node in
                    try node.kind != .symlink && self.level(of: caller, on: node, in: w.reader) < needed
                }
                if let first = unmanaged.first {
                    let path = try w.reader.path(of: first.inode).map { "\($0)" } ?? "inode \(first.inode)"
                    throw VFSError(.notPermitted, "\(unmanaged.count) items inside, \(path) first, are not the caller's to manage")
                }
            }
            var changed: [InodeNumber] = []
            for node in nodes {
                if try self.apply(level, to: principal, on: node, in: w) { changed.append(node.inode) }
            }
            try self.audit("grant", caller: caller, node: top, after: "\(Self.describe(principal)) \(level.name)"
                           + (recursive ? " recursive, \(changed.count) changed" : ""), in: w)
            return changed
        }
    }

    /// One node's part of a grant; false when nothing changed.
    private func apply(_ level: AccessLevel, to principal: Principal, on original: NodeRecord, in w: CatalogWriter) throws -> Bool {
        guard original.kind != .symlink else { return false }
        var node = original
        let folder = node.kind == .directory
        let bits = level.permissions(forFolder: folder)
        let before = try permissionAttributes(of: node.inode, in: w.reader)
        switch principal {
        case .everyone:
            var acl = try accessACL(of: node, in: w.reader)
            acl = acl.applying(mode: acl.modeBits & ~0o7 | bits)
            try store(accessACL: acl, on: &node, in: w)
            if let defaults = try defaultACL(of: node, in: w.reader) {
                try w.setXattr(PosixACL.defaultName, to: defaults.applying(mode: defaults.modeBits & ~0o7 | bits).xattr, on: node.inode)
            }
        case .user(let uid) where level == .owner:
            node.uid = uid
            node.permissions &= ~0o6000
        case .user(let uid) where uid == node.uid:
            return false
        case .user, .group:
            let (tag, id): (PosixACL.Tag, UInt32) = switch principal {
            case .user(let uid): (.user, uid)
            case .group(let gid): (.group, gid)
            case .everyone: (.other, 0)
            }
            let acl = try accessACL(of: node, in: w.reader)
            var updated = acl.setting(tag, id: id, permissions: level == .none ? nil : bits)
            // A document nobody executes stays so: entries inherited from a folder's rwx defaults
            // must not become executable when the mask is recomputed.
            if !folder, node.permissions & 0o111 == 0, let mask = updated.entry(.mask) {
                updated = updated.withMask(mask.permissions & ~1)
            }
            try store(accessACL: updated, on: &node, in: w)
            var markers = try markers(of: node.inode, in: w.reader)
            markers.access = LevelMarkers.setting(markers.access, principal, to: level.marker)
            if folder {
                // A folder's first default ACL starts from its own owner, group and other entries, as setfacl -d does.
                let defaults = try defaultACL(of: node, in: w.reader) ?? acl.objectEntries
                let updated = defaults.setting(tag, id: id, permissions: level == .none ? nil : bits)
                try w.setXattr(PosixACL.defaultName, to: updated.xattr, on: node.inode)
                markers.inherited = LevelMarkers.setting(markers.inherited, principal, to: level.marker)
            }
            try store(markers, on: node.inode, in: w)
        }
        guard try node != original || permissionAttributes(of: node.inode, in: w.reader) != before else { return false }
        node.changeTime = .now
        try w.updateNode(node)
        return true
    }

    private func id(_ principal: Principal) -> UInt32 {
        switch principal {
        case .user(let id), .group(let id): id
        case .everyone: PosixACL.undefinedID
        }
    }

    /// The stored values that say who may do what on a node, to tell whether a grant changed any.
    private func permissionAttributes(of inode: InodeNumber, in reader: CatalogReader) throws -> [[UInt8]?] {
        try [PosixACL.accessName, PosixACL.defaultName, LevelMarkers.attributeName].map { try reader.xattr($0, of: inode) }
    }

    static func describe(_ principal: Principal) -> String {
        switch principal {
        case .user(let uid): "user:\(uid)"
        case .group(let gid): "group:\(gid)"
        case .everyone: "public"
        }
    }

    // MARK: Who has access

    /// Everyone with a level on the node, and why (`nexusfs access`).
    func accessReport(of inode: InodeNumber) throws -> [AccessGrant] {
        try namespace.read { reader in
            let node = try reader.existingNode(inode)
            let acl = try self.accessACL(of: node, in: reader)
            let markers = try self.markers(of: inode, in: reader)
            let mask = acl.entry(.mask)?.permissions ?? 7
            var grants = [AccessGrant(principal: .user(node.uid), level: .owner, reason: "owner")]
            func marked(_ principal: Principal, _ level: AccessLevel) -> AccessLevel {
                guard let marker = markers.access.first(where: { $0.principal == principal }),
                      level >= (marker.level == .comment ? .view : .edit) else { return level }
                return max(level, marker.level)
            }
            let groupLevel = marked(.group(node.gid), AccessLevel.from(permissions: (acl.entry(.groupObject)?.permissions ?? 0) & mask))
            if groupLevel > .none { grants.append(AccessGrant(principal: .group(node.gid), level: groupLevel, reason: "owning group")) }
            for entry in acl.entries where entry.tag == .user || entry.tag == .group {
                let principal: Principal = entry.tag == .user ? .user(entry.id) : .group(entry.id)
                let level = marked(principal, AccessLevel.from(permissions: entry.permissions & mask))
                let source = try self.inheritanceSource(of: principal, level: level, below: inode, in: reader)
                grants.append(AccessGrant(principal: principal, level: level,
                                          reason: source.map { "inherited from \($0)" } ?? "direct grant"))
            }
            if AccessLevel.from(permissions: acl.entry(.other)?.permissions ?? 0) > .none {
                grants.append(AccessGrant(principal: .everyone, level: .view, reason: "public"))
            }
            return grants
        }
    }

    /// The nearest folder above whose default ACL and markers pass the same level down, as a path.
    private func inheritanceSource(of principal: Principal, level: AccessLevel, below inode: InodeNumber,
                                   in reader: CatalogReader) throws -> String? {
        var current = inode
        for _ in 0..<4096 {
            guard let parent = try reader.firstName(of: current)?.parent, parent != current,
                  let folder = try reader.node(parent) else { return nil }
            if let defaults = try defaultACL(of: folder, in: reader),
               let entry = defaults.entries.first(where: { $0.tag == (principal == .user($0.id) ? .user : .group) && $0.id == id(principal) }) {
                var passed = AccessLevel.from(permissions: entry.permissions & (defaults.entry(.mask)?.permissions ?? 7))
                if let marker = try markers(of: parent, in: reader).inherited.first(where: { $0.principal == principal }) {
                    passed = max(passed, marker.level)
                }
                return passed == level ? try reader.path(of: parent).map { "\($0)" } ?? "/" : nil
            }
            current = parent
        }
        return nil
    }
}
