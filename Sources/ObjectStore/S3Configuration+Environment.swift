extension S3Configuration {
    /// A configuration for `url` (`s3://bucket` or `s3://bucket/prefix/`) with the credentials,
    /// region and endpoint the AWS CLI reads from `environment`: AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION or AWS_DEFAULT_REGION (default
    /// us-east-1), AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (default `https://s3.REGION.amazonaws.com`).
    public static func from(url: String, environment: [String: String]) throws -> S3Configuration {
        guard url.hasPrefix("s3://") else {
            throw ObjectStoreError(.invalidConfiguration, "\(url): an object store URL starts with s3://")
        }
        let rest = url.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        guard !bucket.isEmpty else { throw ObjectStoreError(.invalidConfiguration, "\(url): no bucket name") }
        let prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" })

        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let missing = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"].filter { value($0) == nil }
        guard missing.isEmpty, let accessKey = value("AWS_ACCESS_KEY_ID"), let secretKey = value("AWS_SECRET_ACCESS_KEY")
        else {
            throw ObjectStoreError(
                .invalidConfiguration,
                "\(url): no credentials: set \(missing.joined(separator: " and ")) (and AWS_SESSION_TOKEN for temporary ones)")
        }
        let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? "us-east-1"
        var endpoint = value("AWS_ENDPOINT_URL_S3") ?? value("AWS_ENDPOINT_URL") ?? "https://s3.\(region).amazonaws.com"
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        return S3Configuration(
            endpoint: endpoint, region: region, accessKey: accessKey, secretKey: secretKey,
            sessionToken: value("AWS_SESSION_TOKEN"), bucket: bucket, keyPrefix: prefix)
    }
}
