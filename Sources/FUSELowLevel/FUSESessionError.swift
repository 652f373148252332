internal import Glibc

/// Why a session could not be set up or run.
public struct FUSESessionError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        case mountpointMissing
        case notADirectory
        case permissionDenied
        /// libfuse rejected the options (see its message on stderr).
        case invalidOptions
        case mountFailed
        /// `run` on a session that has been unmounted.
        case notMounted
        /// `run` while another `run` of the same session is active.
        case alreadyRunning
        /// The loop could not start or ended with an error other than an unmount.
        case loopFailed
    }

    public let code: Code
    /// What happened, naming the mountpoint.
    public let message: String
    /// The underlying errno, when there is one.
    public let errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    public var description: String {
        guard let errno, errno > 0, let text = strerror(errno) else { return message }
        return "\(message): \(String(cString: text))"
    }
}
