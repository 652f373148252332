internal import CLibCrypto

/// An OpenSSL algorithm object fetched once from the default provider and kept for the life of the process.
///
/// Passing a legacy `EVP_aes_256_gcm()`-style object makes OpenSSL 3 fetch the implementation again on
/// every init (a locked method-store lookup); fetching once removes that from the per-chunk path.
// @unchecked Sendable: fetched EVP_CIPHER/EVP_MD/EVP_MAC/EVP_KDF objects are immutable and
// reference-counted, and OpenSSL documents them as safe to share between threads.
struct FetchedAlgorithm: @unchecked Sendable {
    private let result: Result<OpaquePointer, CryptoError>

    private init(_ name: String, fetch: () -> OpaquePointer?) {
        if let pointer = fetch() {
            result = .success(pointer)
        } else {
            result = .failure(.openSSL("fetching \(name)"))
        }
    }

    /// The fetched object; throws `.library` if this libcrypto cannot provide the algorithm.
    func get() throws(CryptoError) -> OpaquePointer {
        try result.get()
    }

    static let aes256GCM = FetchedAlgorithm("AES-256-GCM") { EVP_CIPHER_fetch(nil, "AES-256-GCM", nil) }
    static let sha256 = FetchedAlgorithm("SHA2-256") { EVP_MD_fetch(nil, "SHA2-256", nil) }
    static let hmac = FetchedAlgorithm("HMAC") { EVP_MAC_fetch(nil, "HMAC", nil) }
    static let hkdf = FetchedAlgorithm("HKDF") { EVP_KDF_fetch(nil, "HKDF", nil) }
}
