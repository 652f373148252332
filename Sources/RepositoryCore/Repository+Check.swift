import BlobStorage
import CatalogStore
import CryptoCore
import NexusTypes

/// What `check` found. Errors are damage; garbage is harmless leftovers that gc removes.
public struct CheckReport: Sendable, Codable {
    public var packs = 0
    public var blobs = 0
    public var bytesRead: Int64 = 0
    public var errors: [String] = []
    public var garbage: [String] = []
    /// Documents and versions whose content is damaged or missing, by path.
    public var affected: [String] = []

    public var isClean: Bool { errors.isEmpty }
}

extension Repository {
    /// Checks the repository's structure: packs against the index, every reference
    /// against what it refers to. With `readData`, also reads and authenticates every
    /// byte of every pack.
    public func check(readData: Bool, progress: ProgressHandler? = nil) throws -> CheckReport {
        try RepositoryError.wrapping("check of repository \(path) failed") {
            try checkAll(readData: readData, progress: progress)
        }
    }

    private func checkAll(readData: Bool, progress: ProgressHandler?) throws -> CheckReport {
        var report = CheckReport()
        var damaged = Set<BlobID>()
        let indexedPacks = try catalog.read { try $0.packs() }
        let onDisk = Set(try store.packNames())
        var state = OperationProgress(totalItems: indexedPacks.count, totalBytes: indexedPacks.reduce(0) { $0 + $1.length },
                             current: "packs")
        let compressor = Compressor()
        // The live catalog is not authenticated; SQLite can at least tell a damaged file.
        for problem in try catalog.read({ try $0.integrityProblems() }) {
            report.errors.append("the catalog \(catalog.path) is damaged: \(problem); run `nexusfs recover \(path)` to rebuild it")
        }

        for pack in indexedPacks {
            let indexed = try catalog.read { try $0.blobs(inPack: pack.name) }
            defer {
                state.items += 1
                state.bytes += pack.length
                progress?(state)
            }
            report.packs += 1
            guard onDisk.contains(pack.name) else {
                report.errors.append("pack \(pack.name) is missing: \(indexed.count) blobs lost")
                damaged.formUnion(indexed.map(\.id))
                continue
            }
            if let problem = try store.headerProblem(of: pack.name) {
                report.errors.append(problem)
            }
            // Without a table of contents, each indexed blob is read where the index says it is
            // (with or without --read-data), so that only the blobs really lost are named.
            var toRead: [PackEntry]
            do {
                let toc = try store.tableOfContents(of: pack.name)
                let byID = Dictionary(toc.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
                for blob in indexed {
                    guard let entry = byID[blob.id], entry.offset == UInt64(blob.location.offset),
                          entry.frameLength == UInt32(blob.location.storedLength) else {
                        report.errors.append("pack \(pack.name) does not hold blob \(blob.id.short) where the index says")
                        damaged.insert(blob.id)
                        continue
                    }
                }
                if let gap = Self.coverageGap(toc, length: pack.length) {
                    report.errors.append("pack \(pack.name): \(gap)")
                }
                toRead = readData ? toc : []
            } catch {
                report.errors.append("\(error); its \(indexed.count) indexed blobs were read one by one")
                toRead = []
                for blob in indexed {
                    do {
                        toRead.append(try blob.location.packEntry(id: blob.id))
                    } catch {
                        report.errors.append("pack \(pack.name): blob \(blob.id.short) has an index entry of an unknown kind")
                        damaged.insert(blob.id)
                    }
                }
            }
            for entry in toRead {
                report.blobs += 1
                do {
                    let plain = try store.read(entry.id, from: (pack.name, entry), compressor: compressor)
                    report.bytesRead += Int64(entry.frameLength)
                    if keys.blobKeys.id(of: plain) != entry.id {
                        report.errors.append("pack \(pack.name): blob \(entry.id.short) decrypts to content with another id")
                        damaged.insert(entry.id)
                    }
                } catch {
                    report.errors.append("\(error)")
                    damaged.insert(entry.id)
                }
            }
        }
        for name in onDisk.subtracting(indexedPacks.map(\.name)) {
            report.garbage.append("pack \(name) is not in the index (written by an interrupted operation; gc removes it)")
        }
        for stray in try store.strayFiles() {
            report.garbage.append("\(stray) is an unfinished pack (gc removes it)")
        }
        try checkReferences(&report, damaged: damaged)
        return report
    }

    /// Frames must tile the pack from the header to the table of contents, so that
    /// every byte is covered by something authenticated.
    static func coverageGap(_ toc: [PackEntry], length: Int64) -> String? {
        var expected = UInt64(24)
        for entry in toc.sorted(by: { $0.offset < $1.offset }) {
            guard entry.offset == expected else { return "unaccounted bytes at \(expected)" }
            expected += UInt64(entry.frameLength)
        }
        return expected <= UInt64(length) ? nil : "frames run past the end of the pack"
    }

    /// Every manifest's chunks are indexed and intact; every node and version has its manifest.
    private func checkReferences(_ report: inout CheckReport, damaged: Set<BlobID>) throws {
        var referenced = Set<BlobID>()
        var bad: [ManifestID] = []
        try catalog.read { reader in
            try reader.forEachManifest { id, manifest in
                var broken = false
                for chunk in manifest.storedChunks {
                    referenced.insert(chunk.id)
                    if damaged.contains(chunk.id) {
                        broken = true
                    } else if try !reader.containsBlob(chunk.id) {
                        report.errors.append("chunk \(chunk.id.short) is referenced but in no pack")
                        broken = true
                    }
                }
                if broken { bad.append(id) }
            }
            for id in bad {
                let users = try reader.users(of: id)
                for inode in users.nodes {
                    report.affected.append("\(try reader.path(of: inode)?.description ?? "inode \(inode)") (current content)")
                }
                for version in users.versions {
                    let name = try reader.node(ofDocument: version.document).flatMap { try reader.path(of: $0) }
                    report.affected.append("\(name?.description ?? "document \(version.document)") version \(version.number)")
                }
            }
            let stats = try reader.statistics()
            let unreferenced = max(0, stats.chunks - referenced.count)
            if unreferenced > 0 {
                report.garbage.append("\(unreferenced) content blobs are not referenced by any document or version (gc removes them)")
            }
        }
        report.affected.sort()
        if !report.affected.isEmpty {
            report.errors.append("\(report.affected.count) documents or versions have damaged content")
        }
    }
}
