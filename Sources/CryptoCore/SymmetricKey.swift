/// Secret key bytes for AES-GCM, HMAC or HKDF; printing it never shows the bytes.
///
/// Equality is checked in constant time. The bytes live in an ordinary array, so they are not
/// wiped from memory when the key is released.
public struct SymmetricKey: Sendable, Equatable {
    /// The raw key material.
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The key length in bytes.
    public var count: Int { bytes.count }

    /// A fresh key from OpenSSL's private random generator.
    public static func random(byteCount: Int = 32) -> SymmetricKey {
        SymmetricKey(bytes: SecureRandom.privateBytes(byteCount))
    }

    public static func == (lhs: SymmetricKey, rhs: SymmetricKey) -> Bool {
        constantTimeEquals(lhs.bytes, rhs.bytes)
    }
}

extension SymmetricKey: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "SymmetricKey(<redacted>, \(bytes.count) bytes)" }

    public var debugDescription: String { description }

    // Keeps dump() and debuggers that walk the Mirror from printing the key bytes.
    public var customMirror: Mirror { Mirror(self, children: ["count": bytes.count]) }
}
