/// Who is asking: the credentials of the process behind one request.
///
/// The values are 0 when the caller lives in a PID or user namespace the filesystem cannot see.
public struct FUSERequestContext: Sendable {
    public let uid: UInt32
    public let gid: UInt32
    /// Thread id of the caller.
    public let pid: Int32
    /// The caller's umask; meaningful in `create`, `mkdir` and `mknod`.
    public let umask: UInt32
    /// The caller's supplementary groups, read from /proc on each call (so only when needed); nil if
    /// they cannot be read or the operation has already returned.
    public let supplementaryGroups: @Sendable () -> [UInt32]?

    public init(
        uid: UInt32, gid: UInt32, pid: Int32, umask: UInt32 = 0o022,
        supplementaryGroups: @escaping @Sendable () -> [UInt32]? = { nil }
    ) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.umask = umask
        self.supplementaryGroups = supplementaryGroups
    }
}
