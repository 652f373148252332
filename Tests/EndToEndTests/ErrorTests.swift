import Foundation
import Glibc
import Testing

/// Exit codes documented by `nexusfs --help` (Sources/nexusfs/ExitStatus.swift).
enum Exit {
    static let usage: Int32 = 2
    static let wrongPassphrase: Int32 = 3
    static let integrity: Int32 = 4
    static let notARepository: Int32 = 5
    static let catalogMissing: Int32 = 6
    static let noSpace: Int32 = 7
}

/// Expects exit `code` and a one-message stderr that mentions every string in `mentions`
/// (case-insensitive) and is no crash report.
func expectFailure(_ result: RunResult, code: Int32, mentions: [String],
                   sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!result.signaled && result.status == code, "expected exit \(code): \(result)", sourceLocation: sourceLocation)
    let err = result.err
    #expect(err.hasPrefix("nexusfs: "), "stderr should be a `nexusfs: ...` message: \(result)", sourceLocation: sourceLocation)
    for text in mentions {
        #expect(err.lowercased().contains(text.lowercased()), "stderr should mention \"\(text)\": \(result)",
                sourceLocation: sourceLocation)
    }
    #expect(!looksLikeCrash(err), "stderr looks like a crash: \(result)", sourceLocation: sourceLocation)
    #expect(err.split(separator: "\n").count <= 2, "more than a message on stderr: \(result)", sourceLocation: sourceLocation)
}

@Suite("Errors a user sees")
struct ErrorTests {
    func smallTree(_ root: String) throws {
        let tree = try TreeBuilder(root: root)
        try tree.file("a.txt".bytes, compressibleText(20_000))
        try tree.directory("sub".bytes)
        try tree.file("sub/b.bin".bytes, randomBytes(100_000))
        try tree.finish()
    }

    @Test("a wrong passphrase exits 3 and names the repository, for every command")
    func wrongPassphrase() throws {
        let ws = try Workspace("wrongpw")
        defer { ws.cleanup() }
        try smallTree(ws.path("src"))
        try ws.succeed("init", ws.repo)
        try ws.succeed("import", ws.repo, ws.path("src"))
        let commands: [[String]] = [
            ["stats", ws.repo], ["check", ws.repo], ["export", ws.repo, ws.path("out")],
            ["import", ws.repo, ws.path("src")], ["key", "list", ws.repo], ["recover", ws.repo],
        ]
        for command in commands {
            let result = try ws.nexusfs(command, password: "not the passphrase")
            expectFailure(result, code: Exit.wrongPassphrase, mentions: [ws.repo, "passphrase"])
        }
        #expect(!FileManager.default.fileExists(atPath: ws.path("out")), "a failed export should not create its destination")
        #expect(try ws.stats().documents == 2, "the repository still opens with the right passphrase")
    }

    @Test("a folder that is not a repository, and a missing one, exit 5")
    func notARepository() throws {
        let ws = try Workspace("notrepo")
        defer { ws.cleanup() }
        try smallTree(ws.path("plain"))
        for command in ["stats", "check", "recover"] {
            expectFailure(try ws.nexusfs(command, ws.path("plain")), code: Exit.notARepository,
                          mentions: [ws.path("plain"), "not a nexusfs repository"])
            expectFailure(try ws.nexusfs(command, ws.path("missing")), code: Exit.notARepository,
                          mentions: [ws.path("missing"), "no such"])
        }
        expectFailure(try ws.nexusfs("export", ws.path("missing"), ws.path("out")), code: Exit.notARepository,
                      mentions: [ws.path("missing")])
        #expect(!FileManager.default.fileExists(atPath: ws.path("missing")), "nothing should create the missing repository")
    }

    @Test("init into a non-empty folder is refused with exit 2 and leaves it alone")
    func initNonEmpty() throws {
        let ws = try Workspace("initfull")
        defer { ws.cleanup() }
        try smallTree(ws.path("full"))
        let before = try snapshot(ws.path("full"))
        expectFailure(try ws.nexusfs("init", ws.path("full")), code: Exit.usage, mentions: [ws.path("full"), "not empty"])
        #expect(treeDifferences(before, try snapshot(ws.path("full"))).isEmpty, "init changed the folder it refused")
        // A regular file is no place for a repository either.
        expectFailure(try ws.nexusfs("init", ws.path("full/a.txt")), code: Exit.usage, mentions: [ws.path("full/a.txt")])
        // And an empty folder is fine.
        try FileManager.default.createDirectory(atPath: ws.path("empty"), withIntermediateDirectories: false)
        try ws.succeed("init", ws.path("empty"))
    }

    @Test("without the catalog every command exits 6 and says to run recover; recover brings back every version")
    func catalogMissing() throws {
        let ws = try Workspace("catalog")
        defer { ws.cleanup() }
        let source = ws.path("src")
        try smallTree(source)
        try ws.succeed("init", ws.repo)
        try ws.succeed("import", ws.repo, source)
        // Second versions of one document, a new document and a second copy elsewhere.
        let edited = try #require(FileHandle(forWritingAtPath: source + "/a.txt"))
        try edited.seekToEnd()
        try edited.write(contentsOf: Data("one more line\n".utf8))
        try edited.close()
        try FileManager.default.createDirectory(atPath: source + "/new", withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: source + "/new/c.txt", contents: Data(compressibleText(3000, seed: 7)))
        try ws.succeed("import", ws.repo, source)
        try ws.succeed("import", ws.repo, source, "--to", "/copy")
        let before = try ws.stats()
        #expect(before.versions == before.documents + 1, "one document should have two versions: \(before)")
        try ws.succeed("export", ws.repo, ws.path("before"), "--path", "/copy")

        try FileManager.default.removeItem(atPath: ws.state)
        for command in [["stats", ws.repo], ["check", ws.repo], ["export", ws.repo, ws.path("out")],
                        ["import", ws.repo, source]] {
            expectFailure(try ws.nexusfs(command), code: Exit.catalogMissing, mentions: [ws.repo, "nexusfs recover"])
        }

        let recovered = try ws.succeed("recover", ws.repo)
        #expect(recovered.out.contains("\(before.documents) documents"), "\(recovered)")
        let after = try ws.stats()
        #expect(after.versions == before.versions, "versions before \(before.versions), after recover \(after.versions)")
        #expect(after.documents == before.documents && after.folders == before.folders,
                "before \(before), after \(after)")
        #expect(after.logicalBytes == before.logicalBytes, "before \(before), after \(after)")
        try ws.succeed("export", ws.repo, ws.path("out"), "--path", "/copy")
        let problems = try diffProblems(source, ws.path("out"))
        #expect(problems.isEmpty, "after recover: \(problems)")
        // Everything the catalog held comes back as it was, folder times included.
        let metadata = treeDifferences(try snapshot(ws.path("before")), try snapshot(ws.path("out")))
        #expect(metadata.isEmpty, "the export after recover differs from the one before: \(metadata)")
        let check = try ws.nexusfs("check", ws.repo, "--read-data")
        #expect(check.exitedWith0, "\(check)")
    }
}
