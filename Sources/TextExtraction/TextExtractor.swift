/// Extracts the MIME type and plain text of a file's bytes. Runs in the process that calls it: the
/// daemon uses it through `ExtractionClient`, so that a parser that crashes takes down only the worker.
public enum TextExtractor {
    /// The MIME type and text of `content`, a file named `name` (the name's extension helps only
    /// where libmagic says nothing better). Never throws and never crashes on bad input; large inputs
    /// are bounded as `ExtractionLimits` says.
    public static func extract(_ content: [UInt8], name: [UInt8]) -> ExtractedText {
        let verdict = identify(content, totalSize: content.count, name: name)
        return text(of: content, totalSize: content.count, verdict: verdict)
    }

    /// libmagic's verdict on `content` (maybe a prefix of a file of `totalSize` bytes), refined for
    /// office containers and, where magic knows nothing, by the name's extension.
    static func identify(_ content: [UInt8], totalSize: Int, name: [UInt8]) -> MagicVerdict {
        var verdict = content.withUnsafeBytes { MagicDatabase.identify($0) }
        let containerGuesses: Set<String> = ["application/zip", "application/octet-stream", "application/x-zip-compressed"]
        if containerGuesses.contains(verdict.mime), totalSize <= ExtractionLimits.contentBytes,
           content.starts(with: [0x50, 0x4B, 0x03, 0x04]),
           var container = try? ZipContainer(content), let office = container.officeType() {
            verdict.mime = office
        }
        if verdict.mime == MagicVerdict.unknown.mime, let guess = FileExtension.mime(forName: name) {
            verdict.mime = guess
        }
        return verdict
    }

    /// The text of `content` once its type is known.
    static func text(of content: [UInt8], totalSize: Int, verdict: MagicVerdict) -> ExtractedText {
        let mime = verdict.mime
        guard totalSize <= ExtractionLimits.contentBytes else {
            return ExtractedText(mime: mime, text: "", note: "too large to index")
        }
        guard !content.isEmpty else { return ExtractedText(mime: mime, text: "", note: "empty file") }
        var buffer = TextBuffer()
        var notes: [String] = []
        do throws(ExtractionFailure) {
            switch Format(mime: mime, charset: verdict.charset) {
            case .openDocument:
                try OpenDocumentText.extract(content, into: &buffer)
            case .officeOpenXML(let kind):
                try OfficeOpenXMLText.extract(content, kind: kind, into: &buffer)
            case .pdf:
                if try PDFText.extract(content, into: &buffer) {
                    notes.append("only the first \(ExtractionLimits.pdfPages) pages read")
                }
            case .html:
                HTMLText.extract(content, charset: verdict.charset, into: &buffer)
            case .xml:
                try PlainText.extractXML(content, into: &buffer)
            case .plain:
                if let note = PlainText.extract(content, charset: verdict.charset, into: &buffer) { notes.append(note) }
            case .unsupported:
                notes.append("unsupported type")
            }
        } catch {
            notes.append(error.note)
        }
        if buffer.isCut { notes.append("text cut at \(ExtractionLimits.textBytes >> 20) MiB") }
        return ExtractedText(mime: mime, text: buffer.finished, note: notes.isEmpty ? nil : notes.joined(separator: "; "))
    }
}

/// The extractor a MIME type goes to.
enum Format: Equatable {
    case openDocument
    case officeOpenXML(OfficeOpenXMLText.Kind)
    case pdf
    case html
    case xml
    case plain
    case unsupported

    /// The format for libmagic's (refined) MIME type and character set.
    init(mime: String, charset: String) {
        if mime.hasPrefix("application/vnd.oasis.opendocument.") {
            self = .openDocument
        } else if mime.hasPrefix("application/vnd.openxmlformats-officedocument.wordprocessingml.")
                    || mime.hasPrefix("application/vnd.ms-word.document.macroenabled") {
            self = .officeOpenXML(.document)
        } else if mime.hasPrefix("application/vnd.openxmlformats-officedocument.spreadsheetml.")
                    || mime.hasPrefix("application/vnd.ms-excel.sheet.macroenabled") {
            self = .officeOpenXML(.workbook)
        } else if mime.hasPrefix("application/vnd.openxmlformats-officedocument.presentationml.")
                    || mime.hasPrefix("application/vnd.ms-powerpoint.presentation.macroenabled") {
            self = .officeOpenXML(.presentation)
        } else if mime == "application/pdf" {
            self = .pdf
        } else if mime == "text/html" || mime == "application/xhtml+xml" {
            self = .html
        } else if mime == "text/xml" || mime == "application/xml" || mime.hasSuffix("+xml") {
            self = .xml
        } else if mime.hasPrefix("text/") || charset != "binary" {
            self = .plain
        } else {
            self = .unsupported
        }
    }
}
