internal import CLibCrypto

/// HKDF-SHA256 (RFC 5869), extract then expand, via OpenSSL's EVP_KDF "HKDF".
public enum HKDF {
    /// The largest output RFC 5869 allows with SHA-256: 255 blocks of 32 bytes.
    static let maximumOutputByteCount = 255 * 32

    /// Derives `outputByteCount` bytes from `input`; an empty salt means RFC 5869's all-zero salt.
    public static func deriveKey(
        from input: SymmetricKey, salt: [UInt8], info: [UInt8], outputByteCount: Int = 32
    ) throws -> SymmetricKey {
        guard !input.bytes.isEmpty else {
            throw CryptoError.invalidInput("HKDF input key is empty")
        }
        guard (1...maximumOutputByteCount).contains(outputByteCount) else {
            throw CryptoError.invalidInput(
                "HKDF-SHA256 output must be 1...\(maximumOutputByteCount) bytes, got \(outputByteCount)")
        }
        let kdf = try FetchedAlgorithm.hkdf.get()
        guard let context = EVP_KDF_CTX_new(kdf) else { throw CryptoError.openSSL("EVP_KDF_CTX_new") }
        defer { EVP_KDF_CTX_free(context) }
        let output = try input.bytes.withUnsafeBytes { input in
            try salt.withUnsafeBytes { salt in
                try info.withUnsafeBytes { info in
                    // Names are OpenSSL's OSSL_KDF_PARAM_DIGEST, _KEY, _SALT and _INFO.
                    var parameters = [OSSLParameters.utf8("digest", "SHA2-256"), OSSLParameters.octets("key", input)]
                    if !salt.isEmpty { parameters.append(OSSLParameters.octets("salt", salt)) }
                    if !info.isEmpty { parameters.append(OSSLParameters.octets("info", info)) }
                    parameters.append(OSSLParameters.end)
                    return try [UInt8](unsafeUninitializedCapacity: outputByteCount) { output, initialized in
                        guard EVP_KDF_derive(context, output.baseAddress, outputByteCount, parameters) == 1 else {
                            throw CryptoError.openSSL("EVP_KDF_derive(HKDF-SHA256)")
                        }
                        initialized = outputByteCount
                    }
                }
            }
        }
        return SymmetricKey(bytes: output)
    }
}
