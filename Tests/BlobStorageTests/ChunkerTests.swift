import BlobStorage
import Foundation
import Testing

/// SplitMix64: reproducible pseudo-random bytes and gear tables without depending on CryptoCore.
private struct SeededBytes {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func nextWord() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var offset = 0
            while offset < count {
                var word = nextWord()
                for _ in 0..<Swift.min(8, count - offset) {
                    buffer[offset] = UInt8(truncatingIfNeeded: word)
                    word >>= 8
                    offset += 1
                }
            }
            initialized = count
        }
    }
}

private func gearTable(seed: UInt64) -> GearTable {
    var random = SeededBytes(seed: seed)
    return GearTable(values: (0..<256).map { _ in random.nextWord() })!
}

private func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var random = SeededBytes(seed: seed)
    return random.bytes(count)
}

/// The chunk lengths chunkLength gives over the whole of `data`.
private func chunkLengths(of data: [UInt8], with chunker: Chunker) -> [Int] {
    data.withUnsafeBytes { all in
        var lengths: [Int] = []
        var offset = 0
        while offset < all.count {
            let length = chunker.chunkLength(in: UnsafeRawBufferPointer(rebasing: all[offset...]))
            lengths.append(length)
            offset += length
        }
        return lengths
    }
}

/// The chunks of `data` as byte arrays.
private func chunks(of data: [UInt8], with chunker: Chunker) -> [[UInt8]] {
    var offset = 0
    return chunkLengths(of: data, with: chunker).map { length in
        defer { offset += length }
        return Array(data[offset..<(offset + length)])
    }
}

private let defaultChunker = Chunker(parameters: .default, gear: gearTable(seed: 1))

@Suite struct ChunkerParametersTests {
    @Test func defaultsAreTheDocumentedSizesAndValid() throws {
        let parameters = ChunkerParameters.default
        #expect(parameters == ChunkerParameters(minSize: 8_192, averageSize: 32_768, maxSize: 131_072))
        #expect(parameters.normalizationLevel == 2)
        try parameters.validate()
    }

    @Test(arguments: [
        ChunkerParameters(minSize: 32, averageSize: 128, maxSize: 512),
        ChunkerParameters(minSize: 4096, averageSize: 4096, maxSize: 16_384),
        ChunkerParameters(minSize: 1024, averageSize: 8192, maxSize: 8192),
        ChunkerParameters(minSize: 1024, averageSize: 6000, maxSize: 16_384),
        ChunkerParameters(minSize: 1 << 20, averageSize: 8 << 20, maxSize: 32 << 20),
        ChunkerParameters(minSize: 1024, averageSize: 4096, maxSize: 16_384, normalizationLevel: 4),
        ChunkerParameters(minSize: 1024, averageSize: 4096, maxSize: 16_384, normalizationLevel: -1),
    ])
    func invalidParametersAreRejected(_ parameters: ChunkerParameters) {
        #expect(throws: ChunkerError.self) {
            try parameters.validate()
        }
    }

    @Test func parametersSurviveAJSONRoundTripThroughTheirCodableForm() throws {
        let parameters = ChunkerParameters(minSize: 2048, averageSize: 8192, maxSize: 65_536, normalizationLevel: 1)
        let encoded = try JSONEncoder().encode(parameters)
        #expect(try JSONDecoder().decode(ChunkerParameters.self, from: encoded) == parameters)
    }

    @Test func gearTableReadsLittleEndianWordsAndRejectsWrongLengths() throws {
        var bytes = [UInt8](repeating: 0, count: 2048)
        bytes[0] = 0x01
        bytes[7] = 0x80
        bytes[2040] = 0xFF
        let table = try #require(GearTable(bytes: bytes))
        #expect(table.values.count == 256)
        #expect(table.values[0] == 0x8000_0000_0000_0001)
        #expect(table.values[255] == 0xFF)
        #expect(GearTable(bytes: Array(bytes.dropLast())) == nil)
        #expect(GearTable(values: [UInt64](repeating: 1, count: 255)) == nil)
    }
}

