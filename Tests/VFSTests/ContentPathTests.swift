import CatalogStore
import Foundation
import Glibc
import NexusTypes
import RepositoryCore
@testable import VFS
import Synchronization
import Testing

/// The content path under concurrency: pages spilled in the background while writes go on,
/// reads decoding chunks outside the content's lock, several threads storing chunks at once.
@Suite("Content path")
struct ContentPathTests {
    /// Deterministic bytes for (seed, count).
    static func bytes(_ seed: UInt64, _ count: Int) -> [UInt8] {
        var state = seed &* 0x9E3779B97F4A7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }

    @Test("writes past the dirty limit spill in the background; rewrites, holes and truncation meanwhile all read back exactly, before and after the save and a remount")
    func backgroundSpill() throws {
        let t = try TestVolume(options: VolumeOptions(maxDirtyBytesPerFile: 1 << 20))
        let (attributes, handle) = try t.volume.create(Array("big.bin".utf8), in: .root, mode: 0o644, flags: O_RDWR, caller: t.user)
        var model = [UInt8]()
        func write(_ data: [UInt8], at offset: Int) throws {
            try t.write(handle, data, at: Int64(offset))
            if model.count < offset + data.count { model += [UInt8](repeating: 0, count: offset + data.count - model.count) }
            model.replaceSubrange(offset..<offset + data.count, with: data)
        }
        for step in 0..<160 {
            // Mostly appends of 64 KiB; now and then a rewrite of something a spill may hold.
            try write(Self.bytes(UInt64(step), 65_536), at: model.count)
            if step % 9 == 4 { try write(Self.bytes(UInt64(1000 + step), 5_000), at: (step * 37_813) % model.count) }
            if step % 23 == 11 { try write(Self.bytes(UInt64(2000 + step), 4_096), at: model.count + 200_000) }
        }
        // Reads while spills may still run see every byte written.
        #expect(try t.volume.read(handle, at: 0, count: model.count) == model)
        _ = try t.volume.setAttributes(attributes.inode, AttributeChanges(size: Int64(model.count - 12_345)), handle: handle, caller: t.user)
        model.removeLast(12_345)
        try write(Self.bytes(9, 70_000), at: 3_000_000)
        try t.volume.release(handle)
        #expect(try t.contents(attributes.inode) == model)
        let (_, volume) = try t.reopen()
        defer { try? volume.shutdown() }
        let reopened = try volume.open(attributes.inode, flags: O_RDONLY, caller: t.user)
        #expect(try volume.read(reopened, at: 0, count: model.count + 1) == model)
        try volume.release(reopened)
    }

    @Test("four threads reading one large file at random offsets while a fifth rewrites parts of it get only bytes that were written there")
    func parallelReads() throws {
        let t = try TestVolume()
        let original = Self.bytes(1, 6 << 20)
        let inode = try t.create("shared.bin", original)
        let replacement = Self.bytes(2, 6 << 20)
        let failures = Mutex<[String]>([])
        let volume = t.volume, user = t.user
        DispatchQueue.concurrentPerform(iterations: 5) { worker in
            do {
                let handle = try volume.open(inode, flags: worker == 4 ? O_RDWR : O_RDONLY, caller: user)
                defer { try? volume.release(handle) }
                for i in 0..<40 {
                    let offset = (i * 999_983 + worker * 77_777) % (original.count - 300_000)
                    if worker == 4 {
                        _ = try replacement[offset..<offset + 100_000].withUnsafeBytes {
                            try volume.write(handle, at: Int64(offset), data: $0, caller: user)
                        }
                        continue
                    }
                    let got = try volume.read(handle, at: Int64(offset), count: 250_000)
                    for (k, byte) in got.enumerated() where byte != original[offset + k] && byte != replacement[offset + k] {
                        failures.withLock { $0.append("worker \(worker): byte \(offset + k) is \(byte)") }
                        break
                    }
                }
            } catch {
                failures.withLock { $0.append("worker \(worker): \(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 }.prefix(5))")
    }
}
