@testable import BlobStorage
import CryptoCore
import Foundation
import NexusTypes
import Synchronization
import Testing

/// Several threads storing at once write into several open packs and seal full ones outside
/// the store's lock: every blob reads back while pending, while its pack is sealed, and from
/// the sealed packs, and each pack's frames scan in order.
@Suite("Blob store under concurrent writers")
struct BlobStoreConcurrencyTests {
    @Test("four threads store 40 MiB of blobs (several packs fill and seal meanwhile): every blob reads back during and after, and flush leaves nothing unsealed")
    func concurrentWriters() throws {
        let temp = try TemporaryStore()
        let store = temp.store, keys = temp.keys
        let stored = Mutex<[(BlobID, [UInt8])]>([])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            let compressor = Compressor()
            for i in 0..<80 {
                // Incompressible 128 KiB blobs, plus some shared by all workers (added once).
                let bytes = i % 10 == 0 ? Array(repeating: UInt8(i), count: 100_000) : SecureRandom.bytes(128 << 10)
                let id = keys.id(of: bytes)
                do {
                    try bytes.withUnsafeBytes { _ = try store.add(id: id, kind: .data, plaintext: $0, compressor: compressor) }
                    let back = try store.read(id, from: nil, compressor: compressor)
                    if back != bytes { failures.withLock { $0.append("worker \(worker) blob \(i) read back wrong") } }
                    stored.withLock { $0.append((id, bytes)) }
                } catch {
                    failures.withLock { $0.append("worker \(worker) blob \(i): \(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 }.prefix(5))")
        try store.flush()
        let sealed = store.takeSealedPacks()
        #expect(sealed.count >= 3, "40 MiB fill at least two 16 MiB packs, and flush seals what is left")
        var where_ = [BlobID: (PackName, PackEntry)]()
        for pack in sealed { for entry in pack.entries { where_[entry.id] = (pack.name, entry) } }
        let compressor = Compressor()
        for (id, bytes) in stored.withLock({ $0 }) {
            let location = try #require(where_[id], "blob \(id.short) is in no sealed pack")
            #expect(try store.read(id, from: location, compressor: compressor) == bytes)
        }
        #expect(try store.strayFiles().isEmpty, "no open pack is left in packs/tmp")
        for pack in sealed {
            var frames = 0
            let stop = try store.scanFrames(of: pack.name) { _, _ in frames += 1 }
            #expect(stop == nil && frames == pack.entries.count)
        }
    }

    @Test("a record added durably lands in a pack of its own, sealed after every pack holding blobs added before it, whichever lanes they went to")
    func recordAfterItsBlobs() throws {
        let temp = try TemporaryStore()
        let store = temp.store, keys = temp.keys
        let ids = Mutex<[BlobID]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let compressor = Compressor()
            for _ in 0..<20 {
                let bytes = SecureRandom.bytes(64 << 10)
                let id = keys.id(of: bytes)
                try? bytes.withUnsafeBytes { _ = try store.add(id: id, kind: .data, plaintext: $0, compressor: compressor) }
                ids.withLock { $0.append(id) }
            }
        }
        let record = Array("a journal record".utf8)
        let recordID = keys.id(of: record)
        try record.withUnsafeBytes { try store.addDurably(id: recordID, kind: .journal, plaintext: $0, compressor: Compressor()) }
        let sealed = store.takeSealedPacks()
        let last = try #require(sealed.last)
        #expect(last.entries.map(\.id) == [recordID], "the record's pack holds the record alone, and is sealed last")
        let before = Set(sealed.dropLast().flatMap { $0.entries.map(\.id) })
        #expect(ids.withLock { $0 }.allSatisfy(before.contains), "every blob added before the record is in a pack sealed before it")
        #expect(try store.strayFiles().isEmpty)
    }
}
