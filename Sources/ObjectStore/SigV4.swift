/// ObjectStore: an S3 client for plain threads, with its own AWS Signature Version 4 signing.
import CryptoCore
import Glibc

/// AWS Signature Version 4 in its Authorization-header form, for S3 and any other AWS service.
///
/// Printing a `SigV4` shows the access key, region and service, never the secret key.
public struct SigV4: Sendable {
    /// A header or query parameter, unencoded.
    public typealias Field = (name: String, value: String)

    public var accessKey: String
    public var sessionToken: String?
    public var region: String
    public var service: String
    private var secretKey: String

    public init(accessKey: String, secretKey: String, sessionToken: String? = nil, region: String, service: String = "s3") {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.sessionToken = sessionToken
        self.region = region
        self.service = service
    }

    /// The x-amz-content-sha256 value that tells S3 not to check the body.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// The hex SHA-256 of `payload`, as x-amz-content-sha256 carries it.
    public static func payloadHash(_ payload: [UInt8]) -> String {
        hex(SHA256Hasher.hash(payload))
    }

    /// The x-amz-date form of `seconds` since the epoch: `20130524T000000Z`.
    public static func timestamp(secondsSinceEpoch seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    /// One request's signing steps, each published by AWS's examples, and the resulting header.
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        /// The lower-case header names signed, joined by ';'.
        public var signedHeaders: String
        /// The hex HMAC-SHA256 of the string to sign under the derived signing key.
        public var signature: String
        /// The Authorization header's value.
        public var authorization: String
    }

    /// Signs a request whose `headers` are all to be signed and already include `host` and
    /// `x-amz-date` (`timestamp`), and for S3 `x-amz-content-sha256`. `path` and `query` are
    /// unencoded; `payloadHash` is the hex SHA-256 of the body or `unsignedPayload`.
    public func sign(
        method: String, path: String, query: [Field], headers: [Field], payloadHash: String, timestamp: String
    ) -> Signature {
        let canonicalHeaders = Self.canonicalHeaders(headers)
        let signedHeaders = canonicalHeaders.map(\.name).joined(separator: ";")
        let canonicalRequest = [
            method,
            Self.canonicalPath(path),
            Self.canonicalQuery(query),
            canonicalHeaders.map { "\($0.name):\($0.value)\n" }.joined(),
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
        let day = String(timestamp.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", timestamp, scope, Self.hex(SHA256Hasher.hash(Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        let signature = Self.hex(HMACSHA256.authenticationCode(for: Array(stringToSign.utf8), key: signingKey(day: day)))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signature(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signedHeaders: signedHeaders,
            signature: signature, authorization: authorization)
    }

    /// `headers` plus what S3 needs to accept the request: x-amz-date, x-amz-content-sha256,
    /// x-amz-security-token when there is a session token, and Authorization. Every header is signed.
    public func signedHeaders(
        method: String, path: String, query: [Field], headers: [Field], payloadHash: String, secondsSinceEpoch: Int
    ) -> [Field] {
        let timestamp = Self.timestamp(secondsSinceEpoch: secondsSinceEpoch)
        var all = headers
        all.append(("x-amz-date", timestamp))
        all.append(("x-amz-content-sha256", payloadHash))
        if let sessionToken { all.append(("x-amz-security-token", sessionToken)) }
        let signature = sign(method: method, path: path, query: query, headers: all, payloadHash: payloadHash, timestamp: timestamp)
        all.append(("Authorization", signature.authorization))
        return all
    }

    /// HMAC chain from the secret key through the day, region and service to "aws4_request".
    func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(bytes: Array("AWS4\(secretKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(bytes: HMACSHA256.authenticationCode(for: Array(part.utf8), key: key))
        }
        return key
    }

    /// Each path segment percent-encoded, '/' kept, nothing normalized (S3's rule).
    static func canonicalPath(_ path: String) -> String {
        let encoded = uriEncode(path, keepingSlash: true)
        return encoded.hasPrefix("/") ? encoded : "/" + encoded
    }

    /// Names and values percent-encoded, sorted by encoded name then value, joined by '&'.
    static func canonicalQuery(_ query: [Field]) -> String {
        query.map { (uriEncode($0.name, keepingSlash: false), uriEncode($0.value, keepingSlash: false)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Lower-case names sorted, values trimmed with inner runs of spaces collapsed, repeated names' values joined by ','.
    static func canonicalHeaders(_ headers: [Field]) -> [Field] {
        var merged: [String: String] = [:]
        for (name, value) in headers {
            let tidy = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            let key = name.lowercased()
            merged[key] = merged[key].map { "\($0),\(tidy)" } ?? tidy
        }
        return merged.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
    }

    /// RFC 3986 percent-encoding as SigV4 defines it: A-Z a-z 0-9 - . _ ~ kept, every other UTF-8
    /// byte as %XX in upper case; '/' kept too when `keepingSlash`.
    static func uriEncode(_ string: String, keepingSlash: Bool) -> String {
        var out = ""
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepingSlash:
                out.append("/")
            default:
                let digits = Array("0123456789ABCDEF".unicodeScalars)
                out.append("%")
                out.unicodeScalars.append(digits[Int(byte >> 4)])
                out.unicodeScalars.append(digits[Int(byte & 0xF)])
            }
        }
        return out
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

extension SigV4: CustomStringConvertible, CustomReflectable {
    public var description: String { "SigV4(\(accessKey), \(region), \(service), secret <redacted>)" }

    // Keeps dump() and debuggers that walk the Mirror from printing the secret key.
    public var customMirror: Mirror {
        Mirror(self, children: ["accessKey": accessKey, "region": region, "service": service])
    }
}
