import Foundation
import Glibc
import Testing

@Suite("Mount: POSIX semantics from a program", .serialized, .enabled(if: runningAsRoot, "mounting needs root"))
struct MountPosixTests {
    @Test("python3: O_APPEND, O_EXCL, sparse and >4 GiB files, truncate, fallocate, rename flags, unlinked open files, FIFOs, links, times, locks, xattrs, long names, mmap; all kept across a remount")
    func posixSemantics() throws {
        let mount = try MountedRepository("posix")
        let script = try writeScript(Self.script, named: "posix.py", in: mount.workspace.root)
        let folder = mount.path("posix")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let acted = try run("/usr/bin/python3", [script, "act", folder], timeoutSeconds: 240)
        #expect(acted.exitedWith0, "\(acted.out.split(separator: "\n").filter { !$0.hasPrefix("ok") }.joined(separator: "\n"))\n\(acted.err)")
        try mount.remount()
        let verified = try run("/usr/bin/python3", [script, "verify", folder], timeoutSeconds: 240)
        #expect(verified.exitedWith0, "after a remount:\n\(verified.out.split(separator: "\n").filter { !$0.hasPrefix("ok") }.joined(separator: "\n"))\n\(verified.err)")
    }

    /// Files in the huge folder: creating one costs about 0.6 ms on a debug build, so a debug
    /// build creates half as many to stay within a minute.
    #if DEBUG
    static let hugeFolderCount = 50_000
    #else
    static let hugeFolderCount = 100_000
    #endif

    @Test("a folder of 100,000 files (50,000 on a debug build): created in a loop, listed completely by listdir, ls and find, also after a remount")
    func hugeFolder() throws {
        let count = Self.hugeFolderCount
        let mount = try MountedRepository("huge-folder")
        let script = try writeScript(Self.hugeFolderScript, named: "huge.py", in: mount.workspace.root)
        let folder = mount.path("huge")
        let created = try run("/usr/bin/python3", [script, "create", folder, String(count)], timeoutSeconds: 240)
        #expect(created.exitedWith0, "\(created)")
        print("huge folder: \(created.out.trimmingCharacters(in: .whitespacesAndNewlines))")
        func expectListed() throws {
            let listed = try run("/usr/bin/python3", [script, "list", folder, String(count)], timeoutSeconds: 240)
            #expect(listed.exitedWith0, "\(listed)")
            print("huge folder: \(listed.out.trimmingCharacters(in: .whitespacesAndNewlines))")
            let ls = try mustRun("/bin/sh", ["-c", "ls -f \"$0\" | wc -l", folder])
            #expect(ls.out.trimmingCharacters(in: .whitespacesAndNewlines) == String(count + 2), "ls -f lists \(ls.out)")
            let find = try mustRun("/bin/sh", ["-c", "find \"$0\" -type f | wc -l", folder])
            #expect(find.out.trimmingCharacters(in: .whitespacesAndNewlines) == String(count), "find lists \(find.out)")
        }
        try expectListed()
        try mount.remount()
        try expectListed()
    }

    @Test("a rename over a file and an unlink while another program lists the folder: afterwards the names lead where they were moved, also for names the listing had still to reach")
    func renameDuringListing() throws {
        let mount = try MountedRepository("rename-listing")
        let script = try writeScript(Self.renameDuringListingScript, named: "listing.py", in: mount.workspace.root)
        let result = try run("/usr/bin/python3", [script, mount.path("listed")], timeoutSeconds: 240)
        #expect(result.exitedWith0, "\(result.out)\(result.err)")
    }

