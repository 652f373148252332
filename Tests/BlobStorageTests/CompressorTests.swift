import BlobStorage
import Testing

/// Text-like data: lines of words from a small vocabulary, as documents and source files are.
private func sampleText(byteCount: Int) -> [UInt8] {
    let words = ["the", "chunk", "store", "keeps", "every", "version", "of", "a", "document", "and",
                 "dedupes", "repeated", "content", "across", "files", "nexusfs", "mounts", "it", "as", "drive"]
    var text: [UInt8] = []
    text.reserveCapacity(byteCount + 16)
    var state: UInt32 = 2_463_534_242
    while text.count < byteCount {
        // xorshift32 picks words, so the text is not one short repeated period.
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        text += Array(words[Int(state % UInt32(words.count))].utf8)
        text.append(state % 11 == 0 ? 0x0A : 0x20)
    }
    return Array(text.prefix(byteCount))
}

private func noise(byteCount: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<byteCount).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
}

private func isCorrupt(_ error: any Error) -> Bool {
    guard case CompressionError.corrupt(let message) = error else { return false }
    return !message.isEmpty
}

@Suite struct CompressorTests {
    @Test func textCompressesAndRoundTrips() throws {
        let compressor = Compressor()
        let text = sampleText(byteCount: 64 << 10)
        let compressed = try #require(text.withUnsafeBytes { compressor.compress($0) })
        #expect(compressed.count * 3 < text.count)
        let restored = try compressed.withUnsafeBytes { try compressor.decompress($0, rawLength: text.count) }
        let intact = restored == text
        #expect(intact, "round trip changed the text")
    }

    @Test(arguments: [1, 100, 64 << 10])
    func randomDataIsNotWorthCompressing(byteCount: Int) {
        let data = noise(byteCount: byteCount, seed: UInt64(byteCount))
        #expect(data.withUnsafeBytes { Compressor().compress($0) } == nil)
    }

    @Test func emptyInputIsStoredRawAndIsNotAFrame() {
        let compressor = Compressor()
        #expect(compressor.compress(UnsafeRawBufferPointer(start: nil, count: 0)) == nil)
        #expect(throws: CompressionError.self) {
            try compressor.decompress(UnsafeRawBufferPointer(start: nil, count: 0), rawLength: 0)
        }
    }

    @Test func wrongRawLengthThrows() throws {
        let compressor = Compressor()
        let text = sampleText(byteCount: 10_000)
        let compressed = try #require(text.withUnsafeBytes { compressor.compress($0) })
        for rawLength in [0, text.count - 1, text.count + 1, -1, Int.max] {
            #expect(throws: CompressionError.self, "rawLength \(rawLength)") {
                try compressed.withUnsafeBytes { _ = try compressor.decompress($0, rawLength: rawLength) }
            }
        }
    }

    @Test func garbageAndTruncatedFramesThrow() throws {
        let compressor = Compressor()
        let text = sampleText(byteCount: 10_000)
        let compressed = try #require(text.withUnsafeBytes { compressor.compress($0) })
        let bad = [noise(byteCount: 300, seed: 1), [0x28, 0xB5, 0x2F, 0xFD], Array(compressed.prefix(compressed.count / 2)),
                   Array(compressed.dropLast()), compressed + [0]]
        for data in bad {
            #expect(throws: CompressionError.self, "\(data.count) bytes") {
                try data.withUnsafeBytes { _ = try compressor.decompress($0, rawLength: text.count) }
            }
        }
    }

    /// Every single-byte change of a frame either throws or, if it only touched bits zstd ignores,
    /// still gives back the original: damaged data never decodes to wrong content, never traps.
    @Test func damagedFramesNeverDecodeToWrongContent() throws {
        let compressor = Compressor()
        let text = sampleText(byteCount: 4000)
        let compressed = try #require(text.withUnsafeBytes { compressor.compress($0) })
        var thrown = 0
        for index in compressed.indices {
            for flip: UInt8 in [0x01, 0x80, 0xFF] {
                var damaged = compressed
                damaged[index] ^= flip
                do {
                    let restored = try damaged.withUnsafeBytes { try compressor.decompress($0, rawLength: text.count) }
                    let intact = restored == text
                    #expect(intact, "byte \(index) ^ \(flip) decoded to other content")
                } catch {
                    #expect(isCorrupt(error))
                    thrown += 1
                }
            }
        }
        #expect(thrown > compressed.count * 2)
        // The instance still works after all those failures.
        let restored = try compressed.withUnsafeBytes { try compressor.decompress($0, rawLength: text.count) }
        let intact = restored == text
        #expect(intact, "round trip changed the text")
    }

    @Test func oneInstanceServesManyCalls() throws {
        let compressor = Compressor(level: 1)
        for round in 0..<200 {
            let text = sampleText(byteCount: 1000 + round * 97)
            let compressed = try #require(text.withUnsafeBytes { compressor.compress($0) })
            let restored = try compressed.withUnsafeBytes { try compressor.decompress($0, rawLength: text.count) }
            let intact = restored == text
            #expect(intact, "round \(round) changed the text")
        }
    }
}
