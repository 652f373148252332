import BlobStorage
import Foundation
import NexusTypes
import ObjectStore

/// Packs kept in an S3-compatible object store, under `PREFIX/packs/XX/NAME` (the same layout as
/// the pack folder, which is then the store's cache). The config and key files sit beside them
/// (`PREFIX/config`, `PREFIX/keys/ID.key`), so that another host can attach to the repository.
/// Packs are encrypted before they leave; nothing else is sent but those two files, which are
/// what `REPO/config` and `REPO/keys/` hold on disk.
final class ObjectStorePacks: PackStorage {
    let url: String
    let client: S3Client

    /// How long a call keeps retrying an object store that does not answer, in seconds, when
    /// `NEXUSFS_STORE_TIMEOUT` says so (default: the client's 60 s).
    static let timeoutVariable = "NEXUSFS_STORE_TIMEOUT"

    /// A client for `url` (`s3://bucket/prefix`), with the credentials and endpoint of the AWS
    /// variables in `environment`.
    init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        var configuration: S3Configuration
        do {
            configuration = try S3Configuration.from(url: url, environment: environment)
        } catch {
            throw RepositoryError(.invalidArgument, "cannot use the object store \(url): \(error)")
        }
        if !configuration.keyPrefix.isEmpty && !configuration.keyPrefix.hasSuffix("/") { configuration.keyPrefix += "/" }
        if let text = environment[Self.timeoutVariable], !text.isEmpty {
            guard let seconds = Double(text), seconds > 0, seconds < 86_400 else {
                throw RepositoryError(.invalidArgument, "\(Self.timeoutVariable)=\(text) is not a number of seconds")
            }
            configuration.retryFor = .milliseconds(Int64(seconds * 1000))
            configuration.connectTimeout = min(configuration.connectTimeout, configuration.retryFor)
            configuration.readTimeout = min(configuration.readTimeout, configuration.retryFor)
        }
        self.url = Self.canonical(bucket: configuration.bucket, prefix: configuration.keyPrefix)
        do {
            client = try S3Client(configuration: configuration)
        } catch {
            throw RepositoryError(.invalidArgument, "cannot use the object store \(url): \(error)")
        }
    }

    /// `s3://bucket/prefix`, without a trailing slash: the form the config records.
    static func canonical(bucket: String, prefix: String) -> String {
        var prefix = prefix
        while prefix.hasSuffix("/") { prefix.removeLast() }
        return prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)"
    }

    deinit {
        try? client.shutdown()
    }

    var location: String { url }
    var isRemote: Bool { true }

    static func key(of pack: PackName) -> String {
        "packs/" + String(pack.hex.prefix(2)) + "/" + pack.hex
    }

    func keep(_ pack: PackName, sealedAt file: String) throws {
        try client.putFile(Self.key(of: pack), path: file)
    }

    func fetch(_ pack: PackName, into file: String) throws -> Bool {
        try client.download(Self.key(of: pack), to: file)
    }

    func packNames() throws -> [PackName] {
        try client.list(prefix: "packs/").compactMap { entry in
            let parts = entry.key.split(separator: "/")
            guard parts.count == 3, parts[1].count == 2, parts[2].hasPrefix(parts[1]) else { return nil }
            return PackName(hex: String(parts[2]))
        }
    }

    func remove(_ pack: PackName) throws {
        try client.delete(Self.key(of: pack))
    }

    // MARK: The repository's other files

    /// Uploads a file of the repository folder (`config`, `keys/ID.key`) under the same name.
    func putRepositoryFile(_ name: String, from folder: String) throws {
        guard let bytes = FileManager.default.contents(atPath: folder + "/" + name) else {
            throw RepositoryError(.failed, "cannot read \(folder)/\(name)")
        }
        try wrapping("cannot store \(name) in \(url)") { try client.put(name, bytes: [UInt8](bytes)) }
    }

    func removeRepositoryFile(_ name: String) throws {
        try wrapping("cannot delete \(name) from \(url)") { try client.delete(name) }
    }

    /// The repository's config in the store, or nil when the prefix holds no repository.
    func config() throws -> [UInt8]? {
        try wrapping("cannot read the config in \(url)") { try client.get("config") }
    }

    /// The key files in the store, by file name (`ID.key`).
    func keyFiles() throws -> [(name: String, bytes: [UInt8])] {
        try wrapping("cannot read the key files in \(url)") {
            try client.list(prefix: "keys/").compactMap { entry in
                let name = String(entry.key.dropFirst("keys/".count))
                guard name.hasSuffix(".key"), !name.contains("/"), let bytes = try client.get(entry.key) else { return nil }
                return (name, bytes)
            }
        }
    }

    func putObject(_ key: String, bytes: [UInt8], what: String) throws {
        try wrapping("cannot \(what) \(url)") { try client.put(key, bytes: bytes) }
    }

    func getObject(_ key: String, what: String) throws -> [UInt8]? {
        try wrapping("cannot \(what) \(url)") { try client.get(key) }
    }

    func deleteObject(_ key: String, what: String) throws {
        try wrapping("cannot \(what) \(url)") { try client.delete(key) }
    }

    /// Whether anything at all is stored under the prefix.
    func isEmpty() throws -> Bool {
        try wrapping("cannot list \(url)") { try client.list(prefix: "", pageSize: 1).isEmpty }
    }

    private func wrapping<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ObjectStoreError {
            let code: RepositoryError.Code = error.code == .invalidConfiguration ? .invalidArgument : .failed
            throw RepositoryError(code, "\(what): \(error)")
        }
    }
}
