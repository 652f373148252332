/// How a volume behaves; set from mount options.
public struct VolumeOptions: Sendable {
    /// Seconds between group commits; a close after a write is durable within this.
    public var commitInterval: Double = 1
    public var readOnly = false
    /// Written bytes one open file may hold in memory before they are chunked into the store.
    public var maxDirtyBytesPerFile: Int64 = 64 << 20
    /// Saves by the same user within this many seconds of the latest version replace it
    /// instead of adding one; 0 (the default) keeps every save.
    public var versionInterval: Double = 0
    /// Days a deleted document stays in `/.trash` (expired at mount); 0 turns the trash off.
    public var trashDays: Double = 30
    /// Reads the text of documents for the search index (the daemon's runs a child process).
    public var extractor: any ContentExtractor = PlainTextExtractor()

    public init(commitInterval: Double = 1, readOnly: Bool = false, maxDirtyBytesPerFile: Int64 = 64 << 20,
                versionInterval: Double = 0, trashDays: Double = 30, extractor: any ContentExtractor = PlainTextExtractor()) {
        self.trashDays = trashDays
        self.extractor = extractor
        self.commitInterval = commitInterval
        self.readOnly = readOnly
        self.maxDirtyBytesPerFile = maxDirtyBytesPerFile
        self.versionInterval = versionInterval
    }
}
