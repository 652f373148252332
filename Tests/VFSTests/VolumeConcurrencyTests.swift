import CryptoCore
import Foundation
import Glibc
import NexusTypes
import Synchronization
@testable import VFS
import Testing

/// Runs `bodies` at the same moment on threads of their own and waits for all of them; a
/// deadlock among them fails the test after 60 s instead of hanging it.
func together(_ bodies: [@Sendable () -> Void], sourceLocation: SourceLocation = #_sourceLocation) {
    let group = DispatchGroup()
    let start = DispatchSemaphore(value: 0)
    for body in bodies {
        group.enter()
        Thread.detachNewThread {
            start.wait()
            body()
            group.leave()
        }
    }
    for _ in bodies { start.signal() }
    let finished = group.wait(timeout: .now() + 60) == .success
    #expect(finished, "the threads did not finish within 60 s: a deadlock", sourceLocation: sourceLocation)
}

/// The kernel sends RELEASE after close(2) has returned, so saves overlap with whatever the
/// program does next: another close, an open, a utime.
@Suite("Volume: saves overlapping other operations")
struct VolumeConcurrencyTests {
    @Test("a content stays modified until its save is staged, so closing another handle meanwhile keeps it")
    func savedOnlyWhenStaged() throws {
        let t = try TestVolume()
        let (attributes, first) = try t.volume.create(Array("f".utf8), in: .root, mode: 0o644, flags: O_WRONLY, caller: t.user)
        let second = try t.volume.open(attributes.inode, flags: O_WRONLY, caller: t.user)
        try t.write(first, Array("written".utf8))
        let content = try #require(try t.volume.files.fileHandle(first).content)
        // A save that has sealed but not staged yet...
        let sealed = try content.seal(chunker: t.volume.files.source.chunker, source: t.volume.files.source)
        #expect(content.isModified, "sealing alone must not make the content look saved")
        // ...while the other handle is closed and the file opened again.
        try t.volume.release(second)
        let reader = try t.volume.open(attributes.inode, flags: O_RDONLY, caller: t.user)
        #expect(try t.volume.read(reader, at: 0, count: 100) == Array("written".utf8))
        try t.volume.release(reader)
        content.markSaved(changes: sealed.changes)
        try t.volume.release(first)
        #expect(try t.contents(attributes.inode) == Array("written".utf8))
    }

    @Test("a write after a save has sealed keeps the content modified")
    func writeDuringSave() throws {
        let t = try TestVolume()
        let (attributes, handle) = try t.volume.create(Array("f".utf8), in: .root, mode: 0o644, flags: O_RDWR, caller: t.user)
        try t.write(handle, Array("one".utf8))
        let content = try #require(try t.volume.files.fileHandle(handle).content)
        let sealed = try content.seal(chunker: t.volume.files.source.chunker, source: t.volume.files.source)
        try t.write(handle, Array("two".utf8), at: 3)
        content.markSaved(changes: sealed.changes)
        #expect(content.isModified)
        try t.volume.release(handle)
        #expect(try t.contents(attributes.inode) == Array("onetwo".utf8))
    }

    @Test("two handles closed at once while a third opens and reads: every read sees the whole content", .timeLimit(.minutes(1)))
    func concurrentReleases() throws {
        let t = try TestVolume()
        for round in 0..<500 {
            let name = Array("f\(round)".utf8)
            let (attributes, first) = try t.volume.create(name, in: .root, mode: 0o644, flags: O_WRONLY | O_APPEND, caller: t.user)
            let second = try t.volume.open(attributes.inode, flags: O_WRONLY | O_APPEND, caller: t.user)
            try t.write(first, [UInt8](repeating: 0x61, count: 10))
            try t.write(second, [UInt8](repeating: 0x62, count: 7))
            let volume = t.volume, user = t.user, inode = attributes.inode
            let reads = Mutex([Int]())
            together([
                { try? volume.release(first) },
                { try? volume.release(second) },
                {
                    for _ in 0..<3 {
                        guard let h = try? volume.open(inode, flags: O_RDONLY, caller: user) else { continue }
                        let count = (try? volume.read(h, at: 0, count: 100).count) ?? -1
                        reads.withLock { $0.append(count) }
                        try? volume.release(h)
                    }
                },
            ])
            let seen = reads.withLock { $0 }
            #expect(seen.allSatisfy { $0 == 17 }, "round \(round): reads saw \(seen) bytes of 17")
            #expect(try t.contents(inode).count == 17)
            if seen.contains(where: { $0 != 17 }) { break }
        }
    }

