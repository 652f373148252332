internal import Glibc
import NexusTypes

/// A failed system call on a local tree: what was attempted, on which path, and the errno.
public struct LocalTreeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The full path bytes (root included); empty when only a file descriptor was known.
    public var path: [UInt8]
    /// The call in words, such as `mkdir` or `open`.
    public var operation: String
    public var errno: Int32

    public init(path: [UInt8], operation: String, errno: Int32) {
        self.path = path
        self.operation = operation
        self.errno = errno
    }

    /// `mkdir /dest/a\xffb: Permission denied`.
    public var description: String {
        let reason = String(cString: strerror(errno))
        return path.isEmpty ? "\(operation): \(reason)" : "\(operation) \(FileName.printable(path)): \(reason)"
    }
}

extension LocalTreeError {
    /// The error for the call that just failed, taking the thread's current errno.
    static func last(_ operation: String, _ path: [UInt8]) -> LocalTreeError {
        LocalTreeError(path: path, operation: operation, errno: Glibc.errno)
    }
}
