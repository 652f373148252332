/// Plain text under construction: paragraphs end with one "\n", table cells are separated by
/// one "\t", and everything past `ExtractionLimits.textBytes` of UTF-8 is dropped on a scalar boundary.
struct TextBuffer {
    /// The text so far.
    private(set) var text = ""
    /// Whether text was dropped because the limit was reached.
    private(set) var isCut = false
    /// UTF-8 bytes in `text`.
    private var byteCount = 0
    /// The byte limit.
    private let limit: Int
    /// A cell separator waiting for the next text of the same row: trailing empty cells add nothing.
    private var pendingCellSeparator = false
    /// A space waiting for the next text of the same cell: paragraphs inside a cell are joined by one space.
    private var pendingSpace = false

    /// An empty buffer that holds at most `limit` bytes of UTF-8.
    init(limit: Int = ExtractionLimits.textBytes) {
        self.limit = limit
    }

    /// Appends `piece` as it is (after any pending cell separator), cutting at the limit.
    mutating func append(_ piece: some StringProtocol) {
        guard !piece.isEmpty, !isCut else { return }
        if pendingCellSeparator {
            pendingCellSeparator = false
            pendingSpace = false
            if !endsLine { append("\t") }
        } else if pendingSpace {
            pendingSpace = false
            if !endsLine { append(" ") }
        }
        let count = piece.utf8.count
        if byteCount + count <= limit {
            text += piece
            byteCount += count
            return
        }
        var room = limit - byteCount
        var fitted = String.UnicodeScalarView()
        for scalar in piece.unicodeScalars {
            let width = UTF8.width(scalar)
            guard width <= room else { break }
            fitted.append(scalar)
            room -= width
        }
        text += String(fitted)
        byteCount = limit - room
        isCut = true
    }

    /// Appends `piece` with every run of white space shown as one space, as HTML renders it.
    mutating func appendCollapsingWhitespace(_ piece: String) {
        let words = piece.split(whereSeparator: { $0.isWhitespace })
        guard !words.isEmpty else {
            if !piece.isEmpty, !endsLine, text.utf8.last != UInt8(ascii: " ") { append(" ") }
            return
        }
        if piece.first?.isWhitespace == true, !endsLine, text.utf8.last != UInt8(ascii: " ") { append(" ") }
        append(words.joined(separator: " "))
        if piece.last?.isWhitespace == true { append(" ") }
    }

    /// Ends the current paragraph or row: one "\n", unless the text is empty or already ends a line.
    mutating func endLine() {
        pendingCellSeparator = false
        pendingSpace = false
        guard !endsLine else { return }
        if text.utf8.last == UInt8(ascii: " ") {
            text.removeLast()
            byteCount -= 1
        }
        append("\n")
    }

    /// Ends a table cell: the next text in the same row starts after a "\t".
    mutating func endCell() {
        pendingSpace = false
        if !endsLine { pendingCellSeparator = true }
    }

    /// Ends a paragraph inside a table cell: the cell's next text starts after a space.
    mutating func endParagraphInCell() {
        pendingSpace = true
    }

    /// The finished text, without trailing white space.
    var finished: String {
        var result = Substring(text)
        while let last = result.last, last.isWhitespace { result.removeLast() }
        return String(result)
    }

    /// Whether the text is empty or ends with a newline.
    private var endsLine: Bool {
        text.isEmpty || text.utf8.last == UInt8(ascii: "\n")
    }
}
