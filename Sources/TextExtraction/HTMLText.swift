internal import CLibXML2

/// Text of HTML through libxml2's forgiving HTML parser: text nodes with white space collapsed,
/// a line per block element, table cells separated by tabs; scripts and styles left out.
enum HTMLText {
    /// Elements whose content is not text a reader sees.
    private static let skipped: Set<String> = ["script", "style", "noscript", "template", "svg", "math", "object"]
    /// Elements that start and end a line.
    private static let blocks: Set<String> = [
        "p", "div", "br", "hr", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "title",
        "section", "article", "header", "footer", "nav", "aside", "main", "blockquote", "pre", "table", "tr",
        "caption", "form", "fieldset", "figure", "figcaption", "address", "body", "option",
    ]

    /// Appends the text of the HTML `content` to `buffer`; `charset` is libmagic's guess.
    static func extract(_ content: [UInt8], charset: String, into buffer: inout TextBuffer) {
        // libxml2 would otherwise take undeclared HTML for ISO-8859-1; magic has looked at all the bytes.
        let encoding: String? = switch charset {
        case "utf-8", "us-ascii": "UTF-8"
        case "iso-8859-1": "ISO-8859-1"
        default: nil
        }
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
            | HTML_PARSE_NONET.rawValue)
        let document = content.withUnsafeBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { chars in
                htmlReadMemory(chars.baseAddress, Int32(chars.count), nil, encoding, options)
            }
        }
        guard let document else { return }
        defer { xmlFreeDoc(document) }
        guard let root = xmlDocGetRootElement(document) else { return }
        walk(from: root, into: &buffer)
        buffer.endLine()
    }

    /// Visits the tree under `root` without recursion (hostile nesting cannot exhaust the stack).
    private static func walk(from root: xmlNodePtr, into buffer: inout TextBuffer) {
        var current = root
        descending: while !buffer.isCut {
            if enter(current, into: &buffer), let child = current.pointee.children {
                current = child
                continue
            }
            var node = current
            while true {
                leave(node, into: &buffer)
                if node == root { break descending }
                if let next = node.pointee.next {
                    current = next
                    continue descending
                }
                guard let parent = node.pointee.parent else { break descending }
                node = parent
            }
        }
    }

    /// Handles a node on the way down; returns whether to visit its children.
    private static func enter(_ node: xmlNodePtr, into buffer: inout TextBuffer) -> Bool {
        switch node.pointee.type {
        case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
            if let content = node.pointee.content {
                buffer.appendCollapsingWhitespace(String(cString: content))
            }
            return false
        case XML_ELEMENT_NODE:
            let name = elementName(node)
            if skipped.contains(name) { return false }
            if blocks.contains(name) { buffer.endLine() }
            return true
        default:
            return false
        }
    }

    /// Handles an element on the way up: blocks end their line, cells their cell.
    private static func leave(_ node: xmlNodePtr, into buffer: inout TextBuffer) {
        guard node.pointee.type == XML_ELEMENT_NODE else { return }
        let name = elementName(node)
        if name == "td" || name == "th" {
            buffer.endCell()
        } else if blocks.contains(name), !skipped.contains(name) {
            buffer.endLine()
        }
    }

    /// The element's lower-case name.
    private static func elementName(_ node: xmlNodePtr) -> String {
        guard let name = node.pointee.name else { return "" }
        return String(cString: name).lowercased()
    }
}
