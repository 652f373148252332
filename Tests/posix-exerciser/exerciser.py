#!/usr/bin/env python3
"""A deterministic POSIX exerciser: runs a fixed sequence of file-system operations inside a directory and
prints one JSON line per step, normalized so that two file systems can be compared line by line.

    python3 exerciser.py DIR [STEP-NAME-PREFIX ...]

Each line is {"step": NAME, "results": [[LABEL, OUTCOME], ...]} where OUTCOME is
  "ok"                  the operation succeeded and has nothing worth comparing,
  {"ok": VALUE}         it succeeded with VALUE (bytes read, sizes, modes, link counts, listings, ...),
  "ENOENT", ...         it failed with that errno (by name),
  "exception: ..."      Python itself raised something else (a bug in this script or a very odd result).
Nothing that legitimately differs between file systems is printed: no inode numbers (only whether two
names share one), no st_dev, st_blksize, directory sizes, ctimes, times the step did not set itself, or
statvfs numbers other than f_namemax.

Every step runs in its own fresh subdirectory, so a failure does not cascade into later steps. The script
exits 0 unless it crashes itself. Python 3 standard library only (ctypes for renameat2, fallocate,
utimensat, getxattr with a short buffer).
"""

import ctypes
import ctypes.util
import errno
import hashlib
import json
import mmap
import os
import random
import shutil
import stat
import struct
import sys
import time
import fcntl

libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)

# ---------------------------------------------------------------------------------------------------------
# Recording

# One name per errno value: EAGAIN == EWOULDBLOCK, EOPNOTSUPP == ENOTSUP, EDEADLK == EDEADLOCK on Linux.
_ERRNO_NAMES = {errno.EAGAIN: "EAGAIN", errno.EOPNOTSUPP: "EOPNOTSUPP", errno.EDEADLK: "EDEADLK"}


def errname(code):
    if code in _ERRNO_NAMES:
        return _ERRNO_NAMES[code]
    return errno.errorcode.get(code, "errno%d" % code)


def oserror():
    """An OSError from the errno that the last ctypes call left behind."""
    code = ctypes.get_errno()
    return OSError(code, os.strerror(code))


def nm(name):
    """A file name (str or bytes) as JSON-safe text: UTF-8 as is, anything else as hex."""
    if isinstance(name, str):
        name = os.fsencode(name)
    try:
        return name.decode("utf-8")
    except UnicodeDecodeError:
        return "hex:" + name.hex()


def show(data):
    """Bytes read, as text when short and printable, otherwise as length + digest (+ a zero-run summary)."""
    if len(data) <= 64 and all(32 <= b < 127 for b in data):
        return data.decode("ascii")
    out = {"len": len(data), "sha256": hashlib.sha256(data).hexdigest()[:16]}
    if data and data.count(0) == len(data):
        out["all_zero"] = True
    return out


FTYPES = [(stat.S_ISREG, "reg"), (stat.S_ISDIR, "dir"), (stat.S_ISLNK, "lnk"), (stat.S_ISFIFO, "fifo"),
          (stat.S_ISCHR, "chr"), (stat.S_ISBLK, "blk"), (stat.S_ISSOCK, "sock")]


def ftype(mode):
    for test, name in FTYPES:
        if test(mode):
            return name
    return "unknown"


def summary(st, size=True):
    """The comparable part of a stat result: type, permission bits, link count, size (never for directories)."""
    out = {"type": ftype(st.st_mode), "mode": "%04o" % stat.S_IMODE(st.st_mode), "nlink": st.st_nlink}
    if size and not stat.S_ISDIR(st.st_mode):
        out["size"] = st.st_size
    return out


