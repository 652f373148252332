import Foundation
import Glibc
import Testing

/// `mount -t fuse.nexusfs` and fstab lines reach nexusfs through mount.fuse3, which runs
/// `nexusfs REPO MOUNTPOINT -o OPTIONS` from the fixed PATH mount(8) gives helpers.
@Suite("mount(8) and fstab", .serialized)
struct MountHelperTests {
    static let installed = "/usr/local/bin/nexusfs"

    /// Puts the built nexusfs where mount(8)'s helpers look, for the duration of `body`.
    func withInstalledBinary(_ body: () throws -> Void) throws {
        guard getuid() == 0 else { return }
        var st = stat()
        if lstat(Self.installed, &st) == 0 {
            // A real installation is not ours to replace.
            try #require(st.st_mode & S_IFMT == S_IFLNK, "\(Self.installed) exists and is not a test link")
            unlink(Self.installed)
        }
        let binary = try #require(Nexusfs.executable, "nexusfs was not built")
        try #require(symlink(binary, Self.installed) == 0, "cannot link \(Self.installed)")
        defer { unlink(Self.installed) }
        try body()
    }

    @Test("mount -t fuse.nexusfs and an fstab line mount the repository; umount saves everything")
    func mountHelper() throws {
        try withInstalledBinary {
            let workspace = try Workspace("mount-helper")
            defer { workspace.cleanup() }
            try workspace.succeed("init", workspace.repo)
            let passwordFile = workspace.path("passphrase")
            try (workspace.password + "\n").write(toFile: passwordFile, atomically: false, encoding: .utf8)
            let mountpoint = workspace.path("mnt")
            try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
            defer { _ = try? run("/bin/fusermount3", ["-u", "-z", mountpoint]) }
            let options = "password_file=\(passwordFile),state_dir=\(workspace.state),commit=1"

            try mustRun("/bin/mount", ["-t", "fuse.nexusfs", workspace.repo, mountpoint, "-o", options])
            #expect(MountedRepository.isFUSEMount(mountpoint))
            try "through mount(8)\n".write(toFile: mountpoint + "/a.txt", atomically: false, encoding: .utf8)
            try workspace.succeed("umount", mountpoint)
            #expect(!MountedRepository.isFUSEMount(mountpoint))

            // The same through an fstab line (mount -T reads another fstab file).
            let fstab = workspace.path("fstab")
            try "\(workspace.repo) \(mountpoint) fuse.nexusfs \(options),noauto,nofail 0 0\n"
                .write(toFile: fstab, atomically: false, encoding: .utf8)
            try mustRun("/bin/mount", ["-T", fstab, mountpoint])
            #expect(try String(contentsOfFile: mountpoint + "/a.txt", encoding: .utf8) == "through mount(8)\n")
            try workspace.succeed("umount", mountpoint)
            #expect(!MountedRepository.isFUSEMount(mountpoint))
        }
    }
}
