import Foundation
import Glibc
import Testing

@Suite("Deduplication")
struct DedupTests {
    @Test("the same 30 MB tree twice costs <2% more; one changed byte in 50 MB costs <1 MB and adds a version")
    func dedup() throws {
        let ws = try Workspace("dedup")
        defer { ws.cleanup() }
        // ~30 MB: random files, text, and a file made of another's bytes shifted by a few bytes.
        let tree = try TreeBuilder(root: ws.path("tree"))
        let random = randomBytes(6 << 20)
        try tree.file("random-a.bin".bytes, random)
        try tree.file("random-b.bin".bytes, randomBytes(5 << 20))
        try tree.directory("text".bytes)
        try tree.file("text/book-1.txt".bytes, compressibleText(6 << 20, seed: 1))
        try tree.file("text/book-2.txt".bytes, compressibleText(5 << 20, seed: 900_000))
        try tree.file("text/random-a-shifted.bin".bytes, Array("prefix".utf8) + random + randomBytes(2 << 20))
        try tree.file("small.txt".bytes, Array("a small file\n".utf8))
        try tree.finish()

        try ws.succeed("init", ws.repo)
        let empty = try ws.stats()
        try ws.succeed("import", ws.repo, ws.path("tree"), "--to", "/a")
        let first = try ws.stats()
        try ws.succeed("import", ws.repo, ws.path("tree"), "--to", "/b")
        let second = try ws.stats()
        let logical = second.logicalBytes - first.logicalBytes
        let growth = Double(second.storedBytes - first.storedBytes) / Double(first.storedBytes)
        print("""
            dedup: empty repository \(empty.storedBytes) stored bytes; after /a \(first.storedBytes) stored \
            (\(first.logicalBytes) logical); after /b \(second.storedBytes) stored (+\(second.storedBytes - first.storedBytes), \
            \(String(format: "%.3f", growth * 100))%), \(logical) logical bytes added
            """)
        #expect(first.logicalBytes >= 29_000_000, "the first import should hold ~30 MB, stats says \(first.logicalBytes)")
        #expect(first.storedBytes < first.logicalBytes, "text should compress and the shifted copy dedup")
        #expect(logical == first.logicalBytes, "the second import should add as many logical bytes as the first")
        #expect(second.documents == 2 * first.documents, "\(second.documents) documents after two imports of \(first.documents)")
        #expect(growth < 0.02, "stored bytes grew by \(growth * 100)% for an identical tree")

        // 50 MB of random data; then one byte in the middle changes and it is imported again.
        let bigDir = ws.path("big")
        let bigTree = try TreeBuilder(root: bigDir)
        var big = randomBytes(50 << 20)
        try bigTree.file("big.bin".bytes, big)
        try bigTree.finish()
        try ws.succeed("import", ws.repo, bigDir, "--to", "/c")
        let third = try ws.stats()
        big[big.count / 2] ^= 0xff
        let fd = open(bigDir + "/big.bin", O_WRONLY)
        try #require(fd >= 0)
        let wrote = big.withUnsafeBytes { pwrite(fd, $0.baseAddress! + big.count / 2, 1, off_t(big.count / 2)) }
        close(fd)
        try #require(wrote == 1)
        let reimport = try ws.succeed("import", ws.repo, bigDir, "--to", "/c")
        let fourth = try ws.stats()
        let added = fourth.storedBytes - third.storedBytes
        print("""
            dedup: 50 MB file stored as \(third.storedBytes - second.storedBytes) bytes; after a one-byte change \
            \(fourth.storedBytes) stored (+\(added) bytes), versions \(third.versions) -> \(fourth.versions)
            """)
        #expect(third.storedBytes - second.storedBytes > 50 << 20, "random data cannot shrink")
        #expect(added < 1 << 20, "a one-byte change cost \(added) stored bytes")
        #expect(added > 0, "the changed chunk must be stored somewhere")
        #expect(fourth.versions == third.versions + 1, "versions \(third.versions) -> \(fourth.versions)\n\(reimport)")
        #expect(fourth.documents == third.documents, "the changed file is the same document")

        // And the new version is what comes back.
        try ws.succeed("export", ws.repo, ws.path("out"), "--path", "/c")
        let problems = try diffProblems(bigDir, ws.path("out"))
        #expect(problems.isEmpty, "\(problems)")
    }
}
