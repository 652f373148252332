/// Defaults: operations a filesystem does not implement answer ENOSYS, which the kernel remembers
/// for most of them (open, opendir, flush, access, create, xattrs, fallocate, lseek) and then stops
/// sending or handles itself.
extension FUSEFileSystem {
    public func initialize(_ connection: inout FUSEConnection) {}
    public func destroy() {}
    public func forget(_ ino: UInt64, lookups: UInt64) {}

    public func setattr(_ ctx: FUSERequestContext, ino: UInt64, _ changes: FUSESetAttributes) throws
        -> (FUSEAttributes, timeout: Double)
    {
        throw FUSEError.noFunction
    }

    public func readlink(_ ctx: FUSERequestContext, ino: UInt64) throws -> [UInt8] {
        throw FUSEError.noFunction
    }

    public func mknod(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], mode: UInt32, rdev: UInt64) throws
        -> FUSEEntry
    {
        throw FUSEError.noFunction
    }

    public func mkdir(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], mode: UInt32) throws -> FUSEEntry {
        throw FUSEError.noFunction
    }

    public func unlink(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8]) throws {
        throw FUSEError.noFunction
    }

    public func rmdir(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8]) throws {
        throw FUSEError.noFunction
    }

    public func symlink(_ ctx: FUSERequestContext, target: [UInt8], parent: UInt64, name: [UInt8]) throws
        -> FUSEEntry
    {
        throw FUSEError.noFunction
    }

    public func rename(
        _ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], newParent: UInt64, newName: [UInt8],
        flags: UInt32
    ) throws {
        throw FUSEError.noFunction
    }

    public func link(_ ctx: FUSERequestContext, ino: UInt64, newParent: UInt64, newName: [UInt8]) throws
        -> FUSEEntry
    {
        throw FUSEError.noFunction
    }

    public func open(_ ctx: FUSERequestContext, ino: UInt64, flags: Int32) throws -> FUSEOpenOptions {
        throw FUSEError.noFunction
    }

    public func read(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, offset: Int64, size: Int) throws
        -> [UInt8]
    {
        throw FUSEError.noFunction
    }

    public func write(
        _ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, offset: Int64, data: UnsafeRawBufferPointer,
        flags: Int32
    ) throws -> Int {
        throw FUSEError.noFunction
    }

    public func flush(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, lockOwner: UInt64) throws {
        throw FUSEError.noFunction
    }

    public func release(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, flags: Int32) throws {
        throw FUSEError.noFunction
    }

    public func fsync(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, dataOnly: Bool) throws {
        throw FUSEError.noFunction
    }

    public func opendir(_ ctx: FUSERequestContext, ino: UInt64, flags: Int32) throws -> FUSEOpenOptions {
        throw FUSEError.noFunction
    }

    public func readdir(
        _ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, offset: Int64, plus: Bool,
        add: (FUSEDirectoryEntry) -> Bool
    ) throws {
        throw FUSEError.noFunction
    }

    public func releasedir(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64) throws {
        throw FUSEError.noFunction
    }

    public func fsyncdir(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, dataOnly: Bool) throws {
        throw FUSEError.noFunction
    }

    /// What libfuse itself answers for a filesystem without statfs: 512-byte blocks, 255-byte names
    /// and nothing else, so that `df` works. (The kernel does not remember ENOSYS for statfs.)
    public func statfs(_ ctx: FUSERequestContext, ino: UInt64) throws -> FUSEStatfs {
        FUSEStatfs(blockSize: 512, nameMax: 255)
    }

    public func setxattr(_ ctx: FUSERequestContext, ino: UInt64, name: [UInt8], value: [UInt8], flags: Int32) throws {
        throw FUSEError.noFunction
    }

    public func getxattr(_ ctx: FUSERequestContext, ino: UInt64, name: [UInt8]) throws -> [UInt8] {
        throw FUSEError.noFunction
    }

    public func listxattr(_ ctx: FUSERequestContext, ino: UInt64) throws -> [[UInt8]] {
        throw FUSEError.noFunction
    }

    public func removexattr(_ ctx: FUSERequestContext, ino: UInt64, name: [UInt8]) throws {
        throw FUSEError.noFunction
    }

    public func access(_ ctx: FUSERequestContext, ino: UInt64, mask: Int32) throws {
        throw FUSEError.noFunction
    }

    public func create(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], mode: UInt32, flags: Int32) throws
        -> (FUSEEntry, FUSEOpenOptions)
    {
        throw FUSEError.noFunction
    }

    public func fallocate(
        _ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, mode: Int32, offset: Int64, length: Int64
    ) throws {
        throw FUSEError.noFunction
    }

    public func lseek(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, offset: Int64, whence: Int32) throws
        -> Int64
    {
        throw FUSEError.noFunction
    }
}
