import CatalogStore
import CryptoCore
import Foundation
import Glibc
import NexusTypes
import RepositoryCore
@testable import VFS
import Testing

/// A volume over a fresh repository under /var/tmp, removed afterwards.
final class TestVolume {
    let root = "/var/tmp/nexusfs-vfs-test-\(UUID().uuidString)"
    let repository: Repository
    let volume: Volume
    let user = Caller(uid: 1000, gid: 1000)

    init(options: VolumeOptions = VolumeOptions()) throws {
        repository = try Repository.create(at: root + "/repo", passphrase: Array("pw".utf8), kdf: .testing,
                                           stateRoot: root + "/state")
        volume = try Volume(repository: repository, options: options)
    }

    deinit {
        try? volume.shutdown()
        try? FileManager.default.removeItem(atPath: root)
    }

    func reopen() throws -> (Repository, Volume) {
        try volume.shutdown()
        let repository = try Repository.open(at: root + "/repo", passphrase: Array("pw".utf8), stateRoot: root + "/state")
        return (repository, try Volume(repository: repository))
    }

    @discardableResult
    func write(_ handle: UInt64, _ bytes: [UInt8], at offset: Int64 = 0) throws -> Int {
        try bytes.withUnsafeBytes { try volume.write(handle, at: offset, data: $0, caller: user) }
    }

    func create(_ name: String, in parent: InodeNumber = .root, _ bytes: [UInt8]) throws -> InodeNumber {
        let (attributes, handle) = try volume.create(Array(name.utf8), in: parent, mode: 0o644, flags: O_RDWR, caller: user)
        try write(handle, bytes)
        try volume.release(handle)
        return attributes.inode
    }

    func contents(_ inode: InodeNumber) throws -> [UInt8] {
        let handle = try volume.open(inode, flags: O_RDONLY, caller: user)
        defer { try? volume.release(handle) }
        return try volume.read(handle, at: 0, count: Int(try volume.attributes(of: inode).size) + 10)
    }

    func versions(_ inode: InodeNumber) throws -> [VersionRecord] {
        try repository.catalog.read { r in try r.versions(of: try r.node(inode)!.document!) }
    }
}

@Suite("Volume")
struct VolumeTests {
    @Test("a written file reads back, survives a remount, and each save with new content is one version")
    func writeSaveVersion() throws {
        let t = try TestVolume()
        let data = SecureRandom.bytes(3_000_000)
        let inode = try t.create("a.bin", data)
        #expect(try t.contents(inode) == data)
        #expect(try t.versions(inode).count == 1)
        // Same content again: no version.
        var handle = try t.volume.open(inode, flags: O_RDWR, caller: t.user)
        try t.write(handle, Array(data[0..<1000]))
        try t.volume.release(handle)
        #expect(try t.versions(inode).count == 1)
        // A close without a write: no version.
        handle = try t.volume.open(inode, flags: O_RDWR, caller: t.user)
        try t.volume.release(handle)
        #expect(try t.versions(inode).count == 1)
        handle = try t.volume.open(inode, flags: O_RDWR, caller: t.user)
        try t.write(handle, [1, 2, 3], at: 1_500_000)
        try t.volume.release(handle)
        #expect(try t.versions(inode).map(\.author) == [1000, 1000])
        var expected = data
        expected.replaceSubrange(1_500_000..<1_500_003, with: [1, 2, 3])
        let (_, volume) = try t.reopen()
        let h = try volume.open(inode, flags: O_RDONLY, caller: t.user)
        #expect(try volume.read(h, at: 0, count: 4_000_000) == expected)
        try volume.release(h)
        try volume.shutdown()
    }

    @Test("a small write into a large file re-chunks only around it")
    func incrementalChunking() throws {
        let t = try TestVolume()
        let data = SecureRandom.bytes(8 << 20)
        let inode = try t.create("big.bin", data)
        let manifest = { () throws -> [BlobID] in
            try t.repository.catalog.read { r in try r.manifest(try r.node(inode)!.manifest!)!.chunks.map(\.id) }
        }
        let before = try manifest()
        let handle = try t.volume.open(inode, flags: O_RDWR, caller: t.user)
        try t.write(handle, [0xAA, 0xBB], at: 4 << 20)
        try t.volume.release(handle)
        let after = try manifest()
        let new = Set(after).subtracting(before)
        #expect(new.count <= 3, "\(new.count) new chunks for a 2-byte write")
        var expected = data
        expected[4 << 20] = 0xAA
        expected[(4 << 20) + 1] = 0xBB
        #expect(try t.contents(inode) == expected)
    }