def jsonable(value):
    """Makes a result printable as JSON: bytes through show(), unknown objects as their type name."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return show(bytes(value))
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return "<%s>" % type(value).__name__


class StepFailed(Exception):
    pass


class Step:
    def __init__(self, name, directory):
        self.name = name
        self.d = directory
        self.results = []
        self._labels = set()
        self.fds = []

    def p(self, *parts):
        return os.path.join(self.d, *parts)

    def _put(self, label, outcome):
        outcome = jsonable(outcome)
        if label in self._labels:
            raise StepFailed("duplicate label %r in step %s" % (label, self.name))
        self._labels.add(label)
        self.results.append([label, outcome])

    def call(self, label, fn, *args, **kwargs):
        """Runs fn and records "ok", {"ok": value} or the errno name; returns the value (None on failure)."""
        try:
            value = fn(*args, **kwargs)
        except OSError as e:
            self._put(label, errname(e.errno) if e.errno is not None else "exception: OSError: %s" % e)
            return None
        except Exception as e:  # noqa: BLE001 - every failure is a result
            self._put(label, "exception: %s: %s" % (type(e).__name__, e))
            return None
        self._put(label, "ok" if value is None else {"ok": value})
        return value

    def value(self, label, fn, *args, **kwargs):
        """Like call, but for things that compute a value and must not fail; a failure is still recorded."""
        return self.call(label, fn, *args, **kwargs)

    def open(self, label, path, flags, mode=0o644, **kwargs):
        """Opens and keeps the descriptor (closed when the step ends); records "ok" or the errno."""
        fd = self.call(label, lambda: os.open(path, flags, mode, **kwargs))
        if fd is not None:
            self.fds.append(fd)
            self.results[-1][1] = "ok"
        return fd

    def try_open(self, label, path, flags, mode=0o644, **kwargs):
        """Opens and closes at once; records "ok" or the errno."""
        def attempt():
            os.close(os.open(path, flags, mode, **kwargs))
        return self.call(label, attempt)

    def close_all(self):
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds = []


STEPS = []


def step(fn):
    STEPS.append((fn.__name__, fn))
    return fn


# ---------------------------------------------------------------------------------------------------------
# Small helpers


def write_file(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def read_file(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return read_fd(fd, 0)
    finally:
        os.close(fd)


def read_fd(fd, offset=0):
    chunks = []
    while True:
        chunk = os.pread(fd, 1 << 20, offset)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        offset += len(chunk)


def content(path):
    return show(read_file(path))


def exists(path):
    return os.path.lexists(path)


def listing(path):
    return sorted(nm(n) for n in os.listdir(os.fsencode(path)))


def same_ino(a, b, follow=False):
    return os.stat(a, follow_symlinks=follow).st_ino == os.stat(b, follow_symlinks=follow).st_ino


def pattern(n, seed):
    return random.Random(seed).randbytes(n)


def lstat_summary(path):
    return summary(os.lstat(path))


def stat_summary(path):
    return summary(os.stat(path))


def fstat_summary(fd):
    return summary(os.fstat(fd))


def mode_of(path, follow=True):
    return "%04o" % stat.S_IMODE(os.stat(path, follow_symlinks=follow).st_mode)


# ---------------------------------------------------------------------------------------------------------
# System calls Python does not wrap

AT_FDCWD = -100
RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT = 1, 2, 4
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE = 1, 2
UTIME_NOW, UTIME_OMIT = (1 << 30) - 1, (1 << 30) - 2
AT_SYMLINK_NOFOLLOW = 0x100
SYS_renameat2 = 316  # x86_64
F_OFD_GETLK, F_OFD_SETLK = 36, 37


def renameat2(old, new, flags):
    libc.syscall.restype = ctypes.c_long
    rc = libc.syscall(ctypes.c_long(SYS_renameat2), ctypes.c_int(AT_FDCWD), os.fsencode(old),
                      ctypes.c_int(AT_FDCWD), os.fsencode(new), ctypes.c_uint(flags))
    if rc != 0:
        raise oserror()


_fallocate = libc.fallocate
_fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
_fallocate.restype = ctypes.c_int


def fallocate(fd, mode, offset, length):
    if _fallocate(fd, mode, offset, length) != 0:
        raise oserror()


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_utimensat = libc.utimensat
_utimensat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(Timespec), ctypes.c_int]
_utimensat.restype = ctypes.c_int


def utimensat(path, atime, mtime, flags=0):
    """atime/mtime: nanoseconds since the epoch, or UTIME_NOW / UTIME_OMIT as (None, code)."""
    def ts(value):
        if isinstance(value, tuple):
            return Timespec(0, value[1])
        sec, nsec = divmod(value, 1_000_000_000)
        return Timespec(sec, nsec)
    times = (Timespec * 2)(ts(atime), ts(mtime))
    if _utimensat(AT_FDCWD, os.fsencode(path), times, flags) != 0:
        raise oserror()


NOW, OMIT = (None, UTIME_NOW), (None, UTIME_OMIT)

_getxattr = libc.getxattr
_getxattr.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
_getxattr.restype = ctypes.c_ssize_t


def getxattr_size(path, name, size):
    buf = ctypes.create_string_buffer(max(size, 1))
    rc = _getxattr(os.fsencode(path), name.encode(), buf if size else None, size)
    if rc < 0:
        raise oserror()
    return rc


def flock_struct(ltype, start, length, pid=0):
    # struct flock on x86_64: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid (+ padding).
    return struct.pack("hhqqi4x", ltype, os.SEEK_SET, start, length, pid)


def setlk(fd, cmd, lock):
    fcntl.fcntl(fd, cmd, lock)


AT_SYMLINK_FOLLOW = 0x400
_linkat = libc.linkat
_linkat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
_linkat.restype = ctypes.c_int


def link_fd(fd, new):
    """Gives an O_TMPFILE descriptor a name: linkat("/proc/self/fd/N", AT_SYMLINK_FOLLOW) as open(2) shows."""
    if _linkat(AT_FDCWD, b"/proc/self/fd/%d" % fd, AT_FDCWD, os.fsencode(new), AT_SYMLINK_FOLLOW) != 0:
        raise oserror()


def lock_type_name(ltype):
    return {fcntl.F_RDLCK: "F_RDLCK", fcntl.F_WRLCK: "F_WRLCK", fcntl.F_UNLCK: "F_UNLCK"}.get(ltype, str(ltype))


# ---------------------------------------------------------------------------------------------------------
# open(2)

RW_CREAT = os.O_RDWR | os.O_CREAT


@step
def open_creat_excl(s):
    f = s.p("f")
    write_file(f, b"x")
    s.try_open("excl_on_existing_file", f, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    os.mkdir(s.p("d"))
    s.try_open("excl_on_existing_dir", s.p("d"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    s.try_open("excl_new", s.p("g"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    s.value("excl_new_stat", stat_summary, s.p("g"))
    os.symlink("missing-target", s.p("dangling"))
    s.try_open("excl_on_dangling_symlink", s.p("dangling"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    s.value("dangling_target_created_by_excl", exists, s.p("missing-target"))
    os.symlink("target2", s.p("dangling2"))
    s.try_open("creat_through_dangling_symlink", s.p("dangling2"), os.O_CREAT | os.O_WRONLY)
    s.value("target_created_through_symlink", lambda: lstat_summary(s.p("target2")))
    s.try_open("creat_mode_0777_umask_022", s.p("h"), os.O_CREAT | os.O_WRONLY, 0o777)
    s.value("creat_mode_0777_stat", stat_summary, s.p("h"))
    s.try_open("creat_mode_0000", s.p("z"), os.O_CREAT | os.O_WRONLY, 0)
    s.value("creat_mode_0000_stat", stat_summary, s.p("z"))
    s.try_open("creat_existing_keeps_content", f, os.O_CREAT | os.O_WRONLY)
    s.value("existing_content", content, f)
    s.value("listing", listing, s.d)


@step
def open_trunc(s):
    f = s.p("f")
    write_file(f, b"hello world")
    reader = s.open("open_reader", f, os.O_RDONLY)
    fd = s.open("open_wronly_trunc", f, os.O_WRONLY | os.O_TRUNC)
    s.value("fstat_after_trunc", fstat_summary, fd)
    s.value("other_fd_reads_after_trunc", lambda: show(os.pread(reader, 100, 0)))
    s.call("write", os.write, fd, b"hi")
    s.value("other_fd_reads_after_write", lambda: show(os.pread(reader, 100, 0)))
    s.value("content", content, f)
    write_file(f, b"hello again")
    s.try_open("open_rdonly_trunc", f, os.O_RDONLY | os.O_TRUNC)
    s.value("content_after_rdonly_trunc", content, f)
    write_file(f, b"0123456789")
    s.try_open("open_rdwr_creat_trunc", f, os.O_RDWR | os.O_CREAT | os.O_TRUNC)
    s.value("stat_after_creat_trunc", stat_summary, f)
    write_file(f, pattern(300_000, 1))
    s.try_open("trunc_large", f, os.O_WRONLY | os.O_TRUNC)
    s.value("content_after_trunc_large", content, f)


@step
def open_append_two_fds(s):
    f = s.p("f")
    write_file(f, b"")
    a = s.open("open_a", f, os.O_WRONLY | os.O_APPEND)
    b = s.open("open_b", f, os.O_WRONLY | os.O_APPEND)
    s.call("write_a1", os.write, a, b"aaa")
    s.call("write_b", os.write, b, b"bbb")
    s.call("write_a2", os.write, a, b"ccc")
    s.value("pos_a", os.lseek, a, 0, os.SEEK_CUR)
    s.value("pos_b", os.lseek, b, 0, os.SEEK_CUR)
    s.value("content", content, f)
    s.call("lseek_a_to_0", os.lseek, a, 0, os.SEEK_SET)
    s.call("write_a_after_lseek", os.write, a, b"ddd")
    s.value("content_after_lseek_write", content, f)
    s.call("pwrite_append_at_0", os.pwrite, b, b"X", 0)  # Linux appends anyway
    s.value("content_after_pwrite", content, f)
    c = s.open("open_rdwr_append", f, os.O_RDWR | os.O_APPEND)
    s.value("read_from_start", lambda: show(os.read(c, 4)))
    s.call("write_rdwr_append", os.write, c, b"e")
    s.value("content_final", content, f)
    s.value("stat", stat_summary, f)


@step
def open_directory_flag(s):
    write_file(s.p("f"), b"x")
    os.mkdir(s.p("d"))
    os.symlink("d", s.p("ld"))
    s.try_open("o_directory_on_file", s.p("f"), os.O_RDONLY | os.O_DIRECTORY)
    s.try_open("o_directory_on_dir", s.p("d"), os.O_RDONLY | os.O_DIRECTORY)
    s.try_open("o_directory_on_symlink_to_dir", s.p("ld"), os.O_RDONLY | os.O_DIRECTORY)
    s.try_open("o_directory_missing", s.p("missing"), os.O_RDONLY | os.O_DIRECTORY)
    s.try_open("trailing_slash_on_file", s.p("f") + "/", os.O_RDONLY)
    s.try_open("trailing_slash_on_dir", s.p("d") + "/", os.O_RDONLY)
    s.try_open("creat_with_trailing_slash", s.p("new") + "/", os.O_WRONLY | os.O_CREAT)
    s.value("listing", listing, s.d)


@step
def open_nofollow(s):
    write_file(s.p("f"), b"x")
    os.mkdir(s.p("d"))
    write_file(s.p("d", "inner"), b"inner")
    os.symlink("f", s.p("lf"))
    os.symlink("d", s.p("ld"))
    os.symlink("loop_b", s.p("loop_a"))
    os.symlink("loop_a", s.p("loop_b"))
    os.symlink("self", s.p("self"))
    s.try_open("nofollow_on_symlink", s.p("lf"), os.O_RDONLY | os.O_NOFOLLOW)
    s.try_open("nofollow_on_file", s.p("f"), os.O_RDONLY | os.O_NOFOLLOW)
    s.try_open("nofollow_intermediate_symlink", s.p("ld", "inner"), os.O_RDONLY | os.O_NOFOLLOW)
    s.try_open("nofollow_creat_on_symlink", s.p("lf"), os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW)
    fd = s.open("o_path_nofollow_on_symlink", s.p("lf"), os.O_PATH | os.O_NOFOLLOW)
    if fd is not None:
        s.value("o_path_fstat", fstat_summary, fd)
    s.try_open("loop", s.p("loop_a"), os.O_RDONLY)
    s.try_open("self_loop", s.p("self"), os.O_RDONLY)
    s.value("stat_loop", lambda: stat_summary(s.p("loop_a")))
    s.value("lstat_loop", lambda: lstat_summary(s.p("loop_a")))
    s.value("read_through_symlink", content, s.p("lf"))
    s.value("read_through_dir_symlink", content, s.p("ld", "inner"))


@step
def open_missing(s):
    write_file(s.p("f"), b"x")
    s.try_open("rdonly_missing", s.p("missing"), os.O_RDONLY)
    s.try_open("rdwr_missing", s.p("missing"), os.O_RDWR)
    s.try_open("creat_in_missing_dir", s.p("nodir", "f"), os.O_WRONLY | os.O_CREAT)
    s.try_open("path_through_file", s.p("f", "x"), os.O_RDONLY)
    s.try_open("creat_through_file", s.p("f", "x"), os.O_WRONLY | os.O_CREAT)
    s.call("stat_missing", os.stat, s.p("missing"))
    s.call("lstat_missing", os.lstat, s.p("missing"))
    s.call("stat_through_file", os.stat, s.p("f", "x"))
    s.value("listing", listing, s.d)


@step
def open_dir_for_writing(s):
    os.mkdir(s.p("d"))
    write_file(s.p("f"), b"data")
    s.try_open("dir_wronly", s.p("d"), os.O_WRONLY)
    s.try_open("dir_rdwr", s.p("d"), os.O_RDWR)
    s.try_open("dir_rdonly", s.p("d"), os.O_RDONLY)
    s.try_open("dir_creat_wronly", s.p("d"), os.O_WRONLY | os.O_CREAT)
    s.try_open("dir_trunc", s.p("d"), os.O_RDONLY | os.O_TRUNC)
    dfd = s.open("open_dir", s.p("d"), os.O_RDONLY)
    if dfd is not None:
        s.call("read_dir_fd", os.read, dfd, 10)
        s.call("write_dir_fd", os.write, dfd, b"x")
    rfd = s.open("open_rdonly", s.p("f"), os.O_RDONLY)
    s.call("write_on_rdonly_fd", os.write, rfd, b"x")
    wfd = s.open("open_wronly", s.p("f"), os.O_WRONLY)
    s.call("read_on_wronly_fd", os.read, wfd, 10)
    s.value("content", content, s.p("f"))


# ---------------------------------------------------------------------------------------------------------
# read, write, pread, pwrite, lseek


@step
def read_write_offsets(s):
    f = s.p("f")
    fd = s.open("create", f, os.O_RDWR | os.O_CREAT)
    other = s.open("open_second_fd_early", f, os.O_RDONLY)
    s.value("write", os.write, fd, b"0123456789")
    s.value("pos_after_write", os.lseek, fd, 0, os.SEEK_CUR)
    s.call("lseek_0", os.lseek, fd, 0, os.SEEK_SET)
    s.value("read_4", lambda: show(os.read(fd, 4)))
    s.value("pread_3_at_5", lambda: show(os.pread(fd, 3, 5)))
    s.value("pos_unchanged_by_pread", os.lseek, fd, 0, os.SEEK_CUR)
    s.value("pread_past_eof", lambda: show(os.pread(fd, 10, 100)))
    s.value("pread_straddling_eof", lambda: show(os.pread(fd, 10, 8)))
    s.value("pwrite_AB_at_4", os.pwrite, fd, b"AB", 4)
    s.value("content_after_pwrite", content, f)
    s.value("lseek_end", os.lseek, fd, 0, os.SEEK_END)
    s.call("lseek_minus3_end", os.lseek, fd, -3, os.SEEK_END)
    s.value("read_after_lseek_end", lambda: show(os.read(fd, 10)))
    s.value("read_at_eof", lambda: show(os.read(fd, 10)))
    s.call("lseek_negative", os.lseek, fd, -100, os.SEEK_SET)
    s.value("lseek_past_eof", os.lseek, fd, 1000, os.SEEK_SET)
    s.value("pwrite_Z_at_20", os.pwrite, fd, b"Z", 20)
    s.value("fstat_after_hole", fstat_summary, fd)
    s.value("hole_bytes", lambda: show(os.pread(fd, 10, 10)))
    s.value("whole_file", lambda: show(read_fd(fd)))
    s.value("write_zero_bytes", os.write, fd, b"")
    s.value("size_after_zero_write", lambda: os.fstat(fd).st_size)
    s.value("second_fd_sees_writes", lambda: show(read_fd(other)))
    s.value("new_fd_sees_writes", content, f)


@step
def large_write_read(s):
    f = s.p("f")
    data = bytearray(pattern(3 * 1024 * 1024 + 123, 2))
    s.call("write", write_file, f, bytes(data))
    s.value("stat", stat_summary, f)
    s.value("content", content, f)
    fd = s.open("open_rdwr", f, os.O_RDWR)
    # Unaligned chunked reads equal the data.
    def chunked():
        offset, parts = 0, []
        while True:
            part = os.pread(fd, 12_345, offset)
            if not part:
                return show(b"".join(parts))
            parts.append(part)
            offset += len(part)
    s.value("chunked_read", chunked)
    s.value("pread_1M_unaligned", lambda: show(os.pread(fd, 1000, 1_048_575)))
    s.value("overwrite_middle", os.pwrite, fd, b"M" * 100, 1_000_000)
    data[1_000_000:1_000_100] = b"M" * 100
    s.value("content_after_overwrite", content, f)
    s.value("matches_expected", lambda: read_file(f) == bytes(data))
    s.value("blocks_cover_size", lambda: os.fstat(fd).st_blocks * 512 >= os.fstat(fd).st_size)


@step
def sparse_and_seek(s):
    f = s.p("f")
    fd = s.open("create", f, os.O_RDWR | os.O_CREAT)
    s.value("pwrite_a_at_0", os.pwrite, fd, b"a" * 4096, 0)
    s.value("pwrite_b_at_1M", os.pwrite, fd, b"b" * 4096, 1 << 20)
    s.call("fsync", os.fsync, fd)
    s.value("fstat", fstat_summary, fd)
    s.value("hole_reads_zero", lambda: show(os.pread(fd, 8192, 100_000)))
    s.value("data_around_hole", lambda: show(os.pread(fd, 8, 4092)))
    # Hole granularity is the file system's (ext4 and tmpfs: 4 KiB, others more): compare what any honest
    # SEEK_DATA/SEEK_HOLE must give, not exact boundaries.
    s.value("seek_data_0", os.lseek, fd, 0, os.SEEK_DATA)
    s.value("seek_hole_0_within_gap", lambda: 4096 <= os.lseek(fd, 0, os.SEEK_HOLE) <= 1 << 20)
    s.value("seek_data_4096_within_gap", lambda: 4096 <= os.lseek(fd, 4096, os.SEEK_DATA) <= 1 << 20)
    s.value("seek_data_512K", os.lseek, fd, 512 << 10, os.SEEK_DATA)
    s.value("seek_hole_512K", os.lseek, fd, 512 << 10, os.SEEK_HOLE)
    s.value("reported_hole_reads_zero", lambda: (lambda h, d: os.pread(fd, d - h, h).count(0) == d - h)(
        os.lseek(fd, 0, os.SEEK_HOLE), os.lseek(fd, 512 << 10, os.SEEK_DATA)))
    s.value("seek_hole_1M", os.lseek, fd, 1 << 20, os.SEEK_HOLE)
    s.value("seek_data_at_eof", os.lseek, fd, (1 << 20) + 4096, os.SEEK_DATA)
    s.value("seek_hole_at_last_byte", os.lseek, fd, (1 << 20) + 4095, os.SEEK_HOLE)
    s.value("seek_data_past_eof", os.lseek, fd, 2 << 20, os.SEEK_DATA)
    s.value("allocated_below_half_of_size", lambda: os.fstat(fd).st_blocks * 512 < os.fstat(fd).st_size // 2)
    g = s.p("g")
    gfd = s.open("create_truncated", g, os.O_RDWR | os.O_CREAT)
    s.call("ftruncate_10M", os.ftruncate, gfd, 10 << 20)
    s.value("truncated_seek_data_0", os.lseek, gfd, 0, os.SEEK_DATA)
    s.value("truncated_seek_hole_0", os.lseek, gfd, 0, os.SEEK_HOLE)
    s.value("truncated_reads_zero", lambda: show(os.pread(gfd, 65536, 5 << 20)))
    s.value("truncated_allocated_below_64k", lambda: os.fstat(gfd).st_blocks * 512 < 65536)
    e = s.p("empty")
    efd = s.open("create_empty", e, os.O_RDWR | os.O_CREAT)
    s.value("empty_seek_data_0", os.lseek, efd, 0, os.SEEK_DATA)
    s.value("empty_seek_hole_0", os.lseek, efd, 0, os.SEEK_HOLE)


@step
def file_over_4gib(s):
    f = s.p("f")
    fd = s.open("create", f, os.O_RDWR | os.O_CREAT)
    offset = 5 << 30
    s.value("pwrite_at_5GiB", os.pwrite, fd, b"tail", offset)
    s.value("fstat", fstat_summary, fd)
    s.value("read_tail", lambda: show(os.pread(fd, 100, offset)))
    s.value("read_across_4GiB", lambda: show(os.pread(fd, 8192, (4 << 30) - 4096)))
    s.value("seek_data_0_near_tail", lambda: offset - (1 << 20) <= os.lseek(fd, 0, os.SEEK_DATA) <= offset)
    s.value("allocated_below_1MiB", lambda: os.fstat(fd).st_blocks * 512 < (1 << 20))
    s.call("ftruncate_4GiB_plus_1", os.ftruncate, fd, (4 << 30) + 1)
    s.value("stat_after_truncate", stat_summary, f)
    s.value("read_last_byte", lambda: show(os.pread(fd, 10, 4 << 30)))


# ---------------------------------------------------------------------------------------------------------
# truncate, fallocate, copy_file_range


@step
def truncate_ops(s):
    f = s.p("f")
    write_file(f, b"abcdefghij")
    fd = s.open("open_rdwr", f, os.O_RDWR)
    s.call("ftruncate_down_4", os.ftruncate, fd, 4)
    s.value("after_down", content, f)
    s.call("ftruncate_up_8", os.ftruncate, fd, 8)
    s.value("after_up", lambda: show(read_file(f)))
    s.call("truncate_path_2", os.truncate, f, 2)
    s.value("after_path_down", content, f)
    s.call("truncate_path_up_6", os.truncate, f, 6)
    s.value("after_path_up", lambda: show(read_file(f)))
    s.value("fstat_after", fstat_summary, fd)
    s.call("ftruncate_negative", os.ftruncate, fd, -1)
    os.mkdir(s.p("d"))
    s.call("truncate_dir", os.truncate, s.p("d"), 0)
    s.call("truncate_missing", os.truncate, s.p("missing"), 0)
    rfd = s.open("open_rdonly", f, os.O_RDONLY)
    s.call("ftruncate_rdonly_fd", os.ftruncate, rfd, 0)
    # Stale data must not come back when a file is cut and extended again.
    g = s.p("g")
    write_file(g, b"X" * 10)
    s.call("stale_cut", os.truncate, g, 2)
    s.call("stale_extend", os.truncate, g, 10)
    s.value("stale_content", lambda: show(read_file(g)))
    h = s.p("h")
    write_file(h, pattern(1 << 20, 3))
    s.call("big_cut_to_0", os.truncate, h, 0)
    s.call("big_extend", os.truncate, h, 1 << 20)
    s.value("big_content", lambda: show(read_file(h)))
    hfd = s.open("open_h", h, os.O_RDWR)
    s.value("write_in_extended_region", os.pwrite, hfd, b"mid", 500_000)
    s.value("read_in_extended_region", lambda: show(os.pread(hfd, 7, 499_998)))
    s.call("ftruncate_cuts_written", os.ftruncate, hfd, 500_001)
    s.value("read_after_cut", lambda: show(os.pread(hfd, 7, 499_998)))
    s.value("stat_h", stat_summary, h)


@step
def fallocate_ops(s):
    f = s.p("f")
    write_file(f, b"a" * 8192)
    fd = s.open("open_rdwr", f, os.O_RDWR)
    s.call("fallocate_mode0_extend", fallocate, fd, 0, 0, 65536)
    s.value("size_after_mode0", lambda: os.fstat(fd).st_size)
    s.value("head_kept", lambda: show(os.pread(fd, 8192, 0)))
    s.value("extension_zero", lambda: show(os.pread(fd, 65536 - 8192, 8192)))
    s.value("blocks_cover_size", lambda: os.fstat(fd).st_blocks * 512 >= os.fstat(fd).st_size)
    s.call("fallocate_keep_size_beyond_eof", fallocate, fd, FALLOC_FL_KEEP_SIZE, 65536, 65536)
    s.value("size_after_keep_size", lambda: os.fstat(fd).st_size)
    s.call("punch_hole_keep_size", fallocate, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096)
    s.value("size_after_punch", lambda: os.fstat(fd).st_size)
    s.value("before_punch", lambda: show(os.pread(fd, 4096, 0)))
    s.value("punched_range", lambda: show(os.pread(fd, 4096, 4096)))
    s.call("punch_hole_without_keep_size", fallocate, fd, FALLOC_FL_PUNCH_HOLE, 0, 4096)
    s.call("fallocate_negative_length", fallocate, fd, 0, 0, -1)
    g = s.p("g")
    write_file(g, b"b" * 100)
    gfd = s.open("open_g", g, os.O_RDWR)
    s.call("posix_fallocate", os.posix_fallocate, gfd, 0, 20000)
    s.value("posix_fallocate_content", lambda: show(read_fd(gfd)))
    rfd = s.open("open_rdonly", f, os.O_RDONLY)
    s.call("fallocate_rdonly_fd", fallocate, rfd, 0, 0, 100)


@step
def copy_file_range_ops(s):
    src, dst = s.p("src"), s.p("dst")
    data = pattern(200_000, 4)
    write_file(src, data)
    write_file(dst, b"")
    sfd = s.open("open_src", src, os.O_RDONLY)
    dfd = s.open("open_dst", dst, os.O_WRONLY)

    def copy_all():
        total = 0
        while total < len(data):
            n = os.copy_file_range(sfd, dfd, len(data) - total)
            if n == 0:
                break
            total += n
        return total
    s.value("copy_file_range", copy_all)
    s.value("dst_content", content, dst)
    s.value("equal", lambda: read_file(dst) == data)
    s.value("copy_with_offsets", lambda: os.copy_file_range(sfd, dfd, 10, 5, 300_000))
    s.value("dst_stat", stat_summary, dst)
    s.value("tail", lambda: show(os.pread(os.open(dst, os.O_RDONLY), 20, 299_995)))


# ---------------------------------------------------------------------------------------------------------
# rename, renameat2


@step
def rename_over_file(s):
    a, b = s.p("a"), s.p("b")
    write_file(a, b"AAA")
    write_file(b, b"BBBB")
    ino_a = os.stat(a).st_ino
    old = s.open("open_old_target", b, os.O_RDONLY)
    s.call("rename", os.rename, a, b)
    s.value("source_exists", exists, a)
    s.value("target_content", content, b)
    s.value("target_is_source_inode", lambda: os.stat(b).st_ino == ino_a)
    s.value("old_target_fd_reads_old", lambda: show(os.pread(old, 10, 0)))
    s.value("old_target_fd_nlink", lambda: os.fstat(old).st_nlink)
    s.value("listing", listing, s.d)


@step
def rename_dirs(s):
    os.makedirs(s.p("src", "sub"))
    write_file(s.p("src", "file"), b"f")
    os.mkdir(s.p("empty"))
    s.call("dir_over_empty_dir", os.rename, s.p("src"), s.p("empty"))
    s.value("moved_listing", listing, s.p("empty"))
    s.value("old_gone", exists, s.p("src"))
    os.makedirs(s.p("d1"))
    os.makedirs(s.p("full"))
    write_file(s.p("full", "x"), b"x")
    s.call("dir_over_nonempty_dir", os.rename, s.p("d1"), s.p("full"))
    write_file(s.p("file"), b"file")
    s.call("dir_over_file", os.rename, s.p("d1"), s.p("file"))
    s.call("file_over_dir", os.rename, s.p("file"), s.p("d1"))
    s.call("file_over_empty_dir", os.rename, s.p("file"), s.p("d1"))
    os.makedirs(s.p("own", "sub"))
    s.call("dir_into_own_subdir", os.rename, s.p("own"), s.p("own", "sub", "x"))
    s.call("dir_into_itself", os.rename, s.p("own"), s.p("own", "x"))
    s.call("missing_source", os.rename, s.p("missing"), s.p("other"))
    s.call("into_missing_dir", os.rename, s.p("file"), s.p("nodir", "file"))
    s.call("source_through_file", os.rename, s.p("file", "x"), s.p("y"))
    s.call("dot_as_source", os.rename, s.p("own", "."), s.p("z"))
    s.call("dir_onto_its_parent", os.rename, s.p("own", "sub"), s.p("own"))
    s.value("listing", listing, s.d)
    s.value("d1", lstat_summary, s.p("d1"))
    s.value("full", listing, s.p("full"))


@step
def rename_same_and_links(s):
    f, g = s.p("f"), s.p("g")
    write_file(f, b"same")
    s.call("rename_to_itself", os.rename, f, f)
    s.value("still_there", content, f)
    os.link(f, g)
    s.call("rename_hardlink_over_other_link", os.rename, f, g)
    s.value("listing_after_link_rename", listing, s.d)
    s.value("nlink", lambda: os.stat(g).st_nlink)
    os.mkdir(s.p("d"))
    s.call("rename_dir_to_itself", os.rename, s.p("d"), s.p("d"))
    s.call("rename_dir_trailing_slash", os.rename, s.p("d") + "/", s.p("e") + "/")
    s.call("rename_file_trailing_slash", os.rename, f, s.p("h") + "/")
    s.value("listing", listing, s.d)


@step
def rename_across_dirs(s):
    os.mkdir(s.p("a"))
    os.mkdir(s.p("b"))
    os.mkdir(s.p("a", "moving"))
    write_file(s.p("a", "moving", "child"), b"child")
    write_file(s.p("a", "file"), b"file")
    ino_file = os.stat(s.p("a", "file")).st_ino
    ino_dir = os.stat(s.p("a", "moving")).st_ino
    s.value("nlink_a_before", lambda: os.stat(s.p("a")).st_nlink)
    s.call("move_file", os.rename, s.p("a", "file"), s.p("b", "file2"))
    s.call("move_dir", os.rename, s.p("a", "moving"), s.p("b", "moved"))
    s.value("file_same_inode", lambda: os.stat(s.p("b", "file2")).st_ino == ino_file)
    s.value("dir_same_inode", lambda: os.stat(s.p("b", "moved")).st_ino == ino_dir)
    s.value("child_by_new_path", content, s.p("b", "moved", "child"))
    s.call("child_by_old_path", os.stat, s.p("a", "moving", "child"))
    s.value("dotdot_is_new_parent", lambda: same_ino(s.p("b", "moved", ".."), s.p("b")))
    s.value("nlink_a_after", lambda: os.stat(s.p("a")).st_nlink)
    s.value("nlink_b_after", lambda: os.stat(s.p("b")).st_nlink)
    s.value("listing_a", listing, s.p("a"))
    s.value("listing_b", listing, s.p("b"))


@step
def rename_open_and_xattr(s):
    f = s.p("f")
    write_file(f, b"start")
    os.setxattr(f, "user.tag", b"kept")
    fd = s.open("open_wronly", f, os.O_WRONLY | os.O_APPEND)
    s.call("rename", os.rename, f, s.p("g"))
    s.value("write_through_fd_after_rename", os.write, fd, b"+more")
    s.value("new_name_content", content, s.p("g"))
    s.value("xattr_follows", lambda: nm(os.getxattr(s.p("g"), "user.tag")))
    write_file(s.p("Name"), b"case")
    s.call("rename_case_only", os.rename, s.p("Name"), s.p("name"))
    s.value("listing", listing, s.d)


@step
def renameat2_noreplace(s):
    a, b = s.p("a"), s.p("b")
    write_file(a, b"A")
    write_file(b, b"B")
    s.call("noreplace_existing", renameat2, a, b, RENAME_NOREPLACE)
    s.value("a_after", content, a)
    s.value("b_after", content, b)
    s.call("noreplace_new", renameat2, a, s.p("c"), RENAME_NOREPLACE)
    os.mkdir(s.p("d"))
    s.call("noreplace_over_dir", renameat2, b, s.p("d"), RENAME_NOREPLACE)
    s.call("noreplace_and_exchange", renameat2, b, s.p("c"), RENAME_NOREPLACE | RENAME_EXCHANGE)
    s.value("listing", listing, s.d)


@step
def renameat2_exchange(s):
    a, b = s.p("a"), s.p("b")
    write_file(a, b"AAAA")
    write_file(b, b"BB")
    ino_a, ino_b = os.stat(a).st_ino, os.stat(b).st_ino
    s.call("exchange_files", renameat2, a, b, RENAME_EXCHANGE)
    s.value("a_content", content, a)
    s.value("b_content", content, b)
    s.value("inodes_swapped", lambda: os.stat(a).st_ino == ino_b and os.stat(b).st_ino == ino_a)
    os.mkdir(s.p("d"))
    write_file(s.p("d", "inside"), b"in")
    s.call("exchange_file_and_dir", renameat2, a, s.p("d"), RENAME_EXCHANGE)
    s.value("a_after", lstat_summary, a)
    s.value("a_listing", listing, a)
    s.value("d_after", lstat_summary, s.p("d"))
    s.call("exchange_with_missing", renameat2, b, s.p("missing"), RENAME_EXCHANGE)
    s.value("listing", listing, s.d)


@step
def renameat2_whiteout(s):
    a = s.p("a")
    write_file(a, b"A")
    s.call("whiteout", renameat2, a, s.p("b"), RENAME_WHITEOUT)
    s.value("source_after", lambda: dict(lstat_summary(a), rdev=os.lstat(a).st_rdev))
    s.value("target_after", content, s.p("b"))
    s.value("listing", listing, s.d)


# ---------------------------------------------------------------------------------------------------------
# unlink, rmdir, mkdir


@step
def unlink_ops(s):
    write_file(s.p("f"), b"x")
    os.mkdir(s.p("d"))
    os.symlink("f", s.p("lf"))
    s.call("unlink_missing", os.unlink, s.p("missing"))
    s.call("unlink_dir", os.unlink, s.p("d"))
    s.call("unlink_through_file", os.unlink, s.p("f", "x"))
    s.call("unlink_trailing_slash", os.unlink, s.p("f") + "/")
    s.call("unlink_symlink", os.unlink, s.p("lf"))
    s.value("target_kept", content, s.p("f"))
    s.call("unlink_file", os.unlink, s.p("f"))
    s.call("stat_after_unlink", os.stat, s.p("f"))
    s.call("unlink_again", os.unlink, s.p("f"))
    s.value("listing", listing, s.d)


@step
def rmdir_ops(s):
    os.mkdir(s.p("full"))
    write_file(s.p("full", "x"), b"x")
    write_file(s.p("f"), b"x")
    os.mkdir(s.p("empty"))
    os.symlink("empty", s.p("ldir"))
    s.call("rmdir_nonempty", os.rmdir, s.p("full"))
    s.call("rmdir_file", os.rmdir, s.p("f"))
    s.call("rmdir_missing", os.rmdir, s.p("missing"))
    s.call("rmdir_dot", os.rmdir, s.p("empty", "."))
    s.call("rmdir_symlink_to_dir", os.rmdir, s.p("ldir"))
    s.call("rmdir_empty", os.rmdir, s.p("empty"))
    s.call("stat_after_rmdir", os.stat, s.p("empty"))
    os.mkdir(s.p("held"))
    dfd = s.open("open_dir", s.p("held"), os.O_RDONLY | os.O_DIRECTORY)
    s.call("rmdir_open_dir", os.rmdir, s.p("held"))
    s.call("create_in_removed_dir", os.open, "child", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=dfd)
    s.value("fstat_removed_dir_nlink", lambda: os.fstat(dfd).st_nlink)
    s.value("listdir_removed_dir", lambda: sorted(os.listdir(dfd)))
    s.value("listing", listing, s.d)


@step
def unlink_open_file(s):
    f = s.p("f")
    write_file(f, b"survivor")
    fd = s.open("open_rdwr", f, os.O_RDWR)
    s.call("unlink", os.unlink, f)
    s.value("fstat", fstat_summary, fd)
    s.value("read", lambda: show(os.pread(fd, 100, 0)))
    s.value("write", os.pwrite, fd, b" still writable", 8)
    s.value("read_after_write", lambda: show(os.pread(fd, 100, 0)))
    s.call("fchmod", os.fchmod, fd, 0o600)
    s.value("fstat_after_fchmod", fstat_summary, fd)
    s.call("fsync", os.fsync, fd)
    s.call("fdatasync", os.fdatasync, fd)
    s.call("ftruncate", os.ftruncate, fd, 4)
    s.value("read_after_ftruncate", lambda: show(os.pread(fd, 100, 0)))
    s.call("fsetxattr", os.setxattr, fd, "user.orphan", b"yes")
    s.value("fgetxattr", lambda: nm(os.getxattr(fd, "user.orphan")))
    s.call("futimens", os.utime, fd, ns=(1_000_000_001, 2_000_000_002))
    s.value("fstat_times", lambda: [os.fstat(fd).st_atime_ns, os.fstat(fd).st_mtime_ns])
    s.value("listing", listing, s.d)
    s.call("recreate_same_name", write_file, f, b"new one")
    s.value("new_file_content", content, f)
    s.value("old_fd_unchanged", lambda: show(os.pread(fd, 100, 0)))
    s.value("old_fd_nlink", lambda: os.fstat(fd).st_nlink)
    # A larger orphan, read back after several writes.
    g = s.p("g")
    gfd = s.open("open_big", g, os.O_RDWR | os.O_CREAT)
    data = pattern(2 << 20, 5)
    s.value("big_write", os.write, gfd, data)
    s.call("big_unlink", os.unlink, g)
    s.value("big_read_back", lambda: show(read_fd(gfd)))


@step
def mkdir_ops(s):
    write_file(s.p("f"), b"x")
    os.symlink("nowhere", s.p("dangling"))
    s.call("mkdir", os.mkdir, s.p("d"))
    s.value("new_dir", stat_summary, s.p("d"))
    s.call("mkdir_existing_dir", os.mkdir, s.p("d"))
    s.call("mkdir_existing_file", os.mkdir, s.p("f"))
    s.call("mkdir_on_dangling_symlink", os.mkdir, s.p("dangling"))
    s.call("mkdir_missing_parent", os.mkdir, s.p("nodir", "d"))
    s.call("mkdir_through_file", os.mkdir, s.p("f", "d"))
    s.call("mkdir_mode_0750", os.mkdir, s.p("m750"), 0o750)
    s.value("mode_0750", mode_of, s.p("m750"))
    s.call("mkdir_mode_0777", os.mkdir, s.p("m777"), 0o777)
    s.value("mode_0777_umask", mode_of, s.p("m777"))
    s.call("mkdir_mode_1777", os.mkdir, s.p("sticky"), 0o1777)
    s.value("mode_1777", mode_of, s.p("sticky"))
    s.call("mkdir_trailing_slash", os.mkdir, s.p("t") + "/")
    s.call("mkdir_sub_1", os.mkdir, s.p("d", "s1"))
    s.call("mkdir_sub_2", os.mkdir, s.p("d", "s2"))
    write_file(s.p("d", "file"), b"x")
    s.value("parent_nlink_with_2_subdirs", lambda: os.stat(s.p("d")).st_nlink)
    s.value("dotdot", lambda: same_ino(s.p("d", "s1", ".."), s.p("d")))
    s.value("dot", lambda: same_ino(s.p("d", "."), s.p("d")))
    s.value("listing", listing, s.d)


@step
def setgid_directory(s):
    d = s.p("d")
    os.mkdir(d)
    os.chmod(d, 0o2775)
    s.value("mode", mode_of, d)
    s.call("mkdir_in_setgid", os.mkdir, s.p("d", "sub"))
    s.value("sub_mode_inherits_setgid", mode_of, s.p("d", "sub"))
    s.call("create_in_setgid", write_file, s.p("d", "f"), b"x")
    s.value("file_gid_is_dir_gid", lambda: os.stat(s.p("d", "f")).st_gid == os.stat(d).st_gid)
    s.value("file_mode", mode_of, s.p("d", "f"))


# ---------------------------------------------------------------------------------------------------------
# symlinks, hard links, special files


@step
def symlink_ops(s):
    write_file(s.p("f"), b"target data")
    os.mkdir(s.p("d"))
    s.call("symlink", os.symlink, "f", s.p("lf"))
    s.value("readlink", lambda: nm(os.readlink(s.p("lf"))))
    s.value("lstat", lstat_summary, s.p("lf"))
    s.value("stat_follows", stat_summary, s.p("lf"))
    s.value("read_through", content, s.p("lf"))
    s.call("symlink_dangling", os.symlink, "does/not/exist", s.p("dangling"))
    s.value("readlink_dangling", lambda: nm(os.readlink(s.p("dangling"))))
    s.call("stat_dangling", os.stat, s.p("dangling"))
    s.value("lstat_dangling", lstat_summary, s.p("dangling"))
    s.call("readlink_file", os.readlink, s.p("f"))
    s.call("readlink_dir", os.readlink, s.p("d"))
    s.call("readlink_missing", os.readlink, s.p("missing"))
    s.call("symlink_existing_name", os.symlink, "x", s.p("f"))
    s.call("symlink_empty_target", os.symlink, "", s.p("empty"))
    s.call("symlink_absolute", os.symlink, "/etc/hostname", s.p("abs"))
    s.value("readlink_absolute", lambda: nm(os.readlink(s.p("abs"))))
    odd = b"odd\xff\xfe target\nwith newline"
    s.call("symlink_non_utf8_target", os.symlink, odd, os.fsencode(s.p("odd")))
    s.value("readlink_non_utf8", lambda: os.readlink(os.fsencode(s.p("odd"))) == odd)
    long_target = ("x" * 200 + "/") * 20 + "end"
    s.call("symlink_long_target_4023", os.symlink, long_target, s.p("long"))
    s.value("readlink_long", lambda: os.readlink(s.p("long")) == long_target)
    s.value("lstat_long_size", lambda: os.lstat(s.p("long")).st_size)
    s.call("symlink_target_4096", os.symlink, "y" * 4096, s.p("toolong"))
    s.call("symlink_to_dir", os.symlink, "d", s.p("ld"))
    s.call("create_through_dir_symlink", write_file, s.p("ld", "inner"), b"in")
    s.value("inner_via_real_path", content, s.p("d", "inner"))
    s.value("listing", listing, s.d)


@step
def hardlink_ops(s):
    f = s.p("f")
    write_file(f, b"linked")
    os.mkdir(s.p("d"))
    s.call("link", os.link, f, s.p("g"))
    s.value("same_ino", lambda: same_ino(f, s.p("g")))
    s.value("nlink_f", lambda: os.stat(f).st_nlink)
    s.call("link_other_dir", os.link, f, s.p("d", "h"))
    s.value("nlink_3", lambda: os.stat(s.p("g")).st_nlink)
    s.call("write_through_g", write_file, s.p("g"), b"changed via g")
    s.value("f_sees_write", content, f)
    s.value("h_sees_write", content, s.p("d", "h"))
    s.call("chmod_through_h", os.chmod, s.p("d", "h"), 0o600)
    s.value("f_mode", mode_of, f)
    s.call("unlink_f", os.unlink, f)
    s.value("nlink_after_unlink", lambda: os.stat(s.p("g")).st_nlink)
    s.call("link_to_dir", os.link, s.p("d"), s.p("dlink"))
    s.call("link_existing_name", os.link, s.p("g"), s.p("d", "h"))
    s.call("link_missing", os.link, s.p("missing"), s.p("x"))
    s.call("link_into_missing_dir", os.link, s.p("g"), s.p("nodir", "x"))
    os.symlink("g", s.p("sym"))
    s.call("link_symlink_itself", os.link, s.p("sym"), s.p("sym2"), follow_symlinks=False)
    s.value("sym2", lstat_summary, s.p("sym2"))
    s.value("sym2_readlink", lambda: os.readlink(s.p("sym2")))
    s.call("link_follow_symlink", os.link, s.p("sym"), s.p("g2"), follow_symlinks=True)
    s.value("g2", lstat_summary, s.p("g2"))
    s.value("g2_same_ino_as_g", lambda: same_ino(s.p("g2"), s.p("g")))
    s.value("listing", listing, s.d)


@step
def fifo_and_mknod(s):
    p = s.p("fifo")
    s.call("mkfifo", os.mkfifo, p, 0o640)
    s.value("lstat", lstat_summary, p)
    s.call("mkfifo_existing", os.mkfifo, p)
    r = s.open("open_read_nonblock", p, os.O_RDONLY | os.O_NONBLOCK)
    w = s.open("open_write_nonblock", p, os.O_WRONLY | os.O_NONBLOCK)
    s.value("write", os.write, w, b"through the pipe")
    s.value("read", lambda: show(os.read(r, 100)))
    s.call("mknod_fifo", os.mknod, s.p("fifo2"), stat.S_IFIFO | 0o600)
    s.value("mknod_fifo_lstat", lstat_summary, s.p("fifo2"))
    s.call("mknod_regular", os.mknod, s.p("reg"), stat.S_IFREG | 0o644)
    s.value("mknod_regular_lstat", lstat_summary, s.p("reg"))
    s.value("scandir_types", lambda: sorted([nm(e.name), ftype(e.stat(follow_symlinks=False).st_mode)]
                                            for e in os.scandir(s.d)))


# ---------------------------------------------------------------------------------------------------------
# chmod, chown, times, stat


@step
def chmod_chown(s):
    f = s.p("f")
    write_file(f, b"x")
    uid, gid = os.getuid(), os.getgid()
    s.call("chmod_0640", os.chmod, f, 0o640)
    s.value("mode_0640", mode_of, f)
    s.call("chmod_4755", os.chmod, f, 0o4755)
    s.value("mode_4755", mode_of, f)
    s.call("chmod_0000", os.chmod, f, 0)
    s.value("mode_0000", mode_of, f)
    s.value("root_reads_mode_0000", content, f)
    fd = os.open(f, os.O_RDONLY)
    s.call("fchmod_0604", os.fchmod, fd, 0o604)
    os.close(fd)
    s.value("mode_0604", mode_of, f)
    s.call("chown_own", os.chown, f, uid, gid)
    s.value("owner_is_own", lambda: (os.stat(f).st_uid, os.stat(f).st_gid) == (uid, gid))
    s.call("chown_minus_one", os.chown, f, -1, -1)
    os.chmod(f, 0o6755)
    s.call("chown_clears_setuid", os.chown, f, uid, gid)
    s.value("mode_after_chown", mode_of, f)
    os.symlink("f", s.p("l"))
    s.call("chmod_via_symlink", os.chmod, s.p("l"), 0o700)
    s.value("target_mode", mode_of, f)
    s.call("lchown_symlink", os.lchown, s.p("l"), uid, gid)
    s.call("chown_other_uid", os.chown, f, 1234, 2345)
    s.value("owner_after_chown_other", lambda: [os.stat(f).st_uid, os.stat(f).st_gid])
    s.call("chmod_missing", os.chmod, s.p("missing"), 0o644)
    os.mkdir(s.p("d"))
    s.call("chmod_dir_0700", os.chmod, s.p("d"), 0o700)
    s.value("dir_mode", mode_of, s.p("d"))


def times_of(path, follow=True):
    st = os.stat(path, follow_symlinks=follow)
    return {"atime_ns": st.st_atime_ns, "mtime_ns": st.st_mtime_ns}


@step
def utimens_ops(s):
    f = s.p("f")
    write_file(f, b"times")
    t_a = 1_600_000_000_123_456_789
    t_m = 1_500_000_000_987_654_321
    s.call("utime_ns", os.utime, f, ns=(t_a, t_m))
    s.value("times", times_of, f)
    s.call("omit_atime_set_mtime", utimensat, f, OMIT, 1_400_000_000_000_000_001)
    s.value("times_after_omit", times_of, f)
    s.call("set_atime_omit_mtime", utimensat, f, 1_300_000_000_000_000_002, OMIT)
    s.value("times_after_omit_mtime", times_of, f)
    before = time.time_ns()
    s.call("now_mtime_omit_atime", utimensat, f, OMIT, NOW)
    after = time.time_ns()
    slack = 50_000_000
    s.value("mtime_now_in_range", lambda: before - slack <= os.stat(f).st_mtime_ns <= after + slack)
    s.value("atime_kept_with_omit", lambda: os.stat(f).st_atime_ns)
    s.call("both_now", utimensat, f, NOW, NOW)
    s.value("both_now_in_range", lambda: all(before - slack <= t <= time.time_ns() + slack
                                             for t in (os.stat(f).st_atime_ns, os.stat(f).st_mtime_ns)))
    pre = -1_234_567_890_500_000_000
    s.call("pre_1970", os.utime, f, ns=(pre, pre - 1))
    s.value("times_pre_1970", times_of, f)
    s.call("epoch_zero", os.utime, f, ns=(0, 0))
    s.value("times_epoch", times_of, f)
    future = 4_102_444_800_000_000_007  # 2100-01-01
    s.call("year_2100", os.utime, f, ns=(future, future))
    s.value("times_2100", times_of, f)
    fd = os.open(f, os.O_RDWR)
    s.call("futimens", os.utime, fd, ns=(1_111_111_111_111_111_111, 1_222_222_222_222_222_222))
    s.value("times_after_futimens", times_of, f)
    s.call("write_after_utime", os.write, fd, b"W")
    s.value("write_moves_mtime_to_now", lambda: os.fstat(fd).st_mtime_ns > 1_600_000_000_000_000_000)
    os.utime(f, ns=(t_a, t_m))
    s.call("ftruncate_after_utime", os.ftruncate, fd, 2)
    s.value("truncate_moves_mtime", lambda: os.fstat(fd).st_mtime_ns != t_m)
    os.close(fd)
    os.utime(f, ns=(t_a, t_m))
    s.value("mtime_set_after_write_kept_by_later_read", lambda: (read_file(f), os.stat(f).st_mtime_ns)[1])
    os.symlink("f", s.p("l"))
    os.utime(f, ns=(t_a, t_m))
    s.call("lutimes_symlink", os.utime, s.p("l"), ns=(1_000_000_000_000_000_003, 1_000_000_000_000_000_004),
           follow_symlinks=False)
    s.value("symlink_times", times_of, s.p("l"), False)
    s.value("target_times_unchanged", times_of, f)
    s.call("utime_missing", os.utime, s.p("missing"), ns=(0, 0))
    s.call("utime_invalid_nsec", utimensat, f, 1 * 1_000_000_000 + 0, (None, 1_000_000_000))
    os.mkdir(s.p("d"))
    s.call("dir_utime", os.utime, s.p("d"), ns=(1_000_000_000_000_000_005, 1_000_000_000_000_000_006))
    s.value("dir_times", times_of, s.p("d"))
    os.utime(s.p("d"), ns=(t_a, t_m))
    write_file(s.p("d", "new"), b"")
    s.value("create_moves_dir_mtime", lambda: os.stat(s.p("d")).st_mtime_ns != t_m)
    os.utime(s.p("d"), ns=(t_a, t_m))
    os.unlink(s.p("d", "new"))
    s.value("unlink_moves_dir_mtime", lambda: os.stat(s.p("d")).st_mtime_ns != t_m)


@step
def stat_fields(s):
    f = s.p("f")
    write_file(f, pattern(5000, 6))
    uid, gid = os.getuid(), os.getgid()
    s.value("stat", stat_summary, f)
    s.value("lstat_equals_stat", lambda: os.lstat(f) == os.stat(f))
    fd = os.open(f, os.O_RDONLY)
    s.value("fstat_equals_stat", lambda: (lambda a, b: (a.st_ino, a.st_mode, a.st_size, a.st_nlink)
                                          == (b.st_ino, b.st_mode, b.st_size, b.st_nlink))(os.fstat(fd), os.stat(f)))
    os.close(fd)
    s.value("owner_is_own", lambda: (os.stat(f).st_uid, os.stat(f).st_gid) == (uid, gid))
    s.value("blocks_cover_size", lambda: os.stat(f).st_blocks * 512 >= os.stat(f).st_size)
    s.value("blocks_not_absurd", lambda: os.stat(f).st_blocks * 512 < 1 << 20)
    s.value("rdev_zero", lambda: os.stat(f).st_rdev == 0)
    write_file(s.p("empty"), b"")
    s.value("empty_stat", stat_summary, s.p("empty"))
    s.value("empty_blocks", lambda: os.stat(s.p("empty")).st_blocks)
    os.mkdir(s.p("d"))
    s.value("dir_stat", stat_summary, s.p("d"))
    s.value("dir_owner_is_own", lambda: (os.stat(s.p("d")).st_uid, os.stat(s.p("d")).st_gid) == (uid, gid))
    s.value("distinct_inodes", lambda: len({os.stat(s.p(n)).st_ino for n in ("f", "empty", "d")}) == 3)
    s.value("stat_ino_matches_readdir", lambda: all(e.inode() == os.lstat(e.path).st_ino for e in os.scandir(s.d)))
    s.value("step_dir_stat", stat_summary, s.d)


# ---------------------------------------------------------------------------------------------------------
# fsync, locks


@step
def fsync_ops(s):
    f = s.p("f")
    fd = s.open("open", f, os.O_RDWR | os.O_CREAT)
    os.write(fd, b"durable")
    s.call("fsync", os.fsync, fd)
    s.call("fdatasync", os.fdatasync, fd)
    rfd = s.open("open_rdonly", f, os.O_RDONLY)
    s.call("fsync_rdonly_fd", os.fsync, rfd)
    dfd = s.open("open_dir", s.d, os.O_RDONLY | os.O_DIRECTORY)
    s.call("fsyncdir", os.fsync, dfd)
    s.call("fdatasync_dir", os.fdatasync, dfd)
    s.try_open("open_o_sync", f, os.O_WRONLY | os.O_SYNC)
    sfd = s.open("open_o_dsync_append", f, os.O_WRONLY | os.O_DSYNC | os.O_APPEND)
    s.value("write_o_dsync", os.write, sfd, b"+sync")
    s.value("content", content, f)
    p = s.p("fifo")
    os.mkfifo(p)
    ffd = s.open("open_fifo", p, os.O_RDONLY | os.O_NONBLOCK)
    s.call("fsync_fifo", os.fsync, ffd)


@step
def direct_io(s):
    f = s.p("f")
    buf = mmap.mmap(-1, 8192)  # page aligned
    buf.write(pattern(8192, 7))
    fd = s.open("open_o_direct", f, os.O_RDWR | os.O_CREAT | os.O_DIRECT)
    if fd is not None:
        s.value("write_direct", os.pwritev, fd, [buf], 0)
        out = mmap.mmap(-1, 8192)
        s.value("read_direct", os.preadv, fd, [out], 0)
        s.value("same_bytes", lambda: out[:] == buf[:])
    s.value("buffered_read", content, f)


@step
def flock_ops(s):
    f = s.p("f")
    write_file(f, b"lock me")
    a = s.open("open_a", f, os.O_RDWR)
    b = s.open("open_b", f, os.O_RDWR)
    s.call("a_lock_ex", fcntl.flock, a, fcntl.LOCK_EX)
    s.call("b_lock_ex_nb", fcntl.flock, b, fcntl.LOCK_EX | fcntl.LOCK_NB)
    s.call("b_lock_sh_nb", fcntl.flock, b, fcntl.LOCK_SH | fcntl.LOCK_NB)
    s.call("a_unlock", fcntl.flock, a, fcntl.LOCK_UN)
    s.call("b_lock_ex_nb_after_unlock", fcntl.flock, b, fcntl.LOCK_EX | fcntl.LOCK_NB)
    s.call("b_unlock", fcntl.flock, b, fcntl.LOCK_UN)
    s.call("a_lock_sh", fcntl.flock, a, fcntl.LOCK_SH | fcntl.LOCK_NB)
    s.call("b_lock_sh", fcntl.flock, b, fcntl.LOCK_SH | fcntl.LOCK_NB)
    c = s.open("open_c", f, os.O_RDONLY)
    s.call("c_lock_ex_nb_while_shared", fcntl.flock, c, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(a)
    s.fds.remove(a)
    os.close(b)
    s.fds.remove(b)
    s.call("c_lock_ex_after_close", fcntl.flock, c, fcntl.LOCK_EX | fcntl.LOCK_NB)
    d = s.open("open_dir", s.d, os.O_RDONLY | os.O_DIRECTORY)
    s.call("flock_dir", fcntl.flock, d, fcntl.LOCK_EX | fcntl.LOCK_NB)


def in_child(fn):
    """Runs fn() in a forked child; returns its JSON-able result (or raises what it raised as OSError)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            try:
                out = {"ok": fn()}
            except OSError as e:
                out = {"errno": e.errno}
            except Exception as e:  # noqa: BLE001
                out = {"exception": "%s: %s" % (type(e).__name__, e)}
            os.write(w, json.dumps(out).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    out = json.loads(data.decode() or '{"exception": "child said nothing"}')
    if "errno" in out:
        raise OSError(out["errno"], os.strerror(out["errno"]))
    if "exception" in out:
        raise RuntimeError(out["exception"])
    return out["ok"]


@step
def fcntl_locks(s):
    f = s.p("f")
    write_file(f, b"0" * 1000)
    fd = s.open("open", f, os.O_RDWR)
    parent = os.getpid()
    s.call("setlk_write_0_100", setlk, fd, fcntl.F_SETLK, flock_struct(fcntl.F_WRLCK, 0, 100))

    def child_setlk(ltype, start, length):
        def run():
            cfd = os.open(f, os.O_RDWR)
            fcntl.fcntl(cfd, fcntl.F_SETLK, flock_struct(ltype, start, length))
            return None
        return run
    s.call("child_setlk_conflict", in_child, child_setlk(fcntl.F_WRLCK, 50, 10))
    s.call("child_setlk_read_conflict", in_child, child_setlk(fcntl.F_RDLCK, 0, 1))
    s.call("child_setlk_disjoint", in_child, child_setlk(fcntl.F_WRLCK, 200, 100))

    def child_getlk():
        cfd = os.open(f, os.O_RDWR)
        res = fcntl.fcntl(cfd, fcntl.F_GETLK, flock_struct(fcntl.F_WRLCK, 0, 1000))
        ltype, _, start, length, pid = struct.unpack("hhqqi4x", res)
        return {"type": lock_type_name(ltype), "start": start, "len": length, "pid_is_parent": pid == parent}
    s.call("child_getlk", in_child, child_getlk)
    s.call("same_process_relock", setlk, fd, fcntl.F_SETLK, flock_struct(fcntl.F_WRLCK, 0, 10))
    s.call("unlock", setlk, fd, fcntl.F_SETLK, flock_struct(fcntl.F_UNLCK, 0, 0))
    s.call("child_setlk_after_unlock", in_child, child_setlk(fcntl.F_WRLCK, 50, 10))
    # Closing any descriptor of the file drops the process's POSIX locks.
    s.call("relock", setlk, fd, fcntl.F_SETLK, flock_struct(fcntl.F_WRLCK, 0, 100))
    os.close(os.open(f, os.O_RDONLY))
    s.call("child_setlk_after_other_close", in_child, child_setlk(fcntl.F_WRLCK, 0, 10))
    # Open file description locks conflict between two descriptors of one process.
    a = s.open("open_ofd_a", f, os.O_RDWR)
    b = s.open("open_ofd_b", f, os.O_RDWR)
    s.call("ofd_setlk_a", setlk, a, F_OFD_SETLK, flock_struct(fcntl.F_WRLCK, 500, 10))
    s.call("ofd_setlk_b_conflict", setlk, b, F_OFD_SETLK, flock_struct(fcntl.F_WRLCK, 505, 10))

    def ofd_getlk():
        res = fcntl.fcntl(b, F_OFD_GETLK, flock_struct(fcntl.F_WRLCK, 500, 1))
        ltype, _, start, length, pid = struct.unpack("hhqqi4x", res)
        return {"type": lock_type_name(ltype), "start": start, "len": length, "pid": pid}
    s.call("ofd_getlk_b", ofd_getlk)


# ---------------------------------------------------------------------------------------------------------
# Extended attributes


@step
def xattr_ops(s):
    f = s.p("f")
    write_file(f, b"x")
    s.call("get_missing", os.getxattr, f, "user.missing")
    s.call("set", os.setxattr, f, "user.color", b"blue")
    s.value("get", lambda: show(os.getxattr(f, "user.color")))
    s.call("set_create_existing", os.setxattr, f, "user.color", b"red", os.XATTR_CREATE)
    s.call("set_replace_missing", os.setxattr, f, "user.other", b"x", os.XATTR_REPLACE)
    s.call("set_replace_existing", os.setxattr, f, "user.color", b"green", os.XATTR_REPLACE)
    s.call("set_create_new", os.setxattr, f, "user.shape", b"round", os.XATTR_CREATE)
    s.value("get_replaced", lambda: show(os.getxattr(f, "user.color")))
    s.call("set_empty_value", os.setxattr, f, "user.empty", b"")
    s.value("get_empty_value", lambda: show(os.getxattr(f, "user.empty")))
    binary = bytes(range(256))
    s.call("set_binary", os.setxattr, f, "user.binary", binary)
    s.value("get_binary_equal", lambda: os.getxattr(f, "user.binary") == binary)
    s.value("size_query", getxattr_size, f, "user.color", 0)
    s.call("get_small_buffer", getxattr_size, f, "user.color", 2)
    s.value("list", lambda: sorted(os.listxattr(f)))
    s.call("remove", os.removexattr, f, "user.shape")
    s.call("remove_missing", os.removexattr, f, "user.shape")
    s.call("get_removed", os.getxattr, f, "user.shape")
    s.value("list_after_remove", lambda: sorted(os.listxattr(f)))
    s.call("name_255", os.setxattr, f, "user." + "n" * 250, b"v")
    s.call("name_256", os.setxattr, f, "user." + "n" * 251, b"v")
    s.call("unknown_namespace", os.setxattr, f, "bogus.name", b"v")
    s.call("empty_user_name", os.setxattr, f, "user.", b"v")
    s.call("get_missing_file", os.getxattr, s.p("missing"), "user.color")
    os.mkdir(s.p("d"))
    s.call("set_on_dir", os.setxattr, s.p("d"), "user.dir", b"d")
    s.value("get_on_dir", lambda: show(os.getxattr(s.p("d"), "user.dir")))
    os.symlink("f", s.p("l"))
    s.call("set_on_symlink_nofollow", os.setxattr, s.p("l"), "user.link", b"l", follow_symlinks=False)
    s.call("set_through_symlink", os.setxattr, s.p("l"), "user.via", b"v")
    s.value("get_via_target", lambda: show(os.getxattr(f, "user.via")))
    s.value("list_symlink_nofollow", lambda: sorted(os.listxattr(s.p("l"), follow_symlinks=False)))
    fd = os.open(f, os.O_RDONLY)
    s.call("fsetxattr", os.setxattr, fd, "user.fd", b"fd")
    s.value("fgetxattr", lambda: show(os.getxattr(fd, "user.fd")))
    os.close(fd)
    s.call("many_names", lambda: [os.setxattr(f, "user.k%03d" % i, b"%d" % i) for i in range(100)] and None)
    s.value("list_many_count", lambda: len(os.listxattr(f)))
    s.value("many_values", lambda: all(os.getxattr(f, "user.k%03d" % i) == b"%d" % i for i in range(100)))


@step
def xattr_large(s):
    f = s.p("f")
    write_file(f, b"x")
    v4k = pattern(4000, 8)
    s.call("set_4000", os.setxattr, f, "user.v4k", v4k)
    s.value("get_4000_equal", lambda: os.getxattr(f, "user.v4k") == v4k)
    g = s.p("g")
    write_file(g, b"x")
    v64 = pattern(65536, 9)
    s.call("set_64KiB", os.setxattr, g, "user.big", v64)
    s.value("get_64KiB_equal", lambda: os.getxattr(g, "user.big") == v64)
    s.call("set_64KiB_plus_1", os.setxattr, g, "user.too", pattern(65537, 10))
    s.value("list", lambda: sorted(os.listxattr(g)))


# ---------------------------------------------------------------------------------------------------------
# Names and paths


@step
def errno_per_call(s):
    # The errno tables of the man pages, call by call: a symlink loop (ELOOP), a file as a path
    # component (ENOTDIR), an existing name (EEXIST), a rename to another filesystem (EXDEV).
    write_file(s.p("f"), b"f")
    os.mkdir(s.p("d"))
    os.symlink("loop_b", s.p("loop_a"))
    os.symlink("loop_a", s.p("loop_b"))
    loop, through_file, taken = s.p("loop_a", "x"), s.p("f", "x"), s.p("d")
    calls = {
        "chmod": lambda p: os.chmod(p, 0o600),
        "chown": lambda p: os.chown(p, 0, 0),
        "link_to": lambda p: os.link(s.p("f"), p),
        "mkdir": lambda p: os.mkdir(p),
        "mkfifo": lambda p: os.mkfifo(p),
        "open_creat": lambda p: os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644)),
        "open_creat_excl": lambda p: os.close(os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)),
        "rename_to": lambda p: os.rename(s.p("f"), p),
        "rmdir": lambda p: os.rmdir(p),
        "symlink_at": lambda p: os.symlink("t", p),
        "truncate": lambda p: os.truncate(p, 0),
        "unlink": lambda p: os.unlink(p),
        "utimensat": lambda p: os.utime(p, ns=(1, 1)),
    }
    for name, call in sorted(calls.items()):
        s.call(name + "_eloop", call, loop)
        s.call(name + "_enotdir", call, through_file)
    for name in ("link_to", "mkdir", "mkfifo", "open_creat_excl", "symlink_at"):
        s.call(name + "_eexist", calls[name], taken)
    # A component of 256 bytes, last or in the middle, and a path longer than PATH_MAX.
    long_last, long_middle = s.p("n" * 256), s.p("n" * 256, "x")
    too_long_path = s.p(*(["m" * 200] * 21))
    for name, call in sorted(calls.items()):
        s.call(name + "_enametoolong", call, long_last)
        s.call(name + "_enametoolong_middle", call, long_middle)
        s.call(name + "_path_max", call, too_long_path)
    s.call("rename_from_enametoolong", os.rename, long_last, s.p("f2"))
    s.call("link_from_enametoolong", os.link, long_last, s.p("f2"))
    s.call("open_loop_itself", lambda: os.close(os.open(s.p("loop_a"), os.O_RDONLY)))
    s.call("stat_loop_itself", os.stat, s.p("loop_a"))
    s.value("lstat_loop_itself", lambda: ftype(os.lstat(s.p("loop_a")).st_mode))
    # /dev/shm is another filesystem (tmpfs) on every Linux this runs on.
    other = "/dev/shm/nexusfs-exerciser-%d" % os.getpid()
    s.call("rename_to_other_fs", os.rename, s.p("f"), other)
    s.call("link_to_other_fs", os.link, s.p("f"), other)
    if os.path.lexists(other):
        os.unlink(other)
    s.value("listing", listing, s.d)


