import FUSELowLevel
import Glibc
import NexusTypes
import VFS

extension NexusFileSystem {
    public func open(_ ctx: FUSERequestContext, ino: UInt64, flags: Int32) throws -> FUSEOpenOptions {
        try mappingErrors {
            // Every change goes through this mount, so the kernel's page cache stays valid across opens.
            FUSEOpenOptions(handle: try volume.open(InodeNumber(ino), flags: flags, caller: Self.caller(ctx)), keepCache: true)
        }
    }

    public func create(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], mode: UInt32,
                       flags: Int32) throws -> (FUSEEntry, FUSEOpenOptions) {
        try mappingErrors {
            let (attributes, handle) = try volume.create(name, in: InodeNumber(parent), mode: mode, flags: flags,
                                                         caller: Self.caller(ctx))
            return (Self.entry(attributes), FUSEOpenOptions(handle: handle, keepCache: true))
        }
    }

    public func read(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, offset: Int64, size: Int) throws -> [UInt8] {
        try mappingErrors { try volume.read(handle, at: offset, count: size) }
    }

    public func write(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, offset: Int64, data: UnsafeRawBufferPointer,
                      flags: Int32) throws -> Int {
        try mappingErrors { try volume.write(handle, at: offset, data: data, caller: Self.caller(ctx)) }
    }

    public func flush(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, lockOwner: UInt64) throws {
        try mappingErrors { try volume.flush(handle) }
    }

    public func release(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, flags: Int32) throws {
        try mappingErrors { try volume.release(handle) }
    }

    public func fsync(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, dataOnly: Bool) throws {
        try mappingErrors { try volume.fsync(handle) }
    }

    public func opendir(_ ctx: FUSERequestContext, ino: UInt64, flags: Int32) throws -> FUSEOpenOptions {
        try mappingErrors { FUSEOpenOptions(handle: try volume.openDirectory(InodeNumber(ino))) }
    }

    public func readdir(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, offset: Int64, plus: Bool,
                        add: (FUSEDirectoryEntry) -> Bool) throws {
        try mappingErrors {
            var index = offset
            for listed in try volume.listDirectory(handle, from: offset, caller: Self.caller(ctx)) {
                index += 1
                let isDots = listed.name == [0x2e] || listed.name == [0x2e, 0x2e]
                var entry = FUSEDirectoryEntry(name: listed.name, ino: listed.inode.rawValue, mode: listed.mode, nextOffset: index)
                // Past the first reply the listing is a snapshot: an entry whose name has moved on
                // since goes without attributes, which the kernel lists but does not cache.
                let linked = plus && (offset == 0 || isDots
                    || volume.stillNames(listed.name, in: InodeNumber(ino), inode: listed.inode))
                if linked {
                    guard let attributes = try? volume.attributes(of: listed.inode) else { continue }
                    entry.entry = Self.entry(attributes)
                }
                guard add(entry) else { return }
                // The kernel takes a reference to each entry readdirplus returns, but not to . and ..
                if linked && !isDots { volume.remember(listed.inode) }
            }
        }
    }

    public func releasedir(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64) throws {
        volume.releaseDirectory(handle)
    }

    public func fsyncdir(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, dataOnly: Bool) throws {
        try mappingErrors { try volume.commitNow() }
    }

    public func statfs(_ ctx: FUSERequestContext, ino: UInt64) throws -> FUSEStatfs {
        try mappingErrors {
            let s = try volume.statistics()
            return FUSEStatfs(blockSize: s.blockSize, fragmentSize: s.blockSize, blocks: s.blocks, blocksFree: s.blocksFree,
                              blocksAvailable: s.blocksAvailable, files: s.files, filesFree: s.filesFree,
                              filesAvailable: s.filesFree, nameMax: 255)
        }
    }

    public func fallocate(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, mode: Int32, offset: Int64, length: Int64) throws {
        try mappingErrors { try volume.allocate(handle, mode: mode, offset: offset, length: length, caller: Self.caller(ctx)) }
    }

    public func lseek(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, offset: Int64, whence: Int32) throws -> Int64 {
        try mappingErrors { try volume.seek(handle, offset: offset, whence: whence) }
    }

    // MARK: Extended attributes

    public func setxattr(_ ctx: FUSERequestContext, ino: UInt64, name: [UInt8], value: [UInt8], flags: Int32) throws {
        try mappingErrors { try volume.setXattr(name, to: value, flags: flags, on: InodeNumber(ino), caller: Self.caller(ctx)) }
    }

    public func getxattr(_ ctx: FUSERequestContext, ino: UInt64, name: [UInt8]) throws -> [UInt8] {
        try mappingErrors { try volume.xattr(name, of: InodeNumber(ino), caller: Self.caller(ctx)) }
    }

    public func listxattr(_ ctx: FUSERequestContext, ino: UInt64) throws -> [[UInt8]] {
        try mappingErrors { try volume.xattrNames(of: InodeNumber(ino)) }
    }

    public func removexattr(_ ctx: FUSERequestContext, ino: UInt64, name: [UInt8]) throws {
        try mappingErrors { try volume.removeXattr(name, from: InodeNumber(ino), caller: Self.caller(ctx)) }
    }
}