    @Test("sparse files: holes read as zeros, take no blocks, and survive files over 4 GiB")
    func sparseFiles() throws {
        let t = try TestVolume()
        let (attributes, handle) = try t.volume.create(Array("sparse".utf8), in: .root, mode: 0o644, flags: O_RDWR, caller: t.user)
        let far: Int64 = 5 << 30
        try t.write(handle, [7], at: far)
        try t.volume.release(handle)
        let stat = try t.volume.attributes(of: attributes.inode)
        #expect(stat.size == far + 1)
        #expect(stat.blocks < 1024)
        let h = try t.volume.open(attributes.inode, flags: O_RDONLY, caller: t.user)
        #expect(try t.volume.read(h, at: 4096, count: 8) == [UInt8](repeating: 0, count: 8))
        #expect(try t.volume.read(h, at: far - 1, count: 8) == [0, 7])
        #expect(try t.volume.seek(h, offset: 0, whence: 3) >= far - FileContent.pageSize)
        #expect(try t.volume.seek(h, offset: 0, whence: 4) == 0)
        try t.volume.release(h)
    }

    @Test("SEEK_DATA and SEEK_HOLE jump over holes of hundreds of terabytes, saved or being written; a write inside such a hole saves at once",
          .timeLimit(.minutes(1)))
    func seekAcrossHugeHoles() throws {
        let t = try TestVolume()
        let (attributes, handle) = try t.volume.create(Array("holes".utf8), in: .root, mode: 0o644, flags: O_RDWR, caller: t.user)
        let far: Int64 = 1 << 49, middle: Int64 = 1 << 48, page = FileContent.pageSize
        try t.write(handle, [UInt8](repeating: 1, count: 4096))
        try t.write(handle, [2], at: far)
        try t.volume.release(handle)
        let h = try t.volume.open(attributes.inode, flags: O_RDWR, caller: t.user)
        try t.write(h, [3], at: middle)
        let started = ContinuousClock.now
        let dataAt = { (offset: Int64) in try t.volume.seek(h, offset: offset, whence: 3) }
        let holeAt = { (offset: Int64) in try t.volume.seek(h, offset: offset, whence: 4) }
        #expect(try dataAt(0) == 0)
        #expect(try holeAt(0) == page)
        #expect(try dataAt(page) == middle)
        #expect(try holeAt(middle) == middle + page)
        #expect(try dataAt(middle + page) == far)
        #expect(try holeAt(far) == far + 1)
        #expect(throws: VFSError.self) { try dataAt(far + 1) }
        #expect(started.duration(to: .now) < .seconds(2), "seeking took \(started.duration(to: .now))")
        // Saving chunks around the written byte, not the 256 TiB of hole after it.
        try t.volume.release(h)
        #expect(started.duration(to: .now) < .seconds(10), "saving took \(started.duration(to: .now))")
        let r = try t.volume.open(attributes.inode, flags: O_RDONLY, caller: t.user)
        #expect(try t.volume.read(r, at: middle - 2, count: 4) == [0, 0, 3, 0])
        #expect(try t.volume.read(r, at: far - 1, count: 4) == [0, 2])
        #expect(try t.volume.read(r, at: 4095, count: 2) == [1, 0])
        try t.volume.release(r)
    }

