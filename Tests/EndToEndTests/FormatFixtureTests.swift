import Foundation
import Glibc
import Testing

/// A repository written before large manifests were stored as parts (Tests/Fixtures/format-v1)
/// still recovers, checks and reads; saves into it store parts, and both forms survive a
/// second `recover` and `check --read-data`.
@Suite("Repositories of the previous format", .serialized)
struct FormatFixtureTests {
    static let fixture = packageRoot + "/Tests/Fixtures/format-v1/repo"
    static let large = "6bc8a7f8e07734cd6af26c956f76854bf577d3b266eaa81aef12821ca075a4a4"
    static let reportV1 = "7a94e8a58b998eb9e3fb755793176c47f6f989b4b5010ff5d9581a7aa3903ddc"

    func sha256(_ path: String) throws -> String {
        String(try mustRun("/usr/bin/sha256sum", [path]).out.prefix(64))
    }

    @Test("format v1: recover, check, export, then a 4 KiB save into its 40 MiB document, recover and check again")
    func fixtureOpensAndExtends() throws {
        let ws = try Workspace("format-v1")
        ws.password = "fixture"
        try mustRun("/bin/cp", ["-r", Self.fixture, ws.repo])
        #expect(try String(contentsOfFile: ws.repo + "/config", encoding: .utf8).contains("\"version\" : 1"))
        try ws.succeed("recover", ws.repo)
        try ws.succeed("check", ws.repo, "--read-data")
        // The first open raises it to format 2, before anything can be stored as parts, so that
        // an older nexusfs refuses it rather than misreading it.
        #expect(try String(contentsOfFile: ws.repo + "/config", encoding: .utf8).contains("\"version\" : 2"))
        try ws.succeed("export", ws.repo, ws.path("out"))
        #expect(try sha256(ws.path("out/team/large.bin")) == Self.large)
        #expect(try String(contentsOfFile: ws.path("out/team/report.txt"), encoding: .utf8) == "quarterly report, version two\n")
        try ws.succeed("restore", ws.repo, "/team/report.txt", "--version", "1", "--to", ws.path("report.v1"))
        #expect(try sha256(ws.path("report.v1")) == Self.reportV1)

        // A save in the middle of the large document: stored as parts from now on.
        let mountpoint = ws.path("mnt")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        try ws.succeed("mount", ws.repo, mountpoint)
        let mounted = MountGuard(ws, mountpoint)
        try mustRun("/usr/bin/python3", ["-c", """
            import os
            fd = os.open(r'\(mountpoint)/team/large.bin', os.O_WRONLY)
            os.pwrite(fd, b'x' * 4096, 20 << 20)
            os.close(fd)
            """])
        try mounted.unmount()

        try ws.succeed("check", ws.repo, "--read-data")
        let log = try ws.succeed("log", ws.repo, "/team/large.bin")
        #expect(log.out.split(separator: "\n").count == 2, "\(log.out)")
        try ws.succeed("restore", ws.repo, "/team/large.bin", "--version", "1", "--to", ws.path("large.v1"))
        #expect(try sha256(ws.path("large.v1")) == Self.large)
        let expected = try expectedEdit()
        try ws.succeed("export", ws.repo, ws.path("out2"))
        #expect(try sha256(ws.path("out2/team/large.bin")) == expected)

        // The catalog rebuilt from the packs alone holds both forms.
        try FileManager.default.removeItem(atPath: ws.state)
        try ws.succeed("recover", ws.repo)
        try ws.succeed("check", ws.repo, "--read-data")
        try ws.succeed("export", ws.repo, ws.path("out3"))
        #expect(try sha256(ws.path("out3/team/large.bin")) == expected)
    }

    /// The SHA-256 of large.bin with 4 KiB of 'x' at 20 MiB, computed from the original export.
    func expectedEdit() throws -> String {
        try mustRun("/usr/bin/python3", ["-c", """
            import hashlib, random
            block = random.Random(7).randbytes(65536)
            data = bytearray(block * 640)
            data[20 << 20:(20 << 20) + 4096] = b'x' * 4096
            print(hashlib.sha256(data).hexdigest())
            """]).out.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Unmounts a mount made by a test when the test ends, also when it fails.
final class MountGuard {
    let workspace: Workspace
    let mountpoint: String
    private var mounted = true

    init(_ workspace: Workspace, _ mountpoint: String) {
        self.workspace = workspace
        self.mountpoint = mountpoint
    }

    func unmount() throws {
        try workspace.succeed("umount", mountpoint)
        mounted = false
    }

    deinit {
        if mounted {
            _ = try? workspace.nexusfs("umount", mountpoint)
            _ = try? run("/bin/fusermount3", ["-u", "-z", mountpoint])
        }
    }
}