    /// Lists a folder of 2,000 files one entry at a time (each step also looks up the name listed,
    /// as `ls -l` does, so the kernel goes on with readdirplus); after
    /// the first entry, a new file replaces one the listing has not reached and another is deleted.
    static let renameDuringListingScript = """
        import os, sys
        folder = sys.argv[1]
        os.mkdir(folder)
        count = 2000
        for i in range(count):
            with open(os.path.join(folder, f"f{i:05d}"), "wb") as fh: fh.write(b"old %d" % i)
        failures = []
        for trial in range(4):
            new = os.path.join(folder, f"a-new-{trial}")
            with open(new, "wb") as fh: fh.write(b"new %d" % trial)
            target = os.path.join(folder, f"f{count - 1 - trial:05d}")
            deleted = os.path.join(folder, f"f{count - 100 - trial:05d}")
            # Names the kernel holds from creating them would be revalidated, not listed into its cache.
            with open("/proc/sys/vm/drop_caches", "w") as fh: fh.write("2")
            listing = os.scandir(folder)
            next(listing)
            os.replace(new, target)
            os.unlink(deleted)
            for entry in listing:
                try:
                    os.stat(os.path.join(folder, entry.name), follow_symlinks=False)
                except FileNotFoundError:
                    pass                          # listed before its unlink: POSIX allows either
            listing.close()
            with open(target, "rb") as fh: got = fh.read()
            if got != b"new %d" % trial:
                failures.append(f"trial {trial}: {target} reads {got!r}, not the file renamed over it")
            if os.path.exists(deleted):
                failures.append(f"trial {trial}: {deleted} is still there after its unlink")
            os.stat(folder)
            if os.path.basename(deleted) in os.listdir(folder):
                failures.append(f"trial {trial}: a new listing still has {deleted}")
        for f in failures: print(f)
        sys.exit(1 if failures else 0)
        """

    /// `create DIR N`: N empty files, as fast as open/close goes; `list DIR N`: listdir finds exactly them.
    static let hugeFolderScript = """
        import os, sys, time
        mode, folder, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
        names = {f"entry-{i:06d}" for i in range(count)}
        started = time.time()
        if mode == "create":
            os.mkdir(folder)
            for name in sorted(names):
                os.close(os.open(os.path.join(folder, name), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            print(f"created {count} files in {time.time() - started:.1f} s")
            sys.exit(0)
        listed = os.listdir(folder)
        seconds = time.time() - started
        missing, extra = names - set(listed), set(listed) - names
        print(f"listed {len(listed)} names in {seconds:.1f} s; {len(missing)} missing, {len(extra)} extra, {len(listed) - len(set(listed))} twice")
        sample = sorted(names)[::997]
        sizes = [os.stat(os.path.join(folder, name)).st_size for name in sample]
        sys.exit(0 if len(listed) == count and not missing and not extra and sizes == [0] * len(sample) else 1)
        """

    /// Phase `act` does everything and checks it at once; phase `verify` checks what must last, after a remount.
    static let script = #"""
        import ctypes, errno, fcntl, mmap, os, stat, subprocess, sys, time

        phase, root = sys.argv[1], sys.argv[2]
        os.chdir(root)
        libc = ctypes.CDLL(None, use_errno=True)
        failures = []

        def check(condition, what):
            print(("ok   " if condition else "FAIL ") + what, flush=True)
            if not condition:
                failures.append(what)

        def fails_with(code, action, what):
            try:
                action()
            except OSError as error:
                check(error.errno == code, f"{what}: {errno.errorcode.get(error.errno)} (want {errno.errorcode[code]})")
                return
            check(False, f"{what}: succeeded (want {errno.errorcode[code]})")

        def syscall_or_raise(result):
            if result != 0:
                code = ctypes.get_errno()
                raise OSError(code, os.strerror(code))

        def renameat2(old, new, flags):
            SYS_renameat2, AT_FDCWD = 316, -100
            syscall_or_raise(libc.syscall(SYS_renameat2, AT_FDCWD, old.encode(), AT_FDCWD, new.encode(), flags))

