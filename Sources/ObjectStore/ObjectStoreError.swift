/// Errors of the object store client: a code, a message naming the endpoint, bucket and key, and
/// the underlying cause. Neither ever holds a secret key or a signature.
public struct ObjectStoreError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        /// The store did not answer usefully within the retry budget (connection errors, timeouts,
        /// 5xx, throttling); the message names the last cause.
        case unreachable
        /// No such object or bucket.
        case notFound
        /// The store refused the credentials or the request (403); the message carries S3's Code and Message.
        case denied
        /// The store answered something this client cannot use: another 4xx, a truncated or malformed body.
        case badResponse
        /// A local file could not be read or written.
        case io
        /// The configuration or an argument cannot work (missing credentials, a bad endpoint URL, a part
        /// size below S3's 5 MiB).
        case invalidConfiguration
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying { return "\(message): \(underlying)" }
        return message
    }
}
