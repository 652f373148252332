import Foundation

/// Text of ODF documents (odt, ods, odp, ...): `content.xml`'s paragraphs, headings and table cells,
/// then `meta.xml`'s title, subject, keywords and description.
enum OpenDocumentText {
    /// Appends the text of the ODF container `content` to `buffer`.
    static func extract(_ content: [UInt8], into buffer: inout TextBuffer) throws(ExtractionFailure) {
        var container = try ZipContainer(content)
        guard let body = try container.read("content.xml") else { throw .missingPart("content.xml") }
        try bodyText(body, into: &buffer)
        if let meta = try? container.read("meta.xml") {
            try? metadataText(meta, into: &buffer)
        }
    }

    /// The text of content.xml: text:p and text:h end a line (inside a table cell, a space), text:tab
    /// and text:s are a tab and spaces, table cells are separated by tabs and rows end lines. Deleted
    /// text kept for change tracking is skipped.
    private static func bodyText(_ xml: Data, into buffer: inout TextBuffer) throws(ExtractionFailure) {
        var paragraphDepth = 0
        var cellDepth = 0
        var skippedDepth = 0
        var text = buffer
        defer { buffer = text }
        let events = XMLEvents()
        events.started = { name, attributes in
            if skippedDepth > 0 || name == "tracked-changes" {
                skippedDepth += 1
                return
            }
            switch name {
            case "p", "h": paragraphDepth += 1
            case "table-cell", "covered-table-cell": cellDepth += 1
            case "tab" where paragraphDepth > 0: text.append("\t")
            case "line-break" where paragraphDepth > 0: text.append("\n")
            case "s" where paragraphDepth > 0:
                let count = min(Int(attributes["text:c"] ?? attributes["c"] ?? "1") ?? 1, 64)
                text.append(String(repeating: " ", count: max(count, 1)))
            default: break
            }
        }
        events.ended = { name in
            if skippedDepth > 0 {
                skippedDepth -= 1
                return
            }
            switch name {
            case "p", "h":
                paragraphDepth -= 1
                if paragraphDepth == 0 {
                    if cellDepth > 0 { text.endParagraphInCell() } else { text.endLine() }
                }
            case "table-cell", "covered-table-cell":
                cellDepth -= 1
                text.endCell()
            case "table-row": text.endLine()
            default: break
            }
        }
        events.characters = { piece in
            if paragraphDepth > 0, skippedDepth == 0 { text.append(piece) }
        }
        events.shouldStop = { text.isCut }
        try events.parse(xml, part: "content.xml")
        text.endLine()
    }

    /// The title, subject, keywords and description of meta.xml, one per line after the body.
    private static func metadataText(_ xml: Data, into buffer: inout TextBuffer) throws(ExtractionFailure) {
        let wanted: Set<String> = ["title", "subject", "keyword", "description"]
        var current: String?
        var text = buffer
        defer { buffer = text }
        let events = XMLEvents()
        events.started = { name, _ in current = wanted.contains(name) ? name : nil }
        events.ended = { name in
            if current == name { text.endLine() }
            current = nil
        }
        events.characters = { piece in
            if current != nil { text.append(piece) }
        }
        events.shouldStop = { text.isCut }
        try events.parse(xml, part: "meta.xml")
        text.endLine()
    }
}
