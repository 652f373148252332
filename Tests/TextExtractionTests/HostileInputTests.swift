import Foundation
import Testing
import TextExtraction
import ZIPFoundation

/// Damaged, hostile and oversized input gives a note and never a crash.
@Suite struct HostileInputTests {
    @Test func truncatedWordDocument() throws {
        let whole = try Fixtures.bytes("letter.docx")
        let result = TextExtractor.extract(Array(whole.prefix(whole.count / 2)), name: Fixtures.name("letter.docx"))
        #expect(result.mime == "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        #expect(result.text == "")
        #expect(result.note == "damaged zip container")
    }

    @Test func entryOffsetPastTheEndIsAMissingPart() throws {
        // ZIPFoundation's memory-backed reader trapped on this (a seek past the end, then a read).
        var bytes = try Fixtures.bytes("letter.odt")
        let central: [UInt8] = [0x50, 0x4B, 0x01, 0x02]
        var start = 0
        while let found = bytes[start...].firstRange(of: central) {
            let nameLength = Int(bytes[found.lowerBound + 28])
            let nameStart = found.lowerBound + 46
            if Array(bytes[nameStart..<nameStart + nameLength]) == Array("content.xml".utf8) {
                bytes.replaceSubrange(found.lowerBound + 42..<found.lowerBound + 46, with: [0xF0, 0xFF, 0xFF, 0x7F])
            }
            start = found.upperBound
        }
        let result = TextExtractor.extract(bytes, name: Fixtures.name("letter.odt"))
        #expect(result.mime == "application/vnd.oasis.opendocument.text")
        #expect(result.text == "")
        #expect(result.note == "damaged container: no content.xml")
    }

    /// Mutated fixtures (found by fuzzing) with a deflate stream that runs to the end of the file: ZIPFoundation's
    /// own `extract` spun on them forever.
    @Test(.timeLimit(.minutes(1)), arguments: ["unterminated-deflate.xlsx", "unterminated-deflate.odt"])
    func unterminatedDeflateStreamIsDamaged(file: String) throws {
        let started = ContinuousClock.now
        let result = TextExtractor.extract(try Fixtures.bytes(file), name: Fixtures.name(file))
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(result.note?.contains("damaged") == true)
    }

    @Test func zipBombStopsAt64MiB() throws {
        let bomb = try Self.zipBomb(declaredHonestly: true)
        #expect(bomb.count < 1 << 20)
        let result = TextExtractor.extract(bomb, name: Fixtures.name("bomb.odt"))
        #expect(result.mime == "application/vnd.oasis.opendocument.text")
        #expect(result.text == "")
        #expect(result.note == "zip container inflates past 64 MiB")
    }

    @Test func zipBombWithLyingSizesStopsWhileInflating() throws {
        let bomb = try Self.zipBomb(declaredHonestly: false)
        let result = TextExtractor.extract(bomb, name: Fixtures.name("bomb.odt"))
        #expect(result.text == "")
        #expect(result.note == "zip container inflates past 64 MiB")
    }

    @Test func randomBytes() {
        var generator = SeededGenerator(seed: 42)
        let noise = (0..<65_536).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let result = TextExtractor.extract(noise, name: Fixtures.name("noise"))
        #expect(result.mime == "application/octet-stream")
        #expect(result.text == "")
        #expect(result.note == "unsupported type")
    }

    @Test func emptyFile() {
        let result = TextExtractor.extract([], name: Fixtures.name("empty.txt"))
        #expect(result.mime == "application/x-empty")
        #expect(result.text == "")
        #expect(result.note == "empty file")
    }

    @Test func latin1Text() {
        let latin1 = Array("Grüße aus Köln, schöne Straße, ça va. Déjà vu, naïve façade.\n".data(using: .isoLatin1)!)
        let result = TextExtractor.extract(latin1, name: Fixtures.name("old.txt"))
        #expect(result.mime == "text/plain")
        #expect(result.text == "Grüße aus Köln, schöne Straße, ça va. Déjà vu, naïve façade.")
        #expect(result.note == "decoded as Latin-1")
    }

    @Test func brokenUTF8IsReplacedNotFatal() {
        var bytes = Array("valid start ".utf8)
        bytes += [0xC3, 0x28, 0xA0, 0xA1, 0xE2, 0x28, 0xA1]
        bytes += Array(" valid end\n".utf8)
        let result = TextExtractor.extract(bytes, name: Fixtures.name("odd.txt"))
        #expect(result.mime.hasPrefix("text/"))
        #expect(result.text.hasPrefix("valid start "))
        #expect(result.text.hasSuffix(" valid end"))
        #expect(result.note != nil)
    }