    @Test("fallocate PUNCH_HOLE: the range reads as zeros and takes no space, saved or not; a terabyte hole is punched at once",
          .timeLimit(.minutes(1)))
    func punchHoles() throws {
        let t = try TestVolume()
        let data = SecureRandom.bytes(900_000)
        let inode = try t.create("p.bin", data)
        let punchKeepSize: Int32 = 0x03
        var h = try t.volume.open(inode, flags: O_RDWR, caller: t.user)
        try t.write(h, [9, 9, 9], at: 700_000)
        try t.volume.allocate(h, mode: punchKeepSize, offset: 100_001, length: 300_002, caller: t.user)
        try t.volume.allocate(h, mode: punchKeepSize, offset: 699_999, length: 2, caller: t.user)
        var expected = data
        expected.replaceSubrange(700_000..<700_003, with: [9, 9, 9])
        expected.replaceSubrange(100_001..<400_003, with: [UInt8](repeating: 0, count: 300_002))
        expected.replaceSubrange(699_999..<700_001, with: [0, 0])
        #expect(try t.volume.read(h, at: 0, count: 1_000_000) == expected)
        #expect(try t.volume.seek(h, offset: 200_000, whence: 3) >= 300_000, "the middle of the hole reads as data")
        try t.volume.release(h)
        #expect(try t.contents(inode) == expected)
        let blocks = try t.volume.attributes(of: inode).blocks
        #expect(blocks * 512 < 750_000, "\(blocks) blocks after punching 300 KB out of 900 KB (at most a page of zeros stored on either side)")

        let far: Int64 = 1 << 40
        h = try t.volume.open(inode, flags: O_RDWR, caller: t.user)
        try t.write(h, [7], at: far)
        try t.volume.release(h)
        h = try t.volume.open(inode, flags: O_RDWR, caller: t.user)
        try t.volume.allocate(h, mode: punchKeepSize, offset: 0, length: far, caller: t.user)
        #expect(try t.volume.read(h, at: 0, count: 16) == [UInt8](repeating: 0, count: 16))
        #expect(try t.volume.read(h, at: far - 1, count: 4) == [0, 7])
        #expect(try t.volume.attributes(of: inode).size == far + 1)
        try t.volume.release(h)
        #expect(try t.volume.attributes(of: inode).blocks < 1024)
    }

    @Test("truncate down in the middle of a chunk and back up reads zeros past the cut")
    func truncateAndExtend() throws {
        let t = try TestVolume()
        let data = SecureRandom.bytes(600_000)
        let inode = try t.create("t.bin", data)
        _ = try t.volume.setAttributes(inode, AttributeChanges(size: 100_001), handle: nil, caller: t.user)
        _ = try t.volume.setAttributes(inode, AttributeChanges(size: 300_000), handle: nil, caller: t.user)
        let expected = Array(data[0..<100_001]) + [UInt8](repeating: 0, count: 199_999)
        #expect(try t.contents(inode) == expected)
        // Truncations alone are not saves: the history keeps the one written version.
        #expect(try t.versions(inode).count == 1)
    }

    @Test("an unlinked open file stays readable and writable until closed, then disappears (with the trash off)")
    func unlinkedOpenFile() throws {
        let t = try TestVolume(options: VolumeOptions(trashDays: 0))
        let inode = try t.create("gone.txt", Array("hello".utf8))
        _ = try t.volume.lookup(Array("gone.txt".utf8), in: .root)
        let handle = try t.volume.open(inode, flags: O_RDWR, caller: t.user)
        try t.volume.unlink(Array("gone.txt".utf8), in: .root, caller: t.user)
        #expect(throws: VFSError.self) { try t.volume.lookup(Array("gone.txt".utf8), in: .root) }
        try t.write(handle, Array(" world".utf8), at: 5)
        #expect(try t.volume.read(handle, at: 0, count: 100) == Array("hello world".utf8))
        try t.volume.fsync(handle)
        try t.volume.release(handle)
        #expect(try t.repository.catalog.read { try $0.node(inode) } != nil)
        t.volume.forget(inode, count: 2)
        #expect(try t.repository.catalog.read { try $0.node(inode) } == nil)
    }

    @Test("a deleted document waits in the trash once forgotten, and goes at a mount after trash_days")
    func deletedDocumentWaitsInTheTrash() throws {
        let t = try TestVolume()
        let inode = try t.create("kept.txt", Array("hello".utf8))
        _ = try t.volume.lookup(Array("kept.txt".utf8), in: .root)
        try t.volume.unlink(Array("kept.txt".utf8), in: .root, caller: t.user)
        t.volume.forget(inode, count: 2)
        #expect(try t.repository.catalog.read { try $0.node(inode) } != nil)
        let record = try t.repository.catalog.read { try $0.trashRecord(of: inode) }
        #expect(record?.path == Array("kept.txt".utf8) && record?.uid == t.user.uid)
        // A new volume on the same catalog with a trash of no days lets it go.
        try t.volume.commitNow()
        let later = try Volume(repository: t.repository, options: VolumeOptions(trashDays: 0.000_000_001))
        try later.commitNow()
        #expect(try t.repository.catalog.read { try $0.node(inode) } == nil)
        #expect(try t.repository.catalog.read { try $0.trashRecord(of: inode) } == nil)
    }

