import FUSELowLevel
import Glibc
import NexusTypes
import VFS

/// The nexusfs filesystem as libfuse sees it.
public final class NexusFileSystem: FUSEFileSystem {
    /// How long the kernel may cache attributes, names and absent names. Every change goes
    /// through this mount: the kernel updates its caches for the changes it makes, and the
    /// volume invalidates what it changes itself (a grant, an adopted owner). A save keeps the
    /// times getattr reported for the unsaved content; only st_blocks may then be stale.
    static let timeout = 30.0

    let volume: Volume

    public init(volume: Volume) {
        self.volume = volume
    }

    public func initialize(_ connection: inout FUSEConnection) {
        connection.maxWrite = 1 << 20
        // Read-ahead of 1 MiB: sequential reads arrive as large requests whose chunks decode in parallel.
        connection.maxReadahead = 1 << 20
        // O_TRUNC and touch must arrive as setattr, not as an open flag or a write.
        connection.dropCapability(.atomicOTrunc)
        // The kernel clears setuid/setgid bits on write and chown itself.
        connection.dropCapability(.handleKillpriv)
        // No writeback cache: every write reaches the volume, which keeps O_APPEND and sizes exact.
        connection.dropCapability(.writebackCache)
        // The kernel checks ACLs (cached, dropped when the volume says so); the volume keeps them
        // and applies the umask or the folder's default ACL to what is created.
        _ = connection.wantCapability(.posixACL)
        _ = connection.wantCapability(.dontMask)
        _ = connection.wantCapability(.parallelDirops)
        _ = connection.wantCapability(.cacheSymlinks)
    }

    public func destroy() {}

    static func caller(_ ctx: FUSERequestContext) -> Caller {
        Caller(uid: ctx.uid, gid: ctx.gid, pid: ctx.pid, umask: ctx.umask, supplementaryGroups: ctx.supplementaryGroups)
    }

    static func time(_ t: FileTime) -> FUSETimespec {
        FUSETimespec(seconds: t.seconds, nanoseconds: t.nanoseconds)
    }

    static func attributes(_ a: Attributes) -> FUSEAttributes {
        FUSEAttributes(ino: a.inode.rawValue, mode: a.mode, nlink: a.linkCount, uid: a.uid, gid: a.gid, rdev: a.rdev,
                       size: a.size, blocks: a.blocks, blockSize: 4096, atime: time(a.accessTime),
                       mtime: time(a.modificationTime), ctime: time(a.changeTime))
    }

    /// The `.versions` view takes its permissions from the current document: the kernel must
    /// ask again each time rather than cache what it was.
    static func timeout(for inode: InodeNumber) -> Double {
        Volume.isVersionsView(inode) ? 0 : timeout
    }

    static func entry(_ a: Attributes) -> FUSEEntry {
        FUSEEntry(ino: a.inode.rawValue, attributes: attributes(a), attributeTimeout: timeout(for: a.inode),
                  entryTimeout: timeout(for: a.inode))
    }

    // MARK: Names

    public func lookup(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8]) throws -> FUSEEntry {
        do {
            return Self.entry(try volume.lookup(name, in: InodeNumber(parent), caller: Self.caller(ctx)))
        } catch let error as VFSError where error.code == .notFound && !Volume.isVersionsView(InodeNumber(parent)) {
            // The kernel remembers the absence, so a create, a stat of a missing name or a
            // path search (PATH, include paths) asks once.
            return .negative(timeout: Self.timeout)
        } catch let error as VFSError {
            throw FUSEError(error.code.errno)
        }
    }

    public func forget(_ ino: UInt64, lookups: UInt64) {
        volume.forget(InodeNumber(ino), count: lookups)
    }

    public func getattr(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64?) throws -> (FUSEAttributes, timeout: Double) {
        try mappingErrors { (Self.attributes(try volume.attributes(of: InodeNumber(ino))), Self.timeout(for: InodeNumber(ino))) }
    }

    public func setattr(_ ctx: FUSERequestContext, ino: UInt64, _ changes: FUSESetAttributes) throws -> (FUSEAttributes, timeout: Double) {
        func time(_ change: FUSETimeChange?) -> AttributeChanges.Time? {
            switch change {
            case nil: nil
            case .now: .now
            case .time(let t): .at(FileTime(seconds: t.seconds, nanoseconds: t.nanoseconds))
            }
        }
        let request = AttributeChanges(mode: changes.mode, uid: changes.uid, gid: changes.gid, size: changes.size,
                                       accessTime: time(changes.atime), modificationTime: time(changes.mtime))
        return try mappingErrors {
            (Self.attributes(try volume.setAttributes(InodeNumber(ino), request, handle: changes.handle, caller: Self.caller(ctx))),
             Self.timeout)
        }
    }

    public func readlink(_ ctx: FUSERequestContext, ino: UInt64) throws -> [UInt8] {
        try mappingErrors { try volume.readSymlink(InodeNumber(ino)) }
    }

    public func mknod(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], mode: UInt32, rdev: UInt64) throws -> FUSEEntry {
        try mappingErrors {
            Self.entry(try volume.makeSpecial(name, in: InodeNumber(parent), mode: mode, rdev: rdev, caller: Self.caller(ctx)))
        }
    }

    public func mkdir(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], mode: UInt32) throws -> FUSEEntry {
        try mappingErrors {
            Self.entry(try volume.makeDirectory(name, in: InodeNumber(parent), mode: mode, caller: Self.caller(ctx)))
        }
    }

    public func unlink(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8]) throws {
        try mappingErrors { try volume.unlink(name, in: InodeNumber(parent), caller: Self.caller(ctx)) }
    }

    public func rmdir(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8]) throws {
        try mappingErrors { try volume.removeDirectory(name, in: InodeNumber(parent), caller: Self.caller(ctx)) }
    }

    public func symlink(_ ctx: FUSERequestContext, target: [UInt8], parent: UInt64, name: [UInt8]) throws -> FUSEEntry {
        try mappingErrors {
            Self.entry(try volume.makeSymlink(name, in: InodeNumber(parent), target: target, caller: Self.caller(ctx)))
        }
    }

    public func rename(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], newParent: UInt64, newName: [UInt8],
                       flags: UInt32) throws {
        try mappingErrors {
            try volume.rename(name, in: InodeNumber(parent), to: newName, in: InodeNumber(newParent),
                              flags: RenameFlags(rawValue: flags), caller: Self.caller(ctx))
        }
    }

    public func link(_ ctx: FUSERequestContext, ino: UInt64, newParent: UInt64, newName: [UInt8]) throws -> FUSEEntry {
        try mappingErrors {
            Self.entry(try volume.link(InodeNumber(ino), as: newName, in: InodeNumber(newParent), caller: Self.caller(ctx)))
        }
    }
}
