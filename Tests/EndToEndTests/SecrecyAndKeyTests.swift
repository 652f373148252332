import Foundation
import Glibc
import Testing

@Suite("Nothing in plaintext")
struct PlaintextTests {
    @Test("names and contents of imported files appear nowhere in the repository directory")
    func nothingInPlaintext() throws {
        let ws = try Workspace("plaintext")
        defer { ws.cleanup() }
        let name = "zebra-secret-name-4711"
        let content = "TOPSECRET-content-string-0815"
        let tree = try TreeBuilder(root: ws.path("src"))
        try tree.directory("\(name)-folder".bytes)
        try tree.file("\(name)-folder/\(name).txt".bytes, Array(String(repeating: content + " ", count: 5000).utf8))
        try tree.file("\(name)-2.txt".bytes, Array(content.utf8))
        try tree.symlink("link-\(name)".bytes, target: "\(name)-2.txt".bytes)
        try tree.xattr("\(name)-2.txt".bytes, "user.\(name)", Array(content.utf8))
        try tree.finish()

        try ws.succeed("init", ws.repo)
        try ws.succeed("import", ws.repo, ws.path("src"))
        try ws.succeed("import", ws.repo, ws.path("src"), "--to", "/\(name)-copy")
        // The strings are really there to be found: grep finds them in the source.
        let control = try run("/usr/bin/grep", ["-r", "-a", "-l", content, ws.path("src")])
        try #require(control.exitedWith0, "grep should find the content in the source: \(control)")

        for secret in [name, content, "zebra-secret", "TOPSECRET"] {
            let grep = try run("/usr/bin/grep", ["-r", "-a", "-l", "-F", secret, ws.repo])
            #expect(grep.status == 1 && !grep.signaled, "\"\(secret)\" is readable in the repository: \(grep)")
        }
        // The repository still gives everything back.
        try ws.succeed("export", ws.repo, ws.path("out"), "--path", "/\(name)-copy")
        #expect(try diffProblems(ws.path("src"), ws.path("out")).isEmpty)
    }
}

@Suite("Nothing in plaintext while mounted", .enabled(if: runningAsRoot, "mounting needs root"))
struct MountedPlaintextTests {
    @Test("while a mount runs, no file of the repository names the mount point, the host or a written file; a second mount is told the holder's pid")
    func lockNamesNothing() throws {
        let mount = try MountedRepository("plaintext-lock-zebra4711")
        let name = "zebra-secret-name-0815.txt"
        try "TOPSECRET-mounted-4711".write(toFile: mount.path(name), atomically: false, encoding: .utf8)
        try mount.remount()
        let host = ProcessInfo.processInfo.hostName
        // (The mount point's path holds the workspace's label; a host name shorter than 6 bytes could
        // turn up in ciphertext by chance.)
        for secret in ["plaintext-lock-zebra4711", host, name, "TOPSECRET-mounted"] where secret.count >= 6 {
            let grep = try run("/usr/bin/grep", ["-r", "-a", "-l", "-F", secret, mount.repo])
            #expect(grep.status == 1 && !grep.signaled, "\"\(secret)\" is readable in the repository: \(grep)")
        }
        let pid = try mount.requireDaemonPID()
        let second = try mount.workspace.nexusfs("stats", mount.repo)
        #expect(second.status == 8 && second.err.contains("mounted by pid \(pid)"), "\(second)")
    }
}

@Suite("Keys")
struct KeyTests {
    struct KeyRow: Decodable {
        var id: String
        var current: Bool
    }

    func keys(_ ws: Workspace, password: String) throws -> [KeyRow] {
        let list = try ws.nexusfs(["key", "list", ws.repo, "--json"], password: password)
        try #require(list.exitedWith0, "\(list)")
        return try JSONDecoder().decode([KeyRow].self, from: list.stdout)
    }

    func opens(_ ws: Workspace, _ password: String) throws -> RunResult {
        try ws.nexusfs(["stats", ws.repo], password: password)
    }

    func passwordFile(_ ws: Workspace, _ name: String, _ password: String) -> String {
        let path = ws.path(name)
        _ = FileManager.default.createFile(atPath: path, contents: Data((password + "\n").utf8))
        return path
    }

    @Test("key list, add, passwd and remove do what they say")
    func keyLifecycle() throws {
        let ws = try Workspace("keys")
        defer { ws.cleanup() }
        let first = ws.password, second = "second passphrase", third = "third passphrase"
        try ws.succeed("init", ws.repo)
        let tree = try TreeBuilder(root: ws.path("src"))
        try tree.file("doc.txt".bytes, compressibleText(10_000))
        try tree.finish()
        try ws.succeed("import", ws.repo, ws.path("src"))

        let initial = try keys(ws, password: first)
        #expect(initial.count == 1 && initial.first?.current == true, "\(initial)")
        let plain = try ws.succeed("key", "list", ws.repo)
        #expect(plain.out.split(separator: "\n").count == 1, "key list should show one key: \(plain)")

        // add: the new passphrase opens the repository, the old one still does.
        expectFailure(try opens(ws, second), code: Exit.wrongPassphrase, mentions: [ws.repo])
        try ws.succeed("key", "add", ws.repo, "--new-password-file", passwordFile(ws, "pw2", second))
        #expect(try opens(ws, second).exitedWith0)
        #expect(try opens(ws, first).exitedWith0)
        let two = try keys(ws, password: second)
        #expect(two.count == 2 && two.filter(\.current).count == 1, "\(two)")
        let secondID = try #require(two.first(where: \.current)?.id)
        let firstID = try #require(two.first(where: { !$0.current })?.id)
        #expect(initial.first?.id == firstID)

        // passwd: the key in use gets the new passphrase; the old one stops working.
        try ws.succeed("key", "passwd", ws.repo, "--new-password-file", passwordFile(ws, "pw3", third), password: first)
        expectFailure(try opens(ws, first), code: Exit.wrongPassphrase, mentions: [ws.repo, "passphrase"])
        #expect(try opens(ws, third).exitedWith0)
        #expect(try opens(ws, second).exitedWith0, "passwd of one key must not touch the others")
        #expect(try keys(ws, password: third).count == 2)

        // remove: not the key in use; another one, yes.
        let refused = try ws.nexusfs(["key", "remove", ws.repo, secondID], password: second)
        #expect(!refused.exitedWith0, "removing the key in use must be refused: \(refused)")
        #expect(refused.err.contains(secondID) && !looksLikeCrash(refused.err), "\(refused)")
        #expect(try opens(ws, second).exitedWith0, "the refused removal must leave the key working")
        try ws.succeed("key", "remove", ws.repo, secondID, password: third)
        expectFailure(try opens(ws, second), code: Exit.wrongPassphrase, mentions: [ws.repo])
        let last = try keys(ws, password: third)
        #expect(last.count == 1 && last.first?.current == true && last.first?.id != secondID, "\(last)")
        let unknown = try ws.nexusfs(["key", "remove", ws.repo, "0123456789abcdef"], password: third)
        #expect(unknown.status == 1, "removing a key that does not exist: \(unknown)")

        // The data is still readable with the remaining passphrase, and through --password-file.
        let viaFile = try run(try Nexusfs.path(), ["export", ws.repo, ws.path("out"), "--password-file",
                                                   passwordFile(ws, "pw-file", third)],
                              environment: ["NEXUSFS_STATE_DIR": ws.state])
        #expect(viaFile.exitedWith0, "\(viaFile)")
        #expect(try diffProblems(ws.path("src"), ws.path("out")).isEmpty)
    }
}
