import BlobStorage
import CryptoCore

/// The keys derived from a repository's master secret (HKDF-SHA256, the
/// repository id as salt, one `info` label per purpose).
struct RepositoryKeys: Sendable {
    static let masterLength = 64

    let blobKeys: BlobKeys
    let config: SymmetricKey
    let gear: GearTable
    /// The HMAC key of the audit log's hash chain.
    let audit: SymmetricKey
    /// The AES-256-GCM key of the lease on an object store (`StoreLease`).
    let lease: SymmetricKey

    init(master: SymmetricKey, repositoryID: String) throws {
        let salt = Array(repositoryID.utf8)
        func derive(_ label: String, _ count: Int = 32) throws -> SymmetricKey {
            try HKDF.deriveKey(from: master, salt: salt, info: Array(label.utf8), outputByteCount: count)
        }
        blobKeys = BlobKeys(data: try derive("nexusfs data v1"), blobID: try derive("nexusfs blob-id v1"))
        config = try derive("nexusfs config v1")
        gear = GearTable(bytes: try derive("nexusfs gear v1", 2048).bytes)!
        audit = try derive("nexusfs audit v1")
        lease = try derive("nexusfs lease v1")
    }
}
