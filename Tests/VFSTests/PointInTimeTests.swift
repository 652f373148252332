import Foundation
import Glibc
import NexusTypes
import RepositoryCore
@testable import VFS
import Testing

/// The `/.at/TIME/` view of a live volume (issue 12): lookups, listings, reads, refusals and the cache.
@Suite("Point in time: the /.at view")
struct PointInTimeTests {
    /// `@SECONDS.NANOS`, a name of `/.at` for `time`.
    func name(_ time: FileTime) -> [UInt8] {
        Array("@\(time.seconds).\(String(time.nanoseconds).leftPadded(to: 9))".utf8)
    }

    /// The catalogs of past views in the test volume's state directory.
    func pastCatalogs(_ t: TestVolume) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: t.repository.stateDirectory)) ?? []).filter {
            $0.hasPrefix("catalog.at-") && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm")
        }
    }

    /// The root of `/.at/TIME`, looked up as the kernel does.
    func pastRoot(_ t: TestVolume, _ time: [UInt8]) throws -> Attributes {
        let at = try t.volume.lookup(AtView.name, in: .root, caller: t.user)
        return try t.volume.lookup(time, in: at.inode, caller: t.user)
    }

    func read(_ t: TestVolume, _ inode: InodeNumber) throws -> [UInt8] {
        let handle = try t.volume.open(inode, flags: O_RDONLY, caller: t.user)
        defer { try? t.volume.release(handle) }
        #expect(AtView.isHandle(handle))
        return try t.volume.read(handle, at: 0, count: 100)
    }

    @Test("a past time shows the tree of then through lookups, listings and reads, with inodes and handles of the view; the live tree goes on")
    func pastTree() throws {
        let t = try TestVolume()
        let file = try t.create("a.txt", Array("one".utf8))
        try t.volume.commitNow()
        let then = FileTime.now
        usleep(10_000)
        let handle = try t.volume.open(file, flags: O_WRONLY | O_TRUNC, caller: t.user)
        try t.write(handle, Array("two!".utf8))
        try t.volume.release(handle)
        _ = try t.create("later.txt", Array("new".utf8))
        try t.volume.commitNow()

        let root = try pastRoot(t, name(then))
        #expect(AtView.contains(root.inode) && root.mode & 0o170000 == NodeKind.directory.rawValue)
        let past = try t.volume.lookup(Array("a.txt".utf8), in: root.inode, caller: t.user)
        #expect(AtView.contains(past.inode) && past.size == 3)
        #expect(try read(t, past.inode) == Array("one".utf8))
        #expect(try t.volume.attributes(of: past.inode) == past)
        #expect(throws: VFSError.self) { try t.volume.lookup(Array("later.txt".utf8), in: root.inode, caller: t.user) }
        let directory = try t.volume.openDirectory(root.inode)
        #expect(AtView.isHandle(directory))
        let entries = try t.volume.listDirectory(directory, from: 0, caller: t.user)
        t.volume.releaseDirectory(directory)
        #expect(entries.map { String(decoding: $0.name, as: UTF8.self) } == [".", "..", "a.txt"])
        #expect(entries.map(\.inode) == [root.inode, AtView.root, past.inode])
        // The live volume is as it was left.
        #expect(try t.contents(file) == Array("two!".utf8))
        // /.at lists nothing and is not listed in the root.
        let atHandle = try t.volume.openDirectory(AtView.root)
        #expect(try t.volume.listDirectory(atHandle, from: 0).map(\.name) == [[0x2e], [0x2e, 0x2e]])
        t.volume.releaseDirectory(atHandle)
        let rootHandle = try t.volume.openDirectory(.root)
        #expect(!(try t.volume.listDirectory(rootHandle, from: 0).contains { $0.name == AtView.name }))
        t.volume.releaseDirectory(rootHandle)
        #expect(pastCatalogs(t).count == 1)
        try t.volume.shutdown()
        #expect((try FileManager.default.contentsOfDirectory(atPath: t.repository.stateDirectory)).allSatisfy { !$0.hasPrefix("catalog.at-") })
    }

    @Test("everything that would change the view is EROFS; a name that is no time, a future time or one before the first record is ENOENT; /.at cannot be created")
    func refusals() throws {
        let t = try TestVolume()
        let file = try t.create("a.txt", Array("one".utf8))
        try t.volume.commitNow()
        let root = try pastRoot(t, name(.now))
        let past = try t.volume.lookup(Array("a.txt".utf8), in: root.inode, caller: t.user)
        func expectReadOnly(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(sourceLocation: sourceLocation) { try body() } throws: { ($0 as? VFSError)?.code == .readOnly }
        }
        expectReadOnly { _ = try t.volume.open(past.inode, flags: O_RDWR, caller: t.user) }
        expectReadOnly { _ = try t.volume.open(past.inode, flags: O_RDONLY | O_TRUNC, caller: t.user) }
        expectReadOnly { _ = try t.volume.create(Array("b".utf8), in: root.inode, mode: 0o644, flags: O_RDWR, caller: t.user) }
        expectReadOnly { _ = try t.volume.makeDirectory(Array("d".utf8), in: root.inode, mode: 0o755, caller: t.user) }
        expectReadOnly { try t.volume.unlink(Array("a.txt".utf8), in: root.inode, caller: t.user) }
        expectReadOnly { try t.volume.rename(Array("a.txt".utf8), in: .root, to: Array("x".utf8), in: root.inode, flags: [], caller: t.user) }
        expectReadOnly { _ = try t.volume.setAttributes(past.inode, AttributeChanges(mode: 0o600), handle: nil, caller: t.user) }
        expectReadOnly { try t.volume.setXattr(Array("user.x".utf8), to: [1], flags: 0, on: past.inode, caller: t.user) }
        expectReadOnly { _ = try t.volume.link(file, as: Array("l".utf8), in: root.inode, caller: t.user) }
        let at = try t.volume.lookup(AtView.name, in: .root, caller: t.user).inode
        for bad in ["soon", "2020-01-01", "2999-01-01T00:00:00Z", ".."] {
            #expect("\(bad)") { try t.volume.lookup(Array(bad.utf8), in: at, caller: t.user) } throws: {
                ($0 as? VFSError)?.code == .notFound
            }
        }
        #expect { _ = try t.volume.makeDirectory(AtView.name, in: .root, mode: 0o755, caller: t.user) } throws: {
            ($0 as? VFSError)?.code == .exists
        }
    }

    @Test("at most two past volumes stay open, the least recently used idle one goes first; an open file keeps its volume; inodes of a closed view are ENOENT")
    func cache() throws {
        let t = try TestVolume()
        var times: [FileTime] = []
        let file = try t.create("a.txt", Array("v1".utf8))
        for n in 1...3 {
            if n > 1 {
                let handle = try t.volume.open(file, flags: O_WRONLY | O_TRUNC, caller: t.user)
                try t.write(handle, Array("v\(n)".utf8))
                try t.volume.release(handle)
            }
            try t.volume.commitNow()
            times.append(.now)
            usleep(10_000)
        }
        let first = try t.volume.lookup(Array("a.txt".utf8), in: try pastRoot(t, name(times[0])).inode, caller: t.user)
        let open = try t.volume.open(first.inode, flags: O_RDONLY, caller: t.user)
        let second = try t.volume.lookup(Array("a.txt".utf8), in: try pastRoot(t, name(times[1])).inode, caller: t.user)
        #expect(try read(t, second.inode) == Array("v2".utf8))
        // The first is the least recently used, but a file of it is open: the second goes.
        let third = try t.volume.lookup(Array("a.txt".utf8), in: try pastRoot(t, name(times[2])).inode, caller: t.user)
        #expect(t.volume.pastVolumeCount == 2 && pastCatalogs(t).count == 2)
        #expect(try t.volume.read(open, at: 0, count: 10) == Array("v1".utf8))
        #expect(try read(t, third.inode) == Array("v3".utf8))
        #expect { _ = try t.volume.attributes(of: second.inode) } throws: { ($0 as? VFSError)?.code == .notFound }
        try t.volume.release(open)
        // Built again when asked for: a new inode for the same file.
        let again = try t.volume.lookup(Array("a.txt".utf8), in: try pastRoot(t, name(times[1])).inode, caller: t.user)
        #expect(again.inode != second.inode)
        #expect(try read(t, again.inode) == Array("v2".utf8))
        #expect(t.volume.pastVolumeCount == 2 && pastCatalogs(t).count == 2)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