@step
def link_max(s):
    # EMLINK: ext4 and the mount allow 65,000 names of one file; the next link() is refused.
    write_file(s.p("f"), b"f")
    os.mkdir(s.p("links"))
    made = 0
    failure = None
    for i in range(70000):
        try:
            os.link(s.p("f"), s.p("links", str(i)))
        except OSError as e:
            failure = errname(e.errno)
            break
        made += 1
    s.value("links_made", lambda: made + 1)
    s.value("refused_with", lambda: failure)
    s.value("nlink", lambda: os.stat(s.p("f")).st_nlink)
    s.call("unlink_one", os.unlink, s.p("links", "0"))
    s.call("link_again", os.link, s.p("f"), s.p("links", "again"))
    s.call("link_once_more", os.link, s.p("f"), s.p("links", "more"))
    s.call("rename_onto_link", os.rename, s.p("links", "again"), s.p("links", "1"))
    s.value("nlink_after", lambda: os.stat(s.p("f")).st_nlink)
    shutil.rmtree(s.p("links"))
    s.value("nlink_after_rm", lambda: os.stat(s.p("f")).st_nlink)


UNPRIVILEGED = 65534  # nobody, nogroup


def as_unprivileged(calls):
    """Runs each (label, fn) in one forked child that dropped to uid and gid 65534 with no groups;
    returns [(label, outcome)] with outcomes as Step.call records them."""
    def run():
        os.setgroups([])
        os.setgid(UNPRIVILEGED)
        os.setuid(UNPRIVILEGED)
        out = []
        for label, fn in calls:
            try:
                value = fn()
                out.append([label, "ok" if value is None else {"ok": jsonable(value)}])
            except OSError as e:
                out.append([label, errname(e.errno)])
        return out
    return in_child(run)


