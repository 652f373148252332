import Foundation
import Glibc
import Testing

/// The comparisons the other tests rely on must notice what they are meant to notice.
@Suite("Test helpers", .enabled(if: runningAsRoot, "the odd tree gives files to uid 1234"))
struct HelperSelfTests {
    @Test("the tree comparison sees a changed mode, owner, nanosecond, xattr, link target and split hard link")
    func comparisonNoticesChanges() throws {
        let ws = try Workspace("selftest")
        defer { ws.cleanup() }
        let source = ws.path("src"), copy = ws.path("copy")
        try buildOddTree(at: source)
        let cp = try run("/usr/bin/cp", ["-a", source, copy])
        try #require(cp.exitedWith0, "\(cp)")
        // cp -a keeps everything the comparison looks at.
        #expect(treeDifferences(try snapshot(source), try snapshot(copy)).isEmpty)
        #expect(try diffProblems(source, copy).isEmpty)

        let file = (copy + "/private.txt").bytes
        try checked(withCPath(file) { chmod($0, 0o640) }, "chmod", file)
        try checked(withCPath((copy + "/bin/tool").bytes) { lchown($0, 1234, 5679) }, "lchown", file)
        var st = stat()
        try checked(withCPath((copy + "/old.txt").bytes) { lstat($0, &st) }, "lstat", file)
        let times = [st.st_atim, timespec(tv_sec: st.st_mtim.tv_sec, tv_nsec: st.st_mtim.tv_nsec - 1)]
        try checked(withCPath((copy + "/old.txt").bytes) { p in times.withUnsafeBufferPointer {
            utimensat(AT_FDCWD, p, $0.baseAddress, AT_SYMLINK_NOFOLLOW)
        } }, "utimensat", file)
        var binary = try #require(try xattrs(of: (copy + "/tagged").bytes)["user.binary".bytes])
        binary[3] ^= 1
        try setXattr((copy + "/tagged").bytes, "user.binary", binary)
        unlink(copy + "/links/dangling")
        symlink("does/not/exist", copy + "/links/dangling")
        unlink(copy + "/docs/hard-b")
        let cpb = try run("/usr/bin/cp", ["-p", copy + "/links/hard-a", copy + "/docs/hard-b"])
        try #require(cpb.exitedWith0)
        try "changed".write(toFile: copy + "/script.sh", atomically: false, encoding: .utf8)

        let problems = treeDifferences(try snapshot(source), try snapshot(copy)).joined(separator: "\n")
        for expected in ["/private.txt: mode", "/bin/tool: gid", "/old.txt: mtime", "/tagged: xattrs",
                         "/links/dangling: symlink target", "hard links", "/script.sh: size"] {
            #expect(problems.contains(expected), "the comparison missed \(expected):\n\(problems)")
        }
        let diff = try diffProblems(source, copy)
        #expect(diff.contains { $0.contains("script.sh") }, "diff missed the changed content: \(diff)")
        #expect(diff.contains { $0.contains("dangling") }, "diff missed the changed link: \(diff)")
    }
}