    @Test("rename: replace, RENAME_NOREPLACE, RENAME_EXCHANGE, folders into themselves")
    func renames() throws {
        let t = try TestVolume()
        let a = try t.create("a", [1])
        let b = try t.create("b", [2])
        let user = t.user
        #expect(throws: VFSError.self) { try t.volume.rename([0x61], in: .root, to: [0x62], in: .root, flags: .noReplace, caller: user) }
        try t.volume.rename([0x61], in: .root, to: [0x62], in: .root, flags: .exchange, caller: user)
        #expect(try t.volume.lookup([0x61], in: .root).inode == b)
        #expect(try t.volume.lookup([0x62], in: .root).inode == a)
        try t.volume.rename([0x61], in: .root, to: [0x62], in: .root, flags: [], caller: user)
        #expect(try t.volume.lookup([0x62], in: .root).inode == b)
        #expect(throws: VFSError.self) { try t.volume.lookup([0x61], in: .root) }
        #expect(try t.volume.attributes(of: a).linkCount == 0)
        let dir = try t.volume.makeDirectory(Array("d".utf8), in: .root, mode: 0o755, caller: user).inode
        let sub = try t.volume.makeDirectory(Array("s".utf8), in: dir, mode: 0o755, caller: user).inode
        #expect(throws: VFSError.self) { try t.volume.rename(Array("d".utf8), in: .root, to: Array("x".utf8), in: sub, flags: [], caller: user) }
        #expect(throws: VFSError.self) { try t.volume.rename(Array("b".utf8), in: .root, to: Array("d".utf8), in: .root, flags: [], caller: user) }
        #expect(throws: VFSError.self) { try t.volume.rename(Array("b".utf8), in: .root, to: Array("c".utf8), in: .root, flags: .whiteout, caller: user) }
        #expect(throws: VFSError.self) { try t.volume.removeDirectory(Array("d".utf8), in: .root, caller: user) }
        #expect(try t.volume.attributes(of: .root).linkCount == 3)
    }

    @Test("hard links are one inode with one content")
    func hardLinks() throws {
        let t = try TestVolume()
        let inode = try t.create("one", Array("x".utf8))
        let linked = try t.volume.link(inode, as: Array("two".utf8), in: .root, caller: t.user)
        #expect(linked.inode == inode && linked.linkCount == 2)
        let handle = try t.volume.open(inode, flags: O_RDWR, caller: t.user)
        try t.write(handle, Array("y".utf8))
        try t.volume.release(handle)
        #expect(try t.contents(try t.volume.lookup(Array("two".utf8), in: .root).inode) == Array("y".utf8))
    }

    @Test("xattrs: missing is ENODATA, create/replace flags, 64 KiB values, security.* stored, other system.* unsupported")
    func xattrs() throws {
        let t = try TestVolume()
        let inode = try t.create("f", [])
        let name = Array("user.tag".utf8)
        #expect { try t.volume.xattr(name, of: inode, caller: t.user) } throws: { ($0 as? VFSError)?.code == .noData }
        try t.volume.setXattr(name, to: [UInt8](repeating: 9, count: 65536), flags: 0, on: inode, caller: t.user)
        #expect(try t.volume.xattr(name, of: inode, caller: t.user).count == 65536)
        #expect { try t.volume.setXattr(name, to: [1], flags: 1, on: inode, caller: t.user) } throws: { ($0 as? VFSError)?.code == .exists }
        #expect { try t.volume.setXattr(Array("user.new".utf8), to: [1], flags: 2, on: inode, caller: t.user) } throws: { ($0 as? VFSError)?.code == .noData }
        #expect { try t.volume.setXattr(name, to: [UInt8](repeating: 0, count: 65537), flags: 0, on: inode, caller: t.user) } throws: { ($0 as? VFSError)?.code == .tooBig }
        #expect { try t.volume.xattr(Array("system.other".utf8), of: inode, caller: t.user) } throws: { ($0 as? VFSError)?.code == .notSupported }
        #expect { try t.volume.setXattr(Array("security.".utf8), to: [1], flags: 0, on: inode, caller: t.user) } throws: { ($0 as? VFSError)?.code == .invalid }
        // security.* is stored as on ext4 (the kernel checks the capabilities it needs).
        let label = Array("security.selinux".utf8)
        #expect { try t.volume.xattr(label, of: inode, caller: t.user) } throws: { ($0 as? VFSError)?.code == .noData }
        try t.volume.setXattr(label, to: Array("system_u:object_r:etc_t:s0".utf8), flags: 0, on: inode, caller: t.user)
        #expect(try t.volume.xattr(label, of: inode, caller: t.user) == Array("system_u:object_r:etc_t:s0".utf8))
        #expect(try t.volume.xattrNames(of: inode) == [label, name] || t.volume.xattrNames(of: inode) == [name, label])
        try t.volume.removeXattr(label, from: inode, caller: t.user)
        #expect(try t.volume.xattrNames(of: inode) == [name])
        try t.volume.removeXattr(name, from: inode, caller: t.user)
        #expect(try t.volume.xattrNames(of: inode).isEmpty)
    }

