"""The mount side of the hostile-input drill (bench/drills/hostile.sh): each case prints `ok NAME` or
`FAIL NAME: why`; the shell counts them. Expectations are ext4's (a reference folder on an ext4 or other
local disk is driven the same way) or a limit docs/permissions.md writes down.
    python3 hostile.py SECTION MOUNT REFERENCE DAEMON-PID [QUICK]
SECTION: names, paths, xattrs, fuzz, acl. After every case the daemon must be alive and serving: the
mount root stats and a known file reads back with its content."""
import ctypes, errno, hashlib, os, random, stat, struct, sys, time

libc = ctypes.CDLL("libc.so.6", use_errno=True)
KNOWN = b"known.txt"
KNOWN_DATA = b"the hostile drill's canary\n" * 100
MIB = 1 << 20
results = {"ok": 0, "fail": 0}


def report(name, problem=None):
    if problem is None:
        results["ok"] += 1
        print("ok", name, flush=True)
    else:
        results["fail"] += 1
        print("FAIL %s: %s" % (name, problem), flush=True)


def outcome(fn, *args, **kwargs):
    """'ok' (with the result) or the errno's name."""
    try:
        return "ok", fn(*args, **kwargs)
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno)), None


def code(fn, *args, **kwargs):
    return outcome(fn, *args, **kwargs)[0]


def show(name):
    return repr(name if len(name) <= 40 else name[:20] + b"..." + name[-12:]) + " (%d bytes)" % len(name)


class Mount:
    def __init__(self, root, pid):
        self.root, self.pid = root.encode(), int(pid)
        self.rss_peak = 0

    def rss(self):
        """The daemon's resident set in KiB."""
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    kib = int(line.split()[1])
                    self.rss_peak = max(self.rss_peak, kib)
                    return kib
        return 0

    def alive(self):
        """None when the daemon is alive and serving, else what is wrong."""
        try:
            os.kill(self.pid, 0)
        except OSError:
            return "the daemon (pid %d) is gone" % self.pid
        try:
            os.stat(self.root)
            with open(os.path.join(self.root, KNOWN), "rb") as f:
                if f.read() != KNOWN_DATA:
                    return "the known file reads back wrong"
        except OSError as e:
            return "the mount does not serve: %s" % e
        self.rss()
        return None


M = None


def case(name, problem):
    """Reports a case, with the daemon's health checked after it; a dead daemon ends the section."""
    dead = M.alive()
    if dead:
        report(name, (problem + "; " if problem else "") + dead)
        print("the daemon is not serving any more: the section stops", flush=True)
        finish()
    report(name, problem)


def finish():
    print("section: %d passed, %d failed; daemon VmRSS peak %d KiB" % (results["ok"], results["fail"], M.rss_peak), flush=True)
    sys.exit(1 if results["fail"] else 0)


def fresh(base, name):
    path = os.path.join(base, name)
    if os.path.lexists(path):
        rmtree(path)
    os.mkdir(path)
    return path


def rmtree(path):
    """rm -rf with file descriptors, so that trees deeper than PATH_MAX go too."""
    def clear(dfd):
        for name in os.listdir(dfd):
            st = os.lstat(name, dir_fd=dfd)
            if stat.S_ISDIR(st.st_mode):
                sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dfd)
                try:
                    clear(sub)
                finally:
                    os.close(sub)
                os.rmdir(name, dir_fd=dfd)
            else:
                os.unlink(name, dir_fd=dfd)
    sys.setrecursionlimit(20000)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        clear(fd)
    finally:
        os.close(fd)
    os.rmdir(path)


def write(path, data, dir_fd=None):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=dir_fd)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read(path, dir_fd=None):
    fd = os.open(path, os.O_RDONLY, dir_fd=dir_fd)
    try:
        out = b""
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return out
            out += chunk
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# Names: every byte length up to 255, invalid UTF-8, 256 and more.

def name_of_length(n, rng, kind):
    """A name of exactly n bytes: ASCII, multi-byte UTF-8 or arbitrary bytes (never '/', NUL, '.', '..')."""
    if kind == 0:
        out = bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-. ~#") for _ in range(n))
    elif kind == 1:
        out = b""
        while len(out) < n:
            c = rng.choice(["é", "€", "😀", "ß", "字", "a"]).encode()
            out += c if len(out) + len(c) <= n else b"z" * (n - len(out))
    else:
        out = bytes(rng.choice([b for b in range(1, 256) if b != 0x2F]) for _ in range(n))
    if out in (b".", b".."):
        out = b"x" * n
    return out


INVALID_UTF8 = [b"\x80", b"\xff", b"\xfe\xfe", b"\xc0\xaf", b"\xc1\xbf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xe2\x82",
                b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"a\xffb.txt", b"report\xe9.odt", b"\x01\x02\x1f\x7f",
                b"\n", b"two\nlines", b"tab\there", b"\x1b[31mred", b"\\", b"-rf", b" ", b"  trailing  ", b"*?[",
                b"caf\xc3\xa9", b"cafe\xcc\x81", b"A", b"a", b".a", b"..a", b"...", b"\xef\xbb\xbfbom",
                bytes(range(1, 47)), bytes(range(48, 128)), bytes(range(128, 256)),
                b"\xff" * 255, b"\xc3" * 255, b"x" * 253 + b"\xe2\x82", b"a" * 251 + b".\xff\xfe\xfd"]


