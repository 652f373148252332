import Foundation
import Glibc
import Testing

/// emacs and LibreOffice as people use them on the mount: every save is one version of the same
/// document, which keeps its tags, ACL and mode; their lock, auto-save, backup and temporary files
/// leave no history (issue 11, "save patterns").
extension MountVersionTests {
    /// Tags, an ACL entry for another user and a workflow status on `file`, to be kept by saves.
    func describe(_ file: String, tag: String) throws {
        try mustRun("/usr/bin/setfattr", ["-n", "user.xdg.tags", "-v", tag, file])
        try mustRun("/usr/bin/setfacl", ["-m", "u:nobody:r", file])
        try mustRun("/usr/bin/setfattr", ["-n", "user.nexus.status", "-v", "review", file])
    }

    func expectDescribed(_ file: String, tag: String, mode: mode_t, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let tags = try mustRun("/usr/bin/getfattr", ["--only-values", "-n", "user.xdg.tags", file])
        #expect(tags.out == tag, "tags of \(file) after the saves: \(tags.out)", sourceLocation: sourceLocation)
        let status = try mustRun("/usr/bin/getfattr", ["--only-values", "-n", "user.nexus.status", file])
        #expect(status.out == "review", "status of \(file) after the saves: \(status.out)", sourceLocation: sourceLocation)
        let acl = try mustRun("/usr/bin/getfacl", ["-cp", file])
        #expect(acl.out.contains("user:nobody:r--"), "ACL of \(file) after the saves:\n\(acl.out)", sourceLocation: sourceLocation)
        var info = stat()
        try #require(stat(file, &info) == 0, sourceLocation: sourceLocation)
        #expect(info.st_mode & 0o7777 == mode, "mode of \(file) is \(String(info.st_mode & 0o7777, radix: 8))",
                sourceLocation: sourceLocation)
    }

    @Test("emacs: backup by rename (name~), a lock symlink (.#name) and an auto-save file (#name#) per session; each save is one version that keeps tags, ACL and status")
    func emacs() throws {
        let mount = try MountedRepository("emacs")
        let folder = mount.path("team")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: mount.workspace.path("home"), withIntermediateDirectories: true)
        let file = folder + "/notes.txt"
        try "alpha\n".write(toFile: file, atomically: false, encoding: .utf8)
        try describe(file, tag: "minutes")
        var expected = ["alpha\n"]
        // Three sessions with emacs's default (backup by renaming the file to notes.txt~, then a new
        // notes.txt), a fourth with backup-by-copying (the backup a copy, the file written in place).
        for (word, byCopying) in [("beta", false), ("gamma", false), ("delta", false), ("epsilon", true)] {
            let session = try mustRun("/usr/bin/emacs", ["-Q", "--batch", "--eval", """
                (progn
                  (setq make-backup-files t backup-by-copying \(byCopying ? "t" : "nil") create-lockfiles t
                        delete-auto-save-files t)
                  (find-file "\(file)")
                  (auto-save-mode 1)
                  (goto-char (point-max))
                  (insert "\(word)\\n")
                  (do-auto-save t)
                  (princ (format "lock=%s autosave=%s\\n" (file-symlink-p "\(folder)/.#notes.txt")
                                 (file-exists-p buffer-auto-save-file-name)))
                  (save-buffer)
                  (kill-buffer))
                """], environment: ["HOME": mount.workspace.path("home")])
            // The session did make its lock symlink and auto-save file on the mount.
            #expect(session.out.contains("lock=") && !session.out.contains("lock=nil") && session.out.contains("autosave=t"),
                    "emacs session \(word): \(session.out) \(session.err)")
            expected.append(expected.last! + word + "\n")
        }
        #expect(try history(mount, "notes.txt", in: "team") == expected)
        #expect(try documentsWithHistory(mount, in: "team") == ["notes.txt"])
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(names == ["notes.txt", "notes.txt~"], "the folder after emacs: \(names)")
        #expect(try String(contentsOfFile: folder + "/notes.txt~", encoding: .utf8) == expected[expected.count - 2])
        try expectDescribed(file, tag: "minutes", mode: 0o644)
        try mount.remount()
        #expect(try history(mount, "notes.txt", in: "team") == expected)
        try expectDescribed(file, tag: "minutes", mode: 0o644)
    }

    @Test("LibreOffice (headless): open a document in the mount, save, save again; each save is one version of the same document with tags, ACL, status and mode kept; .~lock.NAME# and its luXXXX.tmp leave no history")
    func libreOffice() throws {
        let mount = try MountedRepository("libreoffice")
        let profile = mount.workspace.path("lo-profile"), outside = mount.workspace.path("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: mount.workspace.path("home"), withIntermediateDirectories: true)
        try "Contract with Acme\n".write(toFile: outside + "/contract.txt", atomically: false, encoding: .utf8)
        let office = ["-env:UserInstallation=file://" + profile, "--headless"]
        try mustRun("/usr/bin/soffice", office + ["--convert-to", "odt", "--outdir", outside, outside + "/contract.txt"],
                    environment: ["HOME": mount.workspace.path("home")])
        let folder = mount.path("legal")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let file = folder + "/contract.odt"
        try mustRun("/bin/cp", [outside + "/contract.odt", file])
        try describe(file, tag: "contract")

        let saves = try mustRun("/usr/bin/python3", [packageRoot + "/Tests/Fixtures/programs/libreoffice-save.py",
                                                     file, profile, "Signed by Bob.", "Approved in March."],
                                environment: ["HOME": mount.workspace.path("home")])
        // While open, LibreOffice's lock file is in the folder.
        #expect(saves.out.split(separator: "\n").count == 2 && saves.out.contains(".~lock.contract.odt#"), "\(saves.out)")

        let versions = mount.path("legal/.versions/contract.odt")
        let listed = try FileManager.default.contentsOfDirectory(atPath: versions).sorted()
        try #require(listed.count == 3, "versions of contract.odt after two LibreOffice saves: \(listed)")
        /// The document's text, as LibreOffice itself reads it back.
        func text(_ path: String) throws -> String {
            let out = mount.workspace.path("text-" + UUID().uuidString)
            try mustRun("/usr/bin/soffice", office + ["--convert-to", "txt:Text", "--outdir", out, path],
                        environment: ["HOME": mount.workspace.path("home")])
            let name = (path as NSString).lastPathComponent.replacingOccurrences(of: ".odt", with: ".txt")
            return try String(contentsOfFile: out + "/" + name, encoding: .utf8)
        }
        let texts = try listed.map { try text(versions + "/" + $0) }
        #expect(texts[0].contains("Contract with Acme") && !texts[0].contains("Signed"), "version 1: \(texts[0])")
        #expect(texts[1].contains("Signed by Bob.") && !texts[1].contains("Approved"), "version 2: \(texts[1])")
        #expect(texts[2].contains("Signed by Bob.") && texts[2].contains("Approved in March."), "version 3: \(texts[2])")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == Data(contentsOf: URL(fileURLWithPath: versions + "/" + listed[2])))
        #expect(try documentsWithHistory(mount, in: "legal") == ["contract.odt"])
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(names == ["contract.odt"], "the folder after LibreOffice closed the document: \(names)")
        try expectDescribed(file, tag: "contract", mode: 0o644)
        try mount.remount()
        #expect(try FileManager.default.contentsOfDirectory(atPath: versions).count == 3)
        try expectDescribed(file, tag: "contract", mode: 0o644)
    }
}
