internal import CLibCrypto

/// Incremental SHA-256, for hashing large files without holding them in memory.
///
/// A value type: a copy continues independently from the state it was copied in (copy-on-write).
public struct SHA256Hasher: Sendable {
    private var state: DigestState

    public init() {
        state = DigestState()
    }

    /// Adds `data` to the running hash.
    public mutating func update(_ data: UnsafeRawBufferPointer) {
        guard !data.isEmpty else { return }
        makeStateUnique()
        guard EVP_DigestUpdate(state.context, data.baseAddress, data.count) == 1 else {
            fatalError("SHA256Hasher: \(CryptoError.openSSL("EVP_DigestUpdate"))")
        }
    }

    /// Adds `data` to the running hash.
    public mutating func update(_ data: [UInt8]) {
        data.withUnsafeBytes { update($0) }
    }

    /// The 32-byte digest of everything added so far; the hasher then starts over, empty.
    public mutating func finalize() -> [UInt8] {
        makeStateUnique()
        let digest = [UInt8](unsafeUninitializedCapacity: 32) { output, initialized in
            var count: UInt32 = 0
            guard EVP_DigestFinal_ex(state.context, output.baseAddress, &count) == 1, count == 32 else {
                fatalError("SHA256Hasher: \(CryptoError.openSSL("EVP_DigestFinal_ex"))")
            }
            initialized = 32
        }
        state.reset()
        return digest
    }

    /// The SHA-256 digest of `data` in one call.
    public static func hash(_ data: [UInt8]) -> [UInt8] {
        var hasher = SHA256Hasher()
        hasher.update(data)
        return hasher.finalize()
    }

    private mutating func makeStateUnique() {
        if !isKnownUniquelyReferenced(&state) {
            state = DigestState(copying: state)
        }
    }
}

/// Owns one EVP_MD_CTX running SHA-256.
// @unchecked Sendable: a DigestState is only mutated while uniquely referenced (copy-on-write in
// SHA256Hasher); shared instances are only read, by EVP_MD_CTX_copy_ex.
private final class DigestState: @unchecked Sendable {
    let context: OpaquePointer

    init() {
        context = DigestState.newContext()
        reset()
    }

    init(copying other: DigestState) {
        context = DigestState.newContext()
        guard EVP_MD_CTX_copy_ex(context, other.context) == 1 else {
            fatalError("SHA256Hasher: \(CryptoError.openSSL("EVP_MD_CTX_copy_ex"))")
        }
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    /// Starts a fresh SHA-256 computation in this context.
    func reset() {
        do {
            let sha256 = try FetchedAlgorithm.sha256.get()
            guard EVP_DigestInit_ex2(context, sha256, nil) == 1 else {
                throw CryptoError.openSSL("EVP_DigestInit_ex2")
            }
        } catch {
            fatalError("SHA256Hasher: \(error)")
        }
    }

    private static func newContext() -> OpaquePointer {
        guard let context = EVP_MD_CTX_new() else {
            fatalError("SHA256Hasher: \(CryptoError.openSSL("EVP_MD_CTX_new"))")
        }
        return context
    }
}