    @Test("stat while the last close is saving: the size is the written one, never the old one", .timeLimit(.minutes(1)))
    func statDuringSave() throws {
        let t = try TestVolume()
        for round in 0..<300 {
            let (attributes, handle) = try t.volume.create(Array("s\(round)".utf8), in: .root, mode: 0o644, flags: O_WRONLY,
                                                           caller: t.user)
            try t.write(handle, [UInt8](repeating: 7, count: 1000 + round))
            let volume = t.volume, inode = attributes.inode
            let sizes = Mutex([Int64]())
            together([
                { try? volume.release(handle) },
                {
                    for _ in 0..<4 {
                        if let size = try? volume.attributes(of: inode).size { sizes.withLock { $0.append(size) } }
                    }
                },
            ])
            let seen = sizes.withLock { $0 }
            #expect(seen.allSatisfy { $0 == Int64(1000 + round) }, "round \(round): stat saw sizes \(seen)")
            if seen.contains(where: { $0 != Int64(1000 + round) }) { break }
        }
    }

    @Test("saves by rename (a temp file renamed over a document) alongside opens and writes of other files never deadlock",
          .timeLimit(.minutes(1)))
    func renameSavesAlongsideOpens() throws {
        let t = try TestVolume()
        let volume = t.volume, user = t.user
        let others = try (0..<20).map { try t.create("other\($0)", SecureRandom.bytes(70_000)) }
        _ = try t.create("doc.txt", Array("first".utf8))
        let failures = Mutex([String]())
        together([
            {
                for round in 0..<300 {
                    do {
                        let (_, h) = try volume.create(Array(".doc.txt.tmp".utf8), in: .root, mode: 0o644, flags: O_WRONLY, caller: user)
                        _ = try Array("round \(round)".utf8).withUnsafeBytes { try volume.write(h, at: 0, data: $0, caller: user) }
                        try volume.release(h)
                        try volume.rename(Array(".doc.txt.tmp".utf8), in: .root, to: Array("doc.txt".utf8), in: .root, flags: [], caller: user)
                    } catch {
                        failures.withLock { $0.append("save \(round): \(error)") }
                    }
                }
            },
            {
                for round in 0..<300 {
                    do {
                        let inode = others[round % others.count]
                        let h = try volume.open(inode, flags: O_RDWR, caller: user)
                        _ = try volume.read(h, at: Int64(round * 100), count: 4096)
                        _ = try [UInt8(round % 256)].withUnsafeBytes { try volume.write(h, at: Int64(round * 7), data: $0, caller: user) }
                        try volume.release(h)
                        _ = try volume.attributes(of: inode)
                    } catch {
                        failures.withLock { $0.append("other \(round): \(error)") }
                    }
                }
            },
        ])
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 }.prefix(5))")
    }

    @Test("fsyncs from three threads while the committer runs: every fsync succeeds, checkpoints included",
          .timeLimit(.minutes(2)))
    func fsyncsAcrossCheckpoints() throws {
        let t = try TestVolume(options: VolumeOptions(commitInterval: 0.01))
        t.volume.startCommitting()
        let volume = t.volume, user = t.user
        let failures = Mutex([String]())
        let writer = { (index: Int) -> @Sendable () -> Void in
            {
                do {
                    let (_, h) = try volume.create(Array("db\(index)".utf8), in: .root, mode: 0o644, flags: O_RDWR, caller: user)
                    for round in 0..<300 {
                        _ = try Array("page \(round)".utf8).withUnsafeBytes {
                            try volume.write(h, at: Int64(round * 4096), data: $0, caller: user)
                        }
                        try volume.fsync(h)
                    }
                    try volume.release(h)
                } catch {
                    failures.withLock { $0.append("writer \(index): \(error)") }
                }
            }
        }
        together((0..<3).map(writer))
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let checkpointed = try t.repository.catalog.read { try $0.meta("checkpoint_seq") ?? 0 }
        let journaled = try t.repository.catalog.read { try $0.journalSequence() }
        #expect(checkpointed > 1, "900 fsyncs (journal at \(journaled)) should have made a checkpoint")
    }

    @Test("utime while the last close is saving: the time set wins", .timeLimit(.minutes(1)))
    func utimeDuringSave() throws {
        let t = try TestVolume()
        let wanted = FileTime(seconds: 1_000_000_001, nanoseconds: 999_999_999)
        for round in 0..<150 {
            let (attributes, handle) = try t.volume.create(Array("t\(round)".utf8), in: .root, mode: 0o644, flags: O_WRONLY,
                                                           caller: t.user)
            try t.write(handle, SecureRandom.bytes(20_000))
            let volume = t.volume, user = t.user, inode = attributes.inode
            together([
                { try? volume.release(handle) },
                { _ = try? volume.setAttributes(inode, AttributeChanges(modificationTime: .at(wanted)), handle: nil, caller: user) },
            ])
            let stored = try t.repository.catalog.read { try $0.node(inode)!.modificationTime }
            #expect(stored == wanted, "round \(round): mtime \(stored) instead of the one set")
            if stored != wanted { break }
        }
    }
}
