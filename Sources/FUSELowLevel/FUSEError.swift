internal import Glibc

/// An errno thrown by a filesystem operation; the binding sends it to the kernel as the reply.
///
/// Anything else a filesystem throws reaches the kernel as `EIO` and is logged to stderr.
public struct FUSEError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The positive errno value, as in `<errno.h>`.
    public let errno: Int32

    public init(_ errno: Int32) {
        self.errno = errno
    }

    public var description: String {
        guard let text = strerror(errno) else { return "errno \(errno)" }
        return "\(String(cString: text)) (errno \(errno))"
    }
}

// The names follow swift-system's Errno so that readers of either recognise them.
extension FUSEError {
    public static let notPermitted = FUSEError(EPERM)
    public static let noSuchFileOrDirectory = FUSEError(ENOENT)
    public static let ioError = FUSEError(EIO)
    public static let badFileDescriptor = FUSEError(EBADF)
    public static let permissionDenied = FUSEError(EACCES)
    public static let resourceBusy = FUSEError(EBUSY)
    public static let fileExists = FUSEError(EEXIST)
    public static let improperLink = FUSEError(EXDEV)
    public static let notDirectory = FUSEError(ENOTDIR)
    public static let isDirectory = FUSEError(EISDIR)
    public static let invalidArgument = FUSEError(EINVAL)
    public static let fileTooLarge = FUSEError(EFBIG)
    public static let noSpace = FUSEError(ENOSPC)
    public static let readOnlyFileSystem = FUSEError(EROFS)
    public static let tooManyLinks = FUSEError(EMLINK)
    public static let outOfRange = FUSEError(ERANGE)
    public static let fileNameTooLong = FUSEError(ENAMETOOLONG)
    public static let noFunction = FUSEError(ENOSYS)
    public static let directoryNotEmpty = FUSEError(ENOTEMPTY)
    public static let noData = FUSEError(ENODATA)
    public static let notSupported = FUSEError(EOPNOTSUPP)
    public static let argListTooLong = FUSEError(E2BIG)
    public static let tooManySymbolicLinkLevels = FUSEError(ELOOP)
    public static let stale = FUSEError(ESTALE)
}
