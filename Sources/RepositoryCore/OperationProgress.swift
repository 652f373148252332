/// Progress of a long operation, for the command line to show.
public struct OperationProgress: Sendable {
    public var items: Int
    public var totalItems: Int?
    public var bytes: Int64
    public var totalBytes: Int64?
    public var current: String

    public init(items: Int = 0, totalItems: Int? = nil, bytes: Int64 = 0, totalBytes: Int64? = nil, current: String = "") {
        self.items = items
        self.totalItems = totalItems
        self.bytes = bytes
        self.totalBytes = totalBytes
        self.current = current
    }
}

/// Receives progress; called often, so it should throttle what it prints.
public typealias ProgressHandler = (OperationProgress) -> Void

/// What an import did.
public struct ImportSummary: Sendable {
    public var folders = 0
    public var documents = 0
    public var newVersions = 0
    public var unchanged = 0
    public var links = 0
    public var others = 0
    public var bytes: Int64 = 0
    /// Entries that could not be read, with the reason; they were skipped.
    public var skipped: [String] = []
}
