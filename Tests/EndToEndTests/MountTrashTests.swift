import Foundation
import Glibc
import Testing

/// The trash (issue 12): what is deleted through the mount waits under `/.trash/DAY/PATH` with its
/// history and attributes, `mv` brings it back, each user sees only their own or what they could
/// read, and `trash_days` expires it.
@Suite("Mount: the trash", .serialized, .enabled(if: runningAsRoot, "mounting needs root"))
struct MountTrashTests {
    /// Today's folder of the trash (UTC).
    func today() -> String {
        var now = time(nil), parts = tm()
        gmtime_r(&now, &parts)
        return String(format: "%04d-%02d-%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday)
    }

    func versions(_ mount: MountedRepository, _ path: String) throws -> Int {
        let folder = (path as NSString).deletingLastPathComponent, name = (path as NSString).lastPathComponent
        return try FileManager.default.contentsOfDirectory(atPath: mount.path(folder + "/.versions/" + name)).count
    }

    @Test("rm -rf of a tree puts it under .trash/DAY with its content; mv brings it back identical, with its history, tags and ACL; swap files, vim's backups and saves never go to the trash")
    func deleteAndRestore() throws {
        let mount = try MountedRepository("trash")
        let fm = FileManager.default
        let tree = mount.path("team")
        try fm.createDirectory(atPath: tree + "/sub", withIntermediateDirectories: true)
        for round in 1...3 { try "report round \(round)\n".write(toFile: tree + "/report.txt", atomically: false, encoding: .utf8) }
        try "notes\n".write(toFile: tree + "/sub/notes.txt", atomically: false, encoding: .utf8)
        try mustRun("/usr/bin/setfattr", ["-n", "user.xdg.tags", "-v", "contract", tree + "/report.txt"])
        try mustRun("/usr/bin/setfacl", ["-m", "u:nobody:r", tree + "/report.txt"])
        // A vim save (backup by rename, then a new file) and a swap file: neither is a deletion.
        try mustRun("/usr/bin/vim", ["-es", "-u", "NONE", "-i", "NONE", "-N", "-c", "set writebackup backupcopy=no",
                                     "-c", "%s/notes/notes, edited/", "-c", "wq", tree + "/sub/notes.txt"])
        try "swap".write(toFile: tree + "/.report.txt.swp", atomically: false, encoding: .utf8)
        try fm.removeItem(atPath: tree + "/.report.txt.swp")
        #expect(!fm.fileExists(atPath: mount.path(".trash/" + today())), "a save or a swap file went to the trash")
        let before = mount.workspace.path("before")
        try mustRun("/usr/bin/rsync", ["-aAX", tree + "/", before + "/"])
        #expect(try versions(mount, "team/report.txt") == 3)

        try mustRun("/bin/rm", ["-rf", tree])
        #expect(!fm.fileExists(atPath: tree))
        let trashed = mount.path(".trash/" + today() + "/team")
        #expect(try fm.contentsOfDirectory(atPath: mount.mountpoint).isEmpty, ".trash is not listed in the root")
        let listed = try fm.subpathsOfDirectory(atPath: trashed).sorted()
        #expect(listed == ["report.txt", "sub", "sub/notes.txt"], "\(listed)")
        #expect(try String(contentsOfFile: trashed + "/report.txt", encoding: .utf8) == "report round 3\n")
        // Its history is there too, in the trashed folder's .versions.
        let history = try fm.contentsOfDirectory(atPath: trashed + "/.versions/report.txt").sorted()
        #expect(history == ["report.00001.txt", "report.00002.txt", "report.00003.txt"], "\(history)")
        #expect(try String(contentsOfFile: trashed + "/.versions/report.txt/report.00002.txt", encoding: .utf8) == "report round 2\n")
        // Read-only, except that mv takes things out.
        let write = try run("/bin/sh", ["-c", "echo x >> '\(trashed)/report.txt'"])
        #expect(!write.exitedWith0, "\(write)")
        try mount.remount()

        try mustRun("/bin/mv", [trashed, tree])
        // As before the delete, but for folders' mtimes: taking their entries out and putting them
        // back changed them, as it does on any filesystem.
        #expect(try diffProblems(before, tree).isEmpty)
        let problems = treeDifferences(try snapshot(before), try snapshot(tree)).filter { problem in
            !(problem.contains(": mtime ") && (problem.hasPrefix("/: ") || problem.hasPrefix("/sub: ")))
        }
        #expect(problems.isEmpty, "\(problems)")
        #expect(try versions(mount, "team/report.txt") == 3)
        let acl = try mustRun("/usr/bin/getfacl", ["-cp", tree + "/report.txt"])
        #expect(acl.out.contains("user:nobody:r--"), "\(acl.out)")
        #expect(!fm.fileExists(atPath: mount.path(".trash/" + today())), "the trash still lists what was restored")
        // The restored document goes on as before: the next save is its fourth version.
        try "report round 4\n".write(toFile: tree + "/report.txt", atomically: false, encoding: .utf8)
        #expect(try versions(mount, "team/report.txt") == 4)

        // One file deleted and put back elsewhere under a new name; a file renamed over an unrelated
        // document of someone else's history sends that document to the trash.
        try fm.removeItem(atPath: tree + "/sub/notes.txt")
        try mustRun("/bin/mv", [mount.path(".trash/" + today() + "/team/sub/notes.txt"), tree + "/restored-notes.txt"])
        #expect(try String(contentsOfFile: tree + "/restored-notes.txt", encoding: .utf8) == "notes, edited\n")
        #expect(try versions(mount, "team/restored-notes.txt") == 2)
        // Never over something that exists.
        try fm.removeItem(atPath: tree + "/restored-notes.txt")
        try "in the way\n".write(toFile: tree + "/restored-notes.txt", atomically: false, encoding: .utf8)
        let over = try run("/bin/mv", ["-T", mount.path(".trash/" + today() + "/team/restored-notes.txt"), tree + "/restored-notes.txt"])
        #expect(!over.exitedWith0, "\(over)")
        #expect(try String(contentsOfFile: tree + "/restored-notes.txt", encoding: .utf8) == "in the way\n")
        // nexusfs undelete: the newest deletion of a path, back where it was or elsewhere.
        try fm.removeItem(atPath: tree + "/report.txt")
        let undeleted = try mount.workspace.succeed("undelete", tree + "/report.txt", "--to", tree + "/report-back.txt")
        #expect(undeleted.out.contains("restored team/report.txt (deleted on \(today())) as \(tree)/report-back.txt"), "\(undeleted)")
        #expect(try versions(mount, "team/report-back.txt") == 4)
        let nothing = try mount.workspace.nexusfs("undelete", tree + "/report.txt")
        #expect(nothing.status == 1 && nothing.err.contains("nothing deleted as /team/report.txt is in the trash"), "\(nothing)")
        try mount.unmount()
        try mount.workspace.succeed("check", mount.repo, "--read-data")
        let audit = try mount.workspace.succeed("audit", mount.repo).out
        #expect(audit.contains("undelete"), "\(audit)")
    }

    @Test("a /.trash folder imported before the trash existed stays reachable; a new one cannot be made")
    func existingTrashFolder() throws {
        let mount = try MountedRepository("trash-folder")
        try mount.unmount()
        let source = mount.workspace.path("source")
        try FileManager.default.createDirectory(atPath: source + "/.trash", withIntermediateDirectories: true)
        try "mine\n".write(toFile: source + "/.trash/note.txt", atomically: false, encoding: .utf8)
        try mount.workspace.succeed("import", mount.repo, source)
        try mount.mount()
        #expect(try String(contentsOfFile: mount.path(".trash/note.txt"), encoding: .utf8) == "mine\n")
        try mount.unmount()
        let fresh = try MountedRepository("trash-folder-new")
        let made = try run("/bin/mkdir", [fresh.path(".trash")])
        #expect(!made.exitedWith0 && made.err.contains("File exists"), "\(made)")
    }

    @Test("prune --trash-days deletes for good what waited longer, with its versions, and frees the space")
    func pruneEmptiesTheTrash() throws {
        let mount = try MountedRepository("trash-prune")
        let big = mount.path("big.bin")
        try mustRun("/bin/sh", ["-c", "head -c 4000000 /dev/urandom > '\(big)'; head -c 4000000 /dev/urandom > '\(big)'"])
        try "small\n".write(toFile: mount.path("kept.txt"), atomically: false, encoding: .utf8)
        try FileManager.default.removeItem(atPath: big)
        try mount.unmount()
        let kept = try mount.workspace.succeed("prune", mount.repo, "--keep-last", "5").out
        #expect(!kept.contains("from the trash"), "\(kept)")
        let pruned = try mount.workspace.succeed("prune", mount.repo, "--keep-last", "5", "--trash-days", "0").out
        #expect(pruned.contains("deleted /big.bin from the trash for good"), "\(pruned)")
        let stats = try mount.workspace.succeed("stats", mount.repo, "--json").out
        let stored = try #require((try JSONSerialization.jsonObject(with: Data(stats.utf8)) as? [String: Any])?["storedBytes"] as? Int)
        #expect(stored < 1_000_000, "the trashed document's 8 MB are still stored: \(stats)")
        try mount.mount()
        #expect(!FileManager.default.fileExists(atPath: mount.path(".trash/" + today())))
        #expect(try String(contentsOfFile: mount.path("kept.txt"), encoding: .utf8) == "small\n")
        try mount.unmount()
        try mount.workspace.succeed("check", mount.repo, "--read-data")
    }

    @Test("on an allow_other mount each user sees in the trash what they deleted or own, and nobody else's; trash_days expires it at the next mount")
    func usersAndRetention() throws {
        let users = try TestUsers.require()
        let mount = try MountedRepository("trash-users", options: ["commit=1", "allow_other"])
        try mount.workspace.openToTestUsers()
        try #require(chmod(mount.mountpoint, 0o755) == 0)
        let shared = mount.path("shared")
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: false)
        try #require(chmod(shared, 0o1777) == 0)
        func sh(_ user: TestUser, _ script: String) throws -> RunResult {
            try runAs(user, "/bin/sh", ["-c", script], directory: shared)
        }
        try #require(try sh(users.alice, "umask 077; echo secret > private.txt; umask 022; echo hello > public.txt; rm private.txt public.txt").exitedWith0)
        let day = mount.path(".trash/" + today() + "/shared")
        let asAlice = try sh(users.alice, "ls '\(day)'")
        #expect(asAlice.out.split(separator: "\n") == ["private.txt", "public.txt"], "\(asAlice)")
        // Not even alice's world-readable file: whether bob could reach it through its folders is gone.
        let asBob = try sh(users.bob, "ls '\(mount.path(".trash"))'; ls '\(day)'; cat '\(day)/private.txt' '\(day)/public.txt'")
        #expect(asBob.out.isEmpty && asBob.err.contains("No such file or directory"), "\(asBob)")
        let bobHistory = try sh(users.bob, "ls '\(day)/.versions/'")
        #expect(bobHistory.out.isEmpty, "\(bobHistory)")
        let bobRestores = try sh(users.bob, "mv '\(day)/private.txt' ./taken.txt")
        #expect(!bobRestores.exitedWith0 && !FileManager.default.fileExists(atPath: shared + "/taken.txt"), "\(bobRestores)")
        #expect(try sh(users.alice, "mv '\(day)/private.txt' ./back.txt && cat back.txt").out == "secret\n")

        // Retention: a mount with a trash of 1 second removes what waited longer.
        try mount.unmount()
        sleep(2)
        try mount.mount(adding: ["trash_days=0.00001"])
        #expect(!FileManager.default.fileExists(atPath: day), "expired documents are still in the trash")
        try mount.unmount()
        let audit = try mount.workspace.succeed("audit", mount.repo).out
        #expect(audit.contains("purge from the trash"), "\(audit)")
        try mount.workspace.succeed("check", mount.repo)
    }
}
