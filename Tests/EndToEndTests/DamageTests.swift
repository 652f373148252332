import Foundation
import Glibc
import Testing

/// A repository with two imports, /a then /b, and the pack that holds /b's content.
struct DamagedRepositoryFixture {
    let ws: Workspace
    /// The largest pack the import of /b wrote (its content; the others are small catalog records).
    let packOfB: String
    let documentsOfB = ["/b/b-large.bin", "/b/b-small.txt"]
    let documentsOfA = ["/a/a-random.bin", "/a/a-text.txt"]

    init(_ label: String) throws {
        ws = try Workspace(label)
        let a = try TreeBuilder(root: ws.path("tree-a"))
        try a.file("a-random.bin".bytes, randomBytes(300_000))
        try a.file("a-text.txt".bytes, compressibleText(200_000, seed: 5))
        try a.finish()
        let b = try TreeBuilder(root: ws.path("tree-b"))
        try b.file("b-large.bin".bytes, randomBytes(3 << 20))
        try b.file("b-small.txt".bytes, compressibleText(50_000, seed: 77))
        try b.finish()
        try ws.succeed("init", ws.repo)
        try ws.succeed("import", ws.repo, ws.path("tree-a"), "--to", "/a")
        let packsBefore = Set(try packFiles(ws.repo))
        try ws.succeed("import", ws.repo, ws.path("tree-b"), "--to", "/b")
        let newPacks = try packFiles(ws.repo).filter { !packsBefore.contains($0) }
        packOfB = try #require(try newPacks.max { try fileSize($0) < fileSize($1) }, "the import of /b wrote no pack")
        try #require(try fileSize(packOfB) > 3 << 20, "the pack of /b should hold its 3 MB of random data")
    }

    /// Expects `check` output that names some of /b's documents and none of /a's.
    func expectNamesB(_ result: RunResult, all: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        let named = documentsOfB.filter { result.out.contains($0) }
        #expect(all ? named.count == documentsOfB.count : !named.isEmpty,
                "check should name the documents in the damaged pack (\(documentsOfB)): \(result)",
                sourceLocation: sourceLocation)
        for path in documentsOfA {
            #expect(!result.out.contains(path), "\(path) is not in the damaged pack: \(result)", sourceLocation: sourceLocation)
        }
    }
}

/// Reads `count` bytes of `path` at `offset` and writes `bytes` there (the file may be read-only).
@discardableResult
func overwrite(_ path: String, at offset: Int, with bytes: (Bytes) -> Bytes, count: Int = 1) throws -> Bytes {
    try checked(chmod(path, 0o600), "chmod", path.bytes)
    defer { chmod(path, 0o400) }
    let fd = try checked(open(path, O_RDWR | O_CLOEXEC), "open", path.bytes)
    defer { close(fd) }
    var old = Bytes(repeating: 0, count: count)
    try #require(pread(fd, &old, count, off_t(offset)) == count)
    let new = bytes(old)
    try #require(pwrite(fd, new, new.count, off_t(offset)) == new.count)
    try checked(fsync(fd), "fsync", path.bytes)
    return old
}