@step
def access_errors(s):
    # EACCES and EPERM by class, for a user who is not root (uid 65534): no search permission on a
    # folder on the way, no write permission on the folder, the sticky bit, and calls that only the
    # owner (chmod, chown, explicit times) or a writer (truncate, O_WRONLY, times set to now) may make.
    os.chmod(s.d, 0o755)
    def folder(name, mode, owner=0):
        os.mkdir(s.p(name))
        os.chown(s.p(name), owner, owner)
        os.chmod(s.p(name), mode)
    folder("closed", 0o700)
    write_file(s.p("closed", "f"), b"c")
    folder("ro", 0o555)
    write_file(s.p("ro", "f"), b"r", 0o666)
    os.chmod(s.p("ro", "f"), 0o666)
    os.mkdir(s.p("ro", "sub"))
    folder("sticky", 0o1777)
    write_file(s.p("sticky", "rootfile"), b"s", 0o666)
    os.chmod(s.p("sticky", "rootfile"), 0o666)
    os.mkdir(s.p("sticky", "rootdir"))
    os.chmod(s.p("sticky", "rootdir"), 0o777)
    folder("open", 0o777)
    write_file(s.p("open", "rootfile"), b"o", 0o644)
    write_file(s.p("open", "secret"), b"x", 0o600)
    os.mkdir(s.p("open", "rootdir"))
    os.mkdir(s.p("open", "dest"))
    os.chmod(s.p("open", "dest"), 0o777)
    write_file(s.p("open", "noperm"), b"n", 0o644)
    os.chown(s.p("open", "noperm"), UNPRIVILEGED, UNPRIVILEGED)
    os.chmod(s.p("open", "noperm"), 0o000)
    write_file(s.p("open", "theirgroup"), b"g", 0o644)
    os.chown(s.p("open", "theirgroup"), UNPRIVILEGED, 0)
    write_file(s.p("open", "script"), b"#!/bin/sh\nexit 0\n", 0o644)
    os.chown(s.p("open", "script"), UNPRIVILEGED, UNPRIVILEGED)
    c, ro, st, op = s.p("closed"), s.p("ro"), s.p("sticky"), s.p("open")
    calls = [
        # Search permission missing on a folder on the way: EACCES for every call.
        ("closed_stat", lambda: os.stat(c + "/f") and None),
        ("closed_open", lambda: os.close(os.open(c + "/f", os.O_RDONLY))),
        ("closed_create", lambda: os.close(os.open(c + "/new", os.O_CREAT | os.O_WRONLY, 0o644))),
        ("closed_listdir", lambda: os.listdir(c) and None),
        ("closed_chmod", lambda: os.chmod(c + "/f", 0o600)),
        ("closed_unlink", lambda: os.unlink(c + "/f")),
        ("closed_rename", lambda: os.rename(c + "/f", op + "/moved")),
        ("closed_getxattr", lambda: os.getxattr(c + "/f", "user.x")),
        # No write permission on the folder: EACCES to change its entries, but the file itself is writable.
        ("ro_create", lambda: os.close(os.open(ro + "/new", os.O_CREAT | os.O_WRONLY, 0o644))),
        ("ro_mkdir", lambda: os.mkdir(ro + "/newdir")),
        ("ro_mkfifo", lambda: os.mkfifo(ro + "/fifo")),
        ("ro_symlink", lambda: os.symlink("t", ro + "/sl")),
        ("ro_link", lambda: os.link(ro + "/f", ro + "/f2")),
        ("ro_unlink", lambda: os.unlink(ro + "/f")),
        ("ro_rmdir", lambda: os.rmdir(ro + "/sub")),
        ("ro_rename_within", lambda: os.rename(ro + "/f", ro + "/g")),
        ("ro_rename_out", lambda: os.rename(ro + "/f", op + "/from_ro")),
        ("ro_rename_in", lambda: os.rename(op + "/rootfile", ro + "/into")),
        ("ro_write_file", lambda: write_file(ro + "/f", b"written", 0o666)),
        # The sticky bit: only the owner of the file or folder may delete or rename it: EPERM.
        ("sticky_create_own", lambda: write_file(st + "/mine", b"m")),
        ("sticky_unlink_other", lambda: os.unlink(st + "/rootfile")),
        ("sticky_rename_other", lambda: os.rename(st + "/rootfile", st + "/taken")),
        ("sticky_rmdir_other", lambda: os.rmdir(st + "/rootdir")),
        ("sticky_rename_over_other", lambda: os.rename(st + "/mine", st + "/rootfile")),
        ("sticky_rename_own", lambda: os.rename(st + "/mine", st + "/mine2")),
        ("sticky_unlink_own", lambda: os.unlink(st + "/mine2")),
        # Calls only the owner may make: EPERM; calls that need write permission: EACCES.
        ("chmod_other", lambda: os.chmod(op + "/rootfile", 0o666)),
        ("chown_other", lambda: os.chown(op + "/rootfile", UNPRIVILEGED, UNPRIVILEGED)),
        ("utime_explicit_other", lambda: os.utime(op + "/rootfile", ns=(1, 1))),
        ("utime_now_other", lambda: os.utime(op + "/rootfile")),
        ("truncate_other", lambda: os.truncate(op + "/rootfile", 0)),
        ("open_wronly_other", lambda: os.close(os.open(op + "/rootfile", os.O_WRONLY))),
        ("open_rdonly_secret", lambda: os.close(os.open(op + "/secret", os.O_RDONLY))),
        ("setxattr_other", lambda: os.setxattr(op + "/rootfile", "user.x", b"1")),
        ("link_other_unreadable", lambda: os.link(op + "/secret", op + "/secret_link")),
        ("rename_dir_other_to_new_parent", lambda: os.rename(op + "/rootdir", op + "/dest/rootdir")),
        ("rename_dir_other_same_parent", lambda: os.rename(op + "/rootdir", op + "/rootdir2")),
        ("create_own", lambda: write_file(op + "/own", b"own")),
        ("chown_own_to_root", lambda: os.chown(op + "/own", 0, -1)),
        ("chgrp_own_to_root", lambda: os.chown(op + "/own", -1, 0)),
        ("chown_own_to_self", lambda: os.chown(op + "/own", UNPRIVILEGED, UNPRIVILEGED)),
        ("chmod_own", lambda: os.chmod(op + "/own", 0o600)),
        ("utime_explicit_own", lambda: os.utime(op + "/own", ns=(7, 7))),
        ("chmod_own_setgid", lambda: os.chmod(op + "/own", 0o2755) or oct(os.stat(op + "/own").st_mode & 0o7777)),
        # Not a member of the file's group: chmod drops the setgid bit instead of failing.
        ("chmod_setgid_other_group", lambda: os.chmod(op + "/theirgroup", 0o2755) or oct(os.stat(op + "/theirgroup").st_mode & 0o7777)),
        ("open_own_mode_000", lambda: os.close(os.open(op + "/noperm", os.O_RDONLY))),
        ("chmod_own_mode_000", lambda: os.chmod(op + "/noperm", 0o600)),
        ("exec_not_executable", lambda: os.execv(op + "/script", [op + "/script"])),
        ("access_x_not_executable", lambda: os.access(op + "/script", os.X_OK)),
        ("mknod_char_device", lambda: os.mknod(op + "/dev", 0o600 | stat.S_IFCHR, os.makedev(1, 3))),
    ]
    for label, outcome in as_unprivileged(calls):
        s._put(label, outcome)
    s.value("listing", lambda: sorted(listing(s.d)))
    s.value("open_listing", lambda: sorted(listing(op)))
    s.value("sticky_listing", lambda: sorted(listing(st)))
    s.value("own_mode", lambda: oct(os.stat(op + "/own").st_mode & 0o7777))
    s.value("own_owner", lambda: [os.stat(op + "/own").st_uid, os.stat(op + "/own").st_gid])
    s.value("ro_f_content", content, ro + "/f")


