import Foundation
import Glibc
import Testing

@Suite("Mount: real programs", .serialized, .enabled(if: runningAsRoot, "mounting needs root"))
struct MountProgramTests {
    /// git without the machine's or the user's configuration.
    static let gitEnvironment = [
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org",
        "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.org", "GIT_TERMINAL_PROMPT": "0",
    ]

    @discardableResult
    func git(_ arguments: [String], in directory: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> RunResult {
        try mustRun("/usr/bin/git", arguments, directory: directory, environment: Self.gitEnvironment, sourceLocation: sourceLocation)
    }

    @Test("git: commits, a --local clone (hard links), fsck --full clean, log right; gc in the clone leaves the original intact")
    func git() throws {
        let mount = try MountedRepository("git")
        let work = mount.path("work")
        try git(["init", "-q", "-b", "main", work], in: mount.mountpoint)
        var messages: [String] = []
        for round in 1...6 {
            try mustRun("/bin/cp", ["-r", packageRoot + "/Sources/VFS", work + "/VFS-\(round % 3)"])
            let notes = work + "/notes.txt"
            let handle = FileHandle(forWritingAtPath: notes) ?? {
                FileManager.default.createFile(atPath: notes, contents: nil)
                return FileHandle(forWritingAtPath: notes)!
            }()
            handle.seekToEndOfFile()
            handle.write(Data("round \(round)\n".utf8))
            try handle.close()
            if round == 4 { try FileManager.default.removeItem(atPath: work + "/VFS-1") }
            try git(["add", "-A"], in: work)
            try git(["commit", "-q", "-m", "round \(round)"], in: work)
            messages.insert("round \(round)", at: 0)
        }
        try git(["tag", "v1"], in: work)

        let clone = mount.path("clone")
        try git(["clone", "-q", "--local", work, clone], in: mount.mountpoint)
        // --local hard-links the objects: the same inode under both names.
        let objects = try FileManager.default.subpathsOfDirectory(atPath: work + "/.git/objects").filter { $0.count == 41 }
        try #require(!objects.isEmpty, "no loose objects in \(work)")
        var shared = 0
        for object in objects {
            var a = stat(), b = stat()
            guard lstat(work + "/.git/objects/" + object, &a) == 0, lstat(clone + "/.git/objects/" + object, &b) == 0 else { continue }
            if a.st_ino == b.st_ino && a.st_nlink >= 2 { shared += 1 }
        }
        #expect(shared == objects.count, "only \(shared) of \(objects.count) objects are hard-linked into the clone")

        func expectHealthy(_ directory: String) throws {
            let fsck = try git(["fsck", "--full", "--strict"], in: directory)
            #expect(!fsck.err.contains("error") && !fsck.err.contains("missing") && !fsck.out.contains("dangling"), "\(fsck)")
            let log = try git(["log", "--format=%s"], in: directory).out
            #expect(log.split(separator: "\n").map(String.init) == messages, "git log in \(directory):\n\(log)")
            let status = try git(["status", "--porcelain"], in: directory).out
            #expect(status.isEmpty, "git status in \(directory) is not clean:\n\(status)")
        }
        try expectHealthy(work)
        try expectHealthy(clone)
        let tagged = try git(["rev-parse", "v1"], in: clone).out, head = try git(["rev-parse", "HEAD"], in: work).out
        #expect(tagged == head, "the clone's tag v1 is \(tagged), the original's HEAD \(head)")

        // gc in the clone packs the objects and unlinks its names of them; the original keeps its own.
        try git(["gc", "-q", "--prune=now"], in: clone)
        try expectHealthy(clone)
        try expectHealthy(work)

        try mount.remount()
        try expectHealthy(work)
        try expectHealthy(clone)
        let diff = try git(["diff", "HEAD~5", "HEAD", "--stat"], in: clone).out
        #expect(diff.contains("notes.txt"), "git diff over the history: \(diff)")
    }

    @Test("setcap and getcap: a file capability is kept, read back, survives a remount, and goes when the file is written")
    func fileCapabilities() throws {
        let mount = try MountedRepository("setcap", options: ["commit=1", "allow_other"])
        try mount.workspace.openToTestUsers()
        let tool = mount.path("ping-like")
        try mustRun("/bin/cp", ["/bin/true", tool])
        // Writable by anyone: only the capability check stands between a user and setcap.
        try #require(chmod(tool, 0o777) == 0)
        try mustRun("/usr/sbin/setcap", ["cap_net_raw+ep", tool])
        #expect(try mustRun("/usr/sbin/getcap", [tool]).out.contains("cap_net_raw=ep"))
        // The program still runs, with the capability attached.
        try mustRun(tool, [])
        try mount.remount()
        #expect(try mustRun("/usr/sbin/getcap", [tool]).out.contains("cap_net_raw=ep"), "lost by a remount")
        // An unprivileged user may not set one (the kernel asks for CAP_SETFCAP).
        let other = try runAs(try TestUsers.require().alice, "/usr/sbin/setcap", ["cap_net_raw+ep", tool])
        #expect(!other.exitedWith0 && other.err.contains("Operation not permitted"), "\(other)")
        // Writing the file drops the capability, as on ext4.
        let handle = try #require(FileHandle(forWritingAtPath: tool))
        handle.seekToEndOfFile()
        handle.write(Data([0]))
        try handle.close()
        #expect(try mustRun("/usr/sbin/getcap", [tool]).out.isEmpty, "the capability outlived a write")
    }

    @Test("df: used grows by what a written file takes in the repository, available is the repository disk's, a delete frees nothing (the history keeps it)")
    func diskFree() throws {
        let mount = try MountedRepository("df")
        func df(_ path: String) throws -> (used: Int64, available: Int64) {
            let lines = try mustRun("/bin/df", ["-B1", "--output=used,avail", path]).out.split(separator: "\n")
            let fields = try #require(lines.last?.split(separator: " ").compactMap { Int64($0) })
            try #require(fields.count == 2, "\(lines)")
            return (fields[0], fields[1])
        }
        let before = try df(mount.mountpoint)
        // Used is the repository's content, not the whole disk's: a new repository takes almost nothing.
        #expect(before.used < 16 << 20, "\(before)")
        let file = mount.path("random.bin")
        try Data(randomBytes(24 << 20)).write(to: URL(fileURLWithPath: file))
        // fsync commits: the packs holding the file are sealed and indexed.
        let handle = try #require(FileHandle(forWritingAtPath: file))
        try handle.synchronize()
        try handle.close()
        let written = try df(mount.mountpoint)
        #expect(written.used - before.used >= 23 << 20 && written.used - before.used <= 30 << 20, "before \(before), after \(written)")
        // Available is the disk's, as df of the repository's own folder says (other writers may move it a little).
        let disk = try df(mount.repo)
        #expect(abs(disk.available - written.available) < 64 << 20, "mount \(written), repository disk \(disk)")
        try FileManager.default.removeItem(atPath: file)
        #expect(try df(mount.mountpoint).used >= written.used, "a delete freed space the history still holds")
    }

    @Test("sqlite3 in WAL mode: one writer and two concurrent readers, consistent snapshots, integrity ok, data there after a remount")
    func sqliteWAL() throws {
        let mount = try MountedRepository("sqlite")
        let database = mount.path("data/app.db")
        try FileManager.default.createDirectory(atPath: mount.path("data"), withIntermediateDirectories: true)
        let script = try writeScript(Self.sqliteScript, named: "sqlite-load.py", in: mount.workspace.root)
        try mustRun("/usr/bin/sqlite3", [database, """
            PRAGMA journal_mode=WAL;
            CREATE TABLE rows(id INTEGER PRIMARY KEY, batch INTEGER NOT NULL, payload BLOB NOT NULL);
            CREATE TABLE totals(one INTEGER PRIMARY KEY CHECK (one = 1), count INTEGER NOT NULL);
            INSERT INTO totals VALUES (1, 0);
            """])
        let batches = 600, perBatch = 5
        let writer = Process(), readers = [Process(), Process()]
        writer.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        writer.arguments = [script, "write", database, String(batches), String(perBatch)]
        for (index, reader) in readers.enumerated() {
            reader.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            reader.arguments = [script, "read", database, String(batches * perBatch), mount.workspace.path("reader-\(index).log")]
        }
        let started = Date()
        for process in readers + [writer] { try process.run() }
        for process in [writer] + readers { process.waitUntilExit() }
        let seconds = Date().timeIntervalSince(started)
        #expect(writer.terminationStatus == 0, "the writer failed")
        for (index, reader) in readers.enumerated() {
            let log = (try? String(contentsOfFile: mount.workspace.path("reader-\(index).log"), encoding: .utf8)) ?? ""
            #expect(reader.terminationStatus == 0, "reader \(index) saw an inconsistent database:\n\(log.suffix(2000))")
            #expect(log.contains("queries"), "reader \(index) did not report: \(log)")
            print("sqlite reader \(index): \(log.trimmingCharacters(in: .whitespacesAndNewlines)) in \(Int(seconds)) s")
        }

        func expectComplete() throws {
            let check = try mustRun("/usr/bin/sqlite3", [database, "PRAGMA integrity_check; SELECT count(*), count(DISTINCT batch) FROM rows; SELECT count FROM totals;"])
            #expect(check.out == "ok\n\(batches * perBatch)|\(batches)\n\(batches * perBatch)\n", "\(check)")
        }
        try expectComplete()
        try mount.remount()
        try expectComplete()
        let walSize = FileManager.default.fileExists(atPath: database + "-wal") ? try fileSize(database + "-wal") : 0
        #expect(walSize == 0, "the WAL was not checkpointed when the last connection closed")
    }

    /// `write DB BATCHES PER_BATCH`: one transaction per batch; `read DB TOTAL LOG`: queries until
    /// all rows are there, checking that every snapshot is consistent and never goes back.
    static let sqliteScript = """
        import os, sqlite3, sys, time
        mode, path = sys.argv[1], sys.argv[2]
        if mode == "write":
            batches, per = int(sys.argv[3]), int(sys.argv[4])
            db = sqlite3.connect(path, isolation_level=None, timeout=60)
            for b in range(batches):
                db.execute("BEGIN IMMEDIATE")
                for k in range(per):
                    db.execute("INSERT INTO rows(batch, payload) VALUES (?, ?)", (b, os.urandom(200 + 37 * k)))
                db.execute("UPDATE totals SET count = count + ?", (per,))
                db.execute("COMMIT")
            db.close()
            sys.exit(0)
        total, log = int(sys.argv[3]), open(sys.argv[4], "w")
        db = sqlite3.connect(path, isolation_level=None, timeout=60)
        last, queries, deadline = -1, 0, time.time() + 240
        while time.time() < deadline:
            db.execute("BEGIN")
            rows = db.execute("SELECT count(*) FROM rows").fetchone()[0]
            counted = db.execute("SELECT count FROM totals").fetchone()[0]
            batches = db.execute("SELECT count(DISTINCT batch) FROM rows").fetchone()[0]
            db.execute("COMMIT")
            queries += 1
            if rows != counted or rows < last or (rows and rows != batches * (rows // batches)):
                print(f"inconsistent snapshot: {rows} rows, totals says {counted}, {batches} batches, before {last}", file=log)
                sys.exit(1)
            last = rows
            if rows == total:
                break
        print(f"{queries} queries, last saw {last} rows", file=log)
        sys.exit(0 if last == total else 2)
        """
}
