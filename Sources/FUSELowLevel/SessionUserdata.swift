/// What the libfuse session's userdata points at. `FUSESession` holds one retained reference
/// (Unmanaged) from `fuse_session_new` until after `fuse_session_destroy`, so the filesystem
/// outlives every callback.
final class SessionUserdata: Sendable {
    let fileSystem: any FUSEFileSystem

    init(_ fileSystem: any FUSEFileSystem) {
        self.fileSystem = fileSystem
    }

    /// The userdata behind a pointer that libfuse hands back.
    static func from(_ pointer: UnsafeMutableRawPointer) -> SessionUserdata {
        Unmanaged<SessionUserdata>.fromOpaque(pointer).takeUnretainedValue()
    }
}
