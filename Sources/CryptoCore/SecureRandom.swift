internal import CLibCrypto

/// Cryptographically secure random bytes from OpenSSL's DRBG.
public enum SecureRandom {
    /// `count` random bytes from `RAND_bytes`; traps only if OpenSSL cannot produce randomness at all.
    public static func bytes(_ count: Int) -> [UInt8] {
        fill(count, using: { RAND_bytes($0, $1) }, name: "RAND_bytes")
    }

    /// `count` random bytes from `RAND_priv_bytes`, OpenSSL's separate generator for values that stay secret (keys).
    static func privateBytes(_ count: Int) -> [UInt8] {
        fill(count, using: { RAND_priv_bytes($0, $1) }, name: "RAND_priv_bytes")
    }

    private static func fill(
        _ count: Int, using generate: (UnsafeMutablePointer<UInt8>, Int32) -> Int32, name: String
    ) -> [UInt8] {
        precondition(count >= 0, "SecureRandom: negative byte count \(count)")
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var offset = 0
            while offset < count {
                let chunk = min(count - offset, Int(Int32.max))
                // A seeded DRBG does not fail; failure means the process has no entropy source at all.
                guard generate(buffer.baseAddress! + offset, Int32(chunk)) == 1 else {
                    fatalError("SecureRandom: \(CryptoError.openSSL(name))")
                }
                offset += chunk
            }
            initialized = count
        }
    }
}
