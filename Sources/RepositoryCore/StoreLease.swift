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
final class StoreLease: Sendable {
    struct Holder: Codable, Equatable {
        var host: String
        var folder: String
        var pid: Int32
        var since: String
        var purpose: String
    }

    static let key = "lock"

    private let store: ObjectStorePacks
    let holder: Holder

    /// Takes the lease for the repository folder `folder`, or throws `.locked` naming the host
    /// and folder that hold it. A lease left by this same folder (a process killed before it
    /// could release it) is taken over: the folder's flock, held by the caller, says that
    /// process is gone.
    init(store: ObjectStorePacks, folder: String, purpose: String) throws {
        self.store = store
        holder = Holder(host: ProcessInfo.processInfo.hostName, folder: Self.absolute(folder), pid: getpid(),
                        since: ISO8601DateFormatter().string(from: Date()), purpose: purpose)
        if let current = try Self.current(in: store), current.host != holder.host || current.folder != holder.folder {
            throw RepositoryError(.locked, "repository \(store.url) is \(current.purpose) by host \(current.host) "
                                  + "(repository folder \(current.folder), pid \(current.pid), since \(current.since)); "
                                  + "with the embedded catalog one host uses it at a time: unmount it there, or if that host "
                                  + "is gone for good, remove its lease with `nexusfs unlock REPO` or `nexusfs attach --take-over`")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try store.putObject(Self.key, bytes: [UInt8](try encoder.encode(holder)), what: "take the lease on")
    }

    /// The lease on `store`, if any.
    static func current(in store: ObjectStorePacks) throws -> Holder? {
        guard let bytes = try store.getObject(key, what: "read the lease on") else { return nil }
        guard let holder = try? JSONDecoder().decode(Holder.self, from: Data(bytes)) else {
            throw RepositoryError(.integrity, "the lease object \(key) in \(store.url) is not one; remove it with `nexusfs unlock`")
        }
        return holder
    }

    /// Gives the lease back, unless another folder has taken it meanwhile.
    func release() {
        guard (try? Self.current(in: store)) == .some(holder) else { return }
        try? store.deleteObject(Self.key, what: "release the lease on")
    }

    private static func absolute(_ folder: String) -> String {
        guard let resolved = realpath(folder, nil) else { return folder }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
