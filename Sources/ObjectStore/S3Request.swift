import NIOHTTP1

/// One S3 operation as the client sends it, before addressing and signing.
struct S3Request {
    var method: HTTPMethod
    /// The key relative to the prefix, for messages and the path; nil for a bucket-level request.
    var key: String?
    var query: [SigV4.Field]
    var headers: [SigV4.Field]
    var body: [UInt8]?
    /// Non-2xx statuses the caller interprets itself (404 for a missing key, ...).
    var accepting: Set<UInt>
    /// Where a 2xx body goes instead of memory.
    var sink: (descriptor: Int32, path: String)?
    /// Set for requests that S3 may answer with 200 and an Error document (CompleteMultipartUpload).
    var mayEmbedError = false

    init(
        _ method: HTTPMethod, key: String?, query: [SigV4.Field] = [], headers: [SigV4.Field] = [],
        body: [UInt8]? = nil, accepting: Set<UInt> = [], sink: (descriptor: Int32, path: String)? = nil
    ) {
        self.method = method
        self.key = key
        self.query = query
        self.headers = headers
        self.body = body
        self.accepting = accepting
        self.sink = sink
    }
}
