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
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = self
        let finished = parser.parse()
        if !finished && !shouldStop() { throw .damagedXML(part: part) }
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
