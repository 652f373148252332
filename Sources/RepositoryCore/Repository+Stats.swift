import CatalogStore

/// Sizes and ratios of a repository.
public struct RepositoryStatistics: Sendable, Codable {
    public var documents: Int
    public var folders: Int
    public var versions: Int
    /// Bytes of every version of every document, as a user would count them.
    public var logicalBytes: Int64
    /// Bytes of the current contents only.
    public var currentBytes: Int64
    /// Bytes of distinct chunks before compression.
    public var uniqueBytes: Int64
    /// Bytes on disk in packs (encrypted, with framing and catalog journal).
    public var storedBytes: Int64
    public var packs: Int
    public var chunks: Int
    /// logicalBytes / uniqueBytes.
    public var deduplicationRatio: Double
    /// uniqueBytes / bytes the chunks take compressed and encrypted.
    public var compressionRatio: Double
    /// logicalBytes / storedBytes.
    public var totalRatio: Double
}

extension Repository {
    public func statistics() throws -> RepositoryStatistics {
        let s = try RepositoryError.wrapping("cannot read the statistics of repository \(path)") {
            try catalog.read { try $0.statistics() }
        }
        func ratio(_ a: Int64, _ b: Int64) -> Double { b > 0 ? Double(a) / Double(b) : 1 }
        return RepositoryStatistics(
            documents: s.documents, folders: s.folders, versions: s.versions, logicalBytes: s.versionBytes,
            currentBytes: s.currentBytes, uniqueBytes: s.chunkRawBytes, storedBytes: s.packBytes, packs: s.packs,
            chunks: s.chunks, deduplicationRatio: ratio(s.versionBytes, s.chunkRawBytes),
            compressionRatio: ratio(s.chunkRawBytes, s.chunkStoredBytes), totalRatio: ratio(s.versionBytes, s.packBytes))
    }
}