    @Test("xattr limits: 64 KiB of names and 1 MiB in all per node, then ENOSPC; listxattr always fits the kernel's 64 KiB")
    func xattrLimits() throws {
        let t = try TestVolume()
        let inode = try t.create("many", [])
        var stored = 0
        while true {
            do {
                try t.volume.setXattr(Array(String(format: "user.k%06d", stored).utf8), to: [1], flags: 0, on: inode, caller: t.user)
                stored += 1
            } catch let error as VFSError {
                #expect(error.code == .noSpace)
                break
            }
            if stored > 10_000 { Issue.record("no limit on the number of attributes"); break }
        }
        let names = try t.volume.xattrNames(of: inode)
        #expect(names.count == stored && stored > 4000)
        #expect(names.reduce(0) { $0 + $1.count + 1 } <= 65536)
        // Replacing a value needs no new name room; removing one makes room again.
        try t.volume.setXattr(Array("user.k000000".utf8), to: [2], flags: 0, on: inode, caller: t.user)
        try t.volume.removeXattr(Array("user.k000001".utf8), from: inode, caller: t.user)
        try t.volume.setXattr(Array("user.k999999".utf8), to: [3], flags: 0, on: inode, caller: t.user)
        let big = try t.create("big", [])
        let value = [UInt8](repeating: 7, count: 65536)
        var values = 0
        while values < 100 {
            do { try t.volume.setXattr(Array("user.v\(values)".utf8), to: value, flags: 0, on: big, caller: t.user) } catch { break }
            values += 1
        }
        #expect(values == 15)
    }

    @Test("an ACL that is not there is removed without error, as on ext4 (an empty ACL set)")
    func removingAbsentACL() throws {
        let t = try TestVolume()
        let inode = try t.create("f", [])
        try t.volume.removeXattr(Array("system.posix_acl_access".utf8), from: inode, caller: t.user)
        #expect { try t.volume.removeXattr(Array("user.none".utf8), from: inode, caller: t.user) } throws: { ($0 as? VFSError)?.code == .noData }
    }

    @Test("version file names: at most 255 bytes for any document name, and each names its version back")
    func versionFileNames() throws {
        let documents: [[UInt8]] = [Array("report.txt".utf8), Array(".bashrc".utf8), Array(repeating: 0x61, count: 255),
                                    Array(repeating: 0x61, count: 250) + Array(".odt".utf8),
                                    Array(String(repeating: "日", count: 85).utf8), [0xff] + Array(repeating: 0x80, count: 254),
                                    Array("a.".utf8) + Array(repeating: 0x65, count: 253)]
        for document in documents {
            for number in [1, 99_999, 100_000, 123_456_789].map({ VersionNumber(Int64($0)) }) {
                let name = VersionsView.fileName(of: document, number: number)
                #expect(name.count <= 255 && FileName(bytes: name) != nil, "\(document.count) bytes, version \(number.rawValue)")
                #expect(VersionsView.number(in: name, of: document) == number)
                #expect(VersionsView.number(in: name, of: Array("other.txt".utf8)) == nil)
            }
        }
        #expect(VersionsView.fileName(of: Array("report.txt".utf8), number: VersionNumber(3)) == Array("report.00003.txt".utf8))
        // A name cut inside a character loses the whole character.
        let cut = VersionsView.fileName(of: Array(String(repeating: "日", count: 85).utf8), number: VersionNumber(1))
        #expect(String(validatingUTF8: cut.map { CChar(bitPattern: $0) } + [0]) != nil)
    }

