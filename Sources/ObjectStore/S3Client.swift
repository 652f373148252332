import AsyncHTTPClient
import Foundation
import Glibc
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// A synchronous S3 client for plain threads (never an event loop): each call blocks until the
/// store has answered, retrying transient failures within `S3Configuration.retryFor`.
///
/// Every method throws `ObjectStoreError`. Keys are relative to the configuration's key prefix.
/// One `HTTPClient` on the client's own event loop group carries every call; `shutdown()` closes both.
public final class S3Client: Sendable {
    public let configuration: S3Configuration
    let signer: SigV4
    let logger: Logger
    /// `scheme://authority` that request paths are appended to.
    let baseURL: String
    /// The Host header's value, which is signed.
    let host: String
    private let group: MultiThreadedEventLoopGroup
    let http: HTTPClient

    public init(configuration: S3Configuration, logger: Logger = Logger(label: "ObjectStore", factory: { _ in SwiftLogNoOpLogHandler() })) throws {
        guard configuration.partSize >= S3Configuration.minimumPartSize else {
            throw ObjectStoreError(
                .invalidConfiguration, "part size \(configuration.partSize) is below S3's minimum of 5 MiB")
        }
        guard let url = URLComponents(string: configuration.endpoint), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let endpointHost = url.host, !endpointHost.isEmpty,
            url.path.isEmpty || url.path == "/", url.query == nil
        else {
            throw ObjectStoreError(
                .invalidConfiguration, "endpoint \(configuration.endpoint) is not an http(s)://host[:port] URL")
        }
        guard !configuration.bucket.isEmpty else { throw ObjectStoreError(.invalidConfiguration, "no bucket name") }
        var authority = endpointHost.lowercased()
        if authority.contains(":") { authority = "[\(authority)]" }
        if let port = url.port { authority += ":\(port)" }
        if configuration.addressing == .virtualHost { authority = "\(configuration.bucket).\(authority)" }
        self.configuration = configuration
        self.signer = SigV4(
            accessKey: configuration.accessKey, secretKey: configuration.secretKey,
            sessionToken: configuration.sessionToken, region: configuration.region)
        self.logger = logger
        self.baseURL = "\(scheme)://\(authority)"
        self.host = authority
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var http = HTTPClient.Configuration()
        // The HTTP client keeps retrying a refused connection until its connect timeout, so that
        // timeout must fit in the retry budget.
        let connectTimeout = min(configuration.connectTimeout, configuration.retryFor)
        http.timeout = .init(
            connect: .nanoseconds(Int64(connectTimeout / .nanoseconds(1))),
            read: .nanoseconds(Int64(configuration.readTimeout / .nanoseconds(1))))
        http.redirectConfiguration = .disallow
        self.http = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: http, backgroundActivityLogger: logger)
    }

    /// Closes the connections and stops the event loop; the client must not be used afterwards.
    public func shutdown() throws {
        do {
            try http.syncShutdown()
            try group.syncShutdownGracefully()
        } catch {
            throw ObjectStoreError(.io, "shutting down the client for \(configuration.endpoint)", underlying: error)
        }
    }

    /// Stores `bytes` as `key` in one PUT; S3 checks them against the signed SHA-256.
    public func put(_ key: String, bytes: [UInt8]) throws {
        _ = try send(S3Request(.PUT, key: key, body: bytes))
    }

    /// The object's bytes, or nil when there is no such key.
    public func get(_ key: String) throws -> [UInt8]? {
        let response = try send(S3Request(.GET, key: key, accepting: [404]))
        if response.status == 404 {
            if let error = S3XML.error(in: response.body), error.code != "NoSuchKey" {
                throw failure(.notFound, response, S3Request(.GET, key: key))
            }
            return nil
        }
        return response.body
    }

    /// The bytes of `range` within the object: fewer when the range runs past its end, none when it
    /// starts there or beyond. Throws `.notFound` when there is no such key.
    public func get(_ key: String, range: Range<UInt64>) throws -> [UInt8] {
        guard !range.isEmpty else { return [] }
        let request = S3Request(
            .GET, key: key, headers: [("Range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")], accepting: [416])
        let response = try send(request)
        switch response.status {
        case 416:
            return []
        case 206:
            guard response.body.count <= range.count else {
                throw failure(.badResponse, response, request, "\(response.body.count) bytes for a range of \(range.count)")
            }
            return response.body
        default:
            // A server that ignores Range sends the whole object.
            let start = Int(clamping: range.lowerBound)
            let end = Int(clamping: range.upperBound)
            return start >= response.body.count ? [] : Array(response.body[start..<min(end, response.body.count)])
        }
    }

    /// The object's size in bytes, or nil when there is no such key.
    public func head(_ key: String) throws -> UInt64? {
        let request = S3Request(.HEAD, key: key, accepting: [404])
        let response = try send(request)
        if response.status == 404 { return nil }
        guard let size = response.headers.first(name: "content-length").flatMap({ UInt64($0) }) else {
            throw failure(.badResponse, response, request, "no Content-Length")
        }
        return size
    }

    /// Removes `key`; a key that does not exist is not an error.
    public func delete(_ key: String) throws {
        _ = try send(S3Request(.DELETE, key: key, accepting: [404]))
    }

    /// Creates the bucket; one that already exists and is ours is not an error.
    public func createBucket() throws {
        var body: [UInt8] = []
        if configuration.region != "us-east-1" {
            body = Array("""
                <CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\
                <LocationConstraint>\(S3XML.escape(configuration.region))</LocationConstraint>\
                </CreateBucketConfiguration>
                """.utf8)
        }
        let request = S3Request(.PUT, key: nil, body: body, accepting: [409])
        let response = try send(request)
        if response.status == 409, S3XML.error(in: response.body)?.code != "BucketAlreadyOwnedByYou" {
            throw failure(.denied, response, request)
        }
    }
}
