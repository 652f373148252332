@testable import CatalogStore
import Foundation
import GRDB
import NexusTypes
import Testing

/// Large manifests are stored as content-defined parts: they read back whole, a small edit
/// stores one new part, and parts that nothing lists go with their manifests.
@Suite("Manifest parts")
struct ManifestPartsTests {
    /// A manifest of `count` chunks with pseudo-random ids from `seed`.
    func manifest(_ count: Int, seed: UInt64) -> ContentManifest {
        var state = seed
        func next() -> UInt8 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        return ContentManifest(chunks: (0..<count).map { i in
            .init(id: BlobID(bytes: (0..<32).map { _ in next() })!, length: UInt32(8192 + i % 1000))
        })
    }

    @Test("a manifest of 20,000 chunks round-trips, and an edit of one chunk adds one part")
    func roundTripAndSharing() throws {
        let temp = try TemporaryCatalog()
        let original = manifest(20_000, seed: 1)
        var edited = original
        edited.chunks[10_000] = .init(id: BlobID(bytes: [UInt8](repeating: 7, count: 32))!, length: 4096)
        let small = manifest(ManifestEncoding.partThreshold, seed: 2)
        let first = ManifestEncoding(original), second = ManifestEncoding(edited), flat = ManifestEncoding(small)
        #expect(first.id != second.id)
        try temp.catalog.write { w in
            try w.insertManifest(first)
            try w.insertManifest(flat)
        }
        let (partsBefore, rowBytes) = try temp.catalog.read { r in
            (try r.rowCount("manifest_parts"), try r.manifestRowBytes(first.id))
        }
        // About one part in 1,024 chunks; the row lists the parts in 36 bytes each.
        #expect(partsBefore >= 5 && partsBefore <= 80, "\(partsBefore) parts")
        #expect(rowBytes == 36 * (partsBefore + 1))
        try temp.catalog.write { w in try w.insertManifest(second) }
        let partsAfter = try temp.catalog.read { try $0.rowCount("manifest_parts") }
        #expect(partsAfter - partsBefore >= 1 && partsAfter - partsBefore <= 2, "\(partsBefore) -> \(partsAfter)")
        try temp.catalog.read { r in
            #expect(try r.manifest(first.id) == original)
            #expect(try r.manifest(second.id) == edited)
            #expect(try r.manifest(flat.id) == small)
            var seen = 0
            try r.forEachManifest { id, m in
                seen += 1
                #expect(m == [first.id: original, second.id: edited, flat.id: small][id])
            }
            #expect(seen == 3)
        }
        // The same content gives the same id, and storing it again stores nothing.
        #expect(ManifestEncoding(original).id == first.id)
        try temp.catalog.write { w in try w.insertManifest(ManifestEncoding(original)) }
        #expect(try temp.catalog.read { try $0.rowCount("manifest_parts") } == partsAfter)

        // Removing the edited manifest frees exactly the parts only it listed.
        try temp.catalog.write { w in
            try w.removeManifest(second.id)
            try w.removeUnreferencedManifestParts()
        }
        #expect(try temp.catalog.read { try $0.rowCount("manifest_parts") } == partsBefore)
        #expect(try temp.catalog.read { try $0.manifest(first.id) } == original)
    }

    @Test("a missing part is reported as damage, not read as a shorter content")
    func missingPart() throws {
        let temp = try TemporaryCatalog()
        let encoding = ManifestEncoding(manifest(5_000, seed: 3))
        try temp.catalog.write { w in try w.insertManifest(encoding) }
        try temp.catalog.write { w in try w.deleteSomeManifestPart() }
        #expect(throws: CatalogError.self) { try temp.catalog.read { try $0.manifest(encoding.id) } }
    }
}

extension CatalogReader {
    func rowCount(_ table: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0
    }

    func manifestRowBytes(_ id: ManifestID) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT length(chunks) FROM manifests WHERE id = ?", arguments: [Data(id.bytes)]) ?? -1
    }
}

extension CatalogWriter {
    func deleteSomeManifestPart() throws {
        try db.execute(sql: "DELETE FROM manifest_parts WHERE rowid = (SELECT max(rowid) FROM manifest_parts)")
    }
}
