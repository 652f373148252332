import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Text of plain-text files (decoded by the character set libmagic saw) and of XML (its text content).
enum PlainText {
    /// Decodes `content` by libmagic's `charset`: UTF-8 (invalid bytes replaced), Latin-1, UTF-16,
    /// Windows-1252 for other 8-bit text. Line ends become "\n". Returns the note about decoding, if any.
    static func extract(_ content: [UInt8], charset: String, into buffer: inout TextBuffer) -> String? {
        let (decoded, note) = decode(content, charset: charset)
        buffer.append(decoded.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n"))
        return note
    }

    /// The text of `content` decoded as `charset` says, and a note when it is a guess or lossy.
    static func decode(_ content: [UInt8], charset: String) -> (String, String?) {
        let foreign: (encoding: String.Encoding, note: String?)? = switch charset {
        case "iso-8859-1": (.isoLatin1, "decoded as Latin-1")
        case "utf-16le": (.utf16LittleEndian, String?.none)
        case "utf-16be": (.utf16BigEndian, String?.none)
        case "unknown-8bit": (.windowsCP1252, "decoded as Windows-1252")
        default: nil
        }
        if let (encoding, note) = foreign, let text = String(data: Data(content), encoding: encoding) {
            return (text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text, note)
        }
        if let text = String(validating: content, as: UTF8.self) {
            return (text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text, nil)
        }
        return (String(decoding: content, as: UTF8.self), "invalid UTF-8 replaced")
    }

    /// Appends the character data of the XML `content`, one line per element that holds text.
    static func extractXML(_ content: [UInt8], into buffer: inout TextBuffer) throws(ExtractionFailure) {
        var pending = ""
        var text = buffer
        defer { buffer = text }
        let flush = {
            let trimmed = pending.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty {
                text.append(trimmed)
                text.endLine()
            }
            pending = ""
        }
        let events = XMLEvents()
        events.started = { _, _ in flush() }
        events.ended = { _ in flush() }
        events.characters = { pending += $0 }
        events.shouldStop = { text.isCut }
        defer { flush() }
        try events.parse(Data(content), part: "the document")
    }
}
