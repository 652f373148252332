internal import CFUSE
internal import Glibc
import Synchronization

/// A filesystem mounted through libfuse's low-level API: `init` mounts, `run` serves requests on
/// worker threads (see `RequestLoop`) until the filesystem is unmounted or `exit` is called.
///
/// All methods may be called from any thread, but not from inside a filesystem operation of this
/// session. Dropping the session unmounts it (if still mounted), destroys libfuse's session (which
/// calls `FUSEFileSystem.destroy`) and releases the filesystem.
public final class FUSESession: Sendable {
    /// The mountpoint as given.
    public let mountpoint: String
    /// The mountpoint as an absolute path without symlinks, for use from other threads.
    let canonicalMountpoint: String
    /// libfuse's `struct fuse_session *`; its mutating calls are serialised by `state`.
    nonisolated(unsafe) let session: OpaquePointer
    /// The userdata libfuse hands to every callback; released in deinit, after fuse_session_destroy.
    private let userdata: Unmanaged<SessionUserdata>
    /// Mounted/running flags; held while calling libfuse functions that use the device fd.
    let state = Mutex(State())

    struct State {
        var mounted = true
        var running = false
        /// `unmount` came while `run` was active: `run` unmounts when its loop has ended.
        var unmountRequested = false
    }

    /// Creates a libfuse session for `fileSystem` and mounts it at `mountpoint`.
    ///
    /// - Parameters:
    ///   - options: mount options as for `-o`, one per element: "fsname=nexusfs", "subtype=nexusfs",
    ///     "allow_other", "default_permissions", "ro", ... (commas inside an option are escaped).
    ///   - debug: libfuse logs every request to stderr.
    /// - Throws: `FUSESessionError`.
    public init(fileSystem: some FUSEFileSystem, mountpoint: String, options: [String] = [], debug: Bool = false) throws {
        try Self.checkMountpoint(mountpoint)
        guard let resolved = realpath(mountpoint, nil) else {
            throw FUSESessionError(.mountFailed, "cannot resolve mountpoint \(mountpoint)", errno: Glibc.errno)
        }
        let canonicalMountpoint = String(cString: resolved)
        free(resolved)
        let userdata = Unmanaged.passRetained(SessionUserdata(fileSystem))
        var args = fuse_args(argc: 0, argv: nil, allocated: 0)
        defer { fuse_opt_free_args(&args) }
        var arguments = ["FUSELowLevel"]
        if !options.isEmpty { arguments += ["-o", options.map(Self.escape).joined(separator: ",")] }
        if debug { arguments.append("-d") }
        for argument in arguments {
            guard fuse_opt_add_arg(&args, argument) == 0 else {
                userdata.release()
                throw FUSESessionError(.invalidOptions, "cannot allocate the arguments for \(mountpoint)", errno: ENOMEM)
            }
        }
        var ops = Trampoline.operations()
        guard let session = fuse_session_new(&args, &ops, MemoryLayout<fuse_lowlevel_ops>.size, userdata.toOpaque())
        else {
            userdata.release()
            throw FUSESessionError(.invalidOptions, "libfuse rejected the options \(options) for \(mountpoint)")
        }
        Glibc.errno = 0
        guard fuse_session_mount(session, mountpoint) == 0 else {
            let cause = Glibc.errno
            fuse_session_destroy(session)
            userdata.release()
            throw FUSESessionError(.mountFailed, "cannot mount a FUSE filesystem at \(mountpoint)",
                                   errno: cause == 0 ? nil : cause)
        }
        self.mountpoint = mountpoint
        self.canonicalMountpoint = canonicalMountpoint
        self.session = session
        self.userdata = userdata
    }

    deinit {
        unmount()
        fuse_session_destroy(session)
        userdata.release()
    }

    /// The /dev/fuse file descriptor, -1 once unmounted.
    public var fd: Int32 {
        state.withLock { _ in fuse_session_fd(session) }
    }

    /// Whether the filesystem is still mounted by this session (an unmount from outside is seen only
    /// after `run` has returned and `unmount` has been called).
    public var isMounted: Bool {
        state.withLock { $0.mounted }
    }

    /// Unmounts the filesystem; does nothing if already unmounted. While `run` is active this stops
    /// its loop and `run` unmounts before it returns.
    public func unmount() {
        let stopLoop = state.withLock { state -> Bool in
            guard state.mounted else { return false }
            if state.running {
                state.unmountRequested = true
                return true
            }
            state.mounted = false
            fuse_session_unmount(session)
            return false
        }
        if stopLoop { exit() }
    }

    /// Fails with a clear error for a mountpoint that is missing, no directory or not accessible.
    private static func checkMountpoint(_ mountpoint: String) throws {
        var st = stat()
        guard stat(mountpoint, &st) == 0 else {
            let cause = Glibc.errno
            switch cause {
            case ENOENT:
                throw FUSESessionError(.mountpointMissing, "mountpoint \(mountpoint) does not exist", errno: cause)
            case ENOTDIR:
                throw FUSESessionError(.notADirectory, "a parent of mountpoint \(mountpoint) is not a directory",
                                       errno: cause)
            case EACCES, EPERM:
                throw FUSESessionError(.permissionDenied, "no permission to reach mountpoint \(mountpoint)",
                                       errno: cause)
            default:
                throw FUSESessionError(.mountFailed, "cannot inspect mountpoint \(mountpoint)", errno: cause)
            }
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw FUSESessionError(.notADirectory, "mountpoint \(mountpoint) is not a directory", errno: ENOTDIR)
        }
        guard getuid() == 0 || Glibc.access(mountpoint, W_OK) == 0 else {
            throw FUSESessionError(.permissionDenied, "no write permission on mountpoint \(mountpoint)",
                                   errno: Glibc.errno)
        }
    }

    /// An option escaped for libfuse's comma-separated -o list.
    private static func escape(_ option: String) -> String {
        var escaped = ""
        for character in option {
            if character == "\\" || character == "," { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
