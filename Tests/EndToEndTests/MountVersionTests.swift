import Foundation
import Glibc
import Testing

/// Versions through the mount as real programs save: each save is exactly one version with
/// the right content, and no swap or temporary file keeps a history.
@Suite("Versions through the mount with real programs", .serialized)
struct MountVersionTests {
    /// The contents of `DIR/.versions/NAME/`, oldest first.
    func history(_ mount: MountedRepository, _ name: String, in folder: String = "") throws -> [String] {
        let dir = mount.path((folder.isEmpty ? "" : folder + "/") + ".versions/" + name)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        return try files.map { try String(contentsOfFile: dir + "/" + $0, encoding: .utf8) }
    }

    /// Documents listed under `DIR/.versions/`.
    func documentsWithHistory(_ mount: MountedRepository, in folder: String = "") throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: mount.path((folder.isEmpty ? "" : folder + "/") + ".versions")).sorted()
    }

    @Test("vim: three saves are three versions, swap and backup files leave no history")
    func vim() throws {
        let mount = try MountedRepository("vim")
        let file = mount.path("notes.txt")
        try "alpha\n".write(toFile: file, atomically: false, encoding: .utf8)
        for word in ["beta", "gamma", "delta"] {
            try mustRun("/usr/bin/vim", ["-es", "-u", "NONE", "-i", "NONE", "-N", "-c", "set writebackup backupcopy=no",
                                         "-c", "%s/.*/\(word)/", "-c", "wq", file])
        }
        #expect(try history(mount, "notes.txt") == ["alpha\n", "beta\n", "gamma\n", "delta\n"])
        #expect(try documentsWithHistory(mount) == ["notes.txt"])
        let names = try FileManager.default.contentsOfDirectory(atPath: mount.mountpoint)
        #expect(names == ["notes.txt"], "\(names)")
    }

    @Test("documents with names of 250 to 255 bytes (ASCII, UTF-8, a long extension) keep every version reachable under a name of at most 255 bytes")
    func longNames() throws {
        let mount = try MountedRepository("longnames")
        let names = [String(repeating: "a", count: 251) + ".txt", String(repeating: "é", count: 127) + "x",
                     "report." + String(repeating: "e", count: 248)]
        for name in names {
            try #require(name.utf8.count >= 250 && name.utf8.count <= 255)
            let file = mount.path(name)
            for round in 1...3 { try "round \(round)\n".write(toFile: file, atomically: false, encoding: .utf8) }
            let versions = try FileManager.default.contentsOfDirectory(atPath: mount.path(".versions/" + name)).sorted()
            #expect(versions.count == 3 && versions.allSatisfy { $0.utf8.count <= 255 }, "\(versions)")
            #expect(try history(mount, name) == ["round 1\n", "round 2\n", "round 3\n"])
            // Looked up by name too, not only listed.
            if let newest = versions.last {
                #expect(try String(contentsOfFile: mount.path(".versions/" + name + "/" + newest), encoding: .utf8) == "round 3\n")
            }
        }
    }

    @Test("sed -i, a python atomic save and shell truncate-and-rewrite each add exactly one version")
    func sedPythonShell() throws {
        let mount = try MountedRepository("sed")
        let file = mount.path("doc.txt")
        try "one\n".write(toFile: file, atomically: false, encoding: .utf8)
        try mustRun("/usr/bin/setfattr", ["-n", "user.xdg.tags", "-v", "blue", file])
        try mustRun("/usr/bin/sed", ["-i", "s/one/two/", file])
        try mustRun("/usr/bin/python3", ["-c", """
            import os, tempfile
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(r'\(file)'))
            os.write(fd, b'three\\n'); os.fsync(fd); os.close(fd)
            os.replace(tmp, r'\(file)')
            """])
        try mustRun("/bin/sh", ["-c", "printf 'four\\n' > '\(file)'"])
        #expect(try history(mount, "doc.txt") == ["one\n", "two\n", "three\n", "four\n"])
        #expect(try documentsWithHistory(mount) == ["doc.txt"])
        // The tags survived sed's and python's replacement of the file.
        let tags = try mustRun("/usr/bin/getfattr", ["--only-values", "-n", "user.xdg.tags", file])
        #expect(tags.out == "blue")
        // touch and an O_TRUNC without a write are not saves.
        try mustRun("/usr/bin/touch", [file])
        #expect(try history(mount, "doc.txt").count == 4)
    }

    @Test("rsync of a changed tree versions the changed documents only; a second rsync adds nothing")
    func rsync() throws {
        let mount = try MountedRepository("rsync")
        let source = mount.workspace.path("source")
        try FileManager.default.createDirectory(atPath: source + "/sub", withIntermediateDirectories: true)
        try "a1".write(toFile: source + "/a.txt", atomically: false, encoding: .utf8)
        try "b1".write(toFile: source + "/sub/b.txt", atomically: false, encoding: .utf8)
        try mustRun("/usr/bin/rsync", ["-a", source + "/", mount.path("tree") + "/"])
        // A different size: rsync's quick check compares sizes and whole-second mtimes.
        try "a2 longer".write(toFile: source + "/a.txt", atomically: false, encoding: .utf8)
        try mustRun("/usr/bin/rsync", ["-a", source + "/", mount.path("tree") + "/"])
        try mustRun("/usr/bin/rsync", ["-a", source + "/", mount.path("tree") + "/"])
        #expect(try history(mount, "a.txt", in: "tree") == ["a1", "a2 longer"])
        #expect(try history(mount, "b.txt", in: "tree/sub") == ["b1"])
        #expect(try documentsWithHistory(mount, in: "tree") == ["a.txt"])
        // .versions is reachable by path but invisible to listings, find and rsync.
        let found = try mustRun("/usr/bin/find", [mount.mountpoint])
        #expect(!found.out.contains(".versions"))
        let copy = mount.workspace.path("copy")
        try mustRun("/usr/bin/rsync", ["-a", mount.path("tree") + "/", copy + "/"])
        #expect(!FileManager.default.fileExists(atPath: copy + "/.versions"))
        // Restoring is a copy of an old version over the document: a new version.
        try mustRun("/bin/cp", [mount.path("tree/.versions/a.txt/a.00001.txt"), mount.path("tree/a.txt")])
        #expect(try history(mount, "a.txt", in: "tree") == ["a1", "a2 longer", "a1"])
        try mount.remount()
        #expect(try history(mount, "a.txt", in: "tree") == ["a1", "a2 longer", "a1"])
    }
}
