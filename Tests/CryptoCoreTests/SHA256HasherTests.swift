import CryptoCore
import Testing

@Suite("SHA-256")
struct SHA256HasherTests {
    // FIPS 180-2 appendix B.1 and the empty-string digest.
    @Test func abcAndEmptyStringMatchPublishedDigests() {
        #expect(SHA256Hasher.hash("abc".bytes).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256Hasher.hash([]).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var hasher = SHA256Hasher()
        #expect(hasher.finalize().hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    // FIPS 180-2 appendix B.3: one million "a", fed in pieces that straddle the 64-byte block size.
    @Test func millionAFedIncrementallyMatchesPublishedDigest() {
        let block = [UInt8](repeating: UInt8(ascii: "a"), count: 4096)
        var hasher = SHA256Hasher()
        var remaining = 1_000_000
        var pieceSizes = [1, 63, 64, 65, 127, 4096, 0, 1000].makeIterator()
        while remaining > 0 {
            let size = min(pieceSizes.next() ?? 4096, remaining)
            hasher.update(Array(block.prefix(size)))
            remaining -= size
        }
        #expect(hasher.finalize().hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func incrementalEqualsOneShotOnOneMegabyteSplitUnevenly() {
        let data = SecureRandom.bytes(1 << 20)
        var hasher = SHA256Hasher()
        var offset = 0
        var size = 1
        while offset < data.count {
            let end = min(offset + size, data.count)
            data[offset..<end].withUnsafeBytes { hasher.update($0) }
            offset = end
            size = size * 3 + 7
        }
        #expect(hasher.finalize() == SHA256Hasher.hash(data))
    }

    @Test func copiesContinueIndependently() {
        var original = SHA256Hasher()
        original.update("ab".bytes)
        var copy = original
        copy.update("x".bytes)
        original.update("c".bytes)
        #expect(original.finalize() == SHA256Hasher.hash("abc".bytes))
        #expect(copy.finalize() == SHA256Hasher.hash("abx".bytes))
    }

    @Test func finalizeStartsOver() {
        var hasher = SHA256Hasher()
        hasher.update("first".bytes)
        _ = hasher.finalize()
        hasher.update("abc".bytes)
        #expect(hasher.finalize() == SHA256Hasher.hash("abc".bytes))
    }
}
