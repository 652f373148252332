import FUSELowLevel
import CLinux
import Glibc
import Testing

extension FUSELowLevelTests {
    /// A thrown errno arrives as that errno; anything else as EIO.
    @Suite struct ErrorTests {
        @Test func thrownErrnosReachTheCaller() throws {
            let mount = try TestMount(MemoryFileSystem())
            defer { mount.tearDown() }
            #expect(Syscalls.attributes(mount.path("missing")).errno == ENOENT)
            #expect(Syscalls.errnoOf { mkdir(mount.path("dir"), 0o755) } == 0)
            #expect(Syscalls.errnoOf { mkdir(mount.path("dir"), 0o755) } == EEXIST)
            #expect(Syscalls.errnoOf { unlink(mount.path("dir")) } == EISDIR)
            #expect(Syscalls.errnoOf { mkdir(mount.path("dir/sub"), 0o755) } == 0)
            #expect(Syscalls.errnoOf { rmdir(mount.path("dir")) } == ENOTEMPTY)
            #expect(Syscalls.errnoOf { mkfifo(mount.path("fifo"), 0o644) } == EPERM)
            // FUSE passes names up to 1024 bytes to lookup; the filesystem refuses more than 255.
            let longName = String(repeating: "n", count: 300)
            #expect(Syscalls.attributes(mount.path(longName)).errno == ENAMETOOLONG)
            #expect(Shell.run("/bin/cat", [mount.path("missing")]).error.contains("No such file or directory"))
        }

        @Test func otherErrorsBecomeEIO() throws {
            let mount = try TestMount(MemoryFileSystem())
            defer { mount.tearDown() }
            let name = String(decoding: MemoryFileSystem.failingName, as: UTF8.self)
            #expect(Syscalls.attributes(mount.path(name)).errno == EIO)
            #expect(Syscalls.attributes(mount.path("")).errno == 0, "the session keeps serving")
        }

        @Test func unimplementedOperationsFallBackToTheDefaults() throws {
            let mount = try TestMount(MinimalFileSystem())
            defer { mount.tearDown() }
            #expect(Syscalls.attributes(mount.path("")).st.st_mode & S_IFMT == S_IFDIR)
            #expect(Syscalls.attributes(mount.path("missing")).errno == ENOENT)
            #expect(Syscalls.errnoOf { mkdir(mount.path("d"), 0o755) } == ENOSYS)
            // The kernel turns getxattr's ENOSYS into EOPNOTSUPP and stops asking.
            #expect(getxattr(mount.mountpoint, "user.x", nil, 0) == -1 && errno == EOPNOTSUPP)
            #expect(getxattr(mount.mountpoint, "user.x", nil, 0) == -1 && errno == EOPNOTSUPP)
            // statfs answers what libfuse answers for a filesystem without one.
            var st = statvfs()
            #expect(statvfs(mount.mountpoint, &st) == 0 && st.f_namemax == 255 && st.f_bsize == 512)
            #expect(Shell.run("/usr/bin/df", [mount.mountpoint]).status == 0)
        }
    }
}
