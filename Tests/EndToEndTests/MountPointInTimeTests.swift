import Foundation
import Glibc
import Testing

/// The tree as it was at a past time: `mount -o at=TIME` and `export --at TIME` (issue 12, "point in time").
@Suite("Point in time: mount -o at= and export --at", .serialized, .enabled(if: runningAsRoot, "mounting needs root"))
struct MountPointInTimeTests {
    /// Names, kinds and contents under `root`, relative, sorted.
    func tree(_ root: String) throws -> [String] {
        let fm = FileManager.default
        return try fm.subpathsOfDirectory(atPath: root).sorted().map { relative in
            var isFolder: ObjCBool = false
            _ = fm.fileExists(atPath: root + "/" + relative, isDirectory: &isFolder)
            if isFolder.boolValue { return relative + "/" }
            return relative + " = " + (try String(contentsOfFile: root + "/" + relative, encoding: .utf8))
        }
    }

    /// Now, as `-o at=` and `--at` take it (ISO 8601, nanoseconds).
    func now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return "@\(ts.tv_sec).\(String(ts.tv_nsec).leftPadding(to: 9))"
    }

    @Test("a time between two rounds of changes shows the first round: saves, renames of files and folders, deletes, new folders, versions; rsync -aX of the at= mount matches export --at; nothing is written into the repository")
    func betweenTwoRounds() throws {
        let mount = try MountedRepository("at")
        let fm = FileManager.default
        try fm.createDirectory(atPath: mount.path("team/old"), withIntermediateDirectories: true)
        try "one\n".write(toFile: mount.path("team/a.txt"), atomically: false, encoding: .utf8)
        try "keep\n".write(toFile: mount.path("team/b.txt"), atomically: false, encoding: .utf8)
        try "gone\n".write(toFile: mount.path("team/c.txt"), atomically: false, encoding: .utf8)
        try "inside\n".write(toFile: mount.path("team/old/d.txt"), atomically: false, encoding: .utf8)
        try mustRun("/usr/bin/setfattr", ["-n", "user.xdg.tags", "-v", "first", mount.path("team/a.txt")])
        let first = try tree(mount.mountpoint)
        // Past the commit interval on both sides of the time: each round is in its own commits.
        usleep(1_600_000)
        let between = now()
        usleep(1_600_000)
        try "two\n".write(toFile: mount.path("team/a.txt"), atomically: false, encoding: .utf8)
        try mustRun("/usr/bin/setfattr", ["-n", "user.xdg.tags", "-v", "second", mount.path("team/a.txt")])
        try fm.moveItem(atPath: mount.path("team/b.txt"), toPath: mount.path("team/b2.txt"))
        try fm.removeItem(atPath: mount.path("team/c.txt"))
        try fm.moveItem(atPath: mount.path("team/old"), toPath: mount.path("team/renamed"))
        try fm.createDirectory(atPath: mount.path("new"), withIntermediateDirectories: false)
        let second = try tree(mount.mountpoint)
        #expect(first != second)
        // A document's version at a time, by name, on the live mount (not listed).
        let versions = mount.path("team/.versions/a.txt/")
        #expect(try String(contentsOfFile: versions + "@" + between, encoding: .utf8) == "one\n")
        #expect(try String(contentsOfFile: versions + "@now", encoding: .utf8) == "two\n")
        #expect(!FileManager.default.fileExists(atPath: versions + "@1 hour ago"), "a version before the first")
        #expect(try String(contentsOfFile: versions + "@" + ISO8601DateFormatter().string(from: Date().addingTimeInterval(1)), encoding: .utf8) == "two\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: versions).sorted() == ["a.00001.txt", "a.00002.txt"])
        // restore --at: the version that was the latest then, on the mount and on the repository.
        let fromMount = mount.workspace.path("restored-on-mount")
        try mount.workspace.succeed("restore", mount.path("team/a.txt"), "--at", between, "--to", fromMount)
        #expect(try String(contentsOfFile: fromMount, encoding: .utf8) == "one\n")
        let tooEarly = try mount.workspace.nexusfs("restore", mount.path("team/a.txt"), "--at", "2020-01-01", "--to", fromMount + "2")
        #expect(tooEarly.status == 1 && tooEarly.err.contains("no version of the document is from 2020-01-01 or before"), "\(tooEarly)")
        try mount.unmount()
        let fromRepository = mount.workspace.path("restored-from-repository")
        try mount.workspace.succeed("restore", mount.repo, "/team/a.txt", "--at", between, "--to", fromRepository)
        #expect(try String(contentsOfFile: fromRepository, encoding: .utf8) == "one\n")
        let packs = try fm.subpathsOfDirectory(atPath: mount.repo + "/packs").sorted()

        try mount.mount(adding: ["at=" + between])
        #expect(try tree(mount.mountpoint) == first)
        #expect(try fm.contentsOfDirectory(atPath: mount.path("team/.versions/a.txt")).sorted() == ["a.00001.txt"])
        let tags = try mustRun("/usr/bin/getfattr", ["--only-values", "-n", "user.xdg.tags", mount.path("team/a.txt")])
        #expect(tags.out == "first")
        // The past is read-only.
        let write = try run("/bin/sh", ["-c", "echo x > '\(mount.path("team/a.txt"))'"])
        #expect(!write.exitedWith0 && write.err.contains("Read-only file system"), "\(write)")
        let copied = mount.workspace.path("rsync-copy"), exported = mount.workspace.path("export")
        try mustRun("/usr/bin/rsync", ["-aX", mount.mountpoint + "/", copied + "/"])
        try mount.unmount()
        try mount.workspace.succeed("export", mount.repo, exported, "--at", between)
        try expectIdenticalTrees(exported, copied)

        // Now (or later) is the current tree; nothing above wrote into the repository.
        try mount.mount(adding: ["at=now"])
        #expect(try tree(mount.mountpoint) == second)
        try mount.unmount()
        #expect(try fm.subpathsOfDirectory(atPath: mount.repo + "/packs").sorted() == packs)
        try mount.mount()
        #expect(try tree(mount.mountpoint) == second)
        try mount.unmount()
        try mount.workspace.succeed("check", mount.repo)
    }

    /// The `catalog.at-*` files of past views under the state root.
    func pastCatalogs(_ mount: MountedRepository) throws -> [String] {
        try FileManager.default.subpathsOfDirectory(atPath: mount.workspace.state).filter {
            let name = ($0 as NSString).lastPathComponent
            return name.hasPrefix("catalog.at-") && !name.hasSuffix("-wal") && !name.hasSuffix("-shm")
        }
    }

    @Test("on a live mount, /.at/TIME/ is the tree as it was: ls, cat, find and rsync -aX see the first round (old names, deleted files, no later folder) while the live tree keeps the second; read-only; hidden; a name that is no time is ENOENT; at most 2 kept; nothing left after umount; the same as export --at")
    func liveView() throws {
        let mount = try MountedRepository("at-live")
        let fm = FileManager.default
        try fm.createDirectory(atPath: mount.path("team/old"), withIntermediateDirectories: true)
        try "one\n".write(toFile: mount.path("team/a.txt"), atomically: false, encoding: .utf8)
        try "keep\n".write(toFile: mount.path("team/b.txt"), atomically: false, encoding: .utf8)
        try "gone\n".write(toFile: mount.path("team/c.txt"), atomically: false, encoding: .utf8)
        try "inside\n".write(toFile: mount.path("team/old/d.txt"), atomically: false, encoding: .utf8)
        try mustRun("/usr/bin/setfattr", ["-n", "user.xdg.tags", "-v", "first", mount.path("team/a.txt")])
        let first = try tree(mount.mountpoint)
        usleep(1_600_000)
        let between = now()
        usleep(1_600_000)
        try "two\n".write(toFile: mount.path("team/a.txt"), atomically: false, encoding: .utf8)
        try fm.moveItem(atPath: mount.path("team/b.txt"), toPath: mount.path("team/b2.txt"))
        try fm.removeItem(atPath: mount.path("team/c.txt"))
        try fm.moveItem(atPath: mount.path("team/old"), toPath: mount.path("team/renamed"))
        try fm.createDirectory(atPath: mount.path("new"), withIntermediateDirectories: false)
        let second = try tree(mount.mountpoint)
        #expect(first != second)
        usleep(1_600_000)
        // ISO 8601 to the second: a whole second after the second round's commit.
        let afterSecond = ISO8601DateFormatter().string(from: Date())
        usleep(1_100_000)

        let at = mount.path(".at/" + between)
        let started = Date()
        let listing = try mustRun("/bin/ls", [at + "/team"])
        print("first lookup of /.at/\(between) and ls: \(Date().timeIntervalSince(started)) s")
        #expect(listing.out == "a.txt\nb.txt\nc.txt\nold\n")
        #expect(try tree(at) == first)
        #expect(try mustRun("/bin/cat", [at + "/team/a.txt", at + "/team/b.txt", at + "/team/c.txt", at + "/team/old/d.txt"]).out
            == "one\nkeep\ngone\ninside\n")
        #expect(!fm.fileExists(atPath: at + "/new") && !fm.fileExists(atPath: at + "/team/b2.txt"))
        let found = try mustRun("/usr/bin/find", ["."], directory: at).out.split(separator: "\n").sorted()
        #expect(found == [".", "./team", "./team/a.txt", "./team/b.txt", "./team/c.txt", "./team/old", "./team/old/d.txt"])
        #expect(try mustRun("/usr/bin/getfattr", ["--only-values", "-n", "user.xdg.tags", at + "/team/a.txt"]).out == "first")
        #expect(try fm.contentsOfDirectory(atPath: at + "/team/.versions/a.txt") == ["a.00001.txt"])
        let copied = mount.workspace.path("rsync-of-at")
        try mustRun("/usr/bin/rsync", ["-aX", at + "/", copied + "/"])
        #expect(try tree(copied) == first)
        // The live tree goes on.
        #expect(try tree(mount.mountpoint) == second)
        try "three\n".write(toFile: mount.path("team/a.txt"), atomically: false, encoding: .utf8)
        #expect(try String(contentsOfFile: at + "/team/a.txt", encoding: .utf8) == "one\n")

        // Read-only: every change is EROFS.
        for command in ["echo x > '\(at)/team/a.txt'", "echo x >> '\(at)/team/a.txt'", "touch '\(at)/team/new.txt'",
                        "mkdir '\(at)/team/x'", "rm '\(at)/team/a.txt'", "mv '\(at)/team/a.txt' '\(at)/team/z.txt'",
                        "ln -s a.txt '\(at)/team/l'", "chmod 600 '\(at)/team/a.txt'", "setfattr -n user.x -v 1 '\(at)/team/a.txt'",
                        "cp '\(mount.path("team/a.txt"))' '\(at)/team/'", "mv '\(mount.path("team/b2.txt"))' '\(at)/team/'"] {
            let result = try run("/bin/sh", ["-c", command])
            #expect(!result.exitedWith0 && result.err.contains("Read-only file system"), "\(command): \(result)")
        }
        #expect(fm.fileExists(atPath: mount.path("team/b2.txt")))

        // Hidden, and only times are names in it.
        #expect(!(try mustRun("/bin/ls", ["-a", mount.mountpoint]).out.split(separator: "\n").contains(".at")))
        #expect(try mustRun("/bin/ls", ["-a", mount.path(".at")]).out == ".\n..\n")
        for name in ["soon", "2020-01-01", "2999-01-01T00:00:00Z"] {
            let result = try run("/bin/ls", [mount.path(".at/" + name)])
            #expect(!result.exitedWith0 && result.err.contains("No such file or directory"), "\(name): \(result)")
        }
        let reserved = try run("/bin/mkdir", [mount.path(".at")])
        #expect(!reserved.exitedWith0 && reserved.err.contains("File exists"), "\(reserved)")

        // Relative times; a third time evicts the least recently used view, which comes back when asked for.
        usleep(1_600_000)
        #expect(try String(contentsOfFile: mount.path(".at/0 seconds ago/team/a.txt"), encoding: .utf8) == "three\n")
        #expect(try pastCatalogs(mount).count == 2, "\((try? pastCatalogs(mount)) ?? [])")
        #expect(try tree(mount.path(".at/" + afterSecond)) == second)
        #expect(try pastCatalogs(mount).count == 2, "\((try? pastCatalogs(mount)) ?? [])")
        #expect(try String(contentsOfFile: at + "/team/a.txt", encoding: .utf8) == "one\n")
        #expect(try pastCatalogs(mount).count == 2, "\((try? pastCatalogs(mount)) ?? [])")

        try mount.unmount()
        #expect(try FileManager.default.subpathsOfDirectory(atPath: mount.workspace.state).filter { $0.contains("catalog.at-") } == [])
        let exported = mount.workspace.path("export")
        try mount.workspace.succeed("export", mount.repo, exported, "--at", between)
        try expectIdenticalTrees(exported, copied)
        try mount.workspace.succeed("check", mount.repo)
    }

    @Test("/.at/TIME/ has the permissions of then, for other users of an allow_other mount: a file closed then is closed there though open now, and the other way round")
    func pastPermissions() throws {
        let users = try TestUsers.require()
        let mount = try MountedRepository("at-perm", options: ["commit=1", "allow_other"])
        try mount.workspace.openToTestUsers()
        #expect(chmod(mount.mountpoint, 0o755) == 0)
        try "secret\n".write(toFile: mount.path("secret.txt"), atomically: false, encoding: .utf8)
        try "open\n".write(toFile: mount.path("open.txt"), atomically: false, encoding: .utf8)
        #expect(chmod(mount.path("secret.txt"), 0o600) == 0 && chmod(mount.path("open.txt"), 0o644) == 0)
        usleep(1_600_000)
        let between = now()
        usleep(1_600_000)
        #expect(chmod(mount.path("secret.txt"), 0o644) == 0 && chmod(mount.path("open.txt"), 0o600) == 0)
        let at = mount.path(".at/" + between)
        let nowSecret = try runAs(users.alice, "/bin/cat", [mount.path("secret.txt")])
        #expect(nowSecret.exitedWith0 && nowSecret.out == "secret\n", "\(nowSecret)")
        let thenSecret = try runAs(users.alice, "/bin/cat", [at + "/secret.txt"])
        #expect(!thenSecret.exitedWith0 && thenSecret.err.contains("Permission denied"), "\(thenSecret)")
        let nowOpen = try runAs(users.alice, "/bin/cat", [mount.path("open.txt")])
        #expect(!nowOpen.exitedWith0 && nowOpen.err.contains("Permission denied"), "\(nowOpen)")
        let thenOpen = try runAs(users.alice, "/bin/cat", [at + "/open.txt"])
        #expect(thenOpen.exitedWith0 && thenOpen.out == "open\n", "\(thenOpen)")
        let listed = try runAs(users.alice, "/bin/ls", ["-l", at + "/"])
        #expect(listed.exitedWith0 && listed.out.contains("-rw------- 1 root root 7") && listed.out.contains("-rw-r--r-- 1 root root 5"), "\(listed)")
        try mount.unmount()
    }

    @Test("a time before the repository existed, or that is no time, is a clear error and mounts nothing")
    func badTimes() throws {
        let mount = try MountedRepository("at-errors")
        try mount.unmount()
        let before = try mount.workspace.nexusfs("mount", mount.repo, mount.mountpoint, "-o", "at=2020-01-01")
        #expect(before.status == 1 && before.err.contains("no history at or before 2020-01-01T00:00:00Z"), "\(before)")
        #expect(!MountedRepository.isFUSEMount(mount.mountpoint))
        let garbage = try mount.workspace.nexusfs("mount", mount.repo, mount.mountpoint, "-o", "at=soon")
        #expect(garbage.status == 2 && garbage.err.contains("-o at=soon is not an ISO 8601 time"), "\(garbage)")
        let export = try mount.workspace.nexusfs("export", mount.repo, mount.workspace.path("out"), "--at", "2020-01-01T00:00:00Z")
        #expect(export.status == 1 && export.err.contains("no history at or before"), "\(export)")
        #expect(!FileManager.default.fileExists(atPath: mount.workspace.path("out")))
        // Relative times are understood.
        let ago = try mount.workspace.nexusfs("export", mount.repo, mount.workspace.path("out2"), "--at", "0 seconds ago")
        #expect(ago.exitedWith0, "\(ago)")
    }
}

extension String {
    fileprivate func leftPadding(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
