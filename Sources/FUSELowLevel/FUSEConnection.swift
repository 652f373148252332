/// The connection parameters that `FUSEFileSystem.initialize` may read and adjust.
///
/// The binding proposes `maxWrite` = 1 MiB (libfuse's largest buffer) before `initialize` runs.
/// Wanted capabilities the kernel does not offer are dropped (and logged) afterwards, since libfuse
/// would otherwise abort the mount.
public struct FUSEConnection: Hashable, Sendable {
    public let protocolMajor: UInt32
    public let protocolMinor: UInt32
    /// Largest write request in bytes; libfuse caps it at 1 MiB.
    public var maxWrite: UInt32
    /// Largest read request in bytes, 0 for the kernel's limit (which follows `maxWrite`). Set only
    /// through the `max_read=N` mount option: libfuse refuses a value here that differs from it.
    public let maxRead: UInt32
    public var maxReadahead: UInt32
    /// Most requests the kernel keeps in flight in the background (readahead, writeback).
    public var maxBackground: UInt32
    /// Background requests at which the kernel considers the filesystem congested.
    public var congestionThreshold: UInt32
    /// Granularity of timestamps in nanoseconds: a power of 10 from 1 to 1_000_000_000.
    public var timeGranularity: UInt32
    /// What the kernel and libfuse offer.
    public let capable: FUSECapabilities
    /// What this filesystem asks for. Starts as libfuse's defaults, on 3.14: asyncRead, atomicOTrunc
    /// (so `open` sees O_TRUNC), ioctlDir, autoInvalData, readdirplus, readdirplusAuto, asyncDIO,
    /// parallelDirops and handleKillpriv (so the filesystem, not the kernel, must clear setuid and
    /// setgid bits on write, truncate and chown; drop it unless the filesystem does).
    public var want: FUSECapabilities

    public init(
        protocolMajor: UInt32 = 7, protocolMinor: UInt32 = 31, maxWrite: UInt32 = 1 << 20, maxRead: UInt32 = 0,
        maxReadahead: UInt32 = 128 << 10, maxBackground: UInt32 = 12, congestionThreshold: UInt32 = 9,
        timeGranularity: UInt32 = 1, capable: FUSECapabilities = [], want: FUSECapabilities = []
    ) {
        self.protocolMajor = protocolMajor
        self.protocolMinor = protocolMinor
        self.maxWrite = maxWrite
        self.maxRead = maxRead
        self.maxReadahead = maxReadahead
        self.maxBackground = maxBackground
        self.congestionThreshold = congestionThreshold
        self.timeGranularity = timeGranularity
        self.capable = capable
        self.want = want
    }

    /// Whether the kernel offers every capability in `capability`.
    public func isCapable(of capability: FUSECapabilities) -> Bool {
        capable.isSuperset(of: capability)
    }

    /// Asks for `capability` if the kernel offers it; returns whether it is now wanted.
    @discardableResult
    public mutating func wantCapability(_ capability: FUSECapabilities) -> Bool {
        guard isCapable(of: capability) else { return false }
        want.formUnion(capability)
        return true
    }

    /// Stops asking for `capability`.
    public mutating func dropCapability(_ capability: FUSECapabilities) {
        want.subtract(capability)
    }
}
