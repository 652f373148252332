/// Serves a Volume through the generic FUSE binding: FUSE operations become VFS calls,
/// VFS errors become errnos (in this one file).
import FUSELowLevel
import Glibc
import VFS

extension VFSError.Code {
    /// The errno the kernel passes on to the program.
    var errno: Int32 {
        switch self {
        case .notFound: ENOENT
        case .exists: EEXIST
        case .notEmpty: ENOTEMPTY
        case .notDirectory: ENOTDIR
        case .isDirectory: EISDIR
        case .invalid: EINVAL
        case .permissionDenied: EACCES
        case .notPermitted: EPERM
        case .noData: ENODATA
        case .tooBig: E2BIG
        case .rangeTooSmall: ERANGE
        case .nameTooLong: ENAMETOOLONG
        case .noSpace: ENOSPC
        case .readOnly: EROFS
        case .notSupported: EOPNOTSUPP
        case .crossDevice: EXDEV
        case .tooManyLinks: EMLINK
        case .badHandle: EBADF
        case .noSuchOffset: ENXIO
        case .io: EIO
        case .fileTooLarge: EFBIG
        }
    }
}

/// Runs a VFS call, turning its errors into FUSE errors.
func mappingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as VFSError {
        throw FUSEError(error.code.errno)
    }
}
