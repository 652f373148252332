import Foundation
import FoundationXML

/// An S3 response body reduced to what the client reads: the root element's name, the text of the
/// root's leaf children, and one dictionary per repeated record element (ListObjectsV2's `Contents`).
struct S3XML {
    var root: String?
    /// Text of the root's direct leaf children: `Code`, `Message`, `UploadId`, `IsTruncated`, ...
    var fields: [String: String] = [:]
    /// For each `record` element, the text of its leaf children.
    var records: [[String: String]] = []

    /// Parses `body`; nil when it is not well-formed XML.
    init?(_ body: [UInt8], record: String? = nil) {
        let scanner = Scanner(record: record)
        let parser = XMLParser(data: Data(body))
        parser.delegate = scanner
        guard parser.parse() else { return nil }
        root = scanner.root
        fields = scanner.fields
        records = scanner.records
    }

    /// S3's error document's Code and Message, when `body` is one.
    static func error(in body: [UInt8]) -> (code: String, message: String)? {
        guard let xml = S3XML(body), xml.root == "Error" else { return nil }
        return (xml.fields["Code"] ?? "", xml.fields["Message"] ?? "")
    }

    /// Escapes text for an element's content.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// The XMLParser delegate that fills an `S3XML`; used for one parse only.
    private final class Scanner: NSObject, XMLParserDelegate {
        let record: String?
        var root: String?
        var fields: [String: String] = [:]
        var records: [[String: String]] = []
        private var path: [String] = []
        private var text = ""
        private var current: [String: String]?

        init(record: String?) {
            self.record = record
        }

        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            if path.isEmpty { root = name }
            if name == record, path.count == 1 { current = [:] }
            path.append(name)
            text = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            text += string
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            path.removeLast()
            if name == record, path.count == 1, let finished = current {
                records.append(finished)
                current = nil
            } else if path.count == 2, current != nil {
                current?[name] = text
            } else if path.count == 1 {
                fields[name] = text
            }
            text = ""
        }
    }
}