@step
def times_per_call(s):
    # Which times each call moves, on the node and on its folder (POSIX: a call that changes a
    # folder's entries updates its mtime and ctime; one that changes a node updates its ctime).
    os.mkdir(s.p("dir"))
    write_file(s.p("dir", "f"), b"f")
    write_file(s.p("dir", "victim"), b"v")
    os.mkdir(s.p("dir", "sub"))

    def moved(label, call, *paths):
        before = [os.lstat(p) for p in paths]
        time.sleep(0.02)
        s.call(label, call)
        after = [os.lstat(p) if os.path.lexists(p) else None for p in paths]
        s.value(label + "_times", lambda: [
            None if a is None else {"mtime": a.st_mtime_ns > b.st_mtime_ns, "ctime": a.st_ctime_ns > b.st_ctime_ns}
            for b, a in zip(before, after)])

    d, f = s.p("dir"), s.p("dir", "f")
    moved("chmod", lambda: os.chmod(f, 0o600), f, d)
    moved("chown", lambda: os.chown(f, 0, 0), f, d)
    moved("truncate", lambda: os.truncate(f, 0), f, d)
    moved("utime", lambda: os.utime(f, ns=(5, 5)), f, d)
    moved("link", lambda: os.link(f, s.p("dir", "g")), f, d)
    moved("unlink_of_link", lambda: os.unlink(s.p("dir", "g")), f, d)
    moved("rename_within", lambda: os.rename(f, s.p("dir", "h")), s.p("dir", "victim"), d)
    moved("rename_into_sub", lambda: os.rename(s.p("dir", "h"), s.p("dir", "sub", "h")), s.p("dir", "sub"), d)
    moved("rename_over", lambda: os.rename(s.p("dir", "sub", "h"), s.p("dir", "victim")), d, s.p("dir", "sub"))
    moved("mkdir", lambda: os.mkdir(s.p("dir", "new")), d)
    moved("rmdir", lambda: os.rmdir(s.p("dir", "new")), d)
    moved("mkfifo", lambda: os.mkfifo(s.p("dir", "fifo")), d)
    moved("symlink", lambda: os.symlink("t", s.p("dir", "sl")), d)
    moved("unlink", lambda: os.unlink(s.p("dir", "sl")), d)
    moved("create", lambda: write_file(s.p("dir", "c"), b""), d)
    moved("write", lambda: write_file(s.p("dir", "c"), b"data"), s.p("dir", "c"), d)


