import CatalogStore
import NexusTypes

extension Volume {
    static let maxXattrValue = 64 << 10
    static let xattrCreate: Int32 = 1
    static let xattrReplace: Int32 = 2

    /// Namespaces stored as they are; others (security.*, system.* ACLs for now) are not supported.
    static func isStored(_ name: [UInt8]) -> Bool {
        name.starts(with: Array("user.".utf8)) || name.starts(with: Array("trusted.".utf8))
    }

    private static func checkName(_ name: [UInt8]) throws {
        guard !name.isEmpty, name.count <= 255 else { throw VFSError(.rangeTooSmall, "xattr name too long") }
        guard isStored(name) else { throw VFSError(.notSupported) }
        // A namespace prefix alone names nothing.
        guard name != Array("user.".utf8), name != Array("trusted.".utf8) else { throw VFSError(.invalid) }
    }

    public func xattr(_ name: [UInt8], of inode: InodeNumber) throws -> [UInt8] {
        try Self.checkName(name)
        if VersionsView.isVirtual(inode) { throw VFSError(.noData) }
        guard let value = try read({ reader -> [UInt8]? in
            _ = try self.node(inode, in: reader)
            return try reader.xattr(name, of: inode)
        }) else { throw VFSError(.noData) }
        return value
    }

    public func xattrNames(of inode: InodeNumber) throws -> [[UInt8]] {
        if VersionsView.isVirtual(inode) { return [] }
        return try read { reader in
            _ = try self.node(inode, in: reader)
            return try reader.xattrs(of: inode).map(\.name)
        }
    }

    public func setXattr(_ name: [UInt8], to value: [UInt8], flags: Int32, on inode: InodeNumber, caller: Caller) throws {
        try Self.refuseVirtual(inode)
        try Self.checkName(name)
        guard value.count <= Self.maxXattrValue else { throw VFSError(.tooBig) }
        try stage { w in
            var node = try self.node(inode, in: w.reader)
            let exists = try w.reader.xattr(name, of: inode) != nil
            if flags & Self.xattrCreate != 0 && exists { throw VFSError(.exists) }
            if flags & Self.xattrReplace != 0 && !exists { throw VFSError(.noData) }
            try w.setXattr(name, to: value, on: inode)
            node.changeTime = .now
            try w.updateNode(node)
        }
    }

    public func removeXattr(_ name: [UInt8], from inode: InodeNumber, caller: Caller) throws {
        try Self.refuseVirtual(inode)
        try Self.checkName(name)
        try stage { w in
            var node = try self.node(inode, in: w.reader)
            guard try w.reader.xattr(name, of: inode) != nil else { throw VFSError(.noData) }
            try w.removeXattr(name, from: inode)
            node.changeTime = .now
            try w.updateNode(node)
        }
    }
}