@Suite("Damaged repositories")
struct DamageTests {
    @Test("a truncated pack: check exits 4 and names the documents whose content was in it")
    func truncatedPack() throws {
        let fixture = try DamagedRepositoryFixture("truncate")
        let ws = fixture.ws
        defer { ws.cleanup() }
        let clean = try ws.nexusfs("check", ws.repo)
        try #require(clean.exitedWith0, "the undamaged repository should check clean: \(clean)")

        let size = try fileSize(fixture.packOfB)
        try checked(chmod(fixture.packOfB, 0o600), "chmod", fixture.packOfB.bytes)
        try checked(truncate(fixture.packOfB, off_t(size / 2)), "truncate", fixture.packOfB.bytes)
        try checked(chmod(fixture.packOfB, 0o400), "chmod", fixture.packOfB.bytes)

        let check = try ws.nexusfs("check", ws.repo)
        #expect(check.status == Exit.integrity, "\(check)")
        fixture.expectNamesB(check, all: true)
        #expect(!looksLikeCrash(check.err), "\(check)")
        let readData = try ws.nexusfs("check", ws.repo, "--read-data")
        #expect(readData.status == Exit.integrity, "\(readData)")
        fixture.expectNamesB(readData, all: true)

        // What was not in the pack still exports; what was fails loudly.
        try ws.succeed("export", ws.repo, ws.path("out-a"), "--path", "/a")
        #expect(try diffProblems(ws.path("tree-a"), ws.path("out-a")).isEmpty)
        let exportB = try ws.nexusfs("export", ws.repo, ws.path("out-b"), "--path", "/b")
        #expect(exportB.status == Exit.integrity, "exporting damaged documents must fail with exit 4: \(exportB)")
        #expect(exportB.err.contains(fixture.packOfB.split(separator: "/").last.map(String.init) ?? "?")
                || exportB.err.lowercased().contains("truncated"), "the message should say what is damaged: \(exportB)")
    }

    @Test("one flipped byte in a pack's header, payload, table of contents or trailer is found; only a payload's loses content")
    func flippedBytes() throws {
        let fixture = try DamagedRepositoryFixture("flip")
        let ws = fixture.ws
        defer { ws.cleanup() }
        // Work on a copy whose catalog is rebuilt by recover (which this also tests).
        let copy = ws.path("copy")
        let stateOfCopy = ws.path("state-copy")
        let cp = try run("/usr/bin/cp", ["-a", ws.repo, copy])
        try #require(cp.exitedWith0, "\(cp)")
        try ws.succeed("recover", copy, stateDir: stateOfCopy)
        let original = try ws.stats()
        let recovered = try ws.stats(stateDir: stateOfCopy, repository: copy)
        #expect(recovered.versions == original.versions && recovered.documents == original.documents,
                "recover on the copy: \(recovered) vs \(original)")
        let clean = try ws.nexusfs(["check", copy, "--read-data"], stateDir: stateOfCopy)
        try #require(clean.exitedWith0, "the recovered copy should check clean: \(clean)")

        let pack = copy + "/packs/" + fixture.packOfB.split(separator: "/").suffix(2).joined(separator: "/")
        let size = try fileSize(pack)
        // (position, name, whether the structural check must see it)
        let positions: [(Int, String, Bool)] = [
            (0, "the header magic", true),
            (12, "the pack name in the header", true),
            (size / 2, "the middle of a large frame", false),
            (size - 17, "the last byte of the table of contents, just before the trailer", true),
            (size - 1, "the trailer magic", true),
        ]
        for (offset, what, structural) in positions {
            let old = try overwrite(pack, at: offset) { $0.map { $0 ^ 0x20 } }
            defer { _ = try? overwrite(pack, at: offset) { _ in old } }
            let context = "byte \(offset) of \(size) (\(what)) flipped"

            let check = try ws.nexusfs(["check", copy], stateDir: stateOfCopy)
            if structural {
                #expect(check.status == Exit.integrity, "\(context): check must fail: \(check)")
            } else {
                #expect(check.status == 0 || check.status == Exit.integrity, "\(context): \(check)")
            }
            let readData = try ws.nexusfs(["check", copy, "--read-data"], stateDir: stateOfCopy)
            #expect(readData.status == Exit.integrity, "\(context): check --read-data must fail: \(readData)")
            if structural {
                // The header and the table of contents carry no content: every blob still reads
                // where the index says it is, so no document is named.
                #expect(!readData.out.contains("damaged: "), "\(context): no document lost content: \(readData)")
            } else {
                fixture.expectNamesB(readData, all: false)
            }
            #expect(!looksLikeCrash(check.err + readData.err), "\(context): \(check)\n\(readData)")

            // Export either refuses (exit 4) or writes exactly the right bytes; never wrong content.
            let out = ws.path("out-\(offset)")
            let export = try ws.nexusfs(["export", copy, out, "--path", "/b"], stateDir: stateOfCopy)
            print("flip: \(context): check \(check.status), check --read-data \(readData.status), export \(export.status)")
            if structural {
                #expect(export.exitedWith0, "\(context): the content is intact, so export must work: \(export)")
                let diff = try diffProblems(ws.path("tree-b"), out)
                #expect(diff.isEmpty, "\(context): export gave wrong content: \(diff)")
            } else {
                #expect(export.status == Exit.integrity, "\(context): export must fail with exit 4: \(export)")
                #expect(!export.err.isEmpty && !looksLikeCrash(export.err), "\(context): \(export)")
            }
        }
        // With every byte back in place the copy is whole again.
        let restored = try ws.nexusfs(["check", copy, "--read-data"], stateDir: stateOfCopy)
        #expect(restored.exitedWith0, "after restoring the bytes: \(restored)")
    }
}
