internal import CFUSE

/// Optional features of the FUSE connection (libfuse's `FUSE_CAP_*`), offered by the kernel in
/// `FUSEConnection.capable` and requested in `FUSEConnection.want`.
///
/// 64 bits wide for the extended flags of later libfuse versions; libfuse 3.14 uses the low 32.
/// `posixLocks` and `flockLocks` are listed for completeness only: this binding leaves the lock
/// operations to the kernel, so asking for them would make locking calls fail with ENOSYS.
public struct FUSECapabilities: OptionSet, Hashable, Sendable {
    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    init(_ flag: Int32) {
        self.rawValue = UInt64(UInt32(bitPattern: flag))
    }

    /// Reads may be issued in parallel and ahead of time.
    public static let asyncRead = FUSECapabilities(FUSE_CAP_ASYNC_READ)
    /// POSIX (fcntl) locks are sent to the filesystem.
    public static let posixLocks = FUSECapabilities(FUSE_CAP_POSIX_LOCKS)
    /// `open` handles O_TRUNC itself instead of a separate `setattr`.
    public static let atomicOTrunc = FUSECapabilities(FUSE_CAP_ATOMIC_O_TRUNC)
    /// The filesystem answers lookups of "." and ".." (needed for NFS export).
    public static let exportSupport = FUSECapabilities(FUSE_CAP_EXPORT_SUPPORT)
    /// The kernel does not apply the umask to the mode of created files; the filesystem does.
    public static let dontMask = FUSECapabilities(FUSE_CAP_DONT_MASK)
    public static let spliceWrite = FUSECapabilities(FUSE_CAP_SPLICE_WRITE)
    public static let spliceMove = FUSECapabilities(FUSE_CAP_SPLICE_MOVE)
    public static let spliceRead = FUSECapabilities(FUSE_CAP_SPLICE_READ)
    /// BSD (flock) locks are sent to the filesystem.
    public static let flockLocks = FUSECapabilities(FUSE_CAP_FLOCK_LOCKS)
    /// ioctl on directories.
    public static let ioctlDir = FUSECapabilities(FUSE_CAP_IOCTL_DIR)
    /// Drop cached data when `getattr` reports a changed mtime or size.
    public static let autoInvalData = FUSECapabilities(FUSE_CAP_AUTO_INVAL_DATA)
    /// readdir may return attributes and entries (`readdir(plus: true)`).
    public static let readdirplus = FUSECapabilities(FUSE_CAP_READDIRPLUS)
    /// The kernel chooses between readdir and readdirplus per listing.
    public static let readdirplusAuto = FUSECapabilities(FUSE_CAP_READDIRPLUS_AUTO)
    public static let asyncDIO = FUSECapabilities(FUSE_CAP_ASYNC_DIO)
    /// Writes are buffered in the page cache and written back later.
    public static let writebackCache = FUSECapabilities(FUSE_CAP_WRITEBACK_CACHE)
    /// An `open` answered with ENOSYS means "no open needed" for every later open.
    public static let noOpenSupport = FUSECapabilities(FUSE_CAP_NO_OPEN_SUPPORT)
    /// Lookups and readdir in one directory may run in parallel.
    public static let parallelDirops = FUSECapabilities(FUSE_CAP_PARALLEL_DIROPS)
    /// The kernel enforces POSIX ACLs stored in xattrs.
    public static let posixACL = FUSECapabilities(FUSE_CAP_POSIX_ACL)
    /// The filesystem clears setuid/setgid and security.capability on write, chown and truncate.
    public static let handleKillpriv = FUSECapabilities(FUSE_CAP_HANDLE_KILLPRIV)
    /// Symlink targets are cached in the page cache.
    public static let cacheSymlinks = FUSECapabilities(FUSE_CAP_CACHE_SYMLINKS)
    /// An `opendir` answered with ENOSYS means "no opendir needed" for every later opendir.
    public static let noOpendirSupport = FUSECapabilities(FUSE_CAP_NO_OPENDIR_SUPPORT)
    /// Cached data is dropped only on `invalidateInode`, never on mtime or size changes.
    public static let explicitInvalData = FUSECapabilities(FUSE_CAP_EXPLICIT_INVAL_DATA)
    /// The kernel can expire entries without dropping them (fuse_lowlevel_notify_expire_entry).
    public static let expireOnly = FUSECapabilities(FUSE_CAP_EXPIRE_ONLY)
}
