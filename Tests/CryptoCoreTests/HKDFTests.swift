import CryptoCore
import Testing

@Suite("HKDF-SHA256")
struct HKDFTests {
    static let ikm = SymmetricKey(bytes: [UInt8](repeating: 0x0b, count: 22))

    @Test func rfc5869TestCase1() throws {
        let okm = try HKDF.deriveKey(
            from: Self.ikm, salt: [UInt8](hex: "000102030405060708090a0b0c"),
            info: [UInt8](hex: "f0f1f2f3f4f5f6f7f8f9"), outputByteCount: 42)
        #expect(okm.bytes.hex == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
    }

    @Test func rfc5869TestCase3EmptySaltAndInfo() throws {
        let okm = try HKDF.deriveKey(from: Self.ikm, salt: [], info: [], outputByteCount: 42)
        #expect(okm.bytes.hex == "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")
    }

    @Test func defaultOutputIs32BytesAndInfoSeparatesKeys() throws {
        let a = try HKDF.deriveKey(from: Self.ikm, salt: [1], info: "blob".bytes)
        let b = try HKDF.deriveKey(from: Self.ikm, salt: [1], info: "catalog".bytes)
        #expect(a.count == 32)
        #expect(a != b)
    }

    @Test(arguments: [-1, 0, 255 * 32 + 1])
    func outputLengthOutsideRFCBoundsIsRejected(count: Int) {
        let error = #expect(throws: CryptoError.self) {
            try HKDF.deriveKey(from: Self.ikm, salt: [], info: [], outputByteCount: count)
        }
        guard case .invalidInput = error else {
            Issue.record("expected invalidInput, got \(String(describing: error))")
            return
        }
    }

    @Test func longestRFCOutputIsAccepted() throws {
        #expect(try HKDF.deriveKey(from: Self.ikm, salt: [], info: [], outputByteCount: 255 * 32).count == 8160)
    }

    @Test func emptyInputKeyIsRejected() {
        #expect(throws: CryptoError.invalidInput("HKDF input key is empty")) {
            try HKDF.deriveKey(from: SymmetricKey(bytes: []), salt: [], info: [])
        }
    }
}
