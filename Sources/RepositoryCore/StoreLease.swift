import CryptoCore
import Foundation
import Glibc

/// The claim a repository folder lays on an object store while it uses it: the object `lock`
/// beside the packs. With the embedded catalog, a store has one writer at a time: two folders
/// (two hosts) writing journal records into one store would fork its history. The flock on
/// `REPO/lock` keeps two processes of one folder apart; the lease keeps two folders apart.
///
/// Not a consensus: read, then written, so two folders starting in the same instant can both
/// win; it catches the mistakes people make (a second host mounting the same store), and the
/// PostgreSQL catalog is what carries several writers.
///
/// The lease names a host and a folder, so it is encrypted like everything else in the store
/// (AES-256-GCM under the repository's lease key, a random nonce before the ciphertext): only
/// a holder of a passphrase learns which host holds it.
final class StoreLease: Sendable {
    struct Holder: Codable, Equatable {
        var host: String
        var folder: String
        var pid: Int32
        var since: String
        var purpose: String
    }

    private let store: ObjectStorePacks
    private let key: SymmetricKey
    let holder: Holder

    /// Takes the lease for the repository folder `folder`, or throws `.locked` naming the host
    /// and folder that hold it. A lease left by this same folder (a process killed before it
    /// could release it) is taken over: the folder's flock, held by the caller, says that
    /// process is gone.
    init(store: ObjectStorePacks, key: SymmetricKey, folder: String, purpose: String) throws {
        self.store = store
        self.key = key
        holder = Holder(host: ProcessInfo.processInfo.hostName, folder: Self.absolute(folder), pid: getpid(),
                        since: ISO8601DateFormatter().string(from: Date()), purpose: purpose)
        if let current = try Self.current(in: store, key: key), current.host != holder.host || current.folder != holder.folder {
            throw RepositoryError(.locked, "repository \(store.url) is \(current.purpose) by host \(current.host) "
                                  + "(repository folder \(current.folder), pid \(current.pid), since \(current.since)); "
                                  + "with the embedded catalog one host uses it at a time: unmount it there, or if that host "
                                  + "is gone for good, remove its lease with `nexusfs unlock REPO` or `nexusfs attach --take-over`")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let nonce = SecureRandom.bytes(AESGCM.nonceSize)
        let sealed = try AESGCM.seal([UInt8](try encoder.encode(holder)), key: key, nonce: nonce,
                                     authenticating: Self.associatedData)
        try store.putObject(Self.objectKey, bytes: nonce + sealed, what: "take the lease on")
    }

    static let objectKey = "lock"

    private static let associatedData = Array("nexusfs lease v1".utf8)

    /// The lease on `store`, if any.
    static func current(in store: ObjectStorePacks, key: SymmetricKey) throws -> Holder? {
        guard let bytes = try store.getObject(objectKey, what: "read the lease on") else { return nil }
        guard bytes.count > AESGCM.nonceSize,
              let plain = try? AESGCM.open(Array(bytes[AESGCM.nonceSize...]), key: key, nonce: Array(bytes[..<AESGCM.nonceSize]),
                                           authenticating: associatedData),
              let holder = try? JSONDecoder().decode(Holder.self, from: Data(plain)) else {
            throw RepositoryError(.integrity, "the lease object \(objectKey) in \(store.url) is damaged or not this repository's; remove it with `nexusfs unlock`")
        }
        return holder
    }

    /// Gives the lease back, unless another folder has taken it meanwhile.
    func release() {
        guard (try? Self.current(in: store, key: key)) == .some(holder) else { return }
        try? store.deleteObject(Self.objectKey, what: "release the lease on")
    }

    private static func absolute(_ folder: String) -> String {
        guard let resolved = realpath(folder, nil) else { return folder }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
