import BlobStorage
import CryptoCore
import Foundation
import Glibc
import Synchronization

/// The exclusive lock a process holds on a repository while it uses it: an flock on
/// `REPO/lock`, so a killed holder's lock is released by the kernel and taken over.
public final class RepositoryLock: Sendable {
    private let fd: Int32
    public let path: String
    /// Left in the lock file on release, for `nexusfs umount` to report.
    private let failure = Mutex<String?>(nil)
    /// The lease on the object store holding the packs, when they are in one; released with the lock.
    private let lease = Mutex<StoreLease?>(nil)
    let purpose: String
    let repository: String

    /// The first line a released lock file holds when its holder could not save everything.
    public static let failurePrefix = "unmount failed: "

    /// Takes the lock, or throws `.locked` naming the process that holds it.
    public init(repository: String, purpose: String) throws {
        // Locals until the lock is held: were `fd` stored first, a throw below would still run
        // deinit, which truncates and closes a descriptor already closed here, and by then maybe
        // another thread's file.
        let path = repository + "/lock"
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RepositoryLayout.systemError("open", path) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            Glibc.close(fd)
            throw RepositoryError(.locked, "repository \(repository) is in use" + (holder.isEmpty ? "" : " (\(holder))")
                                  + "; unmount it or wait for that process to finish")
        }
        self.path = path
        self.fd = fd
        self.purpose = purpose
        self.repository = repository
        // The one file of the repository in plaintext: a purpose and a pid, nothing about the tree
        // (no mount point) or the machine (no host name).
        let note = "\(purpose) by pid \(getpid())\n"
        ftruncate(fd, 0)
        _ = note.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    /// Also takes the lease on the object store that keeps the packs, if they are in one.
    func holdLease(on storage: any PackStorage, key: SymmetricKey) throws {
        guard let store = storage as? ObjectStorePacks else { return }
        let taken = try StoreLease(store: store, key: key, folder: repository, purpose: purpose)
        lease.withLock { $0 = taken }
    }

    /// Says, in the lock file after release, that the holder failed: no names, no content.
    public func noteFailure(_ summary: String) {
        failure.withLock { $0 = $0 ?? summary }
    }

    deinit {
        // A holder that could not save everything keeps its lease: packs it has not uploaded yet
        // (a journal record among them) must reach the store before another host writes there.
        if failure.withLock({ $0 }) == nil { lease.withLock { $0?.release() } }
        if let failure = failure.withLock({ $0 }) {
            // Written over what the file holds, then cut to size: on a full disk, truncating
            // first would give back the file's block and the note would find none.
            let note = Self.failurePrefix + failure + "\n"
            let written = note.withCString { pwrite(fd, $0, strlen($0), 0) }
            ftruncate(fd, written > 0 ? off_t(written) : 0)
        } else {
            ftruncate(fd, 0)
        }
        flock(fd, LOCK_UN)
        Glibc.close(fd)
    }
}
