import CryptoCore
import Testing

@Suite("AES-256-GCM")
struct AESGCMTests {
    // McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16 (256-bit key, with AAD).
    static let key16 = SymmetricKey(bytes: [UInt8](hex: "feffe9928665731c6d6a8f9467308308 feffe9928665731c6d6a8f9467308308"))
    static let nonce16 = [UInt8](hex: "cafebabefacedbaddecaf888")
    static let aad16 = [UInt8](hex: "feedfacedeadbeeffeedfacedeadbeef abaddad2")
    static let plaintext16 = [UInt8](hex: """
        d9313225f88406e5a55909c5aff5269a 86a7a9531534f7da2e4c303d8a318a72 \
        1c3c0c95956809532fcf0e2449a6b525 b16aedf5aa0de657ba637b39
        """)
    static let sealed16 = [UInt8](hex: """
        522dc1f099567d07f47f37a32a84427d 643a8cdcbfe5c0c97598a2bd2555d1aa \
        8cb08e48590dbb3da7b08b1056828838 c5f61e6393ba7a0abcc9f662 \
        76fc6ece0f4e1768cddf8853bb2d551b
        """)
    static let zeroKey = SymmetricKey(bytes: [UInt8](repeating: 0, count: 32))
    static let zeroNonce = [UInt8](repeating: 0, count: 12)

    @Test func gcmSpecTestCase16SealsToPublishedCiphertextAndTag() throws {
        let sealed = try AESGCM.seal(Self.plaintext16, key: Self.key16, nonce: Self.nonce16, authenticating: Self.aad16)
        #expect(sealed.hex == Self.sealed16.hex)
        let opened = try AESGCM.open(Self.sealed16, key: Self.key16, nonce: Self.nonce16, authenticating: Self.aad16)
        #expect(opened == Self.plaintext16)
    }

    @Test func gcmSpecTestCase13EmptyPlaintextIsJustTheTag() throws {
        let sealed = try AESGCM.seal([], key: Self.zeroKey, nonce: Self.zeroNonce, authenticating: [])
        #expect(sealed.hex == "530f8afbc74536b9a963b4f1c4cb738b")
        #expect(try AESGCM.open(sealed, key: Self.zeroKey, nonce: Self.zeroNonce, authenticating: []) == [])
    }

    @Test func gcmSpecTestCase14OneZeroBlock() throws {
        let plaintext = [UInt8](repeating: 0, count: 16)
        let sealed = try AESGCM.seal(plaintext, key: Self.zeroKey, nonce: Self.zeroNonce, authenticating: [])
        #expect(sealed.hex == "cea7403d4d606b6e074ec5d3baf39d18" + "d0d1c8a799996bf0265b98b5d48ab919")
        #expect(try AESGCM.open(sealed, key: Self.zeroKey, nonce: Self.zeroNonce, authenticating: []) == plaintext)
    }

    @Test func emptyPlaintextWithAADAuthenticatesTheAAD() throws {
        let sealed = try AESGCM.seal([], key: Self.key16, nonce: Self.nonce16, authenticating: Self.aad16)
        #expect(sealed.count == AESGCM.tagSize)
        #expect(try AESGCM.open(sealed, key: Self.key16, nonce: Self.nonce16, authenticating: Self.aad16) == [])
        #expect(throws: CryptoError.authenticationFailed) {
            try AESGCM.open(sealed, key: Self.key16, nonce: Self.nonce16, authenticating: [])
        }
    }

    @Test func rawBufferOverloadsMatchArrayOverloads() throws {
        let viaBuffer = try Self.plaintext16.withUnsafeBytes {
            try AESGCM.seal($0, key: Self.key16, nonce: Self.nonce16, authenticating: Self.aad16)
        }
        #expect(viaBuffer == Self.sealed16)
        let opened = try Self.sealed16.withUnsafeBytes {
            try AESGCM.open($0, key: Self.key16, nonce: Self.nonce16, authenticating: Self.aad16)
        }
        #expect(opened == Self.plaintext16)
    }

    enum Part: String, CaseIterable, Sendable { case ciphertext, tag, nonce, aad }

    @Test(arguments: Part.allCases, [0, 7, 3])
    func flippedBitFailsAuthentication(in part: Part, bit: Int) throws {
        var sealed = Self.sealed16, nonce = Self.nonce16, aad = Self.aad16
        switch part {
        case .ciphertext: sealed[5] ^= 1 << bit
        case .tag: sealed[sealed.count - 1] ^= 1 << bit
        case .nonce: nonce[11] ^= 1 << bit
        case .aad: aad[0] ^= 1 << bit
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try AESGCM.open(sealed, key: Self.key16, nonce: nonce, authenticating: aad)
        }
    }

    @Test func wrongKeyFailsAuthentication() throws {
        var wrong = Self.key16.bytes
        wrong[31] ^= 0x80
        #expect(throws: CryptoError.authenticationFailed) {
            try AESGCM.open(Self.sealed16, key: SymmetricKey(bytes: wrong), nonce: Self.nonce16, authenticating: Self.aad16)
        }
    }

    @Test func everyTruncationAndAnExtensionThrowInsteadOfTrapping() throws {
        for length in 0..<Self.sealed16.count {
            #expect(throws: CryptoError.authenticationFailed, "length \(length)") {
                try AESGCM.open(
                    Array(Self.sealed16.prefix(length)), key: Self.key16, nonce: Self.nonce16, authenticating: Self.aad16)
            }
        }
        #expect(throws: CryptoError.authenticationFailed) {
            try AESGCM.open(Self.sealed16 + [0], key: Self.key16, nonce: Self.nonce16, authenticating: Self.aad16)
        }
    }

    @Test(arguments: [0, 16, 31, 33, 64])
    func keyOtherThan32BytesIsRejected(length: Int) throws {
        let key = SymmetricKey(bytes: [UInt8](repeating: 1, count: length))
        let expected = CryptoError.invalidKeyLength(expected: 32, actual: length)
        #expect(throws: expected) { try AESGCM.seal([1, 2, 3], key: key, nonce: Self.nonce16, authenticating: []) }
        #expect(throws: expected) { try AESGCM.open(Self.sealed16, key: key, nonce: Self.nonce16, authenticating: []) }
    }

    @Test(arguments: [0, 8, 11, 13, 16])
    func nonceOtherThan12BytesIsRejected(length: Int) throws {
        let nonce = [UInt8](repeating: 1, count: length)
        let error = #expect(throws: CryptoError.self) {
            try AESGCM.seal([1, 2, 3], key: Self.key16, nonce: nonce, authenticating: [])
        }
        guard case .invalidInput = error else {
            Issue.record("expected invalidInput, got \(String(describing: error))")
            return
        }
        #expect(throws: CryptoError.self) { try AESGCM.open(Self.sealed16, key: Self.key16, nonce: nonce, authenticating: []) }
    }

    @Test func chunkSizedMessagesRoundTripConcurrently() async throws {
        let chunk = SecureRandom.bytes(64 * 1024)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let key = SymmetricKey.random()
                    for index in 0..<50 {
                        let nonce = SecureRandom.bytes(AESGCM.nonceSize)
                        let aad = [UInt8(index)]
                        let sealed = try AESGCM.seal(chunk, key: key, nonce: nonce, authenticating: aad)
                        #expect(sealed.count == chunk.count + AESGCM.tagSize)
                        #expect(try AESGCM.open(sealed, key: key, nonce: nonce, authenticating: aad) == chunk)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
