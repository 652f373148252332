import Foundation
import Glibc
import Testing

/// Giving files to uid 1234 and mounting a tmpfs need root.
let runningAsRoot = getuid() == 0

/// A tree with everything a local disk can hold; returns the builder (for its paths).
@discardableResult
func buildOddTree(at root: String) throws -> TreeBuilder {
    let tree = try TreeBuilder(root: root)
    // Odd names at the top.
    try tree.file([0x66, 0xff, 0x2e, 0x62, 0x69, 0x6e], Array("a name that is not UTF-8\n".utf8))
    try tree.file("line\nbreak.txt".bytes, Array("newline in the name".utf8))
    try tree.file(Bytes(repeating: UInt8(ascii: "L"), count: 251) + ".txt".bytes, Array("255 bytes of name".utf8))
    try tree.file("name with  spaces .txt".bytes, Array("spaces".utf8))
    try tree.file("-leading-dash.txt".bytes, Array("looks like an option".utf8))
    try tree.file("Café Résumé naïve.txt".bytes, Array("accents, composed".utf8))
    try tree.file("Cafe\u{301}.txt".bytes, Array("decomposed é".utf8))
    try tree.file("Caf\u{e9}.txt".bytes, Array("composed é, a different name".utf8))
    try tree.file("empty".bytes, [])
    // Nested folders with the large files.
    try tree.directory("docs".bytes)
    try tree.directory("docs/nested".bytes, mode: 0o750)
    try tree.directory("docs/nested/deeper".bytes)
    try tree.file("docs/nested/deeper/random-1MB.bin".bytes, randomBytes(1 << 20))
    try tree.file("docs/nested/deeper/text-5MB.txt".bytes, compressibleText(5 << 20))
    try tree.directory("docs/sub dir ".bytes + [0xfe, 0xfd])
    try tree.file("docs/sub dir ".bytes + [0xfe, 0xfd] + "/inner".bytes, Array("inside an odd folder".utf8))
    // Modes and owners.
    try tree.directory("shared".bytes, mode: 0o1777)
    try tree.file("shared/note".bytes, Array("in a sticky folder".utf8), mode: 0o666)
    try tree.directory("bin".bytes)
    try tree.file("bin/tool".bytes, Array("#!/bin/sh\necho setuid\n".utf8), mode: 0o4755)
    tree.owner("bin/tool".bytes, uid: 1234, gid: 5678)
    try tree.file("private.txt".bytes, Array("only the owner".utf8), mode: 0o600)
    tree.owner("private.txt".bytes, uid: 1234, gid: 5678)
    try tree.file("script.sh".bytes, Array("#!/bin/sh\n".utf8), mode: 0o755)
    // Links and a FIFO.
    try tree.directory("links".bytes)
    try tree.symlink("links/to-random".bytes, target: "../docs/nested/deeper/random-1MB.bin".bytes)
    try tree.symlink("links/dangling".bytes, target: "does/not/exist".bytes + [0xff])
    tree.owner("links/dangling".bytes, uid: 1234, gid: 5678)
    try tree.file("links/hard-a".bytes, Array("one file, two names".utf8))
    try tree.hardLink("docs/hard-b".bytes, to: "links/hard-a".bytes)
    try tree.fifo("fifo".bytes, mode: 0o640)
    tree.owner("fifo".bytes, uid: 1234, gid: 5678)
    // Extended attributes (ext4 keeps values up to a block; the 64 KiB one is in a tmpfs test).
    try tree.file("tagged".bytes, Array("has xattrs".utf8))
    try tree.xattr("tagged".bytes, "user.binary", [0, 1, 2, 0xff, 0, 0x80, 0x0a, 0])
    try tree.xattr("tagged".bytes, "user.large", randomBytes(3500))
    try tree.xattr("tagged".bytes, "user.empty", [])
    try tree.xattr("docs".bytes, "user.folder", Array("on a folder".utf8))
    let setfattr = try run("/usr/bin/setfattr", ["-n", "user.comment", "-v", "set by setfattr", tree.rootPath + "/script.sh"])
    #expect(setfattr.exitedWith0, "\(setfattr)")
    // Times: nanoseconds everywhere (defaults), and some before 1970.
    try tree.file("old.txt".bytes, Array("from the sixties".utf8))
    tree.mtime("old.txt".bytes, seconds: -86_400 * 365 * 3 - 17, nanoseconds: 999_999_999)
    tree.mtime("links/dangling".bytes, seconds: -1, nanoseconds: 1)
    tree.mtime("docs/nested".bytes, seconds: 2_000_000_000, nanoseconds: 1)
    tree.mtime([], seconds: 1_234_567_890, nanoseconds: 987_654_321)
    try tree.finish()
    return tree
}

