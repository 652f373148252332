import Foundation
import Glibc
import Testing

/// Full-text search through a mount (issue 12): real documents copied in with cp, tagged with
/// setfattr, found by `nexusfs search` and listed by `/.search/QUERY/`, as root and as a user
/// who may not read some of them; and found again after the daemon was killed.
@Suite("Mount: search", .serialized, .enabled(if: runningAsRoot, "mounting needs root"))
struct MountSearchTests {
    static let documents = packageRoot + "/Tests/Fixtures/documents"

    /// `nexusfs search MNT QUERY --json` (as `user`, or root), decoded: the hits' paths in order,
    /// the snippets, and how many changes wait for the indexer.
    func search(_ mount: MountedRepository, _ query: [String], as user: TestUser? = nil)
        throws -> (paths: [String], snippets: [String], pending: Int) {
        let arguments = ["search", mount.mountpoint] + query + ["--json", "--limit", "100"]
        let result = try user.map { try runAs($0, try Nexusfs.path(), arguments) } ?? mount.workspace.nexusfs(arguments)
        try #require(result.exitedWith0, "\(result)")
        let object = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], "\(result)")
        let hits = try #require(object["hits"] as? [[String: Any]], "\(result)")
        return (hits.compactMap { $0["path"] as? String }, hits.compactMap { $0["snippet"] as? String },
                object["pending"] as? Int ?? -1)
    }

    /// Waits until the indexer has nothing left (at most 60 s: the extractor starts LibreOffice's
    /// formats' parsers once).
    func waitForIndex(_ mount: MountedRepository) throws {
        for _ in 0..<600 {
            if try search(mount, ["zzzznothing"]).pending == 0 { return }
            usleep(100_000)
        }
        Issue.record("the index did not catch up within 60 s")
    }

    /// The corpus: the fixture documents (text, HTML, ODT, DOCX, PDF, sheets and decks) and
    /// text files whose words are known, in `corpus/`, plus a private folder.
    func corpus(_ mount: MountedRepository) throws {
        try mustRun("/bin/cp", ["-r", Self.documents, mount.path("corpus")])
        try mustRun("/bin/rm", [mount.path("corpus/README.md")])
        try mustRun("/bin/sh", ["-c", """
            cd '\(mount.path("corpus"))' && \
            echo 'acme acme acme acme: the Acme board meets' > acme-minutes.txt && \
            echo 'A long memo that mentions acme once, among many other words of no interest at all' > memo.txt && \
            mkdir ../private && echo 'quokka merger, strictly confidential' > ../private/merger.txt && chmod 700 ../private
            """])
        try mustRun("/usr/bin/setfattr", ["-n", "user.xdg.tags", "-v", "contract, acme", mount.path("corpus/memo.txt")])
        try mustRun("/usr/bin/setfattr", ["-n", "user.nexus.status", "-v", "approved", mount.path("corpus/letter.odt")])
        try waitForIndex(mount)
    }

    @Test("cp'd text, HTML, ODT, DOCX, PDF, ODS, XLSX, ODP and PPTX files: each query finds exactly the documents holding its words, in rank order; fields filter")
    func findsExactly() throws {
        let mount = try MountedRepository("search", options: ["commit=1", "allow_other"])
        try corpus(mount)
        let letter = ["letter.docx", "letter.html", "letter.odt", "letter.pdf"].map { "/corpus/" + $0 }
        #expect(Set(try search(mount, ["quokka", "path:corpus"]).paths) == Set(letter))
        #expect(Set(try search(mount, ["rottnest"]).paths) == Set(letter))
        #expect(Set(try search(mount, ["mango"]).paths) == ["/corpus/sheet.csv", "/corpus/sheet.ods", "/corpus/sheet.xlsx"])
        #expect(Set(try search(mount, ["platypus"]).paths) == ["/corpus/deck.fodp", "/corpus/deck.odp", "/corpus/deck.pptx"])
        #expect(Set(try search(mount, ["zurich", "cafe"]).paths) == Set(letter), "diacritics fold")
        #expect(Set(try search(mount, ["quokka"]).paths) == Set(letter + ["/private/merger.txt"]))
        #expect(try search(mount, ["quokka", "type:pdf"]).paths == ["/corpus/letter.pdf"])
        #expect(try search(mount, ["quokka", "--status", "approved"]).paths == ["/corpus/letter.odt"])
        #expect(try search(mount, ["--tag", "contract"]).paths == ["/corpus/memo.txt"])
        #expect(try search(mount, ["wombat", "-platypus"]).paths.isEmpty)
        #expect(try search(mount, ["wombat", "-quokka"]).paths.count == 3)
        // The obvious ranking case: four times in a short text above once in a long one.
        #expect(try search(mount, ["acme", "path:corpus", "-contract"]).paths == ["/corpus/acme-minutes.txt"])
        #expect(try search(mount, ["acme"]).paths == ["/corpus/acme-minutes.txt", "/corpus/memo.txt"])

        // /.search/QUERY/ lists the same as links to the documents, best first; ls and cat follow them.
        let folder = mount.path(".search/acme")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["acme-minutes.txt", "memo.txt"])
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: folder + "/memo.txt") == "../../corpus/memo.txt")
        #expect(try String(contentsOfFile: folder + "/acme-minutes.txt", encoding: .utf8).hasPrefix("acme acme"))
        let tagged = try mustRun("/bin/ls", [mount.path(".search/tag:contract")])
        #expect(tagged.out == "memo.txt\n", "\(tagged)")
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: mount.mountpoint)).contains(".search"))

        // Saves, renames and deletes reach the index.
        try mustRun("/bin/sh", ["-c", "echo 'numbat census' > '\(mount.path("corpus/memo.txt"))'"])
        try mustRun("/bin/mv", [mount.path("corpus/acme-minutes.txt"), mount.path("corpus/board.txt")])
        try mustRun("/bin/rm", [mount.path("corpus/letter.pdf")])
        try waitForIndex(mount)
        #expect(try search(mount, ["numbat"]).paths == ["/corpus/memo.txt"])
        #expect(Set(try search(mount, ["acme"]).paths) == ["/corpus/board.txt", "/corpus/memo.txt"], "memo.txt keeps its acme tag")
        #expect(try search(mount, ["name:acme"]).paths.isEmpty, "the old name is gone")
        #expect(!(try search(mount, ["quokka"]).paths.contains("/corpus/letter.pdf")))
        try mount.unmount()
    }

    @Test("a user without read access gets no hit and no snippet, in nexusfs search and in /.search")
    func permissions() throws {
        let users = try TestUsers.require()
        let mount = try MountedRepository("search-access", options: ["commit=1", "allow_other"])
        try mount.workspace.openToTestUsers()
        try #require(chmod(mount.mountpoint, 0o755) == 0)
        try corpus(mount)
        try #require(chmod(mount.path("corpus/letter.odt"), 0o600) == 0)
        let asRoot = try search(mount, ["quokka"])
        #expect(asRoot.paths.count == 5)
        let asBob = try search(mount, ["quokka"], as: users.bob)
        #expect(Set(asBob.paths) == ["/corpus/letter.docx", "/corpus/letter.html", "/corpus/letter.pdf"], "\(asBob)")
        #expect(!asBob.snippets.joined().lowercased().contains("confidential"))
        #expect(try search(mount, ["merger"], as: users.bob).paths.isEmpty)
        let listed = try runAs(users.bob, "/bin/ls", [mount.path(".search/quokka")])
        #expect(listed.out == "letter.docx\nletter.html\nletter.pdf\n", "\(listed)")
        let attribute = try runAs(users.bob, "/usr/bin/getfattr", ["--only-values", "-n", "user.nexus.search", mount.path(".search/merger")])
        #expect(attribute.exitedWith0 && !attribute.out.contains("merger.txt"), "\(attribute)")
        try mount.unmount()
    }

    @Test("documents saved before a kill -9 of the daemon are found after the remount, indexed or still queued")
    func afterKill() throws {
        let mount = try MountedRepository("search-kill", options: ["commit=1"])
        try mustRun("/bin/cp", [Self.documents + "/letter.odt", Self.documents + "/letter.docx", mount.mountpoint])
        try waitForIndex(mount)
        // A mount that does not index: what is saved now waits in the catalog's queue.
        try mount.unmount()
        try mount.mount(adding: ["noindex"])
        try mustRun("/bin/sh", ["-c", "for i in $(seq 1 50); do echo \"aardvark report $i\" > '\(mount.mountpoint)'/r$i.txt; done"])
        // Saved (closed more than the commit interval ago), not indexed: the daemon dies now.
        usleep(2_500_000)
        #expect(try search(mount, ["aardvark"]).pending == 50)
        let daemon = try mount.requireDaemonPID()
        kill(daemon, SIGKILL)
        for _ in 0..<200 where kill(daemon, 0) == 0 { usleep(50_000) }
        try mount.mount()
        try waitForIndex(mount)
        #expect(try search(mount, ["aardvark"]).paths.count == 50)
        #expect(Set(try search(mount, ["quokka"]).paths) == ["/letter.odt", "/letter.docx"])
        try mount.unmount()
        // And on the repository itself, not mounted.
        let offline = try mount.workspace.nexusfs("search", mount.repo, "aardvark", "report", "7")
        #expect(offline.exitedWith0 && offline.out.hasPrefix("/r7.txt  ("), "\(offline)")
    }
}
