import CryptoCore
import Foundation
import NexusTypes
import Glibc

/// A key file under `REPO/keys/`: the master secret wrapped (AES-256-GCM) by a
/// key derived from a passphrase (Argon2id). The KDF parameters, salt and ids are
/// authenticated as associated data.
public struct KeyFile: Codable, Sendable {
    public var version: Int
    public var id: String
    public var created: String
    public var hostname: String
    public var username: String
    public var kdf: PassphraseKDF
    var salt: String
    var nonce: String
    var wrapped: String

    static let suffix = ".key"
    /// The most memory a key file's Argon2id may ask for: 1 GiB.
    static let maximumMemoryKiB: UInt32 = 1 << 20

    private func associatedData(repositoryID: String) -> [UInt8] {
        let parts = ["nexusfs key v\(version)", repositoryID, id, kdf.algorithm, "\(kdf.iterations)", "\(kdf.memoryKiB)",
                     "\(kdf.parallelism)", salt]
        return Array(parts.joined(separator: "|").utf8)
    }

    /// Wraps `master` under `passphrase` and writes a new key file; returns it.
    static func create(master: SymmetricKey, passphrase: [UInt8], kdf: PassphraseKDF,
                       repository: RepositoryConfig, at path: String) throws -> KeyFile {
        let salt = SecureRandom.bytes(16)
        let nonce = SecureRandom.bytes(AESGCM.nonceSize)
        var file = KeyFile(version: 1, id: Hex.encode(SecureRandom.bytes(8)),
                           created: ISO8601DateFormatter().string(from: Date()),
                           hostname: ProcessInfo.processInfo.hostName, username: NSUserName(),
                           kdf: kdf, salt: Hex.encode(salt), nonce: Hex.encode(nonce), wrapped: "")
        let wrappingKey = try kdf.deriveKey(passphrase: passphrase, salt: salt)
        file.wrapped = Hex.encode(try AESGCM.seal(master.bytes, key: wrappingKey, nonce: nonce,
                                                  authenticating: file.associatedData(repositoryID: repository.id)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try RepositoryLayout.writeAtomically([UInt8](try encoder.encode(file)) + [0x0a], to: filePath(id: file.id, repository: path))
        return file
    }

    static func filePath(id: String, repository: String) -> String {
        repository + "/" + RepositoryLayout.keys + "/" + id + suffix
    }

    /// Every key file of the repository that parses, the cheapest to try first (by Argon2id memory
    /// times passes, then by name, so that a planted key file asking for gigabytes is tried only when
    /// no ordinary key opens), and the names of those that do not parse.
    static func all(repositoryAt path: String) throws -> (keys: [KeyFile], unreadable: [String]) {
        let dir = path + "/" + RepositoryLayout.keys
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
            throw RepositoryError(.notARepository, "\(path) is not a nexusfs repository: it has no keys folder")
        }
        var keys: [KeyFile] = [], unreadable: [String] = []
        for name in names.filter({ $0.hasSuffix(suffix) }).sorted() {
            if let data = FileManager.default.contents(atPath: dir + "/" + name),
               let key = try? JSONDecoder().decode(KeyFile.self, from: data) {
                keys.append(key)
            } else {
                unreadable.append(RepositoryLayout.keys + "/" + name)
            }
        }
        let ordered = keys.enumerated().sorted { ($0.element.cost, $0.offset) < ($1.element.cost, $1.offset) }.map(\.element)
        return (ordered, unreadable)
    }

    private var cost: UInt64 { UInt64(kdf.memoryKiB) * UInt64(max(kdf.iterations, 1)) }

    /// The master secret, if `passphrase` opens this key.
    func unwrap(passphrase: [UInt8], repositoryID: String) throws -> SymmetricKey? {
        guard let salt = Hex.decode(salt), let nonce = Hex.decode(nonce), let wrapped = Hex.decode(wrapped) else {
            throw RepositoryError(.integrity, "key file \(id) is damaged")
        }
        // A damaged or hostile key file must not make unlocking allocate or compute without bound:
        // nexusfs writes t = 3, m = 64 MiB; a reader allows 16 times the memory and about 5 times the
        // passes (some 15 s, where 4 GiB and 64 passes took 7 minutes on every wrong passphrase).
        guard kdf.memoryKiB <= Self.maximumMemoryKiB, kdf.iterations <= 16, kdf.parallelism <= 64 else {
            throw RepositoryError(.integrity, "key file \(id) asks for unreasonable Argon2id parameters")
        }
        let wrappingKey = try kdf.deriveKey(passphrase: passphrase, salt: salt)
        do {
            return SymmetricKey(bytes: try AESGCM.open(wrapped, key: wrappingKey, nonce: nonce,
                                                       authenticating: associatedData(repositoryID: repositoryID)))
        } catch CryptoError.authenticationFailed {
            return nil
        }
    }

    /// Tries every key; the master secret and the key that opened.
    static func unlockWithKey(repositoryAt path: String, repositoryID: String, passphrase: [UInt8]) throws -> (SymmetricKey, KeyFile) {
        var (files, damaged) = try all(repositoryAt: path)
        guard !files.isEmpty || !damaged.isEmpty else {
            throw RepositoryError(.notARepository, "repository \(path) has no key files")
        }
        // A damaged key must not keep another from opening; it is named only if none opens.
        var problems: [RepositoryError] = []
        for file in files {
            do {
                if let master = try file.unwrap(passphrase: passphrase, repositoryID: repositoryID) {
                    return (master, file)
                }
            } catch {
                // Damaged fields, parameters over the limits, an Argon2id failure (out of memory).
                problems.append((error as? RepositoryError) ?? RepositoryError(.integrity, "key file \(file.id): \(error)"))
                damaged.append(RepositoryLayout.keys + "/" + file.id + suffix)
            }
        }
        guard !damaged.isEmpty else {
            throw RepositoryError(.wrongPassphrase, "wrong passphrase for repository \(path)")
        }
        let list = damaged.joined(separator: ", ")
        if files.count == problems.count {
            throw RepositoryError(.integrity, "repository \(path) has no readable key: \(list) "
                                  + (damaged.count == 1 ? "is" : "are") + " damaged")
        }
        throw RepositoryError(.wrongPassphrase, "wrong passphrase for repository \(path) (the damaged \(list) could not be tried)")
    }

    static func unlock(repositoryAt path: String, repositoryID: String, passphrase: [UInt8]) throws -> SymmetricKey {
        try unlockWithKey(repositoryAt: path, repositoryID: repositoryID, passphrase: passphrase).0
    }
}
