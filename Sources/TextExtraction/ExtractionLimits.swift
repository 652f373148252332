/// The bounds that keep one extraction's time and memory in check, whatever the input.
enum ExtractionLimits {
    /// Content larger than this gets a MIME type only ("too large to index").
    static let contentBytes = 64 << 20
    /// At most this many bytes are inflated from one zip container, over all its entries.
    static let inflatedBytes = 64 << 20
    /// At most this many pages of a PDF are read.
    static let pdfPages = 2_000
    /// The text is cut, on a character boundary, at this many bytes of UTF-8.
    static let textBytes = 4 << 20
    /// How much of an oversized file the client sends to the worker, for libmagic to look at.
    static let sniffBytes = 8 << 20
}
