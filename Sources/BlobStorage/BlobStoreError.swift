import Glibc

/// Errors of the blob store.
public struct BlobStoreError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        /// A pack or blob failed authentication or framing: damaged or not ours.
        case corrupt
        /// No blob or pack by that name.
        case notFound
        /// The disk is full.
        case noSpace
        /// Any other I/O failure.
        case io
        /// The pack storage (an object store) did not answer, or refused; nothing was lost.
        case unavailable
    }

    public var code: Code
    public var message: String
    public var errno: Int32?
    /// Set when a pack's seal failed after the pack was renamed into place: its blobs may be
    /// durable (a journal record's sequence is then used up).
    public var afterRename = false

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    /// An error for a failed system call on `path`, classifying ENOSPC/EDQUOT as `.noSpace`.
    static func system(_ operation: String, _ path: String, errno code: Int32 = Glibc.errno) -> BlobStoreError {
        let reason = String(cString: strerror(code))
        let kind: Code = (code == ENOSPC || code == EDQUOT) ? .noSpace : (code == ENOENT ? .notFound : .io)
        return BlobStoreError(kind, "\(operation) \(path): \(reason)", errno: code)
    }

    public var description: String { message }
}
