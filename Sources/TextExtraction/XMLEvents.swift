import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A SAX pass over one XML part with Foundation's XMLParser, namespaces resolved, handing local
/// element names to closures. External entities are never resolved.
final class XMLEvents: NSObject, XMLParserDelegate {
    /// Called at an element's start with its local name and attributes (keys as written, prefix included).
    var started: (_ name: String, _ attributes: [String: String]) -> Void = { _, _ in }
    /// Called at an element's end with its local name.
    var ended: (_ name: String) -> Void = { _ in }
    /// Called with character data (possibly in several pieces for one text node).
    var characters: (_ text: String) -> Void = { _ in }
    /// Set by a handler that has seen enough (the text buffer is full): parsing stops.
    var shouldStop: () -> Bool = { false }

    /// Parses `data`; throws `.damagedXML(part:)` when it is not well-formed (handlers have seen the part before the error).
    func parse(_ data: Data, part: String) throws(ExtractionFailure) {
        let parser = XMLParser(data: Self.withValidNames(data))
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = self
        let finished = parser.parse()
        if !finished && !shouldStop() { throw .damagedXML(part: part) }
    }

    /// Prefixes of declared encodings that libxml2 (through iconv) transcodes, failing on bytes that do not fit.
    /// Not UTF-16: libxml2 ignores that declaration in a document it could read as 8-bit text.
    private static let transcodedEncodings = [
        "iso-8859-", "iso8859", "latin", "windows-125", "cp125", "us-ascii", "ascii",
        "shift_jis", "euc-", "gb2312", "gbk", "gb18030", "big5", "koi8",
    ]

    /// `data`, or when it is meant to be UTF-8 but is not, a copy with invalid bytes replaced by U+FFFD.
    ///
    /// Foundation's XMLParser traps (SIGILL) on an element name that is not valid UTF-8, which libxml2
    /// passes on as it is; text and attribute values are safe. Data that libxml2 transcodes (a UTF-16
    /// byte order mark, or a declared encoding that libxml2 knows other than UTF-8) reaches the parser as UTF-8 anyway;
    /// a declared name libxml2 does not know (a damaged "UTF-8") leaves the bytes as they are, so it is repaired too.
    static func withValidNames(_ data: Data) -> Data {
        let bytes = [UInt8](data)
        if String(validating: bytes, as: UTF8.self) != nil { return data }
        if bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) { return data }
        if bytes.starts(with: Array("<?xml".utf8)), let end = bytes.prefix(256).firstIndex(of: UInt8(ascii: ">")) {
            let declaration = String(decoding: bytes[..<end], as: UTF8.self).lowercased()
            if let range = declaration.range(of: "encoding") {
                let value = declaration[range.upperBound...].drop(while: { "= \"'".contains($0) })
                if transcodedEncodings.contains(where: { value.hasPrefix($0) }) { return data }
            }
        }
        return Data(String(decoding: bytes, as: UTF8.self).utf8)
    }

    /// XMLParserDelegate: an element starts.
    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        started(elementName, attributeDict)
        if shouldStop() { parser.abortParsing() }
    }

    /// XMLParserDelegate: an element ends.
    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?) {
        ended(elementName)
        if shouldStop() { parser.abortParsing() }
    }

    /// XMLParserDelegate: character data.
    func parser(_ parser: XMLParser, foundCharacters string: String) {
        characters(string)
        if shouldStop() { parser.abortParsing() }
    }

    /// XMLParserDelegate: CDATA, treated as character data.
    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        characters(String(decoding: CDATABlock, as: UTF8.self))
    }
}
