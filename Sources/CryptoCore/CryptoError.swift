/// Why a CryptoCore operation failed.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The AEAD tag did not verify: wrong key, or the sealed bytes, nonce or AAD were damaged.
    case authenticationFailed
    /// A key had the wrong number of bytes for the algorithm.
    case invalidKeyLength(expected: Int, actual: Int)
    /// An argument was out of range; the message names it.
    case invalidInput(String)
    /// OpenSSL or libargon2 reported an error; the message carries the library's own text.
    case library(String)

    public var description: String {
        switch self {
        case .authenticationFailed:
            "authentication failed: wrong key or damaged data"
        case .invalidKeyLength(let expected, let actual):
            "invalid key length: expected \(expected) bytes, got \(actual)"
        case .invalidInput(let message):
            "invalid input: \(message)"
        case .library(let message):
            "crypto library error: \(message)"
        }
    }
}
