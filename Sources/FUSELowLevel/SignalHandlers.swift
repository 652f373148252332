internal import CFUSE
import Synchronization

/// libfuse's SIGINT/SIGTERM/SIGHUP handlers end one global session's loop, so at most one running
/// session per process owns them; the others run without signal handling.
enum SignalHandlers {
    /// The address of the owning `fuse_session`, if any.
    private static let owner = Mutex<UInt?>(nil)

    /// Installs the handlers for `session` unless another session owns them; returns whether it did.
    static func claim(for session: OpaquePointer) -> Bool {
        owner.withLock { owner in
            guard owner == nil, fuse_set_signal_handlers(session) == 0 else { return false }
            owner = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(session)))
            return true
        }
    }

    /// Restores the previous handlers; only after a successful `claim` for the same session.
    static func release(for session: OpaquePointer) {
        owner.withLock { owner in
            fuse_remove_signal_handlers(session)
            owner = nil
        }
    }
}