@Suite("Import and export round trip", .enabled(if: runningAsRoot, "needs root to give files away and mount a tmpfs"))
struct RoundTripTests {
    /// Asserts that `copy` is `original` as a user would see it, diff and metadata.
    func expectSameTree(_ original: String, _ copy: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let diff = try diffProblems(original, copy)
        #expect(diff.isEmpty, "diff -r \(original) \(copy):\n\(diff.joined(separator: "\n"))", sourceLocation: sourceLocation)
        let problems = treeDifferences(try snapshot(original), try snapshot(copy))
        #expect(problems.isEmpty, "\(copy) differs from \(original):\n\(problems.joined(separator: "\n"))",
                sourceLocation: sourceLocation)
        let xattrDump = (try getfattrDump(original), try getfattrDump(copy))
        let onlyOriginal = xattrDump.0.subtracting(xattrDump.1), onlyCopy = xattrDump.1.subtracting(xattrDump.0)
        #expect(xattrDump.0 == xattrDump.1,
                "getfattr differs: only in the original \(onlyOriginal), only in the copy \(onlyCopy)",
                sourceLocation: sourceLocation)
    }

    @Test("a tree with odd names, links, a FIFO, modes, owners, xattrs and old times comes back exactly")
    func roundTrip() throws {
        let ws = try Workspace("roundtrip")
        defer { ws.cleanup() }
        let source = ws.path("src")
        try buildOddTree(at: source)
        let before = try snapshot(source)
        try #require(before.count >= 30, "the test tree was not built (\(before.count) entries)")

        try ws.succeed("init", ws.repo)
        let imported = try ws.succeed("import", ws.repo, source)
        #expect(imported.out.contains("imported"), "\(imported)")
        #expect(imported.err.isEmpty, "import should be quiet on stderr when it is not a terminal: \(imported)")
        let exported = try ws.succeed("export", ws.repo, ws.path("dest"))
        #expect(exported.err.isEmpty, "export as root should set every owner and say nothing: \(exported)")
        try expectSameTree(source, ws.path("dest"))
        let dest = try snapshot(ws.path("dest"))
        #expect(dest["links/hard-a".bytes]?.inode == dest["docs/hard-b".bytes]?.inode, "the hard link pair was split")

        // The same tree again changes nothing: no new versions.
        let versions = try ws.stats().versions
        let again = try ws.succeed("import", ws.repo, source)
        #expect(try ws.stats().versions == versions, "re-importing an unchanged tree added versions: \(again)")
        // Importing and exporting must not have touched the source.
        #expect(treeDifferences(before, try snapshot(source)).isEmpty, "the source changed during import")

        // Into a folder deep in the repository, and back out of it alone.
        try ws.succeed("import", ws.repo, source, "--to", "/some/folder")
        try ws.succeed("export", ws.repo, ws.path("dest2"), "--path", "/some/folder")
        try expectSameTree(source, ws.path("dest2"))

        // The root export now holds both copies: the first one unchanged beside /some.
        try ws.succeed("export", ws.repo, ws.path("dest3"))
        let whole = try snapshot(ws.path("dest3"))
        #expect(whole["some/folder/docs/nested/deeper/random-1MB.bin".bytes]?.size == 1 << 20)
        #expect(whole["docs/nested/deeper/text-5MB.txt".bytes]?.size == 5 << 20)
        #expect(whole[[0x66, 0xff, 0x2e, 0x62, 0x69, 0x6e]] != nil, "the non-UTF-8 name is missing from /")
    }

    @Test("64 KiB xattr values on files and folders come back (on a tmpfs, which stores them)")
    func largeXattrs() throws {
        let ws = try Workspace("xattr")
        defer { ws.cleanup() }
        let disk = ws.path("tmpfs")
        try ws.mountTmpfs(at: disk, size: "64m")
        let tree = try TreeBuilder(root: disk + "/src")
        try tree.file("big-xattr".bytes, Array("content".utf8))
        try tree.xattr("big-xattr".bytes, "user.big", randomBytes(65536))
        try tree.xattr("big-xattr".bytes, "user.binary", [0xff, 0, 0xfe, 0])
        try tree.directory("folder".bytes)
        try tree.xattr("folder".bytes, "user.big", randomBytes(65536))
        try tree.xattr([], "user.root", Array("on the imported folder itself".utf8))
        try tree.finish()

        try ws.succeed("init", ws.repo)
        try ws.succeed("import", ws.repo, disk + "/src")
        try ws.succeed("export", ws.repo, disk + "/dest")
        let exported = try snapshot(disk + "/dest")
        #expect(exported["big-xattr".bytes]?.xattrs["user.big".bytes]?.count == 65536)
        try expectSameTree(disk + "/src", disk + "/dest")
    }
}
