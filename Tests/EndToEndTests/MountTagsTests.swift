import Foundation
import Glibc
import Testing

/// `/.tags/TAG/` (issue 12, saved queries as folders): what `setfattr -n user.xdg.tags` tagged, as
/// symlinks to where the documents are, filtered by what the caller may read.
@Suite("Mount: /.tags", .serialized, .enabled(if: runningAsRoot, "mounting needs root"))
struct MountTagsTests {
    @Test("/.tags/contract/ lists what setfattr tagged as links to it, follows renames and untagging, and shows another user only what they may read")
    func tagsAsFolders() throws {
        let users = try TestUsers.require()
        let mount = try MountedRepository("tags", options: ["commit=1", "allow_other"])
        try mount.workspace.openToTestUsers()
        try #require(chmod(mount.mountpoint, 0o755) == 0)
        let fm = FileManager.default
        for folder in ["legal", "hr"] { try fm.createDirectory(atPath: mount.path(folder), withIntermediateDirectories: false) }
        try "acme legal\n".write(toFile: mount.path("legal/acme.txt"), atomically: false, encoding: .utf8)
        try "acme hr\n".write(toFile: mount.path("hr/acme.txt"), atomically: false, encoding: .utf8)
        try "untagged\n".write(toFile: mount.path("legal/other.txt"), atomically: false, encoding: .utf8)
        try mustRun("/usr/bin/setfattr", ["-n", "user.xdg.tags", "-v", "contract, 2027", mount.path("legal/acme.txt")])
        try mustRun("/usr/bin/setfattr", ["-n", "user.xdg.tags", "-v", "contract", mount.path("hr/acme.txt")])

        #expect(!(try fm.contentsOfDirectory(atPath: mount.mountpoint)).contains(".tags"))
        #expect(try fm.contentsOfDirectory(atPath: mount.path(".tags")).sorted() == ["2027", "contract"])
        let contract = mount.path(".tags/contract")
        #expect(try fm.contentsOfDirectory(atPath: contract).sorted() == ["acme.txt", "acme.txt (2)"])
        #expect(try fm.destinationOfSymbolicLink(atPath: contract + "/acme.txt") == "../../hr/acme.txt")
        #expect(try String(contentsOfFile: contract + "/acme.txt (2)", encoding: .utf8) == "acme legal\n")
        let found = try mustRun("/usr/bin/find", ["-L", mount.path(".tags/2027"), "-type", "f"])
        #expect(found.out == mount.path(".tags/2027/acme.txt") + "\n", "\(found)")

        // A rename moves the link's target; untagging takes the document out.
        try fm.moveItem(atPath: mount.path("legal/acme.txt"), toPath: mount.path("legal/acme-signed.txt"))
        #expect(try fm.destinationOfSymbolicLink(atPath: mount.path(".tags/2027/acme-signed.txt")) == "../../legal/acme-signed.txt")
        try mustRun("/usr/bin/setfattr", ["-x", "user.xdg.tags", mount.path("hr/acme.txt")])
        #expect(try fm.contentsOfDirectory(atPath: contract).sorted() == ["acme-signed.txt"])

        // bob cannot enter hr/: its tagged document is not listed to him, legal's is.
        try mustRun("/usr/bin/setfattr", ["-n", "user.xdg.tags", "-v", "contract", mount.path("hr/acme.txt")])
        try #require(chmod(mount.path("hr"), 0o700) == 0)
        let asBob = try runAs(users.bob, "/bin/ls", [contract])
        #expect(asBob.out == "acme-signed.txt\n", "\(asBob)")
        let asRoot = try fm.contentsOfDirectory(atPath: contract).sorted()
        #expect(asRoot == ["acme-signed.txt", "acme.txt"], "\(asRoot)")
        // The view is read-only.
        let made = try run("/bin/sh", ["-c", "echo x > '\(contract)/new.txt'"])
        #expect(!made.exitedWith0, "\(made)")
    }
}
