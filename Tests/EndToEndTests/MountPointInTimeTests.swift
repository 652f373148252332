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
