import CryptoCore
import Testing

@Suite("HMAC-SHA256")
struct HMACSHA256Tests {
    @Test func rfc4231TestCase1() {
        let key = SymmetricKey(bytes: [UInt8](repeating: 0x0b, count: 20))
        let mac = HMACSHA256.authenticationCode(for: "Hi There".bytes, key: key)
        #expect(mac.hex == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    }

    @Test func rfc4231TestCase2KeyShorterThanOutput() {
        let mac = HMACSHA256.authenticationCode(for: "what do ya want for nothing?".bytes, key: SymmetricKey(bytes: "Jefe".bytes))
        #expect(mac.hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func rfc4231TestCase6KeyLargerThanBlockSize() {
        let key = SymmetricKey(bytes: [UInt8](repeating: 0xaa, count: 131))
        let data = "Test Using Larger Than Block-Size Key - Hash Key First".bytes
        let mac = HMACSHA256.authenticationCode(for: data, key: key)
        #expect(mac.hex == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        let viaBuffer = data.withUnsafeBytes { HMACSHA256.authenticationCode(for: $0, key: key) }
        #expect(viaBuffer == mac)
    }

    @Test func emptyKeyAndEmptyMessageGiveTheStandardValue() {
        let mac = HMACSHA256.authenticationCode(for: [], key: SymmetricKey(bytes: []))
        #expect(mac.count == HMACSHA256.outputSize)
        #expect(mac.hex == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }
}
