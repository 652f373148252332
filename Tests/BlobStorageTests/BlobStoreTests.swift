@testable import BlobStorage
import CryptoCore
import Foundation
import Glibc
import NexusTypes
import Testing

/// A blob store in a fresh directory under /var/tmp, removed afterwards.
final class TemporaryStore {
    let directory = "/var/tmp/nexusfs-blobstore-test-\(UUID().uuidString)"
    let keys = BlobKeys(data: .random(), blobID: .random())
    let store: BlobStore

    init() throws {
        store = try BlobStore(directory: directory, keys: keys)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func add(_ bytes: [UInt8], kind: BlobKind = .data) throws -> BlobID {
        let id = keys.id(of: bytes)
        try bytes.withUnsafeBytes { _ = try store.add(id: id, kind: kind, plaintext: $0, compressor: Compressor()) }
        return id
    }
}

func randomBytes(_ count: Int) -> [UInt8] { SecureRandom.bytes(count) }
let text = Array(String(repeating: "nexusfs keeps every version of every document. ", count: 2000).utf8)

@Suite("Blob store and packs")
struct BlobStoreTests {
    @Test("sealed blobs read back through the table of contents and by frame scan")
    func roundTrip() throws {
        let temp = try TemporaryStore()
        let contents = [text, randomBytes(70_000), [], [1, 2, 3]]
        let ids = try contents.map { try temp.add($0) }
        #expect(try temp.store.packNames().isEmpty)
        try temp.store.flush()
        let sealed = temp.store.takeSealedPacks()
        #expect(sealed.count == 1)
        let pack = sealed[0].name
        #expect(try temp.store.packNames() == [pack])
        let toc = try temp.store.tableOfContents(of: pack)
        #expect(toc == sealed[0].entries)
        #expect(toc.map(\.id) == ids)
        #expect(toc[0].compressed && !toc[1].compressed)
        for (entry, content) in zip(toc, contents) {
            #expect(try temp.store.read(entry.id, from: (pack, entry), compressor: Compressor()) == content)
        }
        var scanned: [PackEntry] = []
        let stop = try temp.store.scanFrames(of: pack) { entry, _ in scanned.append(entry) }
        #expect(stop == nil)
        #expect(scanned == toc)
    }

    @Test("blobs in the open pack are readable before it is sealed, and deduplicated")
    func pendingReads() throws {
        let temp = try TemporaryStore()
        let id = try temp.add(text)
        #expect(temp.store.isPending(id))
        let again = try text.withUnsafeBytes { try temp.store.add(id: id, kind: .data, plaintext: $0, compressor: Compressor()) }
        #expect(again == false)
        #expect(try temp.store.read(id, from: nil, compressor: Compressor()) == text)
        try temp.store.flush()
        #expect(temp.store.isPending(id))
        #expect(try temp.store.read(id, from: nil, compressor: Compressor()) == text)
        _ = temp.store.takeSealedPacks()
        #expect(!temp.store.isPending(id))
    }

    @Test("every flipped byte of a pack is detected (a header's as a header problem), and never traps")
    func flippedBytesAreDetected() throws {
        let temp = try TemporaryStore()
        _ = try temp.add(text)
        _ = try temp.add(randomBytes(5000))
        try temp.store.flush()
        let pack = temp.store.takeSealedPacks()[0]
        let path = temp.store.path(of: pack.name)
        chmod(path, 0o600)
        let original = try #require(FileManager.default.contents(atPath: path))
        for offset in stride(from: 0, to: original.count, by: 7) {
            var damaged = original
            damaged[offset] ^= 0x20
            try damaged.write(to: URL(fileURLWithPath: path))
            temp.store.dropCachedReaders()
            // The header is needed by no read (the AADs take the name from the file), so its
            // damage shows only as a header problem; every other byte fails a read.
            var intact = try temp.store.headerProblem(of: pack.name) == nil
            do {
                let toc = try temp.store.tableOfContents(of: pack.name)
                for entry in toc { _ = try temp.store.read(entry.id, from: (pack.name, entry), compressor: Compressor()) }
                intact = intact && toc == pack.entries
            } catch let error as BlobStoreError {
                #expect(error.code == .corrupt)
                intact = false
            }
            #expect(!intact, "a flip at byte \(offset) of \(original.count) went unnoticed")
        }
    }

    @Test("a truncated pack is reported as corrupt")
    func truncatedPack() throws {
        let temp = try TemporaryStore()
        _ = try temp.add(randomBytes(3000))
        try temp.store.flush()
        let pack = temp.store.takeSealedPacks()[0]
        let path = temp.store.path(of: pack.name)
        for length in [0, 10, 30, Int(pack.length) - 1] {
            #expect(truncate(path, off_t(length)) == 0)
            temp.store.dropCachedReaders()
            #expect(throws: BlobStoreError.self) { try temp.store.tableOfContents(of: pack.name) }
        }
    }

    @Test("another repository's keys cannot read a pack")
    func wrongKeys() throws {
        let temp = try TemporaryStore()
        _ = try temp.add(text)
        try temp.store.flush()
        let pack = temp.store.takeSealedPacks()[0]
        let stranger = try BlobStore(directory: temp.directory, keys: BlobKeys(data: .random(), blobID: .random()))
        #expect(throws: BlobStoreError.self) { try stranger.tableOfContents(of: pack.name) }
    }

    @Test("the same content in two packs is encrypted differently, and no plaintext reaches the disk")
    func noPlaintextOnDisk() throws {
        let temp = try TemporaryStore()
        let marker = Array("PLAINTEXT-MARKER-".utf8)
        let content = Array((0..<400).flatMap { _ in marker })
        _ = try temp.add(content)
        try temp.store.flush()
        let first = temp.store.takeSealedPacks()[0]
        let second = try TemporaryStore()
        _ = try second.add(content)
        try second.store.flush()
        let other = second.store.takeSealedPacks()[0]
        let a = try #require(FileManager.default.contents(atPath: temp.store.path(of: first.name)))
        let b = try #require(FileManager.default.contents(atPath: second.store.path(of: other.name)))
        #expect(a != b)
        #expect(a.range(of: Data(marker)) == nil)
    }
}
