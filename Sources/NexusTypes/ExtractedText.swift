/// What text extraction found in one file's bytes: its MIME type, its plain text, and why text is
/// missing or partial. Made by the `TextExtraction` target (in the extraction worker) and indexed by
/// the VFS's search indexer; here so that both speak it without depending on each other.
public struct ExtractedText: Sendable, Equatable {
    /// The MIME type, from libmagic (refined for office containers), e.g. "application/vnd.oasis.opendocument.text".
    public var mime: String
    /// Plain text, paragraphs separated by "\n"; "" when there is none.
    public var text: String
    /// Why there is no (or only partial) text, e.g. "unsupported type", "damaged zip container", "text cut at 4 MiB";
    /// several reasons are joined by "; ". Nil when the text is complete.
    public var note: String?

    /// An extraction result.
    public init(mime: String, text: String, note: String? = nil) {
        self.mime = mime
        self.text = text
        self.note = note
    }
}
