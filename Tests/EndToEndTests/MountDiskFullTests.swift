import Foundation
import Glibc
import Testing

@Suite("Mount: the repository's disk runs full", .serialized, .enabled(if: runningAsRoot, "mounting needs root"))
struct MountDiskFullTests {
    /// `MNT FILLER`: a save that does not fit must fail with ENOSPC; once the filler is gone,
    /// saves work again. Prints what it saw; exits 1 on a wrong outcome.
    static let script = """
        import errno, os, sys
        mnt, filler = sys.argv[1], sys.argv[2]
        def outcome(action):
            try:
                action()
                return "ok"
            except OSError as error:
                return errno.errorcode.get(error.errno, str(error.errno))
        big = os.open(os.path.join(mnt, "big"), os.O_CREAT | os.O_WRONLY, 0o644)
        os.write(big, os.urandom(8 << 20))
        synced = outcome(lambda: os.fsync(big))
        print("fsync of a file that does not fit:", synced)
        os.unlink(filler)
        for name, size in (("small", 13), ("after", 1 << 20)):
            with open(os.path.join(mnt, name), "wb") as f:
                f.write(os.urandom(size))
                f.flush()
                os.fsync(f.fileno())
        os.ftruncate(big, 0)
        closed = outcome(lambda: os.close(big))
        print("close after truncating it:", closed)
        sys.exit(0 if synced == "ENOSPC" and closed == "ok" else 1)
        """

    /// Fills the repository's disk with a file until `bytes` are left; returns the file's path.
    func fill(_ mount: MountedRepository, leaving bytes: Int) throws -> String {
        let filler = mount.workspace.path("disk/filler")
        var disk = statvfs()
        try #require(statvfs(mount.workspace.path("disk"), &disk) == 0)
        let free = Int(disk.f_bavail) * Int(disk.f_frsize)
        try Data(count: max(0, free - bytes)).write(to: URL(fileURLWithPath: filler))
        return filler
    }

    @Test("a full disk: fsync fails with ENOSPC; after space is freed, later saves are intact and check --read-data passes")
    func diskFull() throws {
        let mount = try MountedRepository("disk-full", diskSize: "16m")
        let filler = try fill(mount, leaving: 4 << 20)
        let script = try writeScript(Self.script, named: "full.py", in: mount.workspace.root)
        let result = try run("/usr/bin/python3", [script, mount.mountpoint, filler])
        #expect(result.exitedWith0, "\(result)")
        let small = try Data(contentsOf: URL(fileURLWithPath: mount.path("small")))
        let after = try Data(contentsOf: URL(fileURLWithPath: mount.path("after")))

        try mount.unmount()
        let check = try mount.workspace.nexusfs("check", mount.repo, "--read-data")
        #expect(check.exitedWith0, "the repository is damaged after the disk ran full: \(check)")
        try mount.mount()
        #expect(try Data(contentsOf: URL(fileURLWithPath: mount.path("small"))) == small)
        #expect(try Data(contentsOf: URL(fileURLWithPath: mount.path("after"))) == after)
        #expect(try fileSize(mount.path("big")) == 0)
    }

    /// `MNT FILLER-DIR`: with the catalog's disk full, small saves; every save whose close returned 0
    /// must read back as written, before and after space is freed, and nothing may fail but with ENOSPC.
    static let catalogScript = """
        import errno, os, sys
        mnt, disk = sys.argv[1], sys.argv[2]
        def fill():
            fd = os.open(os.path.join(disk, "filler"), os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
            for block in (1 << 20, 4096, 512, 1):
                while True:
                    try: os.write(fd, b"\\0" * block)
                    except OSError as e:
                        if e.errno != errno.ENOSPC: raise
                        break
            os.close(fd)
        saved, failures = {}, []
        for i in range(120):
            if i == 20: fill()
            name, data = os.path.join(mnt, "s%03d" % i), (b"save %d " % i) * (i * 7 + 1)
            try:
                with open(name, "wb") as f:
                    f.write(data)
                    if i % 10 == 9: f.flush(); os.fsync(f.fileno())
                saved[name] = data
            except OSError as e:
                failures.append(e.errno)
        bad = [errno.errorcode.get(e, e) for e in failures if e != errno.ENOSPC]
        def lost():
            out = []
            for name, data in saved.items():
                try:
                    with open(name, "rb") as f:
                        if f.read() != data: out.append(name + " has other bytes")
                except OSError as e:
                    out.append("%s: %s" % (name, os.strerror(e.errno)))
            return out
        full = lost()
        os.unlink(os.path.join(disk, "filler"))
        with open(os.path.join(mnt, "after"), "wb") as f:
            f.write(b"after"); f.flush(); os.fsync(f.fileno())
        freed = lost()
        print("saved", len(saved), "failed", len(failures), "not ENOSPC", bad, "lost while full", full[:5], "lost after", freed[:5])
        sys.exit(0 if not bad and not full and not freed and failures else 1)
        """

    @Test("a full state directory: saves whose close returned 0 stay, on the mount and after a remount; other saves get ENOSPC")
    func catalogDiskFull() throws {
        let mount = try MountedRepository("catalog-full", stateDiskSize: "8m")
        let script = try writeScript(Self.catalogScript, named: "catalog-full.py", in: mount.workspace.root)
        let result = try run("/usr/bin/python3", [script, mount.mountpoint, mount.workspace.state])
        #expect(result.exitedWith0, "\(result)")
        let names = try FileManager.default.contentsOfDirectory(atPath: mount.mountpoint).filter { $0.hasPrefix("s") }.sorted()
        let contents = try names.map { try Data(contentsOf: URL(fileURLWithPath: mount.path($0))) }
        try mount.remount()
        let again = try FileManager.default.contentsOfDirectory(atPath: mount.mountpoint).filter { $0.hasPrefix("s") }.sorted()
        #expect(again == names)
        #expect(try again.map { try Data(contentsOf: URL(fileURLWithPath: mount.path($0))) } == contents)
        try mount.unmount()
        let check = try mount.workspace.nexusfs("check", mount.repo, "--read-data")
        #expect(check.exitedWith0, "\(check)")
    }

    @Test("umount of a mount whose last saves do not fit exits 1 and says so; the next mount reuses the repository")
    func unmountReportsUnsavedChanges() throws {
        let mount = try MountedRepository("disk-full-umount", diskSize: "16m")
        let filler = try fill(mount, leaving: 3 << 20)
        // Written and left open until the unmount: its save is the daemon's last act.
        let script = try writeScript("""
            import os, sys
            fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY, 0o644)
            os.write(fd, os.urandom(8 << 20))
            os.close(fd)
            """, named: "unsaved.py", in: mount.workspace.root)
        let written = try run("/usr/bin/python3", [script, mount.path("big")])
        // The close may already report ENOSPC (its data did not fit a pack); if it did not, the
        // commit that failed after it must be reported by umount.
        let unmount = try mount.workspace.nexusfs("umount", mount.mountpoint)
        if unmount.exitedWith0 {
            // The close's save failed and was reported to the program; nothing was left to lose at unmount.
            #expect(!written.exitedWith0, "neither the close nor umount reported the save that did not fit: \(written)")
        } else {
            #expect(unmount.status == 1)
            #expect(unmount.err.contains("no space left"), "\(unmount)")
            #expect(!MountedRepository.isFUSEMount(mount.mountpoint))
        }
        try FileManager.default.removeItem(atPath: filler)
        try mount.mount()
        try mount.unmount()
        let check = try mount.workspace.nexusfs("check", mount.repo)
        #expect(check.exitedWith0, "\(check)")
    }
}
