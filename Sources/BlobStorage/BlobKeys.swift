import CryptoCore
import NexusTypes

/// The keys the blob store works with, all derived from the repository's master secret.
public struct BlobKeys: Sendable {
    /// Parent of every pack key (HKDF with the pack's name as salt).
    public let data: SymmetricKey
    /// Key of the HMAC that names blobs, so that ids do not confirm known contents.
    public let blobID: SymmetricKey

    public init(data: SymmetricKey, blobID: SymmetricKey) {
        self.data = data
        self.blobID = blobID
    }

    /// The id of a blob with this plaintext.
    public func id(of plaintext: UnsafeRawBufferPointer) -> BlobID {
        BlobID(bytes: HMACSHA256.authenticationCode(for: plaintext, key: blobID))!
    }

    public func id(of plaintext: [UInt8]) -> BlobID {
        plaintext.withUnsafeBytes { id(of: $0) }
    }
}
