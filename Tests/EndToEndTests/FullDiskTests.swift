import Foundation
import Glibc
import Testing

@Suite("A full disk", .enabled(if: runningAsRoot, "needs root to mount a tmpfs"))
struct FullDiskTests {
    @Test("an import that fills the disk exits 7, says so, and loses nothing committed")
    func fullDisk() throws {
        let ws = try Workspace("fulldisk")
        defer { ws.cleanup() }
        let disk = ws.path("disk")
        try ws.mountTmpfs(at: disk, size: "6m")
        let repo = disk + "/repo"

        let small = try TreeBuilder(root: ws.path("small"))
        try small.file("notes.txt".bytes, compressibleText(40_000))
        try small.directory("sub".bytes)
        try small.file("sub/data.bin".bytes, randomBytes(200_000))
        try small.finish()
        let large = try TreeBuilder(root: ws.path("large"))
        for index in 0..<4 { try large.file("random-\(index).bin".bytes, randomBytes(5 << 20)) }
        try large.finish()

        try ws.succeed("init", repo)
        try ws.succeed("import", repo, ws.path("small"))
        let before = try ws.stats(repository: repo)

        let full = try ws.nexusfs("import", repo, ws.path("large"), "--to", "/large")
        expectFailure(full, code: Exit.noSpace, mentions: ["no space"])
        #expect(full.err.contains(repo) || full.err.contains(ws.path("large")),
                "the message should name the repository or the import: \(full)")

        // Everything committed before is still there, byte for byte.
        let after = try ws.stats(repository: repo)
        #expect(after.documents == before.documents && after.versions == before.versions,
                "before the failed import \(before), after \(after)")
        try ws.succeed("export", repo, ws.path("out"))
        let diff = try diffProblems(ws.path("small"), ws.path("out"))
        #expect(diff.isEmpty, "after a full disk: \(diff)")
        let check = try ws.nexusfs("check", repo)
        #expect(check.exitedWith0, "check after a full disk (garbage is fine, errors are not): \(check)")
        let readData = try ws.nexusfs("check", repo, "--read-data")
        #expect(readData.exitedWith0, "\(readData)")

        // The half-written pack does not keep the disk full: a small import works again.
        let more = try TreeBuilder(root: ws.path("more"))
        try more.file("later.txt".bytes, compressibleText(10_000, seed: 3))
        try more.finish()
        let later = try ws.nexusfs("import", repo, ws.path("more"), "--to", "/later")
        #expect(later.exitedWith0, "an import after the failed one: \(later)")
    }
}
