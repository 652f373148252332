internal import CArgon2

/// Argon2id parameters for turning a passphrase into a key; stored alongside the salt in key files.
public struct PassphraseKDF: Codable, Sendable, Equatable {
    /// Always "argon2id"; anything else is refused by `deriveKey`.
    public var algorithm: String
    /// Passes over memory (Argon2's t).
    public var iterations: UInt32
    /// Memory in KiB (Argon2's m).
    public var memoryKiB: UInt32
    /// Lanes and threads (Argon2's p).
    public var parallelism: UInt32

    public init(iterations: UInt32, memoryKiB: UInt32, parallelism: UInt32) {
        algorithm = "argon2id"
        self.iterations = iterations
        self.memoryKiB = memoryKiB
        self.parallelism = parallelism
    }

    /// t=3, m=64 MiB, p=2: the default for new keys.
    public static let interactive = PassphraseKDF(iterations: 3, memoryKiB: 65536, parallelism: 2)

    /// t=1, m=64 KiB, p=1: fast and weak, for unit tests only.
    public static let testing = PassphraseKDF(iterations: 1, memoryKiB: 64, parallelism: 1)

    /// The shortest salt `deriveKey` accepts, in bytes.
    static let minimumSaltByteCount = 16

    /// Derives a key from `passphrase` with Argon2id version 0x13; `salt` must be at least 16 bytes.
    public func deriveKey(passphrase: [UInt8], salt: [UInt8], outputByteCount: Int = 32) throws -> SymmetricKey {
        guard algorithm == "argon2id" else {
            throw CryptoError.invalidInput("unsupported passphrase KDF \"\(algorithm)\"; expected \"argon2id\"")
        }
        guard salt.count >= Self.minimumSaltByteCount else {
            throw CryptoError.invalidInput(
                "passphrase salt must be at least \(Self.minimumSaltByteCount) bytes, got \(salt.count)")
        }
        return SymmetricKey(bytes: try hash(passphrase: passphrase, salt: salt, outputByteCount: outputByteCount))
    }

    /// Raw Argon2id output with no salt policy (libargon2 itself accepts 8-byte salts); tests use it
    /// to check the reference vector.
    func hash(passphrase: [UInt8], salt: [UInt8], outputByteCount: Int) throws -> [UInt8] {
        // libargon2 takes a uint32_t length and refuses fewer than ARGON2_MIN_OUTLEN (4) bytes.
        guard (4...Int(UInt32.max)).contains(outputByteCount) else {
            throw CryptoError.invalidInput("Argon2id output must be at least 4 bytes, got \(outputByteCount)")
        }
        return try [UInt8](unsafeUninitializedCapacity: outputByteCount) { output, initialized in
            let status = passphrase.withUnsafeBytes { passphrase in
                salt.withUnsafeBytes { salt in
                    argon2id_hash_raw(
                        iterations, memoryKiB, parallelism,
                        passphrase.baseAddress, passphrase.count, salt.baseAddress, salt.count,
                        output.baseAddress, outputByteCount)
                }
            }
            guard status == ARGON2_OK.rawValue else {
                throw CryptoError.library("argon2id_hash_raw: \(String(cString: argon2_error_message(status)))")
            }
            initialized = outputByteCount
        }
    }
}