        def punch_hole(fd, offset, length):
            FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE = 1, 2
            libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
            syscall_or_raise(libc.fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, offset, length))

        def other_process(code):
            """Runs Python code in another process in this folder; returns its exit status."""
            return subprocess.run([sys.executable, "-c", code]).returncode

        PATTERN = bytes(range(256)) * 1024
        LONG = "L" * 255
        RAW = b"bad-\xff\xfe-name"
        BIG_XATTR = bytes((i * 7 + 3) % 256 for i in range(65536))

        def act():
            # O_APPEND from two descriptors: every write lands at the end.
            a = os.open("append", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            b = os.open("append", os.O_WRONLY | os.O_APPEND)
            for _ in range(100):
                os.write(a, b"a" * 10)
                os.write(b, b"b" * 7)
            os.close(a); os.close(b)
            data = open("append", "rb").read()
            check(len(data) == 1700 and data.count(b"a") == 1000, f"O_APPEND from two descriptors: {len(data)} bytes")
            fails_with(errno.EEXIST, lambda: os.open("append", os.O_WRONLY | os.O_CREAT | os.O_EXCL), "O_EXCL on an existing name")

            # The size is right at once, for another process too, while the writer still has the file open.
            fd = os.open("growing", os.O_WRONLY | os.O_CREAT, 0o644)
            os.write(fd, b"x" * 1000)
            check(other_process("import os, sys; sys.exit(0 if os.stat('growing').st_size == 1000 else 1)") == 0,
                  "another process sees the new size before close")
            os.write(fd, b"y" * 24)
            check(os.stat("growing").st_size == 1024, "stat after a second write")
            os.close(fd)

            # Sparse files: a write far past the end leaves a hole that reads as zeros and takes no space.
            fd = os.open("sparse", os.O_RDWR | os.O_CREAT, 0o644)
            os.pwrite(fd, b"end", 100 << 20)
            os.close(fd)
            st = os.stat("sparse")
            check(st.st_size == (100 << 20) + 3 and st.st_blocks * 512 < (1 << 20), f"sparse: size {st.st_size}, {st.st_blocks} blocks")
            with open("sparse", "rb") as f:
                f.seek(50 << 20)
                check(f.read(1 << 20) == bytes(1 << 20), "a hole reads as zeros")

            # Over 4 GiB: one byte at 5 GiB.
            fd = os.open("big", os.O_RDWR | os.O_CREAT, 0o644)
            os.pwrite(fd, b"X", 5 << 30)
            os.fsync(fd)
            os.close(fd)
            check(os.stat("big").st_size == (5 << 30) + 1, f"5 GiB file: size {os.stat('big').st_size}")
            fd = os.open("toolarge", os.O_RDWR | os.O_CREAT, 0o644)
            fails_with(errno.EFBIG, lambda: os.pwrite(fd, b"x", 1 << 51), "a write at 2 PiB")
            fails_with(errno.EFBIG, lambda: os.ftruncate(fd, 1 << 51), "ftruncate to 2 PiB")
            fails_with(errno.EFBIG, lambda: os.posix_fallocate(fd, 0, 1 << 51), "fallocate of 2 PiB")
            check(os.fstat(fd).st_size == 0, "the refused growths left the file empty")
            os.close(fd)

            # ftruncate down and up; fallocate grows; a punched hole reads as zeros.
            fd = os.open("trunc", os.O_RDWR | os.O_CREAT, 0o644)
            os.write(fd, PATTERN)
            os.ftruncate(fd, 1000)
            check(os.fstat(fd).st_size == 1000 and os.stat("trunc").st_size == 1000, "ftruncate down: fstat and stat")
            os.ftruncate(fd, 300000)
            check(os.pread(fd, 300000, 0) == PATTERN[:1000] + bytes(299000), "ftruncate up reads zeros past the old end")
            os.close(fd)
            fd = os.open("falloc", os.O_RDWR | os.O_CREAT, 0o644)
            os.write(fd, PATTERN)
            os.posix_fallocate(fd, 0, 1 << 20)
            check(os.fstat(fd).st_size == 1 << 20, "posix_fallocate grows the file")
            punch_hole(fd, 4096, 8192)
            check(os.fstat(fd).st_size == 1 << 20 and os.pread(fd, 16384, 0) == PATTERN[:4096] + bytes(8192) + PATTERN[12288:16384],
                  "a punched hole reads as zeros, the size stays")
            os.close(fd)

            # rename replaces atomically; the old name is gone at once; the replaced file stays readable.
            open("r1", "w").write("one")
            open("r2", "w").write("two")
            fd = os.open("r2", os.O_RDONLY)
            os.rename("r1", "r2")
            check(open("r2").read() == "one" and not os.path.exists("r1"), "rename replaces the target, the old name is gone")
            check(os.read(fd, 10) == b"two", "the replaced file stays readable through an open descriptor")
            os.close(fd)
            os.mkdir("dirA"); os.mkdir("dirB"); open("dirA/inside", "w").write("x")
            os.rename("dirA", "dirB")
            check(os.path.exists("dirB/inside") and not os.path.exists("dirA"), "rename of a folder over an empty folder")
            os.mkdir("dirC"); open("dirC/y", "w").write("y")
            fails_with(errno.ENOTEMPTY, lambda: os.rename("dirB", "dirC"), "rename over a folder that is not empty")
            fails_with(errno.EINVAL, lambda: os.rename("dirC", "dirC/sub"), "rename of a folder into itself")
            open("n1", "w").write("n1"); open("n2", "w").write("n2")
            fails_with(errno.EEXIST, lambda: renameat2("n1", "n2", 1), "RENAME_NOREPLACE onto an existing name")
            renameat2("n1", "n2", 2)
            check(open("n1").read() == "n2" and open("n2").read() == "n1", "RENAME_EXCHANGE swaps the two files")
            renameat2("n1", "n3", 1)
            check(open("n3").read() == "n2" and not os.path.exists("n1"), "RENAME_NOREPLACE onto a free name")
            os.mkdir("exdir"); open("exdir/e", "w").write("e")
            renameat2("exdir", "n3", 2)
            check(os.path.isdir("n3") and open("exdir").read() == "n2", "RENAME_EXCHANGE of a folder and a file")

            # An unlinked open file stays readable and writable; fchmod and fsync work on it.
            fd = os.open("gone", os.O_RDWR | os.O_CREAT, 0o644)
            os.write(fd, b"still here")
            os.unlink("gone")
            check(not os.path.exists("gone"), "the unlinked name is gone")
            os.pwrite(fd, b"STILL", 0)
            check(os.pread(fd, 100, 0) == b"STILL here", "the unlinked open file is readable and writable")
            os.fchmod(fd, 0o600)
            check(stat.S_IMODE(os.fstat(fd).st_mode) == 0o600 and os.fstat(fd).st_nlink == 0, "fchmod of an unlinked file; nlink 0")
            os.fsync(fd)
            os.close(fd)
            check(not [n for n in os.listdir(".") if n.startswith(".fuse_hidden")], "no .fuse_hidden files")

            # FIFO, symlink, hard links.
            os.mkfifo("fifo")
            pid = os.fork()
            if pid == 0:
                with open("fifo", "wb") as f:
                    f.write(b"through the fifo")
                os._exit(0)
            with open("fifo", "rb") as f:
                got = f.read()
            os.waitpid(pid, 0)
            check(stat.S_ISFIFO(os.lstat("fifo").st_mode) and got == b"through the fifo", "a FIFO carries data between processes")
            os.symlink("target/../x", "link")
            check(os.readlink("link") == "target/../x" and stat.S_ISLNK(os.lstat("link").st_mode), "symlink and readlink")
            open("h1", "w").write("hard")
            os.link("h1", "h2")
            check(os.stat("h1").st_ino == os.stat("h2").st_ino and os.stat("h1").st_nlink == 2, "a hard link: same inode, nlink 2")
            one, two = os.open("h1", os.O_RDWR), os.open("h2", os.O_RDONLY)
            os.pwrite(one, b"HARD", 0)
            check(os.pread(two, 10, 0) == b"HARD", "a write through one name is seen through the other at once")
            os.close(one); os.close(two)

            # Times to the nanosecond, before 1970 too.
            open("times", "w").write("t")
            os.utime("times", ns=(1_234_567_890_123_456_789, 1_000_000_001_999_999_999))
            st = os.stat("times")
            check((st.st_atime_ns, st.st_mtime_ns) == (1_234_567_890_123_456_789, 1_000_000_001_999_999_999), "utime with nanoseconds")
            open("old", "w").write("o")
            os.utime("old", ns=(-1_000_000_000_500_000_000, -86_400_000_000_001))
            st = os.stat("old")
            check((st.st_atime_ns, st.st_mtime_ns) == (-1_000_000_000_500_000_000, -86_400_000_000_001), f"times before 1970: {st.st_mtime_ns}")

            # statvfs, fsync, fdatasync, fsync of a folder.
            sv = os.statvfs(".")
            check(sv.f_blocks > 0 and 0 < sv.f_bavail <= sv.f_blocks and sv.f_namemax == 255 and sv.f_files > 0, f"statvfs: {sv}")
            fd = os.open("synced", os.O_RDWR | os.O_CREAT, 0o644)
            os.write(fd, b"x"); os.fsync(fd); os.fdatasync(fd); os.close(fd)
            fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY); os.fsync(fd); os.close(fd)
            check(True, "fsync, fdatasync and fsync of a folder succeed")

            # flock and POSIX locks: another process is refused while they are held.
            open("lock", "w").write("l")
            fd = os.open("lock", os.O_RDWR)
            fcntl.flock(fd, fcntl.LOCK_EX)
            probe = "import fcntl, os, sys\nfd = os.open('lock', os.O_RDWR)\ntry:\n    {}\nexcept OSError as e:\n    sys.exit(11 if e.errno in (11, 13) else 1)\nsys.exit(0)"
            check(other_process(probe.format("fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)")) == 11, "flock: another process gets EWOULDBLOCK")
            fcntl.flock(fd, fcntl.LOCK_UN)
            check(other_process(probe.format("fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)")) == 0, "flock released: another process gets it")
            fcntl.lockf(fd, fcntl.LOCK_EX, 10, 0)
            check(other_process(probe.format("fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)")) == 11, "fcntl lock: another process gets EAGAIN")
            check(other_process(probe.format("fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 100)")) == 0, "fcntl lock of another range succeeds")
            os.close(fd)

            # Extended attributes.
            open("xattrs", "w").write("x")
            os.setxattr("xattrs", "user.big", BIG_XATTR)
            os.setxattr("xattrs", "user.xdg.tags", b"red,blue")
            check(os.getxattr("xattrs", "user.big") == BIG_XATTR, "a 64 KiB user xattr")
            fails_with(errno.ENODATA, lambda: os.getxattr("xattrs", "user.missing"), "a missing xattr")
            fails_with(errno.EEXIST, lambda: os.setxattr("xattrs", "user.xdg.tags", b"x", os.XATTR_CREATE), "XATTR_CREATE on an existing xattr")
            fails_with(errno.ENODATA, lambda: os.setxattr("xattrs", "user.nope", b"x", os.XATTR_REPLACE), "XATTR_REPLACE on a missing xattr")
            os.setxattr("xattrs", "user.gone", b"soon")
            os.removexattr("xattrs", "user.gone")
            check(sorted(os.listxattr("xattrs")) == ["user.big", "user.xdg.tags"], f"listxattr: {os.listxattr('xattrs')}")
            fails_with(errno.ENODATA, lambda: os.removexattr("xattrs", "user.gone"), "removing a removed xattr")

            # Names: 255 bytes, 256 bytes, not UTF-8.
            open(LONG, "w").write("long")
            check(open(LONG).read() == "long" and LONG in os.listdir("."), "a 255-byte name")
            fails_with(errno.ENAMETOOLONG, lambda: open("L" * 256, "w"), "a 256-byte name")
            with open(RAW, "wb") as f:
                f.write(b"raw")
            check(RAW in os.listdir(b".") and open(RAW, "rb").read() == b"raw", "a name that is not UTF-8")

            # A shared mapping: its writes are seen by read(), before and after munmap.
            fd = os.open("mapped", os.O_RDWR | os.O_CREAT, 0o644)
            os.ftruncate(fd, 3 * 4096)
            m = mmap.mmap(fd, 3 * 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            m[100:105] = b"MMAPD"
            m[2 * 4096:2 * 4096 + 4] = b"PAGE"
            m.flush()
            check(os.pread(fd, 5, 100) == b"MMAPD", "a shared mapping's write is seen by read()")
            m.close(); os.close(fd)
            data = open("mapped", "rb").read()
            check(data[100:105] == b"MMAPD" and data[8192:8196] == b"PAGE" and len(data) == 3 * 4096, "mapped writes after close")

            # A folder listed while it changes: every entry there all along is listed exactly once.
            os.mkdir("churn")
            for i in range(600):
                open(f"churn/old{i:04d}", "w").close()
            seen = []
            with os.scandir("churn") as it:
                for n, entry in enumerate(it):
                    seen.append(entry.name)
                    if n % 3 == 0:
                        open(f"churn/new{n:04d}", "w").close()
                    if n % 5 == 0 and entry.name.startswith("old"):
                        os.unlink("churn/" + entry.name)
            old = [name for name in seen if name.startswith("old")]
            check(len(old) == len(set(old)) == 600, f"listing a changing folder: {len(old)} old names, {len(set(old))} distinct")

        def verify():
            data = open("append", "rb").read()
            check(len(data) == 1700 and data.count(b"b") == 700, "O_APPEND file after remount")
            st = os.stat("sparse")
            check(st.st_size == (100 << 20) + 3 and st.st_blocks * 512 < (1 << 20), f"sparse after remount: {st.st_blocks} blocks")
            with open("sparse", "rb") as f:
                f.seek((100 << 20) - 5)
                check(f.read() == bytes(5) + b"end", "sparse file's end after remount")
            fd = os.open("big", os.O_RDONLY)
            check(os.fstat(fd).st_size == (5 << 30) + 1 and os.pread(fd, 4, (5 << 30) - 3) == b"\0\0\0X", "the byte at 5 GiB after remount")
            check(os.pread(fd, 1 << 16, (4 << 30) - 100) == bytes(1 << 16), "zeros across 4 GiB after remount")
            os.close(fd)
            check(open("trunc", "rb").read() == PATTERN[:1000] + bytes(299000), "truncated file after remount")
            check(open("falloc", "rb").read(16384) == PATTERN[:4096] + bytes(8192) + PATTERN[12288:16384], "punched file after remount")
            check(open("r2").read() == "one" and not os.path.exists("r1"), "renamed file after remount")
            check(open("exdir").read() == "n2" and os.path.isdir("n3"), "exchanged names after remount")
            check(not os.path.exists("gone") and not [n for n in os.listdir(".") if n.startswith(".fuse_hidden")], "the unlinked file stays gone")
            check(stat.S_ISFIFO(os.lstat("fifo").st_mode) and os.readlink("link") == "target/../x", "FIFO and symlink after remount")
            check(os.stat("h1").st_ino == os.stat("h2").st_ino and os.stat("h2").st_nlink == 2 and open("h2").read() == "HARD", "hard link after remount")
            st = os.stat("times")
            check((st.st_atime_ns, st.st_mtime_ns) == (1_234_567_890_123_456_789, 1_000_000_001_999_999_999), "nanosecond times after remount")
            check(os.stat("old").st_mtime_ns == -86_400_000_000_001, "time before 1970 after remount")
            check(os.getxattr("xattrs", "user.big") == BIG_XATTR and sorted(os.listxattr("xattrs")) == ["user.big", "user.xdg.tags"], "xattrs after remount")
            check(open(LONG).read() == "long" and open(RAW, "rb").read() == b"raw", "long and raw names after remount")
            data = open("mapped", "rb").read()
            check(data[100:105] == b"MMAPD" and data[8192:8196] == b"PAGE", "mapped writes after remount")
            check(stat.S_IMODE(os.stat("growing").st_mode) == 0o644 and os.stat("growing").st_size == 1024, "size after remount")

        {"act": act, "verify": verify}[phase]()
        print(f"{len(failures)} failures")
        sys.exit(1 if failures else 0)
        """#
}
