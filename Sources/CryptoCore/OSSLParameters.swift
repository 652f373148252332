internal import CLibCrypto

/// Builders for `OSSL_PARAM` arrays passed to EVP_MAC and EVP_KDF.
///
/// An `OSSL_PARAM` keeps raw pointers to its key and value, so keys and names are `StaticString`s
/// (whose storage lives for the whole process) and byte buffers must outlive the OpenSSL call.
enum OSSLParameters {
    /// A UTF-8 string parameter such as `digest = "SHA2-256"`.
    static func utf8(_ key: StaticString, _ value: StaticString) -> OSSL_PARAM {
        // OpenSSL only reads `buf` when the parameter is being set; its prototype is not const.
        OSSL_PARAM_construct_utf8_string(
            cString(key), UnsafeMutablePointer(mutating: cString(value)), 0)
    }

    /// An octet-string parameter over `bytes`, which must stay valid until OpenSSL has used it.
    static func octets(_ key: StaticString, _ bytes: UnsafeRawBufferPointer) -> OSSL_PARAM {
        OSSL_PARAM_construct_octet_string(
            cString(key), UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
    }

    /// The terminator every parameter array ends with.
    static var end: OSSL_PARAM { OSSL_PARAM_construct_end() }

    private static func cString(_ string: StaticString) -> UnsafePointer<CChar> {
        precondition(string.hasPointerRepresentation, "OSSL_PARAM names must be multi-character literals")
        return UnsafeRawPointer(string.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