@Suite struct ChunkerTests {
    @Test func sameInputAndGearGiveSameBoundariesAndAnotherGearGivesOthers() {
        let data = randomBytes(4 << 20, seed: 7)
        let first = chunkLengths(of: data, with: defaultChunker)
        let again = chunkLengths(of: data, with: Chunker(parameters: .default, gear: gearTable(seed: 1)))
        let otherGear = chunkLengths(of: data, with: Chunker(parameters: .default, gear: gearTable(seed: 2)))
        #expect(first == again)
        #expect(first != otherGear)
        // Not merely shifted a little: almost no boundary positions coincide.
        let firstEnds = Set(first.reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1) }.dropLast())
        let otherEnds = Set(otherGear.reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1) }.dropLast())
        #expect(firstEnds.intersection(otherEnds).count < firstEnds.count / 4)
    }

    @Test func chunksStayWithinBoundsReassembleAndAverageNearTheTarget() {
        let data = randomBytes(32 << 20, seed: 3)
        let parameters = ChunkerParameters.default
        let lengths = chunkLengths(of: data, with: defaultChunker)
        for length in lengths.dropLast() {
            #expect(length > parameters.minSize && length <= parameters.maxSize)
        }
        #expect(lengths.last! <= parameters.maxSize)
        let reassembled = chunks(of: data, with: defaultChunker).flatMap { $0 } == data
        #expect(reassembled, "chunks do not concatenate to the input")
        let mean = Double(data.count) / Double(lengths.count)
        let average = Double(parameters.averageSize)
        #expect(mean >= average * 0.75 && mean <= average * 1.25, "mean chunk size \(mean)")
    }

    /// Covers masks of 4 to 19 bits. Level 0 at 128 B is left out: a 64 B minimum is half that average.
    @Test(arguments: [(128, 3), (1024, 0), (4096, 1), (4096, 3), (65_536, 0), (65_536, 3)])
    func meanChunkSizeTracksTheAverageAtEveryNormalizationLevel(average: Int, level: Int) {
        let parameters = ChunkerParameters(
            minSize: max(64, average / 8), averageSize: average, maxSize: average * 4, normalizationLevel: level)
        let chunker = Chunker(parameters: parameters, gear: gearTable(seed: 5))
        let data = randomBytes(average * 1000, seed: UInt64(average + level))
        let lengths = chunkLengths(of: data, with: chunker)
        let mean = Double(data.count) / Double(lengths.count)
        #expect(mean >= Double(average) * 0.75 && mean <= Double(average) * 1.25, "mean chunk size \(mean)")
    }

    @Test(arguments: [128, 1 << 10, 1 << 16, 1 << 20, 8 << 20])
    func everyValidAverageAndLevelGivesAWorkingChunker(average: Int) {
        let data = randomBytes(1 << 16, seed: 11)
        for level in ChunkerParameters.normalizationLevels {
            let parameters = ChunkerParameters(
                minSize: 64, averageSize: average, maxSize: average * 2, normalizationLevel: level)
            let chunker = Chunker(parameters: parameters, gear: gearTable(seed: 5))
            let reassembled = chunks(of: data, with: chunker).flatMap { $0 } == data
            #expect(reassembled, "average \(average), level \(level)")
        }
    }

    enum Edit: CaseIterable, Sendable { case insertOneByte, deleteOneByte, overwriteTenBytes }

    @Test(arguments: Edit.allCases)
    func boundariesResynchronizeAfterAnEditInTheMiddle(_ edit: Edit) {
        let original = randomBytes(16 << 20, seed: 9)
        var edited = original
        let middle = original.count / 2
        switch edit {
        case .insertOneByte: edited.insert(0x5A, at: middle)
        case .deleteOneByte: edited.remove(at: middle)
        case .overwriteTenBytes: edited.replaceSubrange(middle..<(middle + 10), with: randomBytes(10, seed: 10))
        }
        let known = Set(chunks(of: original, with: defaultChunker))
        let editedChunks = chunks(of: edited, with: defaultChunker)
        let new = editedChunks.filter { !known.contains($0) }
        #expect(new.count >= 1 && new.count <= 3, "\(new.count) of \(editedChunks.count) chunks are new")
    }

    /// FastCDC one byte at a time, straight from the paper, with the masks of the repository format.
    private func referenceLengths(of data: [UInt8], _ parameters: ChunkerParameters, _ gear: GearTable) -> [Int] {
        let masks: [Int: UInt64] = [
            4: 0x0000_0000_0180_4100, 10: 0x0000_5900_0353_0000, 11: 0x0000_d900_0353_0000,
            13: 0x0000_d903_0353_0000, 14: 0x0000_d903_1353_0000, 17: 0x0000_d907_0353_7000,
            18: 0x0000_d907_0753_7000,
        ]
        let bits = parameters.averageSize.trailingZeroBitCount
        let strict = masks[bits + parameters.normalizationLevel]!
        let loose = masks[bits - parameters.normalizationLevel]!
        var lengths: [Int] = []
        var start = 0
        while start < data.count {
            let end = min(data.count, start + parameters.maxSize)
            var cut = end
            var hash: UInt64 = 0
            var index = start + parameters.minSize
            while index < end {
                hash = (hash &<< 1) &+ gear.values[Int(data[index])]
                index += 1
                if hash & (index - start <= parameters.averageSize ? strict : loose) == 0 {
                    cut = index
                    break
                }
            }
            lengths.append(cut - start)
            start = cut
        }
        return lengths
    }

    @Test(arguments: [
        ChunkerParameters.default,
        ChunkerParameters(minSize: 64, averageSize: 128, maxSize: 1000, normalizationLevel: 3),
        ChunkerParameters(minSize: 1001, averageSize: 4096, maxSize: 12_345, normalizationLevel: 1),
    ])
    func cutPointsMatchOneByteAtATimeFastCDC(_ parameters: ChunkerParameters) {
        let gear = gearTable(seed: 21)
        let chunker = Chunker(parameters: parameters, gear: gear)
        // Odd total length, so that the final chunk ends on an odd offset.
        let data = randomBytes(parameters.maxSize * 40 + 1, seed: 22)
        let expected = referenceLengths(of: data, parameters, gear)
        #expect(chunkLengths(of: data, with: chunker) == expected)
        #expect(Set(expected.map { $0 % 2 }) == [0, 1])
    }

    /// Boundaries are part of the repository format: these must never change.
    @Test func boundariesForAFixedGearAndInputAreFrozen() {
        let parameters = ChunkerParameters(minSize: 256, averageSize: 1024, maxSize: 4096)
        let chunker = Chunker(parameters: parameters, gear: gearTable(seed: 31))
        let lengths = chunkLengths(of: randomBytes(16_384, seed: 32), with: chunker)
        #expect(lengths == [1072, 1229, 1043, 1306, 1269, 1291, 1182, 2791, 1135, 588, 1138, 1170, 1170])
    }

    @Test func inputAtOrBelowTheMinimumIsOneChunk() {
        let data = randomBytes(ChunkerParameters.default.minSize, seed: 4)
        data.withUnsafeBytes { bytes in
            #expect(defaultChunker.chunkLength(in: bytes) == bytes.count)
            #expect(defaultChunker.chunkLength(in: UnsafeRawBufferPointer(rebasing: bytes.prefix(100))) == 100)
            #expect(defaultChunker.chunkLength(in: UnsafeRawBufferPointer(start: nil, count: 0)) == 0)
        }
    }
}

