import Testing
import TextExtraction

/// Each supported format, from real files LibreOffice made, yields its words and the right MIME type.
@Suite struct FormatTests {
    /// Extracts the fixture `file`.
    private func extract(_ file: String) throws -> ExtractedText {
        TextExtractor.extract(try Fixtures.bytes(file), name: Fixtures.name(file))
    }

    @Test func openDocumentText() throws {
        let result = try extract("letter.odt")
        #expect(result.mime == "application/vnd.oasis.opendocument.text")
        #expect(result.note == nil)
        #expect(result.text.contains("The quokka lives on Rottnest island."))
        #expect(result.text.contains("Zürich café naïve"))
        #expect(result.text.contains("alpha\tbeta\ngamma\tdelta"))
        #expect(result.text.split(separator: "\n").contains("Quokka report"))
    }

    @Test func openDocumentSpreadsheet() throws {
        let result = try extract("sheet.ods")
        #expect(result.mime == "application/vnd.oasis.opendocument.spreadsheet")
        #expect(result.note == nil)
        #expect(result.text.hasPrefix("Fruit\tCount\nmango\t42\npapaya\t7.5"))
    }

    @Test func openDocumentPresentation() throws {
        let result = try extract("deck.odp")
        #expect(result.mime == "application/vnd.oasis.opendocument.presentation")
        #expect(result.text.contains("First slide wombat\nSecond slide platypus"))
    }

    @Test func wordDocument() throws {
        let result = try extract("letter.docx")
        #expect(result.mime == "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        #expect(result.note == nil)
        #expect(result.text.contains("The quokka lives on Rottnest island."))
        #expect(result.text.contains("Zürich café naïve"))
        #expect(result.text.contains("alpha\tbeta\ngamma\tdelta"))
    }

    @Test func excelWorkbook() throws {
        let result = try extract("sheet.xlsx")
        #expect(result.mime == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        #expect(result.note == nil)
        #expect(result.text == "Fruit\tCount\nmango\t42\npapaya\t7.5")
    }

    @Test func powerPointSlidesInOrder() throws {
        let result = try extract("deck.pptx")
        #expect(result.mime == "application/vnd.openxmlformats-officedocument.presentationml.presentation")
        #expect(result.note == nil)
        #expect(result.text.contains("First slide wombat\nSecond slide platypus"))
    }

    @Test func pdf() throws {
        let result = try extract("letter.pdf")
        #expect(result.mime == "application/pdf")
        #expect(result.note == nil)
        #expect(result.text.contains("Rottnest island"))
        #expect(result.text.contains("Zürich café naïve"))
    }

    @Test func htmlWithoutMarkup() throws {
        let result = try extract("letter.html")
        #expect(result.mime == "text/html")
        #expect(result.note == nil)
        #expect(result.text.contains("The quokka lives on Rottnest island."))
        #expect(result.text.contains("alpha\tbeta\ngamma\tdelta"))
        #expect(!result.text.contains("<"))
        #expect(!result.text.contains("charset"))
    }

    @Test func htmlScriptsAndStylesAreNotText() {
        let page = "<html><head><style>body { color: red }</style><script>var secret = 1;</script></head>"
            + "<body><p>visible   words\n here</p><p>second</p></body></html>"
        let result = TextExtractor.extract(Array(page.utf8), name: Fixtures.name("page.html"))
        #expect(result.mime == "text/html")
        #expect(result.text == "visible words here\nsecond")
    }

    @Test func xmlTextContent() throws {
        let result = try extract("deck.fodp")
        #expect(result.mime == "text/xml")
        #expect(result.text == "First slide wombat\nSecond slide platypus")
    }

    @Test func csvAsPlainText() throws {
        let result = try extract("sheet.csv")
        #expect(result.mime == "text/csv")
        #expect(result.text == "Fruit,Count\nmango,42\npapaya,7.5")
        #expect(result.note == nil)
    }

    @Test func utf8TextWithCRLF() {
        let result = TextExtractor.extract(Array("Grüße\r\naus Köln\r\n".utf8), name: Fixtures.name("a.txt"))
        #expect(result.mime == "text/plain")
        #expect(result.text == "Grüße\naus Köln")
        #expect(result.note == nil)
    }

    @Test func jsonIsText() {
        let result = TextExtractor.extract(Array(#"{"animal": "echidna", "count": 3}"#.utf8), name: Fixtures.name("a.json"))
        #expect(result.mime == "application/json")
        #expect(result.text.contains("echidna"))
    }
}
