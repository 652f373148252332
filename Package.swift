// swift-tools-version:6.0
// nexusfs: a document management system mounted as a drive.
// Layers point down (see docs/architecture.md); build with
// `--explicit-target-dependency-import-check error` so that a target importing
// what it does not declare fails the build.
import PackageDescription

let package = Package(
    name: "nexusfs",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "nexusfs", targets: ["nexusfs"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
    ],
    targets: [
        // C doors: a module map and a shim.h each, nothing else.
        .systemLibrary(name: "CLibCrypto", path: "Sources/CLibCrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CArgon2", path: "Sources/CArgon2", providers: [.apt(["libargon2-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),
        .systemLibrary(name: "CFUSE", path: "Sources/CFUSE", providers: [.apt(["libfuse3-dev"])]),
        .systemLibrary(name: "CSQLiteSession", path: "Sources/CSQLiteSession", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CMagic", path: "Sources/CMagic", providers: [.apt(["libmagic-dev"])]),
        .systemLibrary(name: "CPoppler", path: "Sources/CPoppler", pkgConfig: "poppler-glib",
                       providers: [.apt(["libpoppler-glib-dev"])]),
        .systemLibrary(name: "CLibXML2", path: "Sources/CLibXML2", pkgConfig: "libxml-2.0",
                       providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", providers: [.apt(["libpq-dev"])]),

        // Identifiers and value types shared by every layer; no dependencies.
        .target(name: "NexusTypes"),
        // AEAD, MAC, KDFs and randomness over libcrypto and libargon2.
        .target(name: "CryptoCore", dependencies: ["CLibCrypto", "CArgon2"]),
        // Chunking, compression, encryption and pack files.
        .target(name: "BlobStorage", dependencies: ["NexusTypes", "CryptoCore", "CZstd"]),
        // The SQLite catalog: chunk index, namespace, versions, audit log, journal capture.
        .target(name: "CatalogStore", dependencies: [
            "NexusTypes", "CryptoCore", "CSQLiteSession", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // Reading and writing local directory trees with byte-exact names and metadata.
        .target(name: "LocalTree", dependencies: ["NexusTypes", "CLinux"]),
        // The repository: config, keys, catalog + blob store, import/export, check, recover.
        .target(name: "RepositoryCore", dependencies: [
            "NexusTypes", "CryptoCore", "BlobStorage", "CatalogStore", "LocalTree", "ObjectStore",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // POSIX semantics over a repository: inodes, handles, content editing, group commits.
        .target(name: "VFS", dependencies: [
            "NexusTypes", "CatalogStore", "BlobStorage", "RepositoryCore", "CryptoCore",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // MIME type and plain text of a file's bytes, and the child process that extracts them for the daemon.
        .target(name: "TextExtraction", dependencies: [
            "NexusTypes", "CMagic", "CPoppler", "CLibXML2", "CLinux", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        // A generic Swift binding of libfuse3's low-level API; knows nothing of nexusfs.
        .target(name: "FUSELowLevel", dependencies: ["CFUSE"]),
        // Exponential backoff with jitter and a blocking sleep, for the generic clients' retries.
        .target(name: "Backoff"),
        // A generic S3 client with its own SigV4 signing, synchronous for plain threads; knows nothing of nexusfs.
        .target(name: "ObjectStore", dependencies: [
            "CryptoCore", "Backoff",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // A generic PostgreSQL client over libpq, synchronous for plain threads; knows nothing of nexusfs.
        .target(name: "PostgresStore", dependencies: ["CLibPQ", "Backoff", .product(name: "Logging", package: "swift-log")]),
        // FUSE operations onto the VFS, errno mapping in one file.
        .target(name: "FUSEFrontend", dependencies: ["FUSELowLevel", "VFS", "NexusTypes"]),
        .executableTarget(name: "nexusfs", dependencies: [
            "NexusTypes", "CatalogStore", "RepositoryCore", "VFS", "FUSEFrontend", "FUSELowLevel", "CLinux", "TextExtraction",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "CryptoCoreTests", dependencies: ["CryptoCore"]),
        .testTarget(name: "BlobStorageTests", dependencies: ["BlobStorage", "CryptoCore", "NexusTypes"]),
        .testTarget(name: "CatalogStoreTests", dependencies: [
            "CatalogStore", "CryptoCore", "NexusTypes", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "LocalTreeTests", dependencies: ["LocalTree", "NexusTypes"]),
        .testTarget(name: "RepositoryCoreTests", dependencies: [
            "RepositoryCore", "BlobStorage", "CatalogStore", "CryptoCore", "NexusTypes", "TestServers",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "FUSELowLevelTests", dependencies: ["FUSELowLevel", "CLinux"]),
        .testTarget(name: "VFSTests", dependencies: ["VFS", "RepositoryCore", "CatalogStore", "CryptoCore", "NexusTypes"]),
        .testTarget(name: "EndToEndTests", dependencies: ["nexusfs", "TestServers"]),
        .testTarget(name: "ObjectStoreTests", dependencies: ["ObjectStore", "CryptoCore", "TestServers"]),
        .testTarget(name: "PostgresStoreTests", dependencies: ["PostgresStore"]),
        // Servers the tests start on loopback (moto's S3); used by test targets only.
        .target(name: "TestServers", dependencies: ["ObjectStore"], path: "Tests/TestServers"),
        .testTarget(name: "TextExtractionTests", dependencies: [
            "TextExtraction", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
    ]
)
