import BlobStorage
import CryptoCore
import Foundation
import NexusTypes

/// The parameters of a repository, fixed at `init`; authenticated with a key
/// derived from the master secret.
public struct RepositoryConfig: Codable, Sendable, Equatable {
    /// The repository format this build writes (docs/repository-format.md).
    public static let currentVersion = 2
    /// The format of a repository whose packs are kept in an object store (`store` is set): a
    /// build that knows nothing of `store` must refuse it, not take its empty pack folder for the packs.
    public static let objectStoreVersion = 3
    /// The formats this build reads; an older one is raised to `currentVersion` when the
    /// repository is opened, before anything is written in the newer form.
    public static let readableVersions = 1...3

    public var version: Int
    /// 32 hex digits, random.
    public var id: String
    public var created: String
    public var chunker: ChunkerParameters
    public var cipher: String
    public var blobID: String
    public var compression: String
    public var packSize: UInt64
    /// Where the packs are kept when not in the repository folder: `s3://bucket/prefix`, the
    /// folder's `packs/` then being a cache. Nil for the embedded default.
    public var store: String?

    init(id: String, chunker: ChunkerParameters, store: String? = nil) {
        version = store == nil ? Self.currentVersion : Self.objectStoreVersion
        self.store = store
        self.id = id
        created = ISO8601DateFormatter().string(from: Date())
        self.chunker = chunker
        cipher = "aes-256-gcm"
        blobID = "hmac-sha256"
        compression = "zstd"
        packSize = BlobStore.targetPackSize
    }
}

/// The config file: the config's JSON, and its MAC, which only the key holder can check.
struct SealedConfig {
    private struct File: Codable {
        var nexusfs: String
        var version: Int
        var config: String
        var mac: String
    }

    static let marker = "nexusfs repository"

    let config: RepositoryConfig
    private let body: [UInt8]
    private let mac: [UInt8]

    init(config: RepositoryConfig, keys: RepositoryKeys) throws {
        self.config = config
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        body = [UInt8](try encoder.encode(config))
        mac = HMACSHA256.authenticationCode(for: body, key: keys.config)
    }

    init(decoding bytes: [UInt8], path: String) throws {
        guard let file = try? JSONDecoder().decode(File.self, from: Data(bytes)), file.nexusfs == Self.marker else {
            throw RepositoryError(.notARepository, "\(path) is not a nexusfs repository: its config file is not one")
        }
        guard RepositoryConfig.readableVersions.contains(file.version) else {
            throw RepositoryError(.notARepository,
                                  "\(path) has repository format \(file.version); this nexusfs reads formats "
                                  + "\(RepositoryConfig.readableVersions.lowerBound) to \(RepositoryConfig.readableVersions.upperBound)")
        }
        guard let body = Data(base64Encoded: file.config), let mac = Hex.decode(file.mac),
              let config = try? JSONDecoder().decode(RepositoryConfig.self, from: body) else {
            throw RepositoryError(.integrity, "the config file of \(path) is damaged")
        }
        guard config.version == file.version else {
            throw RepositoryError(.integrity, "the config file of \(path) disagrees with itself about its version")
        }
        guard (config.store != nil) == (config.version == RepositoryConfig.objectStoreVersion) else {
            throw RepositoryError(.integrity, "the config file of \(path) is damaged: its format and its pack store disagree")
        }
        try config.chunker.validate()
        self.config = config
        self.body = [UInt8](body)
        self.mac = mac
    }

    func encoded() throws -> [UInt8] {
        let file = File(nexusfs: Self.marker, version: config.version, config: Data(body).base64EncodedString(), mac: Hex.encode(mac))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return [UInt8](try encoder.encode(file)) + [0x0a]
    }

    /// Checks the MAC once the keys are known.
    func verify(with keys: RepositoryKeys) throws {
        guard constantTimeEquals(HMACSHA256.authenticationCode(for: body, key: keys.config), mac) else {
            throw RepositoryError(.integrity, "the repository config fails authentication: it was changed or damaged")
        }
    }
}
