import Foundation
import Glibc
import Testing

@Suite("Mount: trees copied in and out", .serialized, .enabled(if: runningAsRoot, "mounting needs root"))
struct MountTreeTests {
    @Test("cp -a of real source trees and tar -x of a tarball are identical in content, modes and mtimes, also after a remount")
    func copyAndExtract() throws {
        let mount = try MountedRepository("trees")
        let ws = mount.workspace
        // A private copy of this package's sources (others may edit the originals meanwhile),
        // the git documentation, and a few multi-chunk files.
        let stage = ws.path("stage")
        try mustRun("/bin/mkdir", ["-p", stage])
        try mustRun("/bin/cp", ["-a", packageRoot + "/Sources", stage + "/Sources"])
        if FileManager.default.fileExists(atPath: "/usr/share/doc/git") {
            try mustRun("/bin/cp", ["-a", "/usr/share/doc/git", stage + "/git-doc"])
        }
        try Data(randomBytes(9 << 20)).write(to: URL(fileURLWithPath: stage + "/random.bin"))
        try Data(compressibleText(3 << 20)).write(to: URL(fileURLWithPath: stage + "/text.txt"))
        try mustRun("/usr/bin/touch", ["-d", "1969-07-20 20:17:40.123456789", stage + "/text.txt"], environment: ["TZ": "UTC"])
        let includes = FileManager.default.fileExists(atPath: "/usr/include/linux") ? "/usr/include/linux" : "/usr/include"

        try mustRun("/bin/cp", ["-a", includes, mount.path("includes")])
        try mustRun("/bin/cp", ["-a", stage, mount.path("stage")])
        try mustRun("/usr/bin/tar", ["-cf", ws.path("tree.tar"), "-C", stage, "."])
        try mustRun("/bin/mkdir", [mount.path("extracted"), ws.path("extracted")])
        try mustRun("/usr/bin/tar", ["-xf", ws.path("tree.tar"), "-C", mount.path("extracted")])
        try mustRun("/usr/bin/tar", ["-xf", ws.path("tree.tar"), "-C", ws.path("extracted")])

        func expectAllIdentical() throws {
            try expectIdenticalTrees(includes, mount.path("includes"))
            try expectIdenticalTrees(stage, mount.path("stage"))
            try expectIdenticalTrees(ws.path("extracted"), mount.path("extracted"))
        }
        try expectAllIdentical()
        let files = try snapshot(mount.path("stage")).count
        #expect(files > 100, "only \(files) entries were copied")

        try mount.remount()
        try expectAllIdentical()
        // A file's nanoseconds and pre-1970 time, as stat(1) shows them.
        let shown = try mustRun("/usr/bin/stat", ["-c", "%y %a %s", mount.path("stage/text.txt")], environment: ["TZ": "UTC"]).out
        #expect(shown.hasPrefix("1969-07-20 20:17:40.123456789") && shown.contains(" 644 \(3 << 20)"), "stat shows \(shown)")
    }

    @Test("rsync -aHAX of hard links, symlinks, xattrs, a FIFO and odd names into the mount and back out leaves nothing to do")
    func rsyncBothWays() throws {
        let mount = try MountedRepository("rsync")
        let ws = mount.workspace
        let source = ws.path("src")
        try buildOddTree(at: source)
        // A second hard link group spanning folders, and an xattr on a symlink's folder.
        try mustRun("/bin/ln", [source + "/docs/nested/deeper/random-1MB.bin", source + "/random-again"])
        try mustRun("/usr/bin/setfattr", ["-n", "user.xdg.tags", "-v", "red,blue", source + "/links"])
        // rsync compares whole seconds unless told otherwise: a root folder changed this very second
        // would keep the time of its copy's creation.
        try mustRun("/usr/bin/touch", ["-d", "@1234567890.987654321", source])
        let copy = mount.path("copy")
        let back = ws.path("back")

        try mustRun("/usr/bin/rsync", ["-aHAX", source + "/", copy + "/"])
        try mustRun("/usr/bin/rsync", ["-aHAX", copy + "/", back + "/"])

        /// What `rsync --checksum --dry-run --itemize-changes` would still do from `a` to `b`
        /// (comparing times to the nanosecond).
        func pending(_ a: String, _ b: String) throws -> String {
            try mustRun("/usr/bin/rsync", ["-aHAX", "--checksum", "--modify-window=-1", "--dry-run", "--itemize-changes", a + "/", b + "/"]).out
        }
        func expectInSync() throws {
            for (a, b) in [(source, copy), (copy, source), (copy, back), (back, copy)] {
                let left = try pending(a, b)
                #expect(left.isEmpty, "rsync \(a)/ -> \(b)/ still has work:\n\(left.prefix(3000))")
            }
            try expectIdenticalTrees(source, copy)
            try expectIdenticalTrees(source, back)
            let xattrs = (try getfattrDump(source), try getfattrDump(copy))
            #expect(xattrs.0 == xattrs.1, "getfattr differs: \(xattrs.0.subtracting(xattrs.1)) vs \(xattrs.1.subtracting(xattrs.0))")
        }
        try expectInSync()
        let tree = try snapshot(copy)
        #expect(tree["random-again".bytes]?.inode == tree["docs/nested/deeper/random-1MB.bin".bytes]?.inode,
                "the hard link pair became two files")

        // A second rsync of the unchanged tree saves nothing: no new versions.
        try mount.unmount()
        let versions = try mount.workspace.stats().versions
        try mount.mount()
        try expectInSync()
        try mustRun("/usr/bin/rsync", ["-aHAX", source + "/", copy + "/"])
        try mount.unmount()
        #expect(try mount.workspace.stats().versions == versions, "a second rsync of an unchanged tree added versions")
        try mount.mount()
        try expectInSync()
    }
}