    @Test("a directory listing has . and .. and every entry once, names as bytes")
    func listing() throws {
        let t = try TestVolume()
        let names: [[UInt8]] = [[0xff, 0x41], Array(repeating: 0x62, count: 255), Array("plain".utf8)]
        for name in names { _ = try t.volume.makeSpecial(name, in: .root, mode: 0o010644, rdev: 0, caller: t.user) }
        let handle = try t.volume.openDirectory(.root)
        let listed = try t.volume.listDirectory(handle, from: 0).map(\.name)
        #expect(Array(listed.prefix(2)) == [[0x2e], [0x2e, 0x2e]])
        #expect(Set(listed.dropFirst(2)) == Set(names))
        #expect(try t.volume.listDirectory(handle, from: 4).count == 1)
        t.volume.releaseDirectory(handle)
        #expect { try t.volume.makeDirectory(Array(repeating: 0x61, count: 256), in: .root, mode: 0o755, caller: t.user) } throws: { ($0 as? VFSError)?.code == .nameTooLong }
    }
}

@Suite("Document identity across save patterns")
struct SavePatternTests {
    func save(_ t: TestVolume, _ name: String, _ text: String) throws -> InodeNumber {
        try t.create(name, Array(text.utf8))
    }

    func history(_ t: TestVolume, _ name: String) throws -> [String] {
        let inode = try t.volume.lookup(Array(name.utf8), in: .root).inode
        let versions = try t.versions(inode)
        return try versions.map { v in
            let manifest = try #require(try t.repository.catalog.read { try $0.manifest(v.manifest) })
            var text = ""
            for chunk in manifest.chunks { text += String(decoding: try t.repository.readBlob(chunk.id, compressor: .init()), as: UTF8.self) }
            return text
        }
    }

    @Test("a temporary file renamed over the document is its next version; the temporary leaves no history")
    func renameOver() throws {
        let t = try TestVolume()
        _ = try save(t, "doc.txt", "one")
        try t.volume.setXattr(Array("user.xdg.tags".utf8), to: Array("red".utf8), flags: 0, on: try t.volume.lookup(Array("doc.txt".utf8), in: .root).inode, caller: t.user)
        _ = try save(t, ".doc.txt.AbC123", "two")
        try t.volume.rename(Array(".doc.txt.AbC123".utf8), in: .root, to: Array("doc.txt".utf8), in: .root, flags: [], caller: t.user)
        _ = try save(t, "sedX1y2Z3", "three")
        try t.volume.rename(Array("sedX1y2Z3".utf8), in: .root, to: Array("doc.txt".utf8), in: .root, flags: [], caller: t.user)
        #expect(try history(t, "doc.txt") == ["one", "two", "three"])
        let doc = try t.volume.lookup(Array("doc.txt".utf8), in: .root).inode
        #expect(try t.volume.xattr(Array("user.xdg.tags".utf8), of: doc, caller: .root) == Array("red".utf8))
        let stats = try t.repository.statistics()
        #expect(stats.versions == 3)
    }

    @Test("vim: the document renamed to a backup and a new file written under its name keeps the history")
    func vimBackup() throws {
        let t = try TestVolume()
        _ = try save(t, "notes.md", "first")
        try t.volume.rename(Array("notes.md".utf8), in: .root, to: Array("notes.md~".utf8), in: .root, flags: [], caller: t.user)
        _ = try save(t, "notes.md", "second")
        try t.volume.unlink(Array("notes.md~".utf8), in: .root, caller: t.user)
        #expect(try history(t, "notes.md") == ["first", "second"])
        // delete and recreate at once
        try t.volume.unlink(Array("notes.md".utf8), in: .root, caller: t.user)
        _ = try save(t, "notes.md", "third")
        #expect(try history(t, "notes.md") == ["first", "second", "third"])
    }

    @Test("swap and lock files never get a history; O_TRUNC without a write is not a version")
    func transientNames() throws {
        let t = try TestVolume()
        _ = try save(t, ".notes.md.swp", "swap")
        _ = try save(t, "4913", "")
        _ = try save(t, "index.lock", "x")
        #expect(try t.repository.statistics().versions == 0)
        let inode = try save(t, "a.txt", "content")
        let handle = try t.volume.open(inode, flags: O_WRONLY, caller: t.user)
        _ = try t.volume.setAttributes(inode, AttributeChanges(size: 0), handle: handle, caller: t.user)
        try t.volume.release(handle)
        #expect(try t.versions(inode).count == 1)
    }
}