def section_names(mnt, ref, quick):
    rng = random.Random(11)
    for base in (mnt, ref):
        fresh(base, b"names")
    # Every length from 1 to 255, in three kinds, created, listed and read back byte-exact.
    lengths = range(1, 256) if not quick else list(range(1, 20)) + list(range(240, 256)) + rng.sample(range(20, 240), 30)
    for n in lengths:
        problems = []
        for kind in range(3):
            name = name_of_length(n, rng, (n + kind) % 3)
            for base in (mnt, ref):
                d = os.path.join(base, b"names")
                path = os.path.join(d, name)
                if os.path.lexists(path):
                    continue
                r = code(write, path, name)
                if r != "ok":
                    problems.append("create %s on %s: %s" % (show(name), "mount" if base == mnt else "reference", r))
                    continue
                if read(path) != name:
                    problems.append("%s reads back wrong" % show(name))
        case("name of %d bytes" % n, "; ".join(problems) or None)
    listed_mnt, listed_ref = sorted(os.listdir(os.path.join(mnt, b"names"))), sorted(os.listdir(os.path.join(ref, b"names")))
    case("readdir returns every name byte-exact (%d names)" % len(listed_ref),
         None if listed_mnt == listed_ref else "the mount lists %d names, %d differ from the reference" % (
             len(listed_mnt), len(set(listed_mnt) ^ set(listed_ref))))
    # Invalid UTF-8 and other odd names: create, list, read, rename, a second save, .versions, unlink.
    d = fresh(mnt, b"odd")
    for name in INVALID_UTF8:
        problems = []
        path = os.path.join(d, name)
        try:
            write(path, b"one " + name)
            if name not in os.listdir(d):
                problems.append("not listed byte-exact")
            if read(path) != b"one " + name:
                problems.append("reads back wrong")
            write(path, b"two " + name)
            time.sleep(0.01)
            versions = os.listdir(os.path.join(d, b".versions", name))
            if len(versions) < 2:
                problems.append(".versions lists %d versions, not 2" % len(versions))
            for v in versions:
                if len(v) > 255:
                    problems.append("version name of %d bytes" % len(v))
                elif read(os.path.join(d, b".versions", name, v)) not in (b"one " + name, b"two " + name):
                    problems.append("version %r reads back wrong" % v)
            other = bytes(reversed(name)) if bytes(reversed(name)) != name else name + b"\xff"
            other = other[:255]
            if other in (b".", b"..") or b"/" in other:
                other = b"r\xff"
            os.rename(path, os.path.join(d, other))
            if read(os.path.join(d, other)) != b"two " + name or os.path.lexists(path) and other != name:
                problems.append("rename to %s went wrong" % show(other))
            os.rename(os.path.join(d, other), path)
        except OSError as e:
            problems.append("%s" % e)
        case("odd name %s" % show(name), "; ".join(problems) or None)
    listed = set(os.listdir(d))
    case("odd names listed together (NFC and NFD, case kept apart)",
         None if listed == set(INVALID_UTF8) else "listing differs: %d missing, %d extra" % (
             len(set(INVALID_UTF8) - listed), len(listed - set(INVALID_UTF8))))
    # Too long: 256 bytes and more give ENAMETOOLONG on every call that takes a name, as on ext4.
    for n in (256, 300, 1024, 1025, 4000):
        name = b"n" * n
        problems = []
        ops = (("open O_CREAT", lambda b, p: write(p, b"x")), ("mkdir", lambda b, p: os.mkdir(p)),
               ("stat", lambda b, p: os.lstat(p)), ("symlink", lambda b, p: os.symlink(b"target", p)),
               ("mkfifo", lambda b, p: os.mkfifo(p)), ("link", lambda b, p: os.link(os.path.join(b, b"src"), p)),
               ("rename", lambda b, p: os.rename(os.path.join(b, b"src"), p)), ("unlink", lambda b, p: os.unlink(p)),
               ("rmdir", lambda b, p: os.rmdir(p)), ("setxattr", lambda b, p: os.setxattr(p, "user.x", b"1")))
        for label, op in ops:
            got = {}
            for base in (mnt, ref):
                d0 = os.path.join(base, b"names")
                if not os.path.exists(os.path.join(d0, b"src")):
                    write(os.path.join(d0, b"src"), b"src")
                got[base] = code(op, d0, os.path.join(d0, name))
            if got[mnt] != got[ref]:
                problems.append("%s: %s, ext4 %s" % (label, got[mnt], got[ref]))
            elif got[mnt] != "ENAMETOOLONG":
                problems.append("%s: %s on both" % (label, got[mnt]))
        case("name of %d bytes refused like ext4" % n, "; ".join(problems) or None)
    for base in (mnt, ref):
        rmtree(os.path.join(base, b"names"))
    # The odd names stay for the repository section's export.


