// Listing keys with ListObjectsV2.
extension S3Client {
    /// Every key under `prefix` (relative to the configured key prefix, as are the keys returned)
    /// with its size, in S3's order (UTF-8 byte order), fetched `pageSize` keys per request
    /// (at most 1000) following continuation tokens.
    public func list(prefix: String = "", pageSize: Int = 1000) throws -> [(key: String, size: UInt64)] {
        var entries: [(key: String, size: UInt64)] = []
        var token: String?
        repeat {
            var query: [SigV4.Field] = [
                ("list-type", "2"), ("prefix", configuration.keyPrefix + prefix), ("max-keys", "\(max(1, min(pageSize, 1000)))"),
            ]
            if let token { query.append(("continuation-token", token)) }
            let request = S3Request(.GET, key: nil, query: query)
            let response = try send(request)
            guard let page = S3XML(response.body, record: "Contents"), page.root == "ListBucketResult" else {
                throw failure(.badResponse, response, request, "not a ListBucketResult")
            }
            for record in page.records {
                guard let key = record["Key"], key.hasPrefix(configuration.keyPrefix),
                    let size = record["Size"].flatMap({ UInt64($0) })
                else {
                    throw failure(.badResponse, response, request, "a listed object without a Key under the prefix or a Size")
                }
                entries.append((String(key.dropFirst(configuration.keyPrefix.count)), size))
            }
            token = page.fields["IsTruncated"] == "true" ? page.fields["NextContinuationToken"] : nil
            if page.fields["IsTruncated"] == "true", token?.isEmpty ?? true {
                throw failure(.badResponse, response, request, "truncated listing without a continuation token")
            }
        } while token != nil
        return entries
    }
}
