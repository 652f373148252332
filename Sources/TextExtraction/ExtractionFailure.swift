/// Why a format's text could not be read (fully); each case becomes a note of the result.
enum ExtractionFailure: Error, Equatable {
    /// The zip container could not be opened or one of its entries could not be read.
    case damagedContainer
    /// Reading the container would inflate more than `ExtractionLimits.inflatedBytes`.
    case inflateLimit
    /// The container lacks the part that holds the text.
    case missingPart(String)
    /// An XML part is not well-formed; the text before the error is kept.
    case damagedXML(part: String)
    /// poppler could not open the PDF; its message.
    case damagedPDF(String)
    /// The PDF needs a password.
    case encryptedPDF

    /// The note shown for this failure.
    var note: String {
        switch self {
        case .damagedContainer: "damaged zip container"
        case .inflateLimit: "zip container inflates past \(ExtractionLimits.inflatedBytes >> 20) MiB"
        case .missingPart(let part): "damaged container: no \(part)"
        case .damagedXML(let part): "damaged XML in \(part)"
        case .damagedPDF(let message): message.isEmpty ? "damaged PDF" : "damaged PDF: \(message)"
        case .encryptedPDF: "encrypted PDF"
        }
    }
}
