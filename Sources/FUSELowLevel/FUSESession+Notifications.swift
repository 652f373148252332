internal import CFUSE
internal import Glibc

/// Telling the kernel that cached data or names changed behind its back. Must not be called from
/// inside an operation on the same inode or directory: the kernel may wait for that operation.
extension FUSESession {
    /// Drops the kernel's cached attributes of `ino` and its cached data from `offset` for `length`
    /// bytes (0 = to the end; a negative offset drops only the attributes). Unknown inodes are ignored.
    public func invalidateInode(_ ino: UInt64, offset: Int64 = 0, length: Int64 = 0) {
        notify("invalidate inode \(ino)") {
            fuse_lowlevel_notify_inval_inode(session, ino, off_t(offset), off_t(length))
        }
    }

    /// Drops the kernel's cached entry (or cached absence) of `name` in directory `parent`.
    public func invalidateEntry(parent: UInt64, name: [UInt8]) {
        notify("invalidate entry \(name) in \(parent)") {
            Trampoline.withCString(name) { fuse_lowlevel_notify_inval_entry(session, parent, $0, name.count) }
        }
    }

    /// Sends a notification while mounted; ENOENT (nothing cached) is expected, other errors are logged.
    private func notify(_ what: @autoclosure () -> String, _ send: () -> Int32) {
        let result = state.withLock { state -> Int32 in
            guard state.mounted else { return 0 }
            return send()
        }
        if result < 0 && result != -ENOENT {
            Diagnostics.log("cannot \(what()) on \(mountpoint): \(FUSEError(-result))")
        }
    }
}