@step
def name_lengths(s):
    n255 = "a" * 255
    n256 = "b" * 256
    s.call("create_255", write_file, s.p(n255), b"255")
    s.value("read_255", content, s.p(n255))
    s.value("listing_has_255", lambda: n255 in os.listdir(s.d))
    s.call("create_256", write_file, s.p(n256), b"256")
    s.call("stat_256", os.stat, s.p(n256))
    s.call("mkdir_256", os.mkdir, s.p(n256))
    s.call("symlink_name_256", os.symlink, "x", s.p(n256))
    s.call("rename_to_256", os.rename, s.p(n255), s.p(n256))
    s.call("link_to_256", os.link, s.p(n255), s.p(n256))
    s.call("mkdir_255", os.mkdir, s.p("d" * 255))
    s.call("rename_255_dir", os.rename, s.p("d" * 255), s.p("e" * 255))
    mb = "€" * 85  # 255 bytes of UTF-8
    s.call("create_255_bytes_multibyte", write_file, s.p(mb), b"euro")
    s.value("read_multibyte", content, s.p(mb))
    s.call("create_258_bytes_multibyte", write_file, s.p("€" * 86), b"x")
    s.value("listing", lambda: sorted(n if len(n) < 40 else "%s...(%d bytes)" % (n[:3], len(os.fsencode(n)))
                                      for n in listing(s.d)))


