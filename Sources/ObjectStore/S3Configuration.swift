/// Where an `S3Client` connects, as whom, and how hard it tries.
///
/// Printing a configuration never shows the secret key or the session token.
public struct S3Configuration: Sendable {
    /// How the bucket appears in request URLs.
    public enum Addressing: Sendable, Equatable {
        /// `endpoint/bucket/key`: works everywhere, and is what moto and MinIO need.
        case path
        /// `bucket.endpoint-host/key`: AWS's preferred form.
        case virtualHost
    }

    /// The service's base URL, http or https, without a path: `https://s3.eu-west-1.amazonaws.com`.
    public var endpoint: String
    public var region: String
    public var accessKey: String
    public var secretKey: String
    public var sessionToken: String?
    public var bucket: String
    /// Prepended to every key given to the client and stripped from listed keys; usually ends in '/'.
    public var keyPrefix: String
    public var addressing: Addressing = .path
    /// Multipart uploads send parts of this many bytes (S3 wants at least 5 MiB); files smaller than
    /// one part go in a single PUT.
    public var partSize: Int = 16 << 20
    /// How long one call keeps retrying transient failures before it throws `.unreachable`.
    public var retryFor: Duration = .seconds(60)
    /// The connect timeout of one attempt (at most `retryFor`); the HTTP client retries a refused
    /// connection within it.
    public var connectTimeout: Duration = .seconds(10)
    /// How long one attempt may wait for the next bytes of a response.
    public var readTimeout: Duration = .seconds(30)

    public init(
        endpoint: String, region: String, accessKey: String, secretKey: String, sessionToken: String? = nil,
        bucket: String, keyPrefix: String = ""
    ) {
        self.endpoint = endpoint
        self.region = region
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.sessionToken = sessionToken
        self.bucket = bucket
        self.keyPrefix = keyPrefix
    }

    /// S3's smallest part size for every part but the last.
    public static let minimumPartSize = 5 << 20
}

extension S3Configuration: CustomStringConvertible, CustomReflectable {
    public var description: String {
        "S3Configuration(s3://\(bucket)/\(keyPrefix) at \(endpoint), \(region), key \(accessKey), secret <redacted>)"
    }

    // Keeps dump() and debuggers that walk the Mirror from printing the secret key and session token.
    public var customMirror: Mirror {
        Mirror(self, children: ["endpoint": endpoint, "region": region, "bucket": bucket, "keyPrefix": keyPrefix])
    }
}