@Suite struct ChunkStreamTests {
    /// A read closure that serves `data` in pieces of at most `piece` bytes.
    private func stream(of data: [UInt8], piece: Int, chunker: Chunker = defaultChunker) -> ChunkStream {
        var offset = 0
        return ChunkStream(chunker: chunker) { buffer in
            let count = min(piece, buffer.count, data.count - offset)
            data.withUnsafeBytes { source in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + count)]))
            }
            offset += count
            return count
        }
    }

    private func allChunks(_ stream: inout ChunkStream) throws -> [[UInt8]] {
        var result: [[UInt8]] = []
        while let chunk = try stream.next({ Array($0) }) {
            result.append(chunk)
        }
        return result
    }

    @Test(arguments: [1, 7, 100_000, Int.max])
    func oddSizedReadsGiveTheSameChunksAsTheWholeBuffer(piece: Int) throws {
        let data = randomBytes(3 << 20, seed: 12)
        var chunkStream = stream(of: data, piece: piece)
        let streamed = try allChunks(&chunkStream)
        let expected = chunks(of: data, with: defaultChunker)
        #expect(streamed.map(\.count) == expected.map(\.count))
        let sameContent = streamed == expected
        #expect(sameContent, "chunk contents differ")
        #expect(try chunkStream.next { $0.count } == nil)
    }

    @Test func emptyInputGivesNoChunks() throws {
        var chunkStream = stream(of: [], piece: 100)
        #expect(try allChunks(&chunkStream).isEmpty)
    }

    @Test func inputShorterThanTheMinimumGivesOneChunk() throws {
        let data = randomBytes(1000, seed: 13)
        var chunkStream = stream(of: data, piece: 7)
        #expect(try allChunks(&chunkStream) == [data])
    }

    @Test func readErrorsReachTheCaller() throws {
        struct Unreadable: Error {}
        var served = 0
        var chunkStream = ChunkStream(chunker: defaultChunker) { buffer in
            guard served < 1 << 20 else { throw Unreadable() }
            let count = min(buffer.count, 1 << 20 - served)
            buffer.initializeMemory(as: UInt8.self, repeating: 0x41)
            served += count
            return count
        }
        #expect(throws: Unreadable.self) {
            _ = try allChunks(&chunkStream)
        }
    }
}
