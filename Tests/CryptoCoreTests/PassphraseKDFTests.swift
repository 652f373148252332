@testable import CryptoCore
import Foundation
import Testing

@Suite("Argon2id passphrase KDF")
struct PassphraseKDFTests {
    static let salt = [UInt8](repeating: 0x5a, count: 16)

    // phc-winner-argon2 src/test.c: $argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc.
    // Its salt is 8 bytes, below deriveKey's 16-byte policy, so this calls the unchecked primitive.
    @Test func referenceVectorFromPhcWinnerArgon2() throws {
        let parameters = PassphraseKDF(iterations: 2, memoryKiB: 65536, parallelism: 1)
        let raw = try parameters.hash(passphrase: "password".bytes, salt: "somesalt".bytes, outputByteCount: 32)
        #expect(raw.hex == "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7")
    }

    @Test func presetsHaveTheDocumentedParameters() {
        #expect(PassphraseKDF.interactive == PassphraseKDF(iterations: 3, memoryKiB: 65536, parallelism: 2))
        #expect(PassphraseKDF.testing == PassphraseKDF(iterations: 1, memoryKiB: 64, parallelism: 1))
        #expect(PassphraseKDF.interactive.algorithm == "argon2id")
    }

    @Test func derivationIsDeterministicAndSaltAndPassphraseMatter() throws {
        let kdf = PassphraseKDF.testing
        let key = try kdf.deriveKey(passphrase: "correct horse".bytes, salt: Self.salt)
        #expect(key.count == 32)
        #expect(try kdf.deriveKey(passphrase: "correct horse".bytes, salt: Self.salt) == key)
        var otherSalt = Self.salt
        otherSalt[15] ^= 1
        #expect(try kdf.deriveKey(passphrase: "correct horse".bytes, salt: otherSalt) != key)
        #expect(try kdf.deriveKey(passphrase: "correct horsf".bytes, salt: Self.salt) != key)
        #expect(try kdf.deriveKey(passphrase: "correct horse".bytes, salt: Self.salt, outputByteCount: 64).count == 64)
    }

    @Test func emptyPassphraseIsAccepted() throws {
        #expect(try PassphraseKDF.testing.deriveKey(passphrase: [], salt: Self.salt).count == 32)
    }

    @Test(arguments: [0, 8, 15])
    func saltShorterThan16BytesIsRejected(length: Int) {
        let error = #expect(throws: CryptoError.self) {
            try PassphraseKDF.testing.deriveKey(passphrase: "pw".bytes, salt: [UInt8](repeating: 1, count: length))
        }
        guard case .invalidInput = error else {
            Issue.record("expected invalidInput, got \(String(describing: error))")
            return
        }
    }

    @Test func unknownAlgorithmIsRejected() {
        var kdf = PassphraseKDF.testing
        kdf.algorithm = "scrypt"
        let error = #expect(throws: CryptoError.self) { try kdf.deriveKey(passphrase: "pw".bytes, salt: Self.salt) }
        guard case .invalidInput = error else {
            Issue.record("expected invalidInput, got \(String(describing: error))")
            return
        }
    }

    @Test(arguments: [
        PassphraseKDF(iterations: 0, memoryKiB: 64, parallelism: 1),
        PassphraseKDF(iterations: 1, memoryKiB: 64, parallelism: 0),
        PassphraseKDF(iterations: 1, memoryKiB: 4, parallelism: 1),
    ])
    func parametersLibargon2RefusesBecomeLibraryErrors(kdf: PassphraseKDF) {
        let error = #expect(throws: CryptoError.self) { try kdf.deriveKey(passphrase: "pw".bytes, salt: Self.salt) }
        guard case .library(let message) = error else {
            Issue.record("expected library, got \(String(describing: error))")
            return
        }
        #expect(message.hasPrefix("argon2id_hash_raw: "))
    }

    @Test func tooShortOutputIsRejected() {
        #expect(throws: CryptoError.self) {
            try PassphraseKDF.testing.deriveKey(passphrase: "pw".bytes, salt: Self.salt, outputByteCount: 3)
        }
    }

    @Test func roundTripsThroughJSON() throws {
        let data = try JSONEncoder().encode(PassphraseKDF.interactive)
        #expect(try JSONDecoder().decode(PassphraseKDF.self, from: data) == .interactive)
        let stored = #"{"algorithm":"argon2id","iterations":4,"memoryKiB":131072,"parallelism":3}"#
        let decoded = try JSONDecoder().decode(PassphraseKDF.self, from: Data(stored.utf8))
        #expect(decoded == PassphraseKDF(iterations: 4, memoryKiB: 131072, parallelism: 3))
    }
}
