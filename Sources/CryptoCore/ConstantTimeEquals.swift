internal import CLibCrypto

/// Compares two byte strings in time that depends only on their length (`CRYPTO_memcmp`).
///
/// Returns false at once when the lengths differ; lengths are not treated as secret.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    guard !a.isEmpty else { return true }
    return a.withUnsafeBytes { a in
        b.withUnsafeBytes { b in
            CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0
        }
    }
}
