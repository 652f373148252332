import Foundation

/// Text of OOXML documents: docx body, headers, footers and notes; pptx slides in slide order;
/// xlsx worksheets with shared strings, inline strings and numbers.
enum OfficeOpenXMLText {
    /// The kind of OOXML package, from its MIME type.
    enum Kind {
        case document, presentation, workbook
    }

    /// Appends the text of the OOXML container `content` to `buffer`.
    static func extract(_ content: [UInt8], kind: Kind, into buffer: inout TextBuffer) throws(ExtractionFailure) {
        var container = try ZipContainer(content)
        let paths = container.paths
        switch kind {
        case .document:
            guard container.contains("word/document.xml") else { throw .missingPart("word/document.xml") }
            let parts = ["word/document.xml"]
                + numbered(paths, folder: "word/", stem: "header") + numbered(paths, folder: "word/", stem: "footer")
                + ["word/footnotes.xml", "word/endnotes.xml"].filter(container.contains)
            for part in parts where !buffer.isCut {
                guard let xml = try container.read(part) else { continue }
                try paragraphText(xml, part: part, into: &buffer)
            }
        case .presentation:
            let slides = numbered(paths, folder: "ppt/slides/", stem: "slide")
            guard !slides.isEmpty else { throw .missingPart("ppt/slides/slide1.xml") }
            for part in slides where !buffer.isCut {
                guard let xml = try container.read(part) else { continue }
                try paragraphText(xml, part: part, into: &buffer)
            }
        case .workbook:
            let sheets = numbered(paths, folder: "xl/worksheets/", stem: "sheet")
            guard !sheets.isEmpty else { throw .missingPart("xl/worksheets/sheet1.xml") }
            let shared = try container.read("xl/sharedStrings.xml").map { xml throws(ExtractionFailure) in
                try sharedStrings(xml)
            } ?? []
            for part in sheets where !buffer.isCut {
                guard let xml = try container.read(part) else { continue }
                try sheetText(xml, part: part, sharedStrings: shared, into: &buffer)
            }
        }
    }

    /// Entries `folder + stem + N + ".xml"` (directly in folder), ordered by N.
    static func numbered(_ paths: [String], folder: String, stem: String) -> [String] {
        paths.compactMap { path -> (Int, String)? in
            guard path.hasPrefix(folder + stem), path.hasSuffix(".xml") else { return nil }
            let middle = path.dropFirst(folder.count + stem.count).dropLast(4)
            guard let number = Int(middle) else { return nil }
            return (number, path)
        }
        .sorted { $0.0 < $1.0 }
        .map(\.1)
    }

    /// WordprocessingML and DrawingML text: `t` elements' text, a line per `p`, tabs and breaks
    /// inside runs, table cells separated by tabs and rows ending lines.
    private static func paragraphText(_ xml: Data, part: String, into buffer: inout TextBuffer) throws(ExtractionFailure) {
        var textDepth = 0
        var runDepth = 0
        var cellDepth = 0
        var text = buffer
        defer { buffer = text }
        let events = XMLEvents()
        events.started = { name, _ in
            switch name {
            case "t": textDepth += 1
            case "r": runDepth += 1
            case "tc": cellDepth += 1
            // w:tab also names tab stops in paragraph properties: only a tab inside a run is text.
            case "tab" where runDepth > 0: text.append("\t")
            case "br", "cr": text.append("\n")
            default: break
            }
        }
        events.ended = { name in
            switch name {
            case "t": textDepth -= 1
            case "r": runDepth -= 1
            case "p": if cellDepth > 0 { text.endParagraphInCell() } else { text.endLine() }
            case "tc":
                cellDepth -= 1
                text.endCell()
            case "tr": text.endLine()
            default: break
            }
        }
        events.characters = { piece in
            if textDepth > 0 { text.append(piece) }
        }
        events.shouldStop = { text.isCut }
        try events.parse(xml, part: part)
        text.endLine()
    }

    /// The shared string table of xl/sharedStrings.xml: each `si`'s text (phonetic runs left out).
    private static func sharedStrings(_ xml: Data) throws(ExtractionFailure) -> [String] {
        var strings: [String] = []
        var current = ""
        var textDepth = 0
        var phoneticDepth = 0
        var totalBytes = 0
        let events = XMLEvents()
        events.started = { name, _ in
            switch name {
            case "si": current = ""
            case "t": textDepth += 1
            case "rPh": phoneticDepth += 1
            default: break
            }
        }
        events.ended = { name in
            switch name {
            case "si":
                strings.append(current)
                totalBytes += current.utf8.count
            case "t": textDepth -= 1
            case "rPh": phoneticDepth -= 1
            default: break
            }
        }
        events.characters = { piece in
            if textDepth > 0, phoneticDepth == 0 { current += piece }
        }
        // The table can be no bigger than what was inflated, but keep it within the text limit anyway.
        events.shouldStop = { totalBytes > ExtractionLimits.textBytes }
        try events.parse(xml, part: "xl/sharedStrings.xml")
        return strings
    }

    /// A worksheet's cells row by row: shared strings resolved, inline strings, formula strings and
    /// numbers as written; booleans and errors left out.
    private static func sheetText(_ xml: Data, part: String, sharedStrings: [String],
                                  into buffer: inout TextBuffer) throws(ExtractionFailure) {
        var cellType: String?
        var value = ""
        var inValue = false
        var inlineDepth = 0
        var text = buffer
        defer { buffer = text }
        let events = XMLEvents()
        events.started = { name, attributes in
            switch name {
            case "c":
                cellType = attributes["t"]
                value = ""
            case "v": inValue = true
            case "is": inlineDepth += 1
            default: break
            }
        }
        events.ended = { name in
            switch name {
            case "v": inValue = false
            case "is": inlineDepth -= 1
            case "c":
                let shown: String
                switch cellType {
                case "s": shown = Int(value.trimmingSpaces).flatMap { sharedStrings.indices.contains($0) ? sharedStrings[$0] : nil } ?? ""
                case "b", "e": shown = ""
                default: shown = value
                }
                text.append(shown)
                text.endCell()
            case "row": text.endLine()
            default: break
            }
        }
        events.characters = { piece in
            if inValue || inlineDepth > 0 { value += piece }
        }
        events.shouldStop = { text.isCut }
        try events.parse(xml, part: part)
        text.endLine()
    }
}