@step
def name_bytes(s):
    d = os.fsencode(s.d)
    names = [b"bad\xff\xfename", b"new\nline", b"tab\there", b" leading space", b"trailing space ",
             b"-dash", b"back\\slash", b"star*?[]", b"quote\"'", b"colon:semi;", b"percent%s", b"...", b"..a",
             b"\x01\x1f control", b"emoji \xf0\x9f\x90\x8e", b"Case", b"case", b"CASE",
             "caf\u00e9".encode(), "cafe\u0301".encode(), b"\xc3\x28 invalid utf8", b"\xed\xa0\x80 surrogate"]
    created = []
    for n in names:
        path = os.path.join(d, n)
        if s.call("create " + nm(n), write_file, path, n) is None and os.path.exists(path):
            created.append(n)
    s.value("listing", lambda: sorted(nm(n) for n in os.listdir(d)))
    s.value("contents_match", lambda: all(read_file(os.path.join(d, n)) == n for n in names))
    s.value("stat_each", lambda: [lstat_summary(os.path.join(d, n))["size"] for n in names])
    s.call("rename_non_utf8", os.rename, os.path.join(d, b"bad\xff\xfename"), os.path.join(d, b"renamed\xff"))
    s.call("mkdir_non_utf8", os.mkdir, os.path.join(d, b"dir\xfe"))
    s.call("create_in_non_utf8_dir", write_file, os.path.join(d, b"dir\xfe", b"child\xff"), b"c")
    s.value("read_in_non_utf8_dir", lambda: show(read_file(os.path.join(d, b"dir\xfe", b"child\xff"))))
    s.call("setxattr_non_utf8_file", os.setxattr, os.path.join(d, b"renamed\xff"), "user.x", b"\xff")
    s.value("getxattr_non_utf8_file", lambda: os.getxattr(os.path.join(d, b"renamed\xff"), "user.x") == b"\xff")
    s.call("unlink_newline", os.unlink, os.path.join(d, b"new\nline"))
    s.value("listing_after", lambda: sorted(nm(n) for n in os.listdir(d)))


