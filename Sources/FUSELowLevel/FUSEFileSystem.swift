// FUSELowLevel: a generic Swift binding of libfuse3's low-level, inode-based API.

/// A filesystem served through FUSE: one method per low-level operation, each returning its
/// answer or throwing a `FUSEError` (any other error is answered with EIO and logged).
///
/// Concurrency: libfuse's multi-threaded loop calls these methods synchronously on its worker
/// threads, several at a time, so an implementation keeps its state behind locks.
/// Names are bytes, as POSIX has them: not necessarily UTF-8.
/// Inode 1 is the root. Every successful `lookup` (but a negative one), `mknod`, `mkdir`, `symlink`,
/// `link`, `create` and every readdirplus entry with an `entry` counts one lookup of its inode, which
/// the kernel later gives back through `forget`.
///
/// File locks (flock, fcntl) are not part of the protocol: the kernel handles them locally.
/// Every method but `lookup` and `getattr` has a default (see `FUSEFileSystem+Defaults.swift`).
public protocol FUSEFileSystem: AnyObject, Sendable {
    /// Called once when the kernel connects, before any other operation.
    func initialize(_ connection: inout FUSEConnection)
    /// Called once when the session is destroyed (after unmounting), if `initialize` was called.
    func destroy()

    /// Finds `name` in directory `parent`; a negative entry (ino 0) lets the kernel cache the absence.
    func lookup(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8]) throws -> FUSEEntry
    /// The kernel drops `lookups` of its references to `ino`; no reply is possible.
    func forget(_ ino: UInt64, lookups: UInt64)
    /// `handle` is the open file's handle when the request came through one (fstat).
    func getattr(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64?) throws -> (FUSEAttributes, timeout: Double)
    func setattr(_ ctx: FUSERequestContext, ino: UInt64, _ changes: FUSESetAttributes) throws
        -> (FUSEAttributes, timeout: Double)
    /// The target of a symlink; must not contain NUL.
    func readlink(_ ctx: FUSERequestContext, ino: UInt64) throws -> [UInt8]
    func mknod(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], mode: UInt32, rdev: UInt64) throws
        -> FUSEEntry
    func mkdir(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], mode: UInt32) throws -> FUSEEntry
    func unlink(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8]) throws
    func rmdir(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8]) throws
    func symlink(_ ctx: FUSERequestContext, target: [UInt8], parent: UInt64, name: [UInt8]) throws -> FUSEEntry
    /// `flags` are renameat2's `RENAME_NOREPLACE` and `RENAME_EXCHANGE`.
    func rename(
        _ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], newParent: UInt64, newName: [UInt8],
        flags: UInt32) throws
    func link(_ ctx: FUSERequestContext, ino: UInt64, newParent: UInt64, newName: [UInt8]) throws -> FUSEEntry

    /// `flags` are the open(2) flags (O_CREAT, O_EXCL and O_NOCTTY already handled by the kernel);
    /// while `.atomicOTrunc` is wanted (libfuse's default) O_TRUNC must be applied here.
    func open(_ ctx: FUSERequestContext, ino: UInt64, flags: Int32) throws -> FUSEOpenOptions
    /// At most `size` bytes; fewer only at end of file (or always with `directIO`).
    func read(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, offset: Int64, size: Int) throws -> [UInt8]
    /// Returns the number of bytes written; `data` is valid only during the call.
    func write(
        _ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, offset: Int64, data: UnsafeRawBufferPointer,
        flags: Int32) throws -> Int
    /// Called on each close(2) of a descriptor for the handle.
    func flush(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, lockOwner: UInt64) throws
    /// The last reference to the handle is gone; errors are not reported to anyone.
    func release(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, flags: Int32) throws
    func fsync(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, dataOnly: Bool) throws

    func opendir(_ ctx: FUSERequestContext, ino: UInt64, flags: Int32) throws -> FUSEOpenOptions
    /// Calls `add` for entries from `offset` on; `add` returns false when the reply buffer is full
    /// (that entry was not added, and counts no lookup). With `plus`, entries carry a `FUSEEntry`.
    func readdir(
        _ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, offset: Int64, plus: Bool,
        add: (FUSEDirectoryEntry) -> Bool) throws
    func releasedir(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64) throws
    func fsyncdir(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, dataOnly: Bool) throws
    func statfs(_ ctx: FUSERequestContext, ino: UInt64) throws -> FUSEStatfs

    /// `flags` are `XATTR_CREATE` and `XATTR_REPLACE`.
    func setxattr(_ ctx: FUSERequestContext, ino: UInt64, name: [UInt8], value: [UInt8], flags: Int32) throws
    /// The whole value; the binding answers size queries and too-small buffers (ERANGE) itself.
    /// Throw `.noData` for a missing name.
    func getxattr(_ ctx: FUSERequestContext, ino: UInt64, name: [UInt8]) throws -> [UInt8]
    /// All names; the binding joins them with NULs and answers size queries and ERANGE itself.
    func listxattr(_ ctx: FUSERequestContext, ino: UInt64) throws -> [[UInt8]]
    func removexattr(_ ctx: FUSERequestContext, ino: UInt64, name: [UInt8]) throws
    /// `mask` is access(2)'s R_OK, W_OK, X_OK or F_OK; not called with the default_permissions option.
    func access(_ ctx: FUSERequestContext, ino: UInt64, mask: Int32) throws
    /// Creates and opens a regular file in one step.
    func create(_ ctx: FUSERequestContext, parent: UInt64, name: [UInt8], mode: UInt32, flags: Int32) throws
        -> (FUSEEntry, FUSEOpenOptions)
    /// `mode` is fallocate(2)'s (FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, ...).
    func fallocate(
        _ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, mode: Int32, offset: Int64, length: Int64) throws
    /// For SEEK_DATA and SEEK_HOLE; returns the resulting offset.
    func lseek(_ ctx: FUSERequestContext, ino: UInt64, handle: UInt64, offset: Int64, whence: Int32) throws -> Int64
}
