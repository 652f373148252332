import CryptoCore
import Foundation
import Glibc

extension Repository {
    /// The key files of the repository at `path`; which one `passphrase` opens, if given.
    public static func keys(at path: String, passphrase: [UInt8]) throws -> (all: [KeyFile], current: String) {
        let sealed = try RepositoryLayout.readConfig(at: path)
        let (_, used) = try KeyFile.unlockWithKey(repositoryAt: path, repositoryID: sealed.config.id, passphrase: passphrase)
        return (try KeyFile.all(repositoryAt: path).keys, used.id)
    }

    /// Adds a key for `newPassphrase`, unlocking with `passphrase`. Data is not re-encrypted.
    public static func addKey(at path: String, passphrase: [UInt8], newPassphrase: [UInt8],
                              kdf: PassphraseKDF = .interactive) throws -> KeyFile {
        let sealed = try RepositoryLayout.readConfig(at: path)
        let (master, _) = try KeyFile.unlockWithKey(repositoryAt: path, repositoryID: sealed.config.id, passphrase: passphrase)
        try sealed.verify(with: try RepositoryKeys(master: master, repositoryID: sealed.config.id))
        let key = try KeyFile.create(master: master, passphrase: newPassphrase, kdf: kdf, repository: sealed.config, at: path)
        if let url = sealed.config.store {
            // Other hosts attach with the key files in the object store.
            try ObjectStorePacks(url: url).putRepositoryFile(keyFileName(key.id), from: path)
        }
        return key
    }

    static func keyFileName(_ id: String) -> String {
        RepositoryLayout.keys + "/" + id + KeyFile.suffix
    }

    /// Removes the key `id`; refuses the last key and the key that `passphrase` opens.
    public static func removeKey(at path: String, id: String, passphrase: [UInt8]) throws {
        let (all, current) = try keys(at: path, passphrase: passphrase)
        guard all.contains(where: { $0.id == id }) else {
            throw RepositoryError(.notFound, "repository \(path) has no key \(id)")
        }
        guard id != current else {
            throw RepositoryError(.invalidArgument, "refusing to remove key \(id): it is the one this passphrase opens (use `key passwd` to change it)")
        }
        try removeKeyFile(at: path, id: id)
    }

    /// Replaces the key that `passphrase` opens by one for `newPassphrase`.
    public static func changePassphrase(at path: String, passphrase: [UInt8], newPassphrase: [UInt8],
                                        kdf: PassphraseKDF = .interactive) throws -> KeyFile {
        let (_, current) = try keys(at: path, passphrase: passphrase)
        let added = try addKey(at: path, passphrase: passphrase, newPassphrase: newPassphrase, kdf: kdf)
        try removeKeyFile(at: path, id: current)
        return added
    }

    private static func removeKeyFile(at path: String, id: String) throws {
        if let url = try RepositoryLayout.readConfig(at: path).config.store {
            // From the object store first: a key left there would still open the repository.
            try ObjectStorePacks(url: url).removeRepositoryFile(keyFileName(id))
        }
        let file = KeyFile.filePath(id: id, repository: path)
        guard unlink(file) == 0 else { throw RepositoryLayout.systemError("remove", file) }
        let dir = path + "/" + RepositoryLayout.keys
        let fd = Glibc.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); Glibc.close(fd) }
    }
}