@step
def long_paths(s):
    top = os.open(s.d, os.O_RDONLY | os.O_DIRECTORY)
    s.fds.append(top)
    comp = "p" * 250
    fd = top
    depth = 0
    for depth in range(1, 21):
        try:
            os.mkdir(comp, dir_fd=fd)
            nfd = os.open(comp, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        except OSError as e:
            s._put("mkdir_depth_%d" % depth, errname(e.errno))
            break
        s.fds.append(nfd)
        fd = nfd
    s.value("depth_reached", lambda: depth)
    s.call("create_at_depth_20", lambda: os.close(os.open("leaf", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd)))
    rel15 = "/".join([comp] * 15)  # 3764 bytes
    rel16 = "/".join([comp] * 16) + "/" + "q" * 70  # 4086 bytes
    rel17 = "/".join([comp] * 17)  # 4266 bytes
    s.value("relative_path_len_15", lambda: len(rel15))
    s.value("stat_relative_15", lambda: summary(os.stat(rel15, dir_fd=top)))
    s.call("create_relative_4086", lambda: os.close(os.open(rel16, os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=top)))
    s.value("stat_relative_4086", lambda: summary(os.stat(rel16, dir_fd=top)))
    s.call("stat_relative_4266", os.stat, rel17, dir_fd=top)
    s.value("leaf_via_fd", lambda: summary(os.stat("leaf", dir_fd=fd)))
    s.value("listing_depth_20", lambda: sorted(os.listdir(os.open(comp, os.O_RDONLY, dir_fd=s.fds[-2]))))
    s.call("rename_deep_dir", os.rename, comp, "q" * 250, src_dir_fd=s.fds[10], dst_dir_fd=s.fds[10])
    s.value("leaf_after_rename", lambda: summary(os.stat("leaf", dir_fd=fd)))


@step
def dot_entries(s):
    os.makedirs(s.p("a", "b"))
    write_file(s.p("a", "b", "f"), b"dots")
    s.value("dotdot_path", content, s.p("a", "b", "..", "b", "f"))
    s.value("dot_path", content, s.p("a", ".", "b", ".", "f"))
    s.value("dotdot_ino", lambda: same_ino(s.p("a", "b", ".."), s.p("a")))
    s.call("create_named_dot", os.mkdir, s.p("a", "."))
    s.call("create_named_dotdot", write_file, s.p("a", ".."), b"x")
    s.call("unlink_dotdot", os.unlink, s.p("a", ".."))
    s.call("rmdir_dotdot", os.rmdir, s.p("a", "b", ".."))
    s.value("listing_a", listing, s.p("a"))


# ---------------------------------------------------------------------------------------------------------
# Directories


@step
def readdir_2000(s):
    expected = sorted(["f%04d" % i for i in range(1500)] + ["d%03d" % i for i in range(300)]
                      + ["l%03d" % i for i in range(200)])
    for name in expected:
        path = s.p(name)
        if name[0] == "f":
            write_file(path, name.encode())
        elif name[0] == "d":
            os.mkdir(path)
        else:
            os.symlink("f0000", path)
    got = sorted(os.listdir(s.d))
    s.value("count", lambda: len(got))
    s.value("sorted_names_equal", lambda: got == expected)
    s.value("no_duplicates", lambda: len(set(os.listdir(s.d))) == len(os.listdir(s.d)))
    s.value("missing_names", lambda: sorted(set(expected) - set(got))[:10])

    def types():
        count = {}
        for e in os.scandir(s.d):
            kind = "dir" if e.is_dir(follow_symlinks=False) else "lnk" if e.is_symlink() else \
                "reg" if e.is_file(follow_symlinks=False) else "other"
            if kind != {"f": "reg", "d": "dir", "l": "lnk"}[e.name[0]]:
                return "wrong type for " + e.name
            count[kind] = count.get(kind, 0) + 1
        return count
    s.value("dtypes", types)
    s.value("parent_nlink", lambda: os.stat(s.d).st_nlink)
    s.value("read_some", lambda: [content(s.p(n)) for n in ("f0000", "f0777", "f1499")])
    s.call("remove_all", lambda: [os.unlink(s.p(n)) if n[0] != "d" else os.rmdir(s.p(n)) for n in expected]
           and None)
    s.value("empty_after", lambda: os.listdir(s.d))


@step
def readdir_mutation(s):
    keep = ["keep-%04d-%s" % (i, "k" * 100) for i in range(800)]
    drop = ["drop-%04d-%s" % (i, "d" * 100) for i in range(800)]
    for n in keep + drop:
        write_file(s.p(n), b"")
    seen = []
    added = ["add-%04d" % i for i in range(300)]

    def iterate():
        with os.scandir(s.d) as it:
            for i, e in enumerate(it):
                seen.append(e.name)
                if i == 40:
                    for n in drop:
                        os.unlink(s.p(n))
                    for n in added:
                        write_file(s.p(n), b"")
        return None
    s.call("iterate_unlink_and_create", iterate)
    s.value("every_kept_entry_seen_once", lambda: sorted(n for n in seen if n.startswith("keep")) == keep)
    s.value("no_duplicates", lambda: len(seen) == len(set(seen)))
    s.value("only_known_names", lambda: set(seen) <= set(keep + drop + added))
    s.value("listing_after", lambda: len(os.listdir(s.d)))
    # A directory whose every entry is removed while it is being read.
    os.mkdir(s.p("sub"))
    for i in range(500):
        write_file(s.p("sub", "e%03d-%s" % (i, "x" * 120)), b"")

    def drain():
        with os.scandir(s.p("sub")) as it:
            for i, e in enumerate(it):
                os.unlink(e.path)
        return len(os.listdir(s.p("sub")))
    s.value("unlink_each_while_reading", drain)
    s.call("rmdir_drained", os.rmdir, s.p("sub"))


@step
def readdir_rewind(s):
    d = s.p("d")
    os.mkdir(d)
    write_file(s.p("d", "old"), b"")
    fd = s.open("open_dir", d, os.O_RDONLY | os.O_DIRECTORY)
    write_file(s.p("d", "created_after_open"), b"")
    # POSIX leaves this one unspecified; local file systems list the directory as it is when read.
    s.value("first_read_after_create", lambda: sorted(os.listdir(fd)))
    write_file(s.p("d", "created_before_rewind"), b"")
    os.unlink(s.p("d", "old"))
    s.call("rewind", os.lseek, fd, 0, os.SEEK_SET)
    # rewinddir(3) must make the stream "refer to the current state of the directory".
    s.value("read_after_rewind", lambda: sorted(os.listdir(fd)))
    s.value("fresh_open", listing, d)


# ---------------------------------------------------------------------------------------------------------
# Consistency over time: the same operation repeated across several commit intervals of a file system that
# commits in the background (1 s for nexusfs). Each reports how many rounds went wrong (0 on a local disk).


def rounds(count, body):
    bad = 0
    for i in range(count):
        if not body(i):
            bad += 1
        time.sleep(0.01)
    return {"bad_rounds": bad}


@step
def repeat_write_close_read(s):
    def body(i):
        p = s.p("w%03d" % i)
        data = b"round %d " % i * (i % 7 + 1)
        write_file(p, data)
        return read_file(p) == data and os.stat(p).st_size == len(data)
    s.value("new_file_read_after_close", rounds, 250, body)
    f = s.p("same")

    def rewrite(i):
        data = b"generation %d" % i
        write_file(f, data)
        return read_file(f) == data
    s.value("rewrite_read_after_close", rounds, 150, rewrite)


@step
def repeat_truncate_extend(s):
    def body(i):
        p = s.p("t%03d" % i)
        n = (10, 5000, 100_000, 300_000)[i % 4]
        write_file(p, pattern(n, i))
        os.truncate(p, 0 if i % 2 else n // 3)
        os.truncate(p, n)
        data = read_file(p)
        keep = 0 if i % 2 else n // 3
        return len(data) == n and data[:keep] == pattern(n, i)[:keep] and data[keep:].count(0) == n - keep
    s.value("cut_and_extend_reads_zeros", rounds, 120, body)


@step
def repeat_utime_after_write(s):
    # cp -p, rsync --inplace, tar: write into an existing file, close, then set the times. The times set last
    # must stay, also once a background commit has saved the write.
    when = 1_500_000_000_987_654_321
    names = [s.p("u%02d" % i) for i in range(20)]
    for i, p in enumerate(names):
        write_file(p, b"first")
        fd = os.open(p, os.O_WRONLY | (os.O_TRUNC if i % 2 else 0))
        os.write(fd, b"second %d" % i)
        os.close(fd)
        os.utime(p, ns=(when, when))
    time.sleep(1.5)
    for p in names:
        read_file(p)
    time.sleep(0.2)
    # Only mtime: reading legitimately moves atime (relatime).
    s.value("mtime_kept_after_commit_and_read", lambda: {"bad_files": sum(
        1 for p in names if os.stat(p).st_mtime_ns != when)})
    s.value("contents", lambda: all(read_file(p) == b"second %d" % i for i, p in enumerate(names)))


@step
def repeat_rename_over(s):
    doc = s.p("doc")
    write_file(doc, b"initial")

    def body(i):
        tmp = s.p(".doc.%03d" % i)
        data = b"saved %d" % i * (i % 5 + 1)
        write_file(tmp, data)
        os.rename(tmp, doc)
        return read_file(doc) == data and not os.path.exists(tmp)
    s.value("temp_renamed_over_reads_new", rounds, 150, body)
    s.value("listing", listing, s.d)


# ---------------------------------------------------------------------------------------------------------
# mmap, O_TMPFILE, statvfs, access


@step
def mmap_shared(s):
    f = s.p("f")
    write_file(f, b"." * 8192)
    fd = s.open("open_rdwr", f, os.O_RDWR)
    m = s.call("mmap_shared", lambda: mmap.mmap(fd, 8192, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE))
    if m is not None:
        s.results[-1][1] = "ok"
        m[100:105] = b"MMAP!"
        m[8000:8003] = b"END"
        s.value("pread_sees_mmap_write", lambda: show(os.pread(fd, 5, 100)))
        s.value("other_fd_sees_mmap_write", lambda: show(os.pread(os.open(f, os.O_RDONLY), 3, 8000)))
        s.call("msync", m.flush)
        os.pwrite(fd, b"WRITE", 200)
        s.value("mmap_sees_pwrite", lambda: show(m[200:205]))
        s.call("munmap", m.close)
    s.value("content_after_close", content, f)
    s.value("size", lambda: os.stat(f).st_size)
    g = s.p("g")
    write_file(g, b"")
    gfd = s.open("open_g", g, os.O_RDWR)
    os.ftruncate(gfd, 3 * 4096)
    m2 = s.call("mmap_extended", lambda: mmap.mmap(gfd, 3 * 4096, mmap.MAP_SHARED))
    if m2 is not None:
        s.results[-1][1] = "ok"
        m2[4096:4101] = b"PAGE2"
        m2.flush()
        m2.close()
    s.value("extended_content", lambda: show(read_file(g)))
    s.value("page2", lambda: show(os.pread(gfd, 5, 4096)))
    rfd = s.open("open_rdonly", f, os.O_RDONLY)
    s.call("mmap_shared_write_on_rdonly_fd",
           lambda: mmap.mmap(rfd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE) and None)
    s.value("mmap_private_read", lambda: show(mmap.mmap(rfd, 4096, mmap.MAP_PRIVATE, mmap.PROT_READ)[100:105]))


@step
def o_tmpfile(s):
    fd = s.open("open_o_tmpfile", s.d, os.O_TMPFILE | os.O_RDWR, 0o600)
    if fd is not None:
        s.value("write", os.write, fd, b"anonymous")
        s.value("fstat", fstat_summary, fd)
        s.value("listing_before_link", listing, s.d)
        s.call("link_into_namespace", link_fd, fd, s.p("named"))
        s.value("named", stat_summary, s.p("named"))
        s.value("named_content", content, s.p("named"))
    s.value("listing", listing, s.d)
    efd = s.open("open_o_tmpfile_excl", s.d, os.O_TMPFILE | os.O_RDWR | os.O_EXCL, 0o600)
    if efd is not None:
        s.call("link_excl_refused", link_fd, efd, s.p("named2"))
    s.try_open("o_tmpfile_rdonly", s.d, os.O_TMPFILE | os.O_RDONLY, 0o600)


@step
def statvfs_ops(s):
    s.value("statvfs_namemax", lambda: os.statvfs(s.d).f_namemax)
    fd = os.open(s.d, os.O_RDONLY)
    s.value("fstatvfs_namemax", lambda: os.fstatvfs(fd).f_namemax)
    os.close(fd)
    s.value("blocks_sane", lambda: (lambda v: v.f_blocks >= v.f_bfree >= v.f_bavail >= 0 and v.f_frsize > 0)(
        os.statvfs(s.d)))
    s.call("statvfs_missing", os.statvfs, s.p("missing"))


@step
def access_ops(s):
    f = s.p("f")
    write_file(f, b"x")
    os.chmod(f, 0o644)
    def acc(path, mode):
        r = libc.access(os.fsencode(path), mode)
        if r != 0:
            raise oserror()
    s.call("F_OK", acc, f, os.F_OK)
    s.call("R_OK", acc, f, os.R_OK)
    s.call("W_OK", acc, f, os.W_OK)
    s.call("RW_OK", acc, f, os.R_OK | os.W_OK)
    s.call("X_OK_not_executable", acc, f, os.X_OK)
    os.chmod(f, 0o744)
    s.call("X_OK_executable", acc, f, os.X_OK)
    os.chmod(f, 0)
    s.call("R_OK_mode_0000_root", acc, f, os.R_OK)
    s.call("missing", acc, s.p("missing"), os.F_OK)
    s.call("through_file", acc, s.p("f", "x"), os.F_OK)
    os.symlink("missing", s.p("dangling"))
    s.call("dangling", acc, s.p("dangling"), os.F_OK)
    os.mkdir(s.p("d"))
    s.call("dir_X_OK", acc, s.p("d"), os.X_OK)
    s.call("dir_W_OK", acc, s.p("d"), os.W_OK)
    s.call("faccessat_eaccess", lambda: os.access(f, os.R_OK, effective_ids=True) or None)
    s.call("invalid_mode", acc, f, 0x40)


@step
def rewrite_patterns(s):
    doc = s.p("doc.txt")
    write_file(doc, b"version 1")
    ino = os.stat(doc).st_ino
    # Write a temp file and rename it over (rsync, editors).
    tmp = s.p(".doc.txt.XXXX12")
    write_file(tmp, b"version 2")
    s.call("rename_temp_over", os.rename, tmp, doc)
    s.value("after_temp_rename", content, doc)
    s.value("inode_is_temp_file", lambda: os.stat(doc).st_ino != ino)
    # vim: rename to backup, write new.
    s.call("rename_to_backup", os.rename, doc, s.p("doc.txt~"))
    s.call("write_new", write_file, doc, b"version 3")
    s.call("unlink_backup", os.unlink, s.p("doc.txt~"))
    s.value("after_backup_cycle", content, doc)
    # Truncate and rewrite in place (nano, shell redirection).
    s.call("truncate_rewrite", write_file, doc, b"version 4 is longer")
    s.value("after_truncate_rewrite", content, doc)
    # Delete and recreate.
    s.call("delete", os.unlink, doc)
    s.call("recreate", write_file, doc, b"version 5")
    s.value("after_recreate", content, doc)
    s.value("listing", listing, s.d)


# ---------------------------------------------------------------------------------------------------------


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: exerciser.py DIR [STEP-PREFIX ...]\n")
        return 2
    root = sys.argv[1]
    only = sys.argv[2:]
    os.umask(0o022)
    os.chdir("/")
    for index, (name, fn) in enumerate(STEPS):
        if only and not any(name.startswith(prefix) for prefix in only):
            continue
        directory = os.path.join(root, "s%02d" % index)
        s = Step(name, directory)
        try:
            os.mkdir(directory)
            fn(s)
        except OSError as e:
            s.results.append(["step aborted", errname(e.errno) if e.errno is not None else str(e)])
        except Exception as e:  # noqa: BLE001
            s.results.append(["step aborted", "exception: %s: %s" % (type(e).__name__, e)])
        finally:
            s.close_all()
        sys.stdout.write(json.dumps({"step": name, "results": s.results}, sort_keys=True) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
