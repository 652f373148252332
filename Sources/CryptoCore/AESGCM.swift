/// AEAD, MAC, KDF and randomness for nexusfs, over OpenSSL libcrypto and libargon2.

internal import CLibCrypto

/// AES-256-GCM with a 12-byte nonce and the 16-byte tag appended to the ciphertext.
///
/// A nonce must never repeat under the same key; choosing nonces is the caller's job.
/// Every call builds and frees its own cipher context, so calls may run on many threads at once.
public enum AESGCM {
    public static let keySize = 32
    public static let nonceSize = 12
    public static let tagSize = 16

    /// Encrypts `plaintext` and authenticates it together with `aad`; returns ciphertext || tag.
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer, key: SymmetricKey, nonce: [UInt8], authenticating aad: [UInt8]
    ) throws -> [UInt8] {
        try validate(key: key, nonce: nonce, aad: aad)
        try checkLength(plaintext.count, of: "plaintext")
        return try withContext(encrypting: true, key: key, nonce: nonce, aad: aad) { context in
            try [UInt8](unsafeUninitializedCapacity: plaintext.count + tagSize) { output, initialized in
                try update(context, output: output.baseAddress, input: plaintext)
                let tag = output.baseAddress! + plaintext.count
                var finalCount: Int32 = 0
                guard EVP_EncryptFinal_ex(context, tag, &finalCount) == 1, finalCount == 0 else {
                    throw CryptoError.openSSL("EVP_EncryptFinal_ex")
                }
                guard nx_gcm_get_tag(context, Int32(tagSize), tag) == 1 else {
                    throw CryptoError.openSSL("EVP_CTRL_GCM_GET_TAG")
                }
                initialized = plaintext.count + tagSize
            }
        }
    }

    /// Encrypts `plaintext` and authenticates it together with `aad`; returns ciphertext || tag.
    public static func seal(
        _ plaintext: [UInt8], key: SymmetricKey, nonce: [UInt8], authenticating aad: [UInt8]
    ) throws -> [UInt8] {
        try plaintext.withUnsafeBytes { try seal($0, key: key, nonce: nonce, authenticating: aad) }
    }

    /// Verifies and decrypts ciphertext || tag.
    ///
    /// Throws `.authenticationFailed` on a bad tag or on input shorter than a tag.
    public static func open(
        _ sealed: UnsafeRawBufferPointer, key: SymmetricKey, nonce: [UInt8], authenticating aad: [UInt8]
    ) throws -> [UInt8] {
        try validate(key: key, nonce: nonce, aad: aad)
        guard sealed.count >= tagSize else { throw CryptoError.authenticationFailed }
        let ciphertextCount = sealed.count - tagSize
        try checkLength(ciphertextCount, of: "ciphertext")
        let ciphertext = UnsafeRawBufferPointer(rebasing: sealed[..<ciphertextCount])
        // OpenSSL only reads the tag when setting it; the control call's prototype is not const.
        let tag = UnsafeMutableRawPointer(mutating: sealed.baseAddress! + ciphertextCount)
        return try withContext(encrypting: false, key: key, nonce: nonce, aad: aad) { context in
            guard nx_gcm_set_tag(context, Int32(tagSize), tag) == 1 else {
                throw CryptoError.openSSL("EVP_CTRL_GCM_SET_TAG")
            }
            return try [UInt8](unsafeUninitializedCapacity: ciphertextCount) { output, initialized in
                try update(context, output: output.baseAddress, input: ciphertext)
                var finalCount: Int32 = 0
                guard EVP_DecryptFinal_ex(context, output.baseAddress, &finalCount) == 1 else {
                    // Plaintext that failed authentication must not survive, even in freed memory.
                    output.initialize(repeating: 0)
                    ERR_clear_error()
                    throw CryptoError.authenticationFailed
                }
                initialized = ciphertextCount
            }
        }
    }

    /// Verifies and decrypts ciphertext || tag.
    ///
    /// Throws `.authenticationFailed` on a bad tag or on input shorter than a tag.
    public static func open(
        _ sealed: [UInt8], key: SymmetricKey, nonce: [UInt8], authenticating aad: [UInt8]
    ) throws -> [UInt8] {
        try sealed.withUnsafeBytes { try open($0, key: key, nonce: nonce, authenticating: aad) }
    }

    private static func validate(key: SymmetricKey, nonce: [UInt8], aad: [UInt8]) throws {
        guard key.count == keySize else {
            throw CryptoError.invalidKeyLength(expected: keySize, actual: key.count)
        }
        guard nonce.count == nonceSize else {
            throw CryptoError.invalidInput("AES-GCM nonce must be \(nonceSize) bytes, got \(nonce.count)")
        }
        try checkLength(aad.count, of: "AAD")
    }

    // EVP_CipherUpdate takes an `int` length.
    private static func checkLength(_ count: Int, of what: String) throws {
        guard count <= Int(Int32.max) else {
            throw CryptoError.invalidInput("AES-GCM \(what) of \(count) bytes exceeds \(Int32.max)")
        }
    }

    /// Creates a context keyed for one message, feeds it `aad`, runs `body`, and frees the context.
    private static func withContext<Output>(
        encrypting: Bool, key: SymmetricKey, nonce: [UInt8], aad: [UInt8],
        _ body: (OpaquePointer) throws -> Output
    ) throws -> Output {
        let cipher = try FetchedAlgorithm.aes256GCM.get()
        guard let context = EVP_CIPHER_CTX_new() else { throw CryptoError.openSSL("EVP_CIPHER_CTX_new") }
        defer { EVP_CIPHER_CTX_free(context) }
        // 12 bytes is GCM's default IV length, so no EVP_CTRL_GCM_SET_IVLEN call is needed.
        let status = key.bytes.withUnsafeBufferPointer { key in
            nonce.withUnsafeBufferPointer { nonce in
                EVP_CipherInit_ex2(context, cipher, key.baseAddress, nonce.baseAddress, encrypting ? 1 : 0, nil)
            }
        }
        guard status == 1 else { throw CryptoError.openSSL("EVP_CipherInit_ex2") }
        try aad.withUnsafeBytes { try update(context, output: nil, input: $0) }
        return try body(context)
    }

    /// Feeds `input` to the cipher; a nil `output` marks it as AAD. GCM is a stream mode, so
    /// exactly `input.count` bytes are written.
    private static func update(
        _ context: OpaquePointer, output: UnsafeMutablePointer<UInt8>?, input: UnsafeRawBufferPointer
    ) throws {
        guard !input.isEmpty else { return }
        var written: Int32 = 0
        let bytes = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard EVP_CipherUpdate(context, output, &written, bytes, Int32(input.count)) == 1,
            output == nil || Int(written) == input.count
        else {
            throw CryptoError.openSSL("EVP_CipherUpdate")
        }
    }
}
