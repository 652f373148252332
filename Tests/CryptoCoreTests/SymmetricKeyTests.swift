import CryptoCore
import Testing

@Suite("Keys, randomness and constant-time comparison")
struct SymmetricKeyTests {
    @Test func printingAKeyNeverShowsItsBytes() {
        let key = SymmetricKey(bytes: [UInt8](repeating: 0xab, count: 32))
        #expect(key.description == "SymmetricKey(<redacted>, 32 bytes)")
        #expect(String(reflecting: key) == "SymmetricKey(<redacted>, 32 bytes)")
        #expect("\(key)" == "SymmetricKey(<redacted>, 32 bytes)")
        var dumped = ""
        dump(key, to: &dumped)
        #expect(!dumped.contains("171"), "dump leaked key bytes: \(dumped)")
    }

    @Test func randomKeysHaveTheRequestedLengthAndDiffer() {
        #expect(SymmetricKey.random().count == 32)
        #expect(SymmetricKey.random(byteCount: 16).count == 16)
        #expect(SymmetricKey.random() != SymmetricKey.random())
    }

    @Test func keyEqualityComparesBytes() {
        #expect(SymmetricKey(bytes: [1, 2, 3]) == SymmetricKey(bytes: [1, 2, 3]))
        #expect(SymmetricKey(bytes: [1, 2, 3]) != SymmetricKey(bytes: [1, 2, 4]))
        #expect(SymmetricKey(bytes: [1, 2, 3]) != SymmetricKey(bytes: [1, 2]))
    }

    @Test(arguments: [0, 1, 12, 33, 1 << 20])
    func secureRandomReturnsTheRequestedCount(count: Int) {
        #expect(SecureRandom.bytes(count).count == count)
    }

    @Test func secureRandomOutputDiffers() {
        #expect(SecureRandom.bytes(32) != SecureRandom.bytes(32))
    }

    @Test func constantTimeEqualsComparesContentAndLength() {
        #expect(constantTimeEquals([], []))
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([0x80, 2, 3], [0, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(!constantTimeEquals([], [0]))
    }

    @Test func errorDescriptionsNameTheProblem() {
        #expect(CryptoError.invalidKeyLength(expected: 32, actual: 16).description.contains("expected 32 bytes, got 16"))
        #expect(CryptoError.library("boom").description.contains("boom"))
        #expect(CryptoError.authenticationFailed.description.contains("wrong key or damaged data"))
    }
}