    @Test func invalidUTF8InAnXMLElementName() {
        // Foundation's XMLParser trapped on this name (libxml2 hands it on unchecked).
        let xml: [UInt8] = Array(#"<?xml version="1.0"?><root><p"#.utf8) + [0xDA, 0x28] + Array(">kelpie</p".utf8)
            + [0xDA, 0x28] + Array("></root>".utf8)
        let result = TextExtractor.extract(xml, name: Fixtures.name("odd.xml"))
        #expect(result.mime == "text/xml")
        #expect(result.note?.hasPrefix("damaged XML") == true)
    }

    @Test func invalidUTF8InAnXMLElementNameUnderADamagedDeclaration() {
        let xml: [UInt8] = Array(#"<?xml version="1.0" encoding="UTF"#.utf8) + [0xF4] + Array(#"8"?><root><p"#.utf8)
            + [0xDA, 0x28] + Array(">kelpie</p></root>".utf8)
        let result = TextExtractor.extract(xml, name: Fixtures.name("odd.xml"))
        #expect(result.note != nil)
    }

    @Test func latin1XMLIsTranscodedByItsDeclaration() {
        let xml = Array(#"<?xml version="1.0" encoding="ISO-8859-1"?><root><p>caf"#.utf8) + [0xE9] + Array("</p></root>".utf8)
        let result = TextExtractor.extract(xml, name: Fixtures.name("old.xml"))
        #expect(result.text == "café")
        #expect(result.note == nil)
    }

    @Test func damagedPDF() throws {
        var generator = SeededGenerator(seed: 7)
        let bytes = Array("%PDF-1.7\n".utf8) + (0..<4_096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let result = TextExtractor.extract(bytes, name: Fixtures.name("broken.pdf"))
        #expect(result.mime == "application/pdf")
        #expect(result.text == "")
        #expect(result.note?.hasPrefix("damaged PDF") == true)
    }

    @Test func passwordProtectedPDF() throws {
        let result = TextExtractor.extract(try Fixtures.bytes("encrypted.pdf"), name: Fixtures.name("encrypted.pdf"))
        #expect(result == ExtractedText(mime: "application/pdf", text: "", note: "encrypted PDF"))
    }

    @Test func truncatedPDFDoesNotCrash() throws {
        let whole = try Fixtures.bytes("letter.pdf")
        let result = TextExtractor.extract(Array(whole.prefix(whole.count / 3)), name: Fixtures.name("letter.pdf"))
        #expect(result.mime == "application/pdf")
    }

    @Test func garbageNamedPDFIsTakenForADamagedPDF() {
        var generator = SeededGenerator(seed: 9)
        let noise = (0..<4_096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let result = TextExtractor.extract(noise, name: Fixtures.name("dir/Report.PDF"))
        #expect(result.mime == "application/pdf")
        #expect(result.note?.hasPrefix("damaged PDF") == true)
    }

    @Test func textIsCutOnACharacterBoundaryAt4MiB() {
        // 1 byte, then 2-byte characters: 4 MiB falls in the middle of one.
        let bytes = Array(("x" + String(repeating: "é", count: 3 << 20)).utf8)
        let result = TextExtractor.extract(bytes, name: Fixtures.name("long.txt"))
        #expect(result.text.utf8.count == (4 << 20) - 1)
        #expect(result.text.hasSuffix("é"))
        #expect(result.note == "text cut at 4 MiB")
    }

    @Test func over64MiBGetsATypeOnly() {
        let bytes = Array(repeating: UInt8(ascii: "a"), count: (64 << 20) + 1)
        let result = TextExtractor.extract(bytes, name: Fixtures.name("huge.txt"))
        #expect(result.mime == "text/plain")
        #expect(result.text == "")
        #expect(result.note == "too large to index")
    }

    @Test func wordDocumentThatMagicCallsZipIsRefinedByItsContents() throws {
        let archive = try Archive(data: Data(), accessMode: .create)
        let body = #"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>"#
            + #"<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>kookaburra</w:t><w:tab/><w:t>laughs</w:t></w:r></w:p>"#
            + #"<w:p><w:r><w:t>second line</w:t></w:r></w:p></w:body></w:document>"#
        for (path, text) in [("word/document.xml", body), ("[Content_Types].xml", "<Types/>")] {
            let data = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) {
                position, size in data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        let result = TextExtractor.extract([UInt8](archive.data!), name: Fixtures.name("no-extension"))
        #expect(result.mime == "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        #expect(result.text == "kookaburra\tlaughs\nsecond line")
        #expect(result.note == nil)
    }

    /// An ODF text whose content.xml is 200 MiB of spaces deflated to a few hundred KiB. With
    /// `declaredHonestly` false, its headers claim 1,000 bytes.
    static func zipBomb(declaredHonestly: Bool) throws -> [UInt8] {
        let archive = try Archive(data: Data(), accessMode: .create)
        let mimetype = Data("application/vnd.oasis.opendocument.text".utf8)
        try archive.addEntry(with: "mimetype", type: .file, uncompressedSize: Int64(mimetype.count)) { position, size in
            mimetype.subdata(in: Int(position)..<Int(position) + size)
        }
        let spaces = Data(repeating: 0x20, count: 1 << 20)
        try archive.addEntry(with: "content.xml", type: .file, uncompressedSize: Int64(200 << 20), compressionMethod: .deflate,
                             bufferSize: 1 << 20) { (_: Int64, size: Int) in
            spaces.prefix(size)
        }
        var bytes = [UInt8](archive.data!)
        if !declaredHonestly {
            // Local header: size at 22; central directory header: size at 24 (both u32 little-endian).
            for (signature, offset) in [([0x50, 0x4B, 0x03, 0x04] as [UInt8], 22), ([0x50, 0x4B, 0x01, 0x02], 24)] {
                var start = 0
                while let found = bytes[start...].firstRange(of: signature) {
                    let nameLength = Int(bytes[found.lowerBound + (offset == 22 ? 26 : 28)])
                    let nameStart = found.lowerBound + (offset == 22 ? 30 : 46)
                    if Array(bytes[nameStart..<nameStart + nameLength]) == Array("content.xml".utf8) {
                        bytes.replaceSubrange(found.lowerBound + offset..<found.lowerBound + offset + 4, with: [0xE8, 0x03, 0, 0])
                    }
                    start = found.upperBound
                }
            }
        }
        return bytes
    }
}

/// A small deterministic random number generator (SplitMix64), so that "random" inputs are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    /// The state.
    private var state: UInt64

    /// A generator starting from `seed`.
    init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
