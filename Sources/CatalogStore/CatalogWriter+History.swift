import Foundation
import NexusTypes

extension CatalogReader {
    /// Every document that has versions, with its versions newest first.
    public func allVersions() throws -> [Int64: [VersionRecord]] {
        var out: [Int64: [VersionRecord]] = [:]
        for row in try CatalogRow.fetchAll(db, sql: "SELECT * FROM versions ORDER BY doc, number DESC") {
            let version = try VersionRecord(row: row)
            out[version.document, default: []].append(version)
        }
        return out
    }

    /// Manifests no node and no version refers to.
    public func unreferencedManifests() throws -> [ManifestID] {
        try Data.fetchAll(db, sql: """
            SELECT id FROM manifests
            WHERE id NOT IN (SELECT manifest FROM versions)
              AND id NOT IN (SELECT manifest FROM nodes WHERE manifest IS NOT NULL)
            """).compactMap { ManifestID(bytes: [UInt8]($0)) }
    }

    /// Every blob in the index with its pack and place.
    public func allBlobs() throws -> [(id: BlobID, location: ChunkLocation)] {
        try CatalogRow.fetchAll(db, sql: """
            SELECT chunks.id AS id, packs.name AS pack, "offset", stored_length, raw_length, kind, flags
            FROM chunks JOIN packs ON packs.id = chunks.pack
            """).map { row in (BlobID(bytes: [UInt8](row["id"] as Data))!, try ChunkLocation(row: row)) }
    }
}

extension CatalogWriter {
    static let replaceChunk = ReplacingInsert(
        into: "chunks", columns: ["id", "pack", "offset", "stored_length", "raw_length", "kind", "flags"], key: ["id"])

    public func removeVersion(of document: Int64, number: VersionNumber) throws {
        try db.execute(sql: "DELETE FROM versions WHERE doc = ? AND number = ?", arguments: [document, number.rawValue])
    }

    public func removeManifest(_ id: ManifestID) throws {
        try db.execute(sql: "DELETE FROM manifests WHERE id = ?", arguments: [Data(id.bytes)])
    }

    /// Removes the manifest parts no manifest lists (after `removeManifest`).
    public func removeUnreferencedManifestParts() throws {
        for part in try reader.unreferencedManifestParts() {
            try db.execute(sql: "DELETE FROM manifest_parts WHERE id = ?", arguments: [Data(part.bytes)])
        }
    }

    /// Points index rows at a new pack (after its blobs were copied there).
    public func relocate(_ blobs: [(id: BlobID, location: ChunkLocation)], to pack: PackName, length: Int64) throws {
        try db.execute(sql: "INSERT INTO packs(name, length, blob_count) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                       arguments: [Data(pack.bytes), length, blobs.count])
        guard let packID = try Int64.fetchOne(db, sql: "SELECT id FROM packs WHERE name = ?", arguments: [Data(pack.bytes)]) else {
            throw CatalogError(.sqlite, "pack \(pack) vanished while being indexed")
        }
        let statement = db.cachedStatement(sql: Self.replaceChunk.sql(for: db.dialect))
        for blob in blobs {
            try statement.execute(arguments: [Data(blob.id.bytes), packID, blob.location.offset,
                                              Int64(blob.location.storedLength), Int64(blob.location.rawLength),
                                              Int64(blob.location.kind), blob.location.compressed ? 1 : 0])
        }
    }
}
