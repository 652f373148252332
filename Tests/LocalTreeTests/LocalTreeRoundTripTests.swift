import Glibc
import LocalTree
import NexusTypes
import Testing

/// Where the round trip runs: /var/tmp's own file system (ext4 here), or a tmpfs mounted
/// below it, which also takes a 64 KiB xattr value.
enum Backing: String, CaseIterable, CustomTestStringConvertible {
    case varTmp
    case tmpfs
    var testDescription: String { rawValue }
}

@Suite("Round trip of an odd tree through LocalTreeReader and LocalTreeWriter")
struct LocalTreeRoundTripTests {
    @Test(.enabled(if: geteuid() == 0, "builds devices and foreign owners"), arguments: Backing.allCases)
    func copyEqualsSource(backing: Backing) throws {
        try withScratchDirectory(tmpfsBytes: backing == .tmpfs ? 64 << 20 : nil) { scratch in
            let source = join(scratch, bytes("src"))
            let copy = join(scratch, bytes("dst/nested"))
            try check(mkdir(cString(source), 0o700), "mkdir", source)
            let fixture = try SourceFixture(at: source, withBigXattr: backing == .tmpfs)

            let original = try snapshot(source)
            #expect(original.errors.isEmpty)
            try checkSource(original.entries, fixture: fixture, bigXattr: backing == .tmpfs)

            let copying = try copyTree(from: source, to: copy)
            #expect(copying.errors.isEmpty)
            let copied = try snapshot(copy)
            #expect(copied.errors.isEmpty)
            #expect(copied.entries.map(\.entry.path) == original.entries.map(\.entry.path))
            for (a, b) in zip(original.entries, copied.entries) {
                expectSame(a, b, accessTimeSeen: copying.seen[a.entry.path]?.accessTime)
            }

            let linkA = copied.entries.first { $0.entry.path == path("link-a") }?.entry.metadata
            let linkB = copied.entries.first { $0.entry.path == path("link-b") }?.entry.metadata
            #expect(linkA?.inode == linkB?.inode && linkA?.linkCount == 2)

            #expect(try openDescriptors(under: scratch).isEmpty)

            let diff = try run("/usr/bin/diff", [
                "-r", "--no-dereference", "--exclude=fifo", "--exclude=chardev",
                String(decoding: source, as: UTF8.self), String(decoding: copy, as: UTF8.self),
            ])
            #expect(diff.status == 0, "\(diff.output)")
            #expect(diff.output.isEmpty)
        }
    }

    /// What the reader saw must be what the fixture made, or a reader that loses a field
    /// would pass the comparison with its own copy.
    private func checkSource(_ entries: [Snapshot], fixture: SourceFixture, bigXattr: Bool) throws {
        #expect(Set(entries.map(\.entry.path)) == fixture.paths)
        #expect(entries.first?.entry.path == .root)
        let order = entries.map { $0.entry.path.components.map(\.bytes) }
        #expect(order == order.sorted { $0.lexicographicallyPrecedes($1) { $0.lexicographicallyPrecedes($1) } })

        func find(_ raw: [UInt8]) throws -> Snapshot { try #require(entries.first { $0.entry.path == path(raw) }) }
        let setuid = try find(bytes("setuid")).entry.metadata
        #expect(setuid.permissions == 0o4755 && setuid.uid == SourceFixture.owner && setuid.gid == SourceFixture.group)
        #expect(try find(bytes("sticky")).entry.metadata.permissions == 0o1777)
        #expect(try find(bytes("old")).entry.metadata.modificationTime == SourceFixture.preEpoch)
        #expect(try find(bytes("old/ancient")).entry.metadata.modificationTime == SourceFixture.justBeforeEpoch)
        #expect(try find(bytes("old/ancient")).entry.metadata.accessTime == FileTime(seconds: -1_000_000_000, nanoseconds: 1))
        #expect(try find(bytes("plain.txt")).entry.metadata.modificationTime.nanoseconds != 0)
        #expect(try find(bytes("big.bin")).content == SourceFixture.bigContent)
        #expect(try find(bytes("empty")).content == [])
        #expect(try find(SourceFixture.longName).content == bytes("long"))
        #expect(try find(bytes("name") + [0xff] + bytes("byte")).content == bytes("ff"))
        #expect(try find(bytes("new\nline")).content == bytes("newline\n"))
        #expect(try find(bytes("dangling")).entry.symlinkTarget == bytes("no/such") + [0xff] + bytes("target"))
        #expect(try find(bytes("symlink")).entry.metadata.kind == .symlink)
        #expect(try find(bytes("fifo")).entry.metadata.kind == .fifo)
        let device = try find(bytes("chardev")).entry.metadata
        #expect(device.kind == .characterDevice && device.rdev == 0x103)

        let xattrs = try find(bytes("xattrs.bin")).entry.xattrs
        var expected: [([UInt8], [UInt8])] = [
            (bytes("user.binary"), SourceFixture.binaryValue), (bytes("user.empty"), []),
            (bytes("user.n") + [0xff] + bytes("me"), bytes("odd name")), (bytes("user.plain"), bytes("value")),
        ]
        if bigXattr { expected.insert((bytes("user.big"), SourceFixture.bigValue), at: 0) }
        #expect(xattrs.map(\.name) == expected.map(\.0))
        #expect(xattrs.map(\.value) == expected.map(\.1))
        #expect(try find(bytes("old")).entry.xattrs.map(\.name) == [bytes("user.dir")])
    }

    /// Reading a symlink's target updates its access time (relatime) and no O_NOATIME exists
    /// for readlink, so a symlink's copy carries the access time the copying walk saw. Files
    /// and directories are read with O_NOATIME: walking must not have moved theirs.
    private func expectSame(_ a: Snapshot, _ b: Snapshot, accessTimeSeen: FileTime?) {
        let (x, y) = (a.entry.metadata, b.entry.metadata)
        let what = a.entry.path.description
        #expect(x.kind == y.kind, "\(what)")
        #expect(x.permissions == y.permissions, "\(what)")
        #expect(x.uid == y.uid && x.gid == y.gid, "\(what)")
        if x.kind != .directory { #expect(x.size == y.size, "\(what)") }
        #expect(x.modificationTime == y.modificationTime, "\(what)")
        #expect(accessTimeSeen == y.accessTime, "\(what)")
        if x.kind != .symlink { #expect(x.accessTime == y.accessTime, "\(what)") }
        #expect(x.linkCount == y.linkCount, "\(what)")
        #expect(x.rdev == y.rdev, "\(what)")
        #expect(a.entry.symlinkTarget == b.entry.symlinkTarget, "\(what)")
        #expect(a.entry.xattrs.map(\.name) == b.entry.xattrs.map(\.name), "\(what)")
        #expect(a.entry.xattrs.map(\.value) == b.entry.xattrs.map(\.value), "\(what)")
        #expect(a.content == b.content, "\(what)")
    }
}