# ---------------------------------------------------------------------------------------------
# Paths: 4,096 bytes (PATH_MAX with the NUL) and deeper trees.

def mkdirs(base, parts):
    """Creates the folders of parts one at a time (so no call sees a long path); returns the deepest fd."""
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    for p in parts:
        try:
            os.mkdir(p, dir_fd=fd)
        except FileExistsError:
            pass
        sub = os.open(p, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = sub
    return fd


def section_paths(mnt, ref, quick):
    # Relative paths of 4,094 to 4,097 bytes from a folder: 20 folders of 200 bytes, then a file.
    comps = [b"%03d" % i + b"d" * 197 for i in range(20)]
    prefix = b"/".join(comps) + b"/"
    for base in (mnt, ref):
        fresh(base, b"paths")
        os.close(mkdirs(os.path.join(base, b"paths"), comps))
    for total in (4094, 4095, 4096, 4097, 5000):
        rel = prefix + b"f" * (total - len(prefix))
        got = {}
        for base in (mnt, ref):
            dfd = os.open(os.path.join(base, b"paths"), os.O_RDONLY | os.O_DIRECTORY)
            try:
                got[base] = [code(write, rel, b"deep", dir_fd=dfd), code(os.stat, rel, dir_fd=dfd),
                             code(read, rel, dir_fd=dfd), code(os.mkdir, rel + b".d", dir_fd=dfd)]
            finally:
                os.close(dfd)
        case("relative path of %d bytes" % total,
             None if got[mnt] == got[ref] else "mount %s, ext4 %s" % (got[mnt], got[ref]))
    # An absolute path of exactly 4,095 bytes (4,096 with the NUL) and one byte more.
    for extra in (0, 1):
        got = {}
        for base in (mnt, ref):
            head = os.path.join(base, b"paths") + b"/" + prefix
            n = 4095 + extra - len(head)
            got[base] = code(os.stat, head + b"f" * n) if n > 0 else "n/a"
        case("absolute path of %d bytes" % (4095 + extra),
             None if got[mnt] == got[ref] else "mount %s, ext4 %s" % (got[mnt], got[ref]))
    # Symlink targets of 4,095 and 4,096 bytes.
    for n in (4095, 4096):
        got = {}
        for base in (mnt, ref):
            link = os.path.join(base, b"paths", b"link%d" % n)
            r = code(os.symlink, b"t" * n, link)
            got[base] = (r, code(os.readlink, link) if r == "ok" else "-",
                         outcome(os.readlink, link)[1] == b"t" * n if r == "ok" else "-")
        case("symlink target of %d bytes" % n, None if got[mnt] == got[ref] else "mount %s, ext4 %s" % (got[mnt], got[ref]))
    # A tree deeper than PATH_MAX (one-byte folders), reached by descriptors: created, written, read,
    # renamed, listed by a walk, getcwd inside it, removed.
    depth = 3000 if not quick else 2100
    got = {}
    for base in (mnt, ref):
        fd = mkdirs(os.path.join(base, b"paths"), [b"a"] * depth)
        try:
            steps = [code(write, b"bottom.txt", b"bottom", dir_fd=fd), code(read, b"bottom.txt", dir_fd=fd),
                     code(os.rename, b"bottom.txt", b"moved.txt", src_dir_fd=fd, dst_dir_fd=fd),
                     code(os.setxattr, "/proc/self/fd/%d/moved.txt" % fd, "user.deep", b"1")]
            old = os.getcwd()
            os.fchdir(fd)
            steps.append(code(os.getcwd))
            steps.append(code(os.stat, b"../" * 10 + b"a/" * 9 + b"moved.txt"))
            os.chdir(old)
        finally:
            os.close(fd)
        got[base] = steps
    case("tree %d folders deep" % depth, None if got[mnt] == got[ref] else "mount %s, ext4 %s" % (got[mnt], got[ref]))
    # The deep tree (and the long relative paths) stay in the mount for the repository section's
    # export; the reference goes now.
    rmtree(os.path.join(ref, b"paths"))


# ---------------------------------------------------------------------------------------------
# Extended attributes: limits and a great many of them.

def c_getxattr(path, name, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    r = libc.getxattr(path, name, buf if size else None, ctypes.c_size_t(size))
    if r < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return r


def sized(got, want):
    if got != want:
        raise OSError(errno.EBADMSG, "size %d, not %d" % (got, want))


def c_listxattr(path, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    r = libc.listxattr(path, buf if size else None, ctypes.c_size_t(size))
    if r < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return r


def section_xattrs(mnt, ref, quick):
    for base in (mnt, ref):
        fresh(base, b"xattrs")
        write(os.path.join(base, b"xattrs", b"f"), b"x")
    def both(label, fn, expect=None):
        got = {base: code(fn, os.path.join(base, b"xattrs", b"f")) for base in (mnt, ref)}
        problem = None
        if expect and got[mnt] != expect:
            problem = "mount %s, expected %s (ext4 %s)" % (got[mnt], expect, got[ref])
        elif not expect and got[mnt] != got[ref]:
            problem = "mount %s, ext4 %s" % (got[mnt], got[ref])
        case(label, problem)
    both("xattr name of 255 bytes", lambda p: os.setxattr(p, "user." + "n" * 250, b"v"))
    both("xattr name of 256 bytes: ERANGE", lambda p: os.setxattr(p, "user." + "n" * 251, b"v"))
    both("xattr name 'user.' alone", lambda p: os.setxattr(p, "user.", b"v"))
    both("unknown namespace foo.bar", lambda p: os.setxattr(p, "foo.bar", b"v"))
    for internal in ("nexus.markers", "nexus.lock-holder", "system.nexus.", "system.nexus.other", "system.posix_acl_other"):
        both("internal or unknown name %s is refused" % internal, lambda p: os.setxattr(p, internal, b"v"), "ENOTSUP")
        both("internal or unknown name %s cannot be read" % internal, lambda p: os.getxattr(p, internal), "ENOTSUP")
    both("value of 65,537 bytes: E2BIG", lambda p: os.setxattr(p, "user.big", b"v" * 65537))
    both("XATTR_CREATE on a new name", lambda p: os.setxattr(p, "user.c", b"1", os.XATTR_CREATE))
    both("XATTR_CREATE on an existing name: EEXIST", lambda p: os.setxattr(p, "user.c", b"2", os.XATTR_CREATE))
    both("XATTR_REPLACE on a missing name: ENODATA", lambda p: os.setxattr(p, "user.none", b"2", os.XATTR_REPLACE))
    both("remove a missing name: ENODATA", lambda p: os.removexattr(p, "user.none"))
    both("get a missing name: ENODATA", lambda p: os.getxattr(p, "user.none"))
    both("a value of 10 bytes", lambda p: os.setxattr(p, "user.ten", b"0123456789"))
    both("getxattr's size query", lambda p: sized(c_getxattr(p, b"user.ten", 0), 10))
    both("getxattr with a buffer one byte short: ERANGE", lambda p: c_getxattr(p, b"user.ten", 9))
    both("listxattr with a buffer one byte short: ERANGE", lambda p: c_listxattr(p, c_listxattr(p, 0) - 1))
    # 64 KiB values: the mount stores them (as XFS and btrfs do; ext4 without ea_inode says ENOSPC).
    f = os.path.join(mnt, b"xattrs", b"f")
    value = bytes(random.Random(1).getrandbits(8) for _ in range(65536))
    r = code(os.setxattr, f, "user.v64k", value)
    case("value of 65,536 bytes stored and read back",
         None if r == "ok" and os.getxattr(f, "user.v64k") == value else "setxattr: %s" % r)
    # A great many on one file: stored until the documented per-file limit, then ENOSPC, with
    # listxattr working all the way (its list fits the kernel's 64 KiB).
    g = os.path.join(mnt, b"xattrs", b"many")
    write(g, b"many")
    rss0 = M.rss()
    n, last, t0 = 0, "ok", time.time()
    while n < 100000:
        last = code(os.setxattr, g, "user.k%06d" % n, b"%d" % n)
        if last != "ok":
            break
        n += 1
    lr = outcome(os.listxattr, g)
    problem = None
    if last not in ("ok", "ENOSPC"):
        problem = "setxattr number %d: %s" % (n + 1, last)
    elif lr[0] != "ok":
        problem = "after %d setxattr, listxattr gives %s" % (n, lr[0])
    elif len([x for x in lr[1] if x.startswith("user.k")]) != n:
        problem = "listxattr lists %d of %d" % (len(lr[1]), n)
    else:
        wrong = [i for i in range(0, n, max(1, n // 500)) if os.getxattr(g, "user.k%06d" % i) != b"%d" % i]
        if wrong:
            problem = "%d values read back wrong" % len(wrong)
    case("xattrs on one file: %d stored, then %s (%.1f s; daemon RSS %d -> %d KiB)" % (n, last, time.time() - t0, rss0, M.rss()),
         problem)
    # 64 KiB values on one file until the limit.
    h = os.path.join(mnt, b"xattrs", b"bigvalues")
    write(h, b"big")
    n, last = 0, "ok"
    while n < 1000:
        last = code(os.setxattr, h, "user.big%04d" % n, value)
        if last != "ok":
            break
        n += 1
    problem = None if last in ("ok", "ENOSPC") else "setxattr number %d: %s" % (n + 1, last)
    if problem is None and any(os.getxattr(h, "user.big%04d" % i) != value for i in range(n)):
        problem = "a 64 KiB value reads back wrong"
    case("64 KiB values on one file: %d stored, then %s (daemon RSS %d KiB)" % (n, last, M.rss()), problem)
    # 100,000 xattrs spread over files (10,000 in the quick form), then all read back.
    files, per = (100, 1000) if not quick else (10, 1000)
    d = fresh(mnt, b"spread")
    rss0, t0, bad = M.rss(), time.time(), []
    for i in range(files):
        p = os.path.join(d, b"f%03d" % i)
        write(p, b"%d" % i)
        for k in range(per):
            r = code(os.setxattr, p, "user.a%04d" % k, b"%d.%d" % (i, k))
            if r != "ok":
                bad.append("file %d xattr %d: %s" % (i, k, r))
                break
    rss1 = M.rss()
    for i in range(files):
        p = os.path.join(d, b"f%03d" % i)
        names = os.listxattr(p)
        if len([x for x in names if x.startswith("user.a")]) != per:
            bad.append("file %d lists %d" % (i, len(names)))
        for k in range(0, per, 7):
            if os.getxattr(p, "user.a%04d" % k) != b"%d.%d" % (i, k):
                bad.append("file %d xattr %d reads back wrong" % (i, k))
                break
    rss2 = M.rss()
    if rss2 - rss0 > 256 * 1024:
        bad.append("daemon RSS grew by %d MiB" % ((rss2 - rss0) // 1024))
    case("%d xattrs over %d files (%.1f s; daemon RSS %d -> %d -> %d KiB)" % (files * per, files, time.time() - t0, rss0, rss1, rss2),
         "; ".join(bad[:5]) or None)
    # A version file refuses attribute changes.
    write(os.path.join(mnt, b"xattrs", b"f"), b"second save")
    time.sleep(0.05)
    vdir = os.path.join(mnt, b"xattrs", b".versions", b"f")
    versions = sorted(os.listdir(vdir))
    r = code(os.setxattr, os.path.join(vdir, versions[0]), "user.x", b"1") if versions else "no versions"
    case("setxattr on a version file is refused", None if r in ("EROFS", "EPERM", "EACCES") else r)
    rmtree(d)
    for base in (mnt, ref):
        rmtree(os.path.join(base, b"xattrs"))


# ---------------------------------------------------------------------------------------------
# Fuzzed values on every user.nexus.* and system.nexus.* attribute.

FUZZ = [b"", b"\x00", b"\xff\xfe", b"\xc0\xaf", b"x" * 65536, b"\x00" * 300, b"draft\x00approved", b"  review",
        b"REVIEW", b"review\n", b"review\x00", b"approved\r\n", b"\n", b"-", b"%s%n%x", b"'; DROP TABLE nodes; --",
        b"\xe2\x80\xae", bytes(range(256)), b"user 0 admin", b"1", b"-1", b"18446744073709551616"]


def fuzz_values(rng, n):
    out = list(FUZZ)
    for _ in range(n):
        out.append(bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 7, 64, 1000, 65536]))))
    return out


def section_fuzz(mnt, ref, quick):
    rng = random.Random(7)
    d = fresh(mnt, b"fuzz")
    doc = os.path.join(d, b"doc.txt")
    write(doc, b"fuzzed")
    values = fuzz_values(rng, 4 if quick else 24)
    getx = lambda name: outcome(os.getxattr, doc, name)
    # Status: only the four names (a trailing newline or NUL is tolerated, and the stored value is
    # the plain name); anything else EINVAL with nothing stored.
    for v in values:
        before = getx("user.nexus.status")
        r = code(os.setxattr, doc, "user.nexus.status", v)
        after = getx("user.nexus.status")
        plain = v.rstrip(b"\n\x00")
        problem = None
        if plain in (b"draft", b"review", b"approved", b"archived"):
            if r != "ok" and r != "EINVAL":
                problem = "setxattr %s" % r
            elif r == "ok" and after != ("ok", plain):
                problem = "stored %r, not %r" % (after[1], plain)
        elif r != "EINVAL":
            problem = "setxattr %s, expected EINVAL" % r
        elif after != before:
            problem = "the status changed to %r" % (after[1],)
        case("user.nexus.status = %s" % show(v), problem)
        if r == "ok" and plain != b"draft":
            os.setxattr(doc, "user.nexus.status", b"draft")
    # Lock, hold, summary, meta.* and other user.nexus.* names: any value is a note, stored byte-exact.
    names = ["user.nexus.lock", "user.nexus.hold", "user.nexus.summary", "user.nexus.meta.k", "user.nexus.meta.",
             "user.nexus.unknown", "user.nexus.", "user.nexus.meta." + "k" * 239]
    for name in names:
        problems = []
        for v in values:
            r = code(os.setxattr, doc, name, v)
            got = getx(name)
            if r != "ok":
                problems.append("%s: %s" % (show(v), r))
            elif got != ("ok", v):
                problems.append("%s reads back %s" % (show(v), got[0] if got[0] != "ok" else show(got[1])))
        r = code(os.removexattr, doc, name)
        if r != "ok":
            problems.append("removexattr: %s" % r)
        case("%s fuzzed with %d values" % (name, len(values)), "; ".join(problems[:4]) or None)
    # Names with arbitrary bytes after user.nexus.meta.
    problems = []
    for key in (b"\xff\xfe", b"\n", b"a\x01b", b"\xed\xa0\x80", bytes(range(1, 40))):
        name = b"user.nexus.meta." + key
        r = code(os.setxattr, doc, name, b"v")
        if r != "ok" or name not in [n.encode("utf-8", "surrogateescape") for n in os.listxattr(doc)] \
                or os.getxattr(doc, name) != b"v":
            problems.append("%s: %s" % (show(name), r))
        else:
            os.removexattr(doc, name)
    case("user.nexus.meta.KEY with non-UTF-8 keys round-trips", "; ".join(problems) or None)
    # A save after a binary summary: the history still lists.
    os.setxattr(doc, "user.nexus.summary", bytes(range(256)) * 4)
    write(doc, b"saved with a binary summary")
    time.sleep(0.05)
    r = code(os.listdir, os.path.join(d, b".versions", b"doc.txt"))
    case("a save with a binary user.nexus.summary", None if r == "ok" else r)
    os.removexattr(doc, "user.nexus.summary")
    # Computed attributes: EPERM on set and remove, and they still read.
    for name in ["user.nexus.version", "user.nexus.sha256", "user.nexus.id", "user.nexus.access", "user.nexus.locked-by",
                 "user.nexus.grants", "user.nexus.comments", "user.nexus.author"]:
        problems = []
        before = getx(name)
        for v in values[:8]:
            r = code(os.setxattr, doc, name, v)
            if r != "EPERM":
                problems.append("set %s: %s" % (show(v), r))
        r = code(os.removexattr, doc, name)
        if r != "EPERM":
            problems.append("remove: %s" % r)
        if getx(name) != before:
            problems.append("the value changed")
        case("computed %s refuses writes" % name, "; ".join(problems[:4]) or None)
    # Grant requests: anything malformed is EINVAL, and the ACL stays readable and unchanged.
    acl_before = getx("system.posix_acl_access")
    grants = values + [b"user", b"user 1000", b"user x view", b"user 1000 view extra", b"user 1000 view recursive x",
                       b"user -1 view", b"user 4294967296 view", b"user 4294967295 view", b"group 4294967295 view",
                       b"user 99999999999999999999 view", b"user 1000 superuser", b"user 1000 View", b"users 1000 view",
                       b"public - edit", b"public", b"user  1000  view", b"user\t1000\tview", b"user 1000 view\x00",
                       b"user 0x10 view", b"user +5 view", b"user 1e3 view", b"user \xff view", b"group - view"]
    import re
    valid = re.compile(rb"^(user|group) [0-9]{1,10} (none|view|comment|edit|admin|owner)( recursive)?$|^public - (none|view)( recursive)?$")
    for v in grants:
        if valid.match(v) and not v.split(b" ")[1].startswith(b"4294967295"):
            continue
        acl_before = getx("system.posix_acl_access")
        r = code(os.setxattr, doc, "system.nexus.grant", v)
        after = getx("system.posix_acl_access")
        problem = None
        if r not in ("EINVAL", "EPERM"):
            problem = "setxattr %s, expected EINVAL" % r
        elif after != acl_before:
            problem = "the ACL changed"
        case("system.nexus.grant = %s" % show(v), problem)
    r = code(os.setxattr, doc, "system.nexus.grant", b"user 1000 view")
    acl = getx("system.posix_acl_access")
    ok = r == "ok" and acl[0] == "ok" and struct.pack("<HHI", UN, 4, 1000) in acl[1]
    r2 = code(os.setxattr, doc, "system.nexus.grant", b"user 1000 none")
    case("a well-formed grant and its revoke", None if ok and r2 == "ok" else "grant %s, ACL %s, revoke %s" % (r, acl[0], r2))
    # Comments: text (UTF-8 without NUL), not empty; anything else EINVAL and nothing added.
    def comment_count():
        import json
        return len(json.loads(os.getxattr(doc, "user.nexus.comments")))
    for v in values + [b"a fine comment", "ünïcödé ✓".encode()]:
        before = comment_count()
        r = code(os.setxattr, doc, "system.nexus.comment", v)
        plain = v.rstrip(b"\n\x00")
        try:
            text_ok = plain != b"" and b"\x00" not in plain and plain.decode("utf-8") is not None
        except UnicodeDecodeError:
            text_ok = False
        rc = outcome(comment_count)
        problem = None
        if rc[0] != "ok":
            problem = "user.nexus.comments then gives %s" % rc[0]
        elif text_ok and len(plain) <= 4000:
            if r != "ok" or rc[1] != before + 1:
                problem = "setxattr %s, comments %d -> %d" % (r, before, rc[1])
        elif r != "EINVAL" or rc[1] != before:
            problem = "setxattr %s (expected EINVAL), comments %d -> %d" % (r, before, rc[1])
        case("system.nexus.comment = %s" % show(v), problem)
    # Many long comments: the listing stays readable (the newest that fit in 64 KiB).
    for k in range(40):
        os.setxattr(doc, "system.nexus.comment", (b"%02d " % k) + b"c" * 3990)
    import json
    listed = outcome(os.getxattr, doc, "user.nexus.comments")
    newest = json.loads(listed[1])[-1]["text"][:2] if listed[0] == "ok" else None
    case("40 comments of 4,000 bytes: user.nexus.comments readable (%s)" % listed[0],
         None if newest == "39" else "gives %s, newest %s" % (listed[0], newest))
    # Requests are never stored or listed.
    listed = [n for n in os.listxattr(doc) if n.startswith("system.nexus")]
    case("requests are not listed", None if not listed else "listed: %s" % listed)
    rmtree(d)


# ---------------------------------------------------------------------------------------------
# Malformed POSIX ACL blobs.

def acl_blob(entries, version=2):
    return struct.pack("<I", version) + b"".join(struct.pack("<HHI", t, p, i) for t, p, i in entries)


U, UN, G, GN, MASK, O = 1, 2, 4, 8, 0x10, 0x20
NOID = 0xFFFFFFFF
GOOD = [(U, 6, NOID), (UN, 4, 1000), (G, 4, NOID), (MASK, 6, NOID), (O, 4, NOID)]


def section_acl(mnt, ref, quick):
    blobs = [
        ("a valid ACL", acl_blob(GOOD)),
        ("version 1", acl_blob(GOOD, 1)), ("version 3", acl_blob(GOOD, 3)), ("version 0xffffffff", acl_blob(GOOD, NOID)),
        ("empty", b""), ("3 bytes", b"\x02\x00\x00"), ("version only", acl_blob([])),
        ("truncated entry", acl_blob(GOOD)[:-3]), ("one byte extra", acl_blob(GOOD) + b"\x00"),
        ("unknown tag 0x40", acl_blob(GOOD[:-1] + [(0x40, 4, NOID), (O, 4, NOID)])),
        ("tag 0", acl_blob([(0, 4, NOID)] + GOOD)),
        ("permission bits 8", acl_blob([(U, 8, NOID)] + GOOD[1:])),
        ("permission bits 0xffff", acl_blob([(U, 0xFFFF, NOID)] + GOOD[1:])),
        ("no owner entry", acl_blob(GOOD[1:])), ("no other entry", acl_blob(GOOD[:-1])),
        ("two owner entries", acl_blob([(U, 6, NOID)] + GOOD)),
        ("duplicate named user", acl_blob(GOOD[:2] + [(UN, 4, 1000)] + GOOD[2:])),
        ("named user without a mask", acl_blob([e for e in GOOD if e[0] != MASK])),
        ("named user id -1", acl_blob([(U, 6, NOID), (UN, 4, NOID), (G, 4, NOID), (MASK, 6, NOID), (O, 4, NOID)])),
        ("named group id -1", acl_blob([(U, 6, NOID), (G, 4, NOID), (GN, 4, NOID), (MASK, 6, NOID), (O, 4, NOID)])),
        ("entries out of order", acl_blob(list(reversed(GOOD)))),
        ("random bytes", bytes(random.Random(3).getrandbits(8) for _ in range(100))),
        ("65,536 bytes of entries", acl_blob([(U, 6, NOID)] + [(UN, 4, 10000 + k) for k in range(8189)] + [(G, 4, NOID), (MASK, 6, NOID), (O, 4, NOID)])[:65536]),
        ("500 named users", acl_blob([(U, 6, NOID)] + [(UN, 4, 10000 + k) for k in range(500)] + [(G, 4, NOID), (MASK, 6, NOID), (O, 4, NOID)])),
        ("8,000 named users", acl_blob([(U, 6, NOID)] + [(UN, 4, 10000 + k) for k in range(8000)] + [(G, 4, NOID), (MASK, 6, NOID), (O, 4, NOID)])),
    ]
    for base in (mnt, ref):
        d = fresh(base, b"acl")
        write(os.path.join(d, b"f"), b"acl")
        os.mkdir(os.path.join(d, b"dir"))
    for label, blob in blobs:
        for target, attr in ((b"f", "system.posix_acl_access"), (b"dir", "system.posix_acl_default"), (b"f", "system.posix_acl_default")):
            got, after = {}, {}
            for base in (mnt, ref):
                p = os.path.join(base, b"acl", target)
                before = outcome(os.getxattr, p, attr)
                got[base] = code(os.setxattr, p, attr, blob)
                after[base] = outcome(os.getxattr, p, attr)
                if got[base] == "ok":
                    os.removexattr(p, attr)
                elif after[base] != before and base == mnt:
                    got[base] += " (and the stored ACL changed)"
            problem = None
            # Documented differences (docs/permissions.md, Limits): a duplicate entry is refused
            # where ext4's kernel check lets it through, and FUSE takes ACLs of up to 4 KiB (E2BIG),
            # where ext4 says ENOSPC once its block is full.
            expected = {"duplicate named user": "EINVAL", "8,000 named users": "E2BIG"}.get(label)
            if target == b"f" and attr.endswith("default"):
                expected = got[ref]
            if expected is not None:
                if got[mnt] != expected:
                    problem = "mount %s, expected %s (ext4 %s)" % (got[mnt], expected, got[ref])
            elif got[mnt] != got[ref]:
                problem = "mount %s, ext4 %s" % (got[mnt], got[ref])
            elif after[mnt][0] != after[ref][0]:
                problem = "reading it back: mount %s, ext4 %s" % (after[mnt][0], after[ref][0])
            case("ACL %s as %s on %s (%s)" % (label, attr.split("_")[-1], target.decode(), got[mnt]), problem)
    for base in (mnt, ref):
        rmtree(os.path.join(base, b"acl"))


def craft_keys(repo, out):
    """Key files built to cost: the repository's key with hostile KDF parameters, salts and lengths."""
    import glob, json
    os.makedirs(out, exist_ok=True)
    key = json.load(open(sorted(glob.glob(os.path.join(repo, "keys", "*.key")))[0]))
    def emit(name, change):
        k = json.loads(json.dumps(key))
        change(k)
        k["id"] = "0000000000000000"
        with open(os.path.join(out, name + ".key"), "w") as f:
            f.write(json.dumps(k, indent=2, sort_keys=True) + "\n")
    emit("memory", lambda k: k["kdf"].update(memoryKiB=1 << 20, iterations=16))          # the most a reader allows
    emit("memory-over", lambda k: k["kdf"].update(memoryKiB=4 << 20, iterations=64))
    emit("iterations", lambda k: k["kdf"].update(iterations=2**32 - 1))
    emit("parallelism", lambda k: k["kdf"].update(parallelism=2**24, memoryKiB=2**32 - 1))
    emit("salt", lambda k: k.update(salt="00"))
    emit("hex", lambda k: k.update(wrapped="zz" * 80, nonce="0"))
    with open(os.path.join(out, "huge-numbers.key"), "w") as f:
        f.write(json.dumps(key).replace('"memoryKiB": %d' % key["kdf"]["memoryKiB"], '"memoryKiB": 9223372036854775808')
                .replace('"version": %d' % key["version"], '"version": 18446744073709551616'))


def tree(root, out):
    """The tree under root, walked by descriptors (deeper than PATH_MAX too): each path's bytes (hex),
    kind, size and content hash; written to out as JSON. `.versions` is left out."""
    import json
    entries = {}
    sys.setrecursionlimit(20000)
    def walk(dfd, rel):
        for name in sorted(os.fsencode(n) for n in os.listdir(dfd)):
            if name == b".versions":
                continue
            st = os.lstat(name, dir_fd=dfd)
            key = (rel + b"/" + name).hex()
            if stat.S_ISDIR(st.st_mode):
                entries[key] = "d"
                sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dfd)
                try:
                    walk(sub, rel + b"/" + name)
                finally:
                    os.close(sub)
            elif stat.S_ISREG(st.st_mode):
                entries[key] = "f %d %s" % (st.st_size, hashlib.sha256(read(name, dir_fd=dfd)).hexdigest())
            elif stat.S_ISLNK(st.st_mode):
                entries[key] = "l " + os.readlink(name, dir_fd=dfd).hex()
            else:
                entries[key] = "o %o" % stat.S_IFMT(st.st_mode)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        walk(fd, b"")
    finally:
        os.close(fd)
    json.dump(entries, open(out, "w"))


def compare_trees(a, b):
    import json
    x, y = json.load(open(a)), json.load(open(b))
    missing = [bytes.fromhex(k) for k in x if k not in y]
    extra = [bytes.fromhex(k) for k in y if k not in x]
    differ = [bytes.fromhex(k) for k in x if k in y and x[k] != y[k]]
    if missing or extra or differ:
        print("%d entries: %d missing, %d extra, %d differ; first: %s" % (len(x), len(missing), len(extra), len(differ),
              show((missing + extra + differ)[0])))
        sys.exit(1)
    print("%d entries identical" % len(x))


def patch_trailer(path, at, value):
    """Writes a u32 into a pack's 16-byte trailer (0: the table's length, 4: the blob count)."""
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.seek(size - 16 + int(at))
        f.write(struct.pack("<I", int(value)))


def patch_frames(path):
    """Every frame's length field set to 2^32-1 and index to 2^31: lengths bigger than the file."""
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.seek(24)
        first = struct.unpack("<I", f.read(4))[0]
        f.seek(24)
        f.write(struct.pack("<II", 0xFFFFFFFF, 0x80000000))
        if 24 + first + 8 < size - 16:
            f.seek(24 + first)
            f.write(struct.pack("<II", 0xFFFFFFFF, 1))


def main():
    global M
    tool = {"craft-keys": craft_keys, "patch-trailer": patch_trailer, "patch-frames": patch_frames, "tree": tree,
            "compare-trees": compare_trees}.get(sys.argv[1])
    if tool:
        return tool(*sys.argv[2:])
    section, mnt, ref, pid = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode(), sys.argv[4]
    quick = len(sys.argv) > 5 and sys.argv[5] == "quick"
    M = Mount(mnt.decode(), pid)
    if section == "setup":
        write(os.path.join(mnt, KNOWN), KNOWN_DATA)
        return
    dead = M.alive()
    if dead:
        report("%s: the mount serves before the section" % section, dead)
        finish()
    {"names": section_names, "paths": section_paths, "xattrs": section_xattrs, "fuzz": section_fuzz,
     "acl": section_acl}[section](mnt, ref, quick)
    finish()


if __name__ == "__main__":
    main()
