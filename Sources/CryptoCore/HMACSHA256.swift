internal import CLibCrypto

/// HMAC-SHA256 message authentication codes (EVP_MAC "HMAC").
public enum HMACSHA256 {
    public static let outputSize = 32

    /// The 32-byte HMAC-SHA256 of `data` under `key`; any key length, including empty, is accepted.
    public static func authenticationCode(for data: UnsafeRawBufferPointer, key: SymmetricKey) -> [UInt8] {
        do {
            return try compute(data, key: key)
        } catch {
            // Only a broken libcrypto (no HMAC or SHA-256, or out of memory) gets here; no input can.
            fatalError("HMACSHA256: \(error)")
        }
    }

    /// The 32-byte HMAC-SHA256 of `data` under `key`; any key length, including empty, is accepted.
    public static func authenticationCode(for data: [UInt8], key: SymmetricKey) -> [UInt8] {
        data.withUnsafeBytes { authenticationCode(for: $0, key: key) }
    }

    private static func compute(_ data: UnsafeRawBufferPointer, key: SymmetricKey) throws -> [UInt8] {
        let mac = try FetchedAlgorithm.hmac.get()
        guard let context = EVP_MAC_CTX_new(mac) else { throw CryptoError.openSSL("EVP_MAC_CTX_new") }
        defer { EVP_MAC_CTX_free(context) }
        let parameters = [OSSLParameters.utf8("digest", "SHA2-256"), OSSLParameters.end]
        // A NULL key means "keep the previous key" to EVP_MAC_init, so an empty key still needs a real pointer.
        let keyBytes = key.bytes.isEmpty ? [0] : key.bytes
        let status = keyBytes.withUnsafeBufferPointer {
            EVP_MAC_init(context, $0.baseAddress, key.count, parameters)
        }
        guard status == 1 else { throw CryptoError.openSSL("EVP_MAC_init(HMAC-SHA256)") }
        if !data.isEmpty {
            let bytes = data.baseAddress!.assumingMemoryBound(to: UInt8.self)
            guard EVP_MAC_update(context, bytes, data.count) == 1 else {
                throw CryptoError.openSSL("EVP_MAC_update")
            }
        }
        return try [UInt8](unsafeUninitializedCapacity: outputSize) { output, initialized in
            guard EVP_MAC_final(context, output.baseAddress, &initialized, outputSize) == 1,
                initialized == outputSize
            else {
                initialized = 0
                throw CryptoError.openSSL("EVP_MAC_final")
            }
        }
    }
}
