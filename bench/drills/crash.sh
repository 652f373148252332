#!/usr/bin/env bash
# Crash drill (as root): kill -9 of the mount daemon, of `import`, of `prune` and of `recover` at random
# moments, and after each crash a check that nothing committed was lost (issue 11, "crash").
#   bash bench/drills/crash.sh [--cycles N] [--sub-cycles N] [--only mount|import|prune|recover] [--seed S]
#   env: NEXUSFS_BIN=path (no build), COMMIT=1 (the mount's commit interval, s), MARGIN=0.25 (s added to
#        it), WORKERS=4
# mount (--cycles, default 100), one repository for all cycles: mount; WORKERS processes each run a
#   mixed workload in their own folder (create, append, overwrite, pwrite, save by rename, vim-style save,
#   mkdir/rmdir, folder renames, moves, hard links, unlink, chmod, user.* / user.xdg.tags /
#   user.nexus.status xattrs, grants on e* folders, fsync of some saves and fsync alone, but none in half
#   the random and commit cycles) and log every step
#   to a file outside the mount (intent before, completion after, monotonic and wall time; a save's
#   content hash; an fsync only once it returned); kill -9 of the daemon (a random delay of 0.3-3 s,
#   around a commit deadline, right after the Nth pack is sealed, right after a burst of fsyncs, or while
#   a checkpoint is written); kill of the workers; fusermount3 -u -z (every fourth cycle left to `nexusfs
#   mount`); remount on the same mount point. Then, per worker folder, the tree (names, hard links,
#   kinds, content hashes, modes and xattrs of the p* files, the grantee's ACL entry on the e* folders)
#   must be the state after some prefix of the worker's steps (so no half-written file, no half-applied
#   rename or create, no content never logged), and that prefix must hold every step that completed
#   before the durability horizon (the kill minus COMMIT minus MARGIN, or the start of any fsync that
#   returned: fsync commits everything staged) and every save that was fsynced (an O_TRUNC is in memory
#   until its close, like a write, so it is never required on its own). The count of each
#   document's `.versions` entries (by user.nexus.id) never goes down from one cycle to the next; after
#   `nexusfs umount`, `check` and `audit --verify` pass; the next mount must show exactly the tree the
#   last verification saw (each worker checks that at its start).
# import, prune, recover (--sub-cycles each, default 10, 3 when --cycles < 50): kill -9 of that command
#   at a random moment or when it reaches a phase (new packs, pack deletion, the catalog being rebuilt or
#   renamed into place); then `check` must pass, what the catalog holds must be consistent (every exported
#   file has its old or new content; every listed version reads back with its content, the newest kept
#   ones all there), and the command run again must finish and leave a clean `check` and the full result.
# Prints a line per cycle and `N passed, N failed` per drill; exits 1 on any failure, keeping the work
# folder (under /var/tmp) and naming it; removes it otherwise. Everything mounted is unmounted on exit.
set -euo pipefail
cycles=100 sub_cycles= only=all seed=${SEED:-$RANDOM$RANDOM}
while (($#)); do
    case $1 in
        --cycles) cycles=$2; shift ;;
        --cycles=*) cycles=${1#--cycles=} ;;
        --sub-cycles) sub_cycles=$2; shift ;;
        --sub-cycles=*) sub_cycles=${1#--sub-cycles=} ;;
        --only) only=$2; shift ;;
        --only=*) only=${1#--only=} ;;
        --seed) seed=$2; shift ;;
        --seed=*) seed=${1#--seed=} ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
[[ $only =~ ^(all|mount|import|prune|recover)$ ]] || { echo "--only takes mount, import, prune or recover" >&2; exit 2; }
[[ $cycles =~ ^[0-9]+$ ]] || { echo "--cycles takes a number" >&2; exit 2; }
[[ -n $sub_cycles ]] || { ((cycles >= 50)) && sub_cycles=10 || sub_cycles=3; }
COMMIT=${COMMIT:-1} MARGIN=${MARGIN:-0.25} WORKERS=${WORKERS:-4}
source "$(dirname "$0")/../common.sh"
[[ $(id -u) == 0 ]] || { echo "crash.sh needs root (mounts, kill -9 of the daemon)" >&2; exit 1; }
command -v fusermount3 >/dev/null || { echo "crash.sh needs fusermount3 (fuse3)" >&2; exit 1; }

work=/var/tmp/nexusfs-crash-$$
mkdir -p "$work"
keep_work=0
mounted=()        # mount points this script mounted
cleanup() {
    local rc=$? m
    trap - EXIT INT TERM HUP
    # Workers and killers of this script first (by pid), then the mounts.
    drill_kill_jobs
    for m in "${mounted[@]}"; do drill_unmount "$m"; done
    drill_end_work "$rc" "$keep_work"
    exit "$rc"
}
drill_traps
export NEXUSFS_PASSWORD=crash-drill

cat > "$work/crash.py" <<'PY'
import errno, glob, hashlib, json, os, random, re, signal, stat, sys, time

def sha(data): return hashlib.sha256(data).hexdigest()
def mono(): return time.monotonic()

MANAGED = ("user.drill.", "user.xdg.tags", "user.nexus.status")

def managed_xattrs(path):
    out = {}
    for name in os.listxattr(path, follow_symlinks=False):
        if name.startswith(MANAGED):
            value = os.getxattr(path, name, follow_symlinks=False).decode("utf-8", "replace")
            if name == "user.nexus.status" and value == "draft":
                continue                       # no status reads as draft
            out[name] = value
    return out

def plain(path): return os.path.basename(path).startswith("p")
def granted(path): return os.path.basename(path).startswith("e")   # e* folders get grants, nothing else
def isdir(v): return isinstance(v, tuple)
GRANTEE = 65534
LEVELS = {"view": 5, "edit": 7, "none": None}     # what a grant leaves in a folder's ACL for GRANTEE

def acl_perm(path, uid):
    """The permission bits of uid's named-user entry in path's access ACL, or None."""
    try:
        raw = os.getxattr(path, "system.posix_acl_access", follow_symlinks=False)
    except OSError as e:
        if e.errno in (errno.ENODATA, errno.EOPNOTSUPP):
            return None
        raise
    for k in range(4, len(raw) - 7, 8):
        tag, perm, ident = int.from_bytes(raw[k:k+2], "little"), int.from_bytes(raw[k+2:k+4], "little"), int.from_bytes(raw[k+4:k+8], "little")
        if tag == 2 and ident == uid:
            return perm
    return None
def transient(path): return path.endswith("~") or path.endswith(".tmp")

def snapshot(mnt, top):
    """The tree under mnt/top: {relpath: entry}, entry {"t": "d"} or a file's kind, ino, sha, mode, xattrs."""
    out = {}
    try:
        os.lstat(os.path.join(mnt, top))
    except FileNotFoundError:              # any other error (a dead mount) is no answer: it propagates
        return out
    stack = [top]
    while stack:
        rel = stack.pop()
        st = os.lstat(os.path.join(mnt, rel))
        if stat.S_ISDIR(st.st_mode):
            out[rel] = {"t": "d", "g": acl_perm(os.path.join(mnt, rel), GRANTEE)} if granted(rel) else {"t": "d"}
            for name in os.listdir(os.path.join(mnt, rel)):
                stack.append(rel + "/" + name)
        elif stat.S_ISREG(st.st_mode):
            with open(os.path.join(mnt, rel), "rb") as f:
                data = f.read()
            entry = {"t": "f", "ino": st.st_ino, "sha": sha(data), "size": len(data)}
            if plain(rel):
                entry["mode"] = st.st_mode & 0o7777
                entry["x"] = managed_xattrs(os.path.join(mnt, rel))
            out[rel] = entry
        else:
            out[rel] = {"t": "other", "mode": st.st_mode}
    return out

class Model:
    """A worker's folder as its steps leave it: paths -> node ids, node id -> attributes."""
    def __init__(self, entries):
        self.paths, self.nodes = {}, {}
        for rel, e in entries.items():
            if e["t"] == "d":
                self.paths[rel] = ("d", e.get("g"))
            else:
                nid = "i%d" % e.get("ino", 0)
                self.paths[rel] = nid
                self.nodes.setdefault(nid, {"sha": e.get("sha"), "size": e.get("size"),
                                            "mode": e.get("mode", 0o644), "x": dict(e.get("x", {}))})
    def node(self, path): return self.nodes[self.paths[path]]
    def apply(self, s, counter):
        op = s["op"]
        if op == "mkdir":
            self.paths[s["path"]] = ("d", None)
        elif op == "grant":
            self.paths[s["path"]] = ("d", LEVELS[s["level"]])
        elif op == "rmdir":
            del self.paths[s["path"]]
        elif op == "create":
            nid = "n%d" % counter
            self.nodes[nid] = {"sha": sha(b""), "size": 0, "mode": s.get("mode", 0o644), "x": {}}
            self.paths[s["path"]] = nid
        elif op in ("save", "truncate"):
            n = self.node(s["path"])
            n["sha"], n["size"] = (s["sha"], s["size"]) if op == "save" else (sha(b""), 0)
        elif op == "rename":
            src, dst = s["src"], s["dst"]
            moved = {p: v for p, v in self.paths.items() if p == src or p.startswith(src + "/")}
            if dst in self.paths and not isdir(self.paths[dst]):
                self.forget_path(dst)
            for p in moved:
                del self.paths[p]
            for p, v in moved.items():
                self.paths[dst + p[len(src):]] = v
        elif op == "link":
            self.paths[s["dst"]] = self.paths[s["src"]]
        elif op == "unlink":
            self.forget_path(s["path"])
        elif op == "chmod":
            self.node(s["path"])["mode"] = s["mode"]
        elif op == "setxattr":
            value = s["value"]
            x = self.node(s["path"])["x"]
            if s["name"] == "user.nexus.status" and value == "draft":
                x.pop(s["name"], None)
            else:
                x[s["name"]] = value
        elif op == "removexattr":
            self.node(s["path"])["x"].pop(s["name"], None)
        elif op in ("sync", "note"):
            pass
        else:
            raise ValueError("unknown step " + op)
    def forget_path(self, path):
        nid = self.paths.pop(path)
        if nid not in self.paths.values():
            self.nodes.pop(nid, None)
    def canon(self):
        groups = {}
        out = {}
        for p, v in self.paths.items():
            if isdir(v):
                out[p] = ("d", v[1]) if granted(p) else ("d",)
            else:
                groups.setdefault(v, []).append(p)
        for nid, ps in groups.items():
            n, ps = self.nodes[nid], tuple(sorted(ps))
            extra = (n["mode"], tuple(sorted(n["x"].items()))) if plain(ps[0]) else ()
            for p in ps:
                out[p] = ("f", n["sha"], ps) + extra
        return out

def canon_observed(entries):
    groups, out = {}, {}
    for p, e in entries.items():
        if e["t"] == "f":
            groups.setdefault(e["ino"], []).append(p)
        elif e["t"] == "d":
            out[p] = ("d", e.get("g")) if granted(p) else ("d",)
        else:
            out[p] = ("other", e["mode"])
    for ino, ps in groups.items():
        ps = tuple(sorted(ps))
        e = entries[ps[0]]
        extra = (e["mode"], tuple(sorted(e["x"].items()))) if plain(ps[0]) else ()
        for p in ps:
            out[p] = ("f", e["sha"], ps) + extra
    return out

LOGGED = set()                                 # every content hash a step or the baseline had (for messages)

def describe(v, path=None):
    if v is None: return "absent"
    if v[0] == "d": return "folder" + (", grantee's ACL entry %s" % v[1] if len(v) > 1 else "")
    if v[0] != "f": return "other %o" % v[1]
    s = "file sha %s" % v[1][:12]
    if path is not None and LOGGED:
        s += " (%s)" % ("a content the workload wrote" if v[1] in LOGGED else "a content the workload never wrote")
    if len(v[2]) > 1: s += ", links %s" % ",".join(v[2])
    if len(v) > 3: s += ", mode %o, xattrs {%s}" % (v[3], ", ".join("%s=%.24s" % kv for kv in v[4]))
    return s

def diff(want, got, limit=8):
    lines = []
    for p in sorted(set(want) | set(got)):
        if want.get(p) != got.get(p):
            lines.append("%s: expected %s, found %s" % (p, describe(want.get(p)), describe(got.get(p), p)))
    return lines[:limit] + (["... %d more" % (len(lines) - limit)] if len(lines) > limit else [])

# ---------------------------------------------------------------------------------------------
class Log:
    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    def put(self, **record):
        os.write(self.fd, (json.dumps(record, separators=(",", ":")) + "\n").encode())

class Worker:
    def __init__(self, mnt, wid, log, seed, baseline, mode, cycle):
        self.mnt, self.top, self.mode, self.cycle = mnt, "w%d" % wid, mode, cycle
        self.rnd = random.Random(seed)
        self.log = Log(log)
        self.i = 0
        self.serial = 0
        entries = baseline.get(self.top, {})
        self.model = Model(entries)
        self.content = {}                       # node id -> bytes (read back at start)
        self.check_baseline(entries)
        self.fsync_p = {"fsync": 0.6, "checkpoint": 0.9, "nofsync": 0}.get(mode, 0.15)

    def abs(self, rel): return os.path.join(self.mnt, rel)
    def name(self, prefix):
        self.serial += 1
        return "%s%d_%d" % (prefix, self.cycle, self.serial)

    def check_baseline(self, entries):
        """After a clean unmount the next mount must show exactly what was seen before it."""
        got = snapshot(self.mnt, self.top)
        want = canon_observed(entries)
        have = canon_observed(got)
        if want != have:
            self.log.put(ph="baseline", t=mono(), diff=diff(want, have))
        for rel, e in got.items():
            if e["t"] == "f" and rel in self.model.paths:
                with open(self.abs(rel), "rb") as f:
                    self.content[self.model.paths[rel]] = f.read()

    def step(self, record, action):
        """Logs the intent, runs it, logs the completion. A failure ends the worker."""
        record["i"] = self.i
        self.log.put(ph="b", t=mono(), **record)
        try:
            action()
        except OSError as e:
            self.log.put(ph="x", i=self.i, t=mono(), w=time.time(), err="%s: %s" % (errno.errorcode.get(e.errno, e.errno), e.strerror))
            raise SystemExit(0)
        self.log.put(ph="e", i=self.i, t=mono(), w=time.time())
        self.model.apply(record, self.i)
        if record["op"] == "create":
            self.content["n%d" % self.i] = b""
        self.i += 1

    # Files: the content lives in self.content by node id.
    def files(self, cls):
        return sorted(p for p, v in self.model.paths.items() if not isdir(v) and plain(p) == cls and not transient(p))
    def dirs(self, prefix):
        return sorted(p for p, v in self.model.paths.items() if isdir(v) and os.path.basename(p).startswith(prefix) and p.count("/") == 1)
    def data(self):
        r = self.rnd.random()
        n = self.rnd.randint(0, 16384) if r < 0.7 else self.rnd.randint(16384, 100_000) if r < 0.98 else self.rnd.randint(100_000, 1_500_000)
        return os.urandom(n)

    def save(self, path, new, how, sync=None):
        """Writes `new` as the content of path: how is "append" (new is the tail), "pwrite" (offset, bytes) or "write"."""
        nid = self.model.paths[path]
        old = self.content.get(nid, b"")
        if how == "append":
            result = old + new
        elif how == "pwrite":
            off, chunk = new
            padded = old + b"\0" * max(0, off - len(old))
            result = padded[:off] + chunk + padded[off + len(chunk):]
        else:
            result = new
        sync = self.rnd.random() < self.fsync_p if sync is None else sync
        def act():
            flags = os.O_WRONLY | (os.O_APPEND if how == "append" else 0)
            fd = os.open(self.abs(path), flags)
            try:
                if how == "pwrite":
                    os.pwrite(fd, new[1], new[0])
                else:
                    view = memoryview(new if how != "pwrite" else b"")
                    while view:
                        view = view[os.write(fd, view):]
                if sync:
                    t0 = mono()
                    os.fsync(fd)
                    self.log.put(ph="s", i=self.i, t0=t0, t=mono())
            finally:
                os.close(fd)
        self.step({"op": "save", "path": path, "sha": sha(result), "size": len(result), "how": how, "fsync": sync}, act)
        self.content[nid] = result

    def create(self, path, data=None, sync=None):
        self.step({"op": "create", "path": path, "mode": 0o644},
                  lambda: os.close(os.open(self.abs(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)))
        self.save(path, self.data() if data is None else data, "write", sync)

    def truncate(self, path):
        fd = []
        self.step({"op": "truncate", "path": path}, lambda: fd.append(os.open(self.abs(path), os.O_WRONLY | os.O_TRUNC)))
        self.content[self.model.paths[path]] = b""
        new = self.data()
        sync = self.rnd.random() < self.fsync_p
        nid = self.model.paths[path]
        def act():
            try:
                view = memoryview(new)
                while view:
                    view = view[os.write(fd[0], view):]
                if sync:
                    t0 = mono()
                    os.fsync(fd[0])
                    self.log.put(ph="s", i=self.i, t0=t0, t=mono())
            finally:
                os.close(fd[0])
        self.step({"op": "save", "path": path, "sha": sha(new), "size": len(new), "how": "overwrite", "fsync": sync}, act)
        self.content[nid] = new

    def simple(self, record, action): self.step(record, action)

    def start(self):
        if self.top not in self.model.paths:
            self.simple({"op": "mkdir", "path": self.top}, lambda: os.mkdir(self.abs(self.top)))
            for k in range(2):
                d = self.top + "/" + self.name("d")
                self.simple({"op": "mkdir", "path": d}, lambda d=d: os.mkdir(self.abs(d)))
        # What a crash left of vim's and rename saves: put the backup back, or drop it.
        for p in sorted(self.model.paths):
            if p.endswith("~") and p in self.model.paths:
                if p[:-1] in self.model.paths:
                    self.simple({"op": "unlink", "path": p}, lambda p=p: os.unlink(self.abs(p)))
                else:
                    self.simple({"op": "rename", "src": p, "dst": p[:-1]}, lambda p=p: os.rename(self.abs(p), self.abs(p[:-1])))
            elif p.endswith(".tmp"):
                self.simple({"op": "unlink", "path": p}, lambda p=p: os.unlink(self.abs(p)))

    def one(self):
        rnd, m = self.rnd, self.model
        plains, docs, ds, es = self.files(True), self.files(False), self.dirs("d"), self.dirs("e")
        choices = [("create_plain", 4 if len(plains) < 30 else 0.5), ("create_doc", 3 if len(docs) < 15 else 0.3),
                   ("append", 4), ("overwrite", 3), ("pwrite", 3), ("rename_save", 3), ("vim_save", 3),
                   ("mkdir", 1 if len(es) < 5 else 0), ("rmdir", 1 if es else 0), ("rename_dir", 0.7),
                   ("move", 1), ("link", 1.5 if len(plains) < 40 else 0), ("unlink", 1 if len(plains) + len(docs) < 35 else 6),
                   ("chmod", 1.5), ("setxattr", 3), ("removexattr", 1), ("grant", 1 if es else 0),
                   ("sync", {"checkpoint": 2, "nofsync": 0}.get(self.mode, 0.5))]
        total = sum(w for _, w in choices)
        r, op = rnd.random() * total, None
        for op, w in choices:
            r -= w
            if r < 0: break
        anyfile = plains + docs
        if op == "create_plain":
            self.create(rnd.choice(ds) + "/" + self.name("p"))
        elif op == "create_doc":
            self.create(rnd.choice(ds) + "/" + self.name("doc"))
        elif op == "append" and anyfile:
            self.save(rnd.choice(anyfile), os.urandom(rnd.randint(1, 5000)), "append")
        elif op == "overwrite" and anyfile:
            self.truncate(rnd.choice(anyfile))
        elif op == "pwrite" and anyfile:
            p = rnd.choice(anyfile)
            size = len(self.content.get(m.paths[p], b""))
            # Never past the end: a hole written through a mount is a known problem check reports.
            self.save(p, (rnd.randint(0, size), os.urandom(rnd.randint(1, 9000))), "pwrite")
        elif op == "rename_save" and docs:
            p = rnd.choice(docs)
            tmp = os.path.dirname(p) + "/" + self.name("doc") + ".tmp"
            self.create(tmp)
            self.simple({"op": "rename", "src": tmp, "dst": p}, lambda: os.rename(self.abs(tmp), self.abs(p)))
        elif op == "vim_save" and docs:
            p = rnd.choice(docs)
            self.simple({"op": "rename", "src": p, "dst": p + "~"}, lambda: os.rename(self.abs(p), self.abs(p + "~")))
            self.create(p)
            self.simple({"op": "unlink", "path": p + "~"}, lambda: os.unlink(self.abs(p + "~")))
        elif op == "mkdir":
            d = self.top + "/" + self.name("e")
            self.simple({"op": "mkdir", "path": d}, lambda: os.mkdir(self.abs(d)))
        elif op == "rmdir" and es:
            d = rnd.choice(es)
            self.simple({"op": "rmdir", "path": d}, lambda: os.rmdir(self.abs(d)))
        elif op == "rename_dir" and ds:
            src = rnd.choice(ds)
            dst = self.top + "/" + self.name("d")
            self.simple({"op": "rename", "src": src, "dst": dst}, lambda: os.rename(self.abs(src), self.abs(dst)))
        elif op == "move" and plains:
            src = rnd.choice(plains)
            dst = rnd.choice(ds) + "/" + self.name("p")
            self.simple({"op": "rename", "src": src, "dst": dst}, lambda: os.rename(self.abs(src), self.abs(dst)))
        elif op == "link" and plains:
            src = rnd.choice(plains)
            dst = rnd.choice(ds) + "/" + self.name("p")
            self.simple({"op": "link", "src": src, "dst": dst}, lambda: os.link(self.abs(src), self.abs(dst)))
        elif op == "unlink" and anyfile:
            p = rnd.choice(anyfile)
            self.simple({"op": "unlink", "path": p}, lambda: os.unlink(self.abs(p)))
        elif op == "chmod" and plains:
            p, mode = rnd.choice(plains), rnd.choice([0o600, 0o640, 0o644, 0o664, 0o660, 0o755])
            self.simple({"op": "chmod", "path": p, "mode": mode}, lambda: os.chmod(self.abs(p), mode))
        elif op == "setxattr" and plains:
            p = rnd.choice(plains)
            name = rnd.choice(["user.drill.a", "user.drill.b", "user.drill.c", "user.xdg.tags", "user.nexus.status"])
            if name == "user.nexus.status":
                value = rnd.choice(["review", "draft"])
            elif name == "user.xdg.tags":
                value = ",".join(rnd.sample(["budget", "2027", "draft", "legal", "hr", "q3"], rnd.randint(1, 3)))
            else:
                value = "v%d-%s" % (self.i, "x" * rnd.randint(0, 300))
            self.simple({"op": "setxattr", "path": p, "name": name, "value": value},
                        lambda: os.setxattr(self.abs(p), name, value.encode(), follow_symlinks=False))
        elif op == "removexattr" and plains:
            p = rnd.choice(plains)
            names = [n for n in m.node(p)["x"] if n.startswith("user.drill.")]
            if names:
                name = rnd.choice(names)
                self.simple({"op": "removexattr", "path": p, "name": name},
                            lambda: os.removexattr(self.abs(p), name, follow_symlinks=False))
        elif op == "grant" and es:
            d, level = rnd.choice(es), rnd.choice(sorted(LEVELS))
            request = ("user %d %s" % (GRANTEE, level)).encode()
            self.simple({"op": "grant", "path": d, "level": level},
                        lambda: os.setxattr(self.abs(d), "system.nexus.grant", request, follow_symlinks=False))
        elif op == "sync" and anyfile:
            p = rnd.choice(anyfile)
            def act():
                fd = os.open(self.abs(p), os.O_RDONLY)
                try:
                    t0 = mono()
                    os.fsync(fd)
                    self.log.put(ph="s", i=self.i, t0=t0, t=mono())
                finally:
                    os.close(fd)
            self.simple({"op": "sync", "path": p}, act)

def worker(mnt, wid, log, seed, baseline_path, mode, cycle):
    baseline = json.load(open(baseline_path)) if os.path.exists(baseline_path) else {}
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    os.umask(0o022)
    w = Worker(mnt, int(wid), log, int(seed), baseline, mode, int(cycle))
    try:
        w.start()
        while True:
            w.one()
    except SystemExit:
        pass
    except OSError as e:                       # outside a step (the baseline read)
        w.log.put(ph="x", i=w.i, t=mono(), w=time.time(), err="%s outside a step: %s" % (errno.errorcode.get(e.errno, e.errno), e))

# ---------------------------------------------------------------------------------------------
def read_log(path):
    steps, ends, syncs, errors, baseline = [], {}, {}, [], []
    if not os.path.exists(path):
        return steps, ends, syncs, errors, baseline
    for line in open(path):
        try:
            r = json.loads(line)
        except ValueError:
            continue                           # a line cut by the kill
        ph = r.pop("ph")
        if ph == "b": steps.append(r)
        elif ph == "e": ends[r["i"]] = r
        elif ph == "s": syncs[r["i"]] = r
        elif ph == "x": errors.append(r)
        elif ph == "baseline": baseline.append(r)
    return steps, ends, syncs, errors, baseline

def verify(mnt, cycle_dir, baseline_path, versions_path, workers, interval, margin):
    kill = json.load(open(os.path.join(cycle_dir, "kill.json")))
    baseline = json.load(open(baseline_path)) if os.path.exists(baseline_path) else {}
    logs = {w: read_log(os.path.join(cycle_dir, "w%d.log" % w)) for w in range(workers)}
    kt = kill["mono"]
    horizon = kt - interval - margin
    sync_horizon = max([s["t0"] for (_, _, syncs, _, _) in logs.values() for s in syncs.values() if s["t"] < kt] or [float("-inf")])
    H = max(horizon, sync_horizon)
    failures, notes, new_baseline = [], [], {}
    total_steps = total_required = 0
    if kill.get("exited_first"):
        failures.append("the daemon had exited before the kill (it crashed or was unmounted on its own)")
    LOGGED.clear()
    LOGGED.add(sha(b""))
    LOGGED.update(e["sha"] for entries in baseline.values() for e in entries.values() if e["t"] == "f")
    LOGGED.update(s["sha"] for steps, *_ in logs.values() for s in steps if s["op"] == "save")
    for w, (steps, ends, syncs, errors, base_diff) in logs.items():
        top = "w%d" % w
        for b in base_diff:
            if b["t"] >= kt:
                continue                       # read after the kill: not what the mount showed
            failures.append("%s: after a clean unmount the next mount differs from the last verified tree: %s" % (top, "; ".join(b["diff"])))
        for e in errors:
            if e["t"] < kt - 0.001:
                s = steps[e["i"]] if e["i"] < len(steps) else {}
                failures.append("%s: step %d (%s) failed %.3f s before the kill: %s" % (top, e["i"], json.dumps(s), kt - e["t"], e["err"]))
        observed = snapshot(mnt, top)
        new_baseline[top] = observed
        got = canon_observed(observed)
        model = Model(baseline.get(top, {}))
        states = [model.canon()]
        for s in steps:
            model.apply(s, s["i"])
            states.append(model.canon())
        required = 0
        for s in steps:
            i = s["i"]
            if (i in ends and ends[i]["t"] < H) or i in syncs and syncs[i]["t"] < kt and s["op"] != "sync":
                # O_TRUNC of a file reaches the daemon as a truncation of the open file: in memory
                # until the close that ends the next step (the save), so it may be lost, not required.
                required = i if s["op"] == "truncate" else i + 1
        matches = [k for k, st in enumerate(states) if st == got]
        total_steps += len(steps); total_required += required
        if not matches:
            best = max(range(len(states)), key=lambda k: (-len(diff(states[k], got, 10**6)), k))
            failures.append("%s: the tree is none of the states its %d steps went through (e.g. a half-written file or a half-applied rename); nearest: after step %d of %d (required %d): %s"
                            % (top, len(steps), best, len(steps), required, "; ".join(diff(states[best], got))))
        elif max(matches) < required:
            k = max(matches)
            lost = [steps[i] for i in range(k, required)]
            first = lost[0]
            when = ends.get(first["i"], {}).get("t")
            failures.append("%s: committed steps lost: the tree is the state after step %d, but steps up to %d had to be durable (horizon %.3f s before the kill%s); first lost: %s, completed %s before the kill; diff: %s"
                            % (top, k, required, kt - H, ", set by an fsync" if H == sync_horizon else "", json.dumps(first),
                               "%.3f s" % (kt - when) if when else "?", "; ".join(diff(states[required], got))))
        else:
            notes.append("%s %d/%d/%d" % (top, max(k for k in matches if k >= required), required, len(steps)))
    # .versions counts by document id never go down.
    before = json.load(open(versions_path)) if os.path.exists(versions_path) else {}
    after, transient_ids = {}, set()
    for top, entries in new_baseline.items():
        for rel, e in entries.items():
            if e["t"] != "f":
                continue
            path = os.path.join(mnt, rel)
            doc = os.getxattr(path, "user.nexus.id").decode()
            if transient(rel):
                transient_ids.add(doc)
                continue
            try:
                count = len(os.listdir(os.path.join(os.path.dirname(path), ".versions", os.path.basename(path))))
            except OSError:
                count = 0
            after[doc] = max(after.get(doc, 0), count)
            if doc in before and count < before[doc]["count"]:
                failures.append(".versions of %s (%s) went from %d entries (cycle %s, %s) to %d"
                                % (rel, doc, before[doc]["count"], before[doc]["cycle"], before[doc]["path"], count))
    cycle = os.path.basename(cycle_dir)
    record = {doc: {"count": n, "cycle": cycle, "path": ""} for doc, n in after.items()}
    for top, entries in new_baseline.items():
        for rel, e in entries.items():
            if e["t"] == "f" and not transient(rel):
                doc = os.getxattr(os.path.join(mnt, rel), "user.nexus.id").decode()
                record[doc]["path"] = rel
    for doc in transient_ids - set(after):
        if doc in before:
            record[doc] = before[doc]
    json.dump(new_baseline, open(baseline_path + ".new", "w"))
    json.dump(record, open(versions_path + ".new", "w"))
    json.dump({"failures": failures, "steps": total_steps, "required": total_required,
               "horizon": kt - H, "syncs": sum(len(l[2]) for l in logs.values()), "notes": notes},
              open(os.path.join(cycle_dir, "verify.json"), "w"))
    print("%d steps, %d required, horizon %.2f s before the kill, %d fsyncs" %
          (total_steps, total_required, kt - H, sum(len(l[2]) for l in logs.values())))
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0

# ---------------------------------------------------------------------------------------------
def killer(pid, spec, out, timeout, since=None):
    """Kills pid with SIGKILL when spec says: delay:S | appear:GLOB | drop:GLOB (the count of matches
    falls) | grow:N:GLOB (N more matches than at the start) | fsyncs:N:LOG,LOG... (N fsyncs returned);
    always by `timeout` s. Delays count from `since` (wall time the target started), else from now.
    Writes when, and what it saw, to out."""
    pid, timeout = int(pid), float(timeout)
    start = mono() - (max(0.0, time.time() - float(since)) if since else 0.0)
    kind, _, arg = spec.partition(":")
    note = ""
    def alive():
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False
    if kind == "delay":
        time.sleep(max(0.0, start + float(arg) - mono()))
    else:
        if kind == "fsyncs":
            n, _, paths = arg.partition(":")
            want, offsets, seen = int(n), {}, 0
        if kind == "grow":
            n, _, pattern = arg.partition(":")
            target = len(glob.glob(pattern)) + int(n)
        most = -1
        while mono() - start < timeout and alive():
            if kind == "appear" and glob.glob(arg):
                note = "saw " + arg
                break
            if kind == "grow" and len(glob.glob(pattern)) >= target:
                note = "saw %s reach %d" % (pattern, target)
                break
            if kind == "drop":
                count = len(glob.glob(arg))
                if count < most:
                    note = "saw %s drop from %d to %d" % (arg, most, count)
                    break
                most = max(most, count)
            if kind == "fsyncs":
                for p in paths.split(","):
                    try:
                        with open(p) as f:
                            f.seek(offsets.get(p, 0))
                            chunk = f.read()
                            offsets[p] = f.tell()
                        seen += chunk.count('"ph":"s"')
                    except OSError:
                        pass
                if seen >= want:
                    note = "after %d fsyncs" % seen
                    break
            time.sleep(0.0005)
        else:
            note = note or ("target exited first" if not alive() else "timeout")
        if kind != "fsyncs":
            time.sleep(random.uniform(0, 0.004))
    exited = not alive()
    t, w = mono(), time.time()
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        exited = True
    json.dump({"mono": t, "wall": w, "after": t - start, "spec": spec, "note": note, "exited_first": exited}, open(out, "w"))
    print("%.3f s%s%s" % (t - start, " " + note if note else "", " (it had exited)" if exited else ""))

def daemon_pid(repo):
    lock = os.path.realpath(os.path.join(repo, "lock"))
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            for fd in os.listdir("/proc/%s/fd" % p):
                if os.readlink("/proc/%s/fd/%s" % (p, fd)) == lock:
                    args = open("/proc/%s/cmdline" % p, "rb").read().split(b"\0")
                    if b"mount" in args and b"-f" in args:
                        print(p)
                        return 0
        except OSError:
            continue
    return 1

# ---------------------------------------------------------------------------------------------
# Sub-drills: trees to import and their expected contents.
def tree_state(root):
    """{relpath: sha} for the regular files under root."""
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p):
                out[os.path.relpath(p, root)] = sha(open(p, "rb").read())
    return out

def grow(root, cycle, files, seed):
    """Adds a folder of `files` files and rewrites a tenth of the existing ones."""
    rnd = random.Random(int(seed))
    old = tree_state(root)
    for p in rnd.sample(sorted(old), len(old) // 10):
        with open(os.path.join(root, p), "wb") as f:
            f.write(os.urandom(rnd.randint(0, 40000)))
    base = os.path.join(root, "c%03d" % int(cycle))
    for i in range(int(files)):
        d = os.path.join(base, "s%02d" % (i % 20))
        os.makedirs(d, exist_ok=True)
        size = rnd.randint(0, 20000) if i % 100 else rnd.randint(1 << 19, 2 << 20)
        with open(os.path.join(d, "f%04d" % i), "wb") as f:
            f.write(os.urandom(size // 2) + bytes(size - size // 2))
        if i % 97 == 5:
            os.link(os.path.join(d, "f%04d" % i), os.path.join(d, "h%04d" % i))
        if i % 31 == 1:
            os.setxattr(os.path.join(d, "f%04d" % i), "user.drill", b"%d" % i)

def fsync_files(mnt, local, n, seed):
    """Writes n small files into mnt/m and local/m alike, each fsynced on the mount: n journal records."""
    os.makedirs(os.path.join(mnt, "m"), exist_ok=True)
    os.makedirs(os.path.join(local, "m"), exist_ok=True)
    rnd = random.Random(seed)
    for i in range(int(n)):
        data = rnd.randbytes(rnd.randint(0, 3000))
        for root in (mnt, local):
            with open(os.path.join(root, "m", "f%04d" % i), "wb") as f:
                f.write(data)
                if root == mnt:
                    os.fsync(f.fileno())

def compare_tree(old_json, new_json, exported, mode):
    """mode exact: exported == new. partial: every exported file has its old or its new content."""
    old = json.load(open(old_json)) if os.path.exists(old_json) else {}
    new = json.load(open(new_json))
    got = tree_state(exported) if os.path.isdir(exported) else {}
    bad = []
    for p, h in sorted(got.items()):
        if mode == "exact" and new.get(p) != h or mode == "partial" and h not in (new.get(p), old.get(p)):
            bad.append("%s: content is %s" % (p, "neither the old nor the new one" if mode == "partial" else "not the source's"))
    if mode == "exact":
        bad += ["%s: missing" % p for p in sorted(set(new) - set(got))]
    if mode == "partial":
        bad += ["%s: committed before, missing now" % p for p in sorted(set(old) - set(got))]
    bad += ["%s: not in the source" % p for p in sorted(set(got) - set(new) - set(old))]
    print("%d files exported" % len(got) + "".join("\n  " + b for b in bad[:10]) + ("\n  ... %d more" % (len(bad) - 10) if len(bad) > 10 else ""))
    return 1 if bad else 0

def versions_write(root, docs, gen, seed):
    """Writes generation `gen` of each document (deterministic content) through a mount."""
    for d in range(int(docs)):
        with open(os.path.join(root, "doc%03d.txt" % d), "wb") as f:
            f.write(version_content(d, int(gen), seed))
            if d == int(docs) - 1:
                os.fsync(f.fileno())           # commits the generation

def version_content(d, g, seed):
    rnd = random.Random("%s-%d-%d" % (seed, d, g))
    return ("doc %d generation %d\n" % (d, g)).encode() + rnd.randbytes(rnd.randint(2000, 60000))

def versions_check(root, docs, gens, keep, seed, mode):
    """Every listed version of every document reads back with its content; the newest `keep` are all
    there; mode "pruned": exactly those. gens: the newest generation (versions 1..gens)."""
    bad = []
    docs, gens, keep = int(docs), int(gens), int(keep)
    listed_total = 0
    for d in range(docs):
        name = "doc%03d.txt" % d
        vdir = os.path.join(root, ".versions", name)
        got = {}
        for f in os.listdir(vdir):
            m = re.fullmatch(r"doc%03d\.(\d+)\.txt" % d, f)
            if not m:
                bad.append("%s: unexpected %s" % (name, f)); continue
            got[int(m.group(1))] = f
        listed_total += len(got)
        for n, f in got.items():
            try:
                data = open(os.path.join(vdir, f), "rb").read()
            except OSError as e:
                bad.append("%s version %d cannot be read: %s" % (name, n, e)); continue
            if data != version_content(d, n, seed):
                bad.append("%s version %d has wrong content" % (name, n))
        want = set(range(max(1, gens - keep + 1), gens + 1))
        if not want <= set(got):
            bad.append("%s: kept versions missing: %s" % (name, sorted(want - set(got))))
        if mode == "pruned" and set(got) != want:
            bad.append("%s: after a full prune expected versions %s, found %s" % (name, sorted(want), sorted(got)))
        if open(os.path.join(root, name), "rb").read() != version_content(d, gens, seed):
            bad.append("%s: current content wrong" % name)
    print("%d versions read" % listed_total + "".join("\n  " + b for b in bad[:10]))
    return 1 if bad else 0

if __name__ == "__main__":
    what, args = sys.argv[1], sys.argv[2:]
    if what == "worker": worker(*args)
    elif what == "verify": sys.exit(verify(args[0], args[1], args[2], args[3], int(args[4]), float(args[5]), float(args[6])))
    elif what == "killer": killer(*args)
    elif what == "daemonpid": sys.exit(daemon_pid(*args))
    elif what == "grow": grow(*args)
    elif what == "treestate": json.dump(tree_state(args[0]), open(args[1], "w"))
    elif what == "compare": sys.exit(compare_tree(*args))
    elif what == "vwrite": versions_write(*args)
    elif what == "fsyncfiles": fsync_files(*args)
    elif what == "vcheck": sys.exit(versions_check(*args))
    elif what == "uniform": print("%.3f" % random.Random(args[2]).uniform(float(args[0]), float(args[1])))
    else: sys.exit("unknown helper " + what)
PY
py() { python3 "$work/crash.py" "$@"; }

# ---------------------------------------------------------------------------------------------
# Helpers shared by the drills.
declare -A passed=() failed=()
failures=()
fail() { failures+=("$*"); keep_work=1; }
mount_repo() {    # REPO MOUNTPOINT [OPTIONS]: mounts and remembers the mount point for cleanup
    local m=$2
    [[ " ${mounted[*]} " == *" $m "* ]] || mounted+=("$m")
    "$nexusfs" mount "$1" "$m" "${@:3}"
}
umount_repo() { "$nexusfs" umount "$1"; }
detach() { fusermount3 -u -z "$1" 2>/dev/null || umount -l "$1" 2>/dev/null || true; }
wait_gone() { local i; for ((i = 0; i < 200; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done; return 1; }
state_of() { local c; c=$(ls -d "$1"/*/catalog.db 2>/dev/null | head -1); dirname "${c:-$1/x/catalog.db}"; }
# Runs `nexusfs check` and `audit --verify` on REPO; prints the problem and returns 1 if either fails.
clean_check() {
    local repo=$1 out=$2 rc=0
    "$nexusfs" check "$repo" > "$out.check" 2>&1 || rc=$?
    ((rc == 0)) || { echo "check exited $rc: $(grep -v '^garbage' "$out.check" | head -5 | tr '\n' ' ')"; return 1; }
    rc=0; "$nexusfs" audit "$repo" --verify > "$out.audit" 2>&1 || rc=$?
    ((rc == 0)) || { echo "audit --verify exited $rc: $(head -3 "$out.audit" | tr '\n' ' ')"; return 1; }
}
# What a command that was to be killed did instead: its exit code and last line (EXIT OUTPUT-PREFIX).
exited() { ((${1} == 137)) || echo " (exited $1: $(tail -qn 1 "$2".import1 "$2".prune1 "$2".recover1 2>/dev/null | head -1))"; }
elapsed() { awk -v s="$1" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }'; }

# ---------------------------------------------------------------------------------------------
drill_mount() {
    local repo=$work/mount/repo mnt=$work/mount/mnt c
    export NEXUSFS_STATE_DIR=$work/mount/state
    mkdir -p "$mnt"
    "$nexusfs" init "$repo" >/dev/null
    passed[mount]=0 failed[mount]=0
    echo "== mount: $cycles cycles, $WORKERS workers, commit=$COMMIT s, margin $MARGIN s, seed $seed"
    for ((c = 1; c <= cycles; c++)); do
        local cdir; cdir=$(printf '%s/mount/cycles/%03d' "$work" "$c")
        mkdir -p "$cdir"
        local start=$EPOCHREALTIME problem= mode
        # Where to aim the kill: anywhere, near a group commit's deadline, right after fsyncs, or in a checkpoint.
        case $((RANDOM % 20)) in
            [0-9]) mode=random ;; 1[0-3]) mode=commit ;; 1[4-6]) mode=fsync ;; *) mode=checkpoint ;;
        esac
        if ! mount_repo "$repo" "$mnt" -o commit="$COMMIT" 2> "$cdir/mount.err"; then
            echo "cycle $c: FAILED: mount: $(cat "$cdir/mount.err")"; failed[mount]=$((failed[mount] + 1))
            fail "mount cycle $c: mount failed: $(cat "$cdir/mount.err")"; break
        fi
        local daemon; daemon=$(py daemonpid "$repo") || { problem="no daemon holds $repo/lock"; }
        local wpids=() w logs=()
        # Half the random and commit cycles without any fsync: only the commit interval makes things durable.
        local wmode=normal
        if [[ $mode == fsync || $mode == checkpoint ]]; then wmode=$mode; elif ((RANDOM % 2)); then wmode=nofsync; fi
        for ((w = 0; w < WORKERS; w++)); do
            py worker "$mnt" "$w" "$cdir/w$w.log" "$seed$c$w" "$work/mount/baseline.json" "$wmode" "$c" 2> "$cdir/w$w.err" &
            wpids+=($!); logs+=("$cdir/w$w.log")
        done
        local spec timeout=8
        case $mode in
            random) spec=delay:$(py uniform 0.3 3 $RANDOM) ;;
            commit) if ((RANDOM % 2)); then     # the Nth pack sealed: inside a group commit, before its catalog commit
                        spec="grow:$((RANDOM % 4 + 1)):$repo/packs/??/*"
                    else                        # around the first commit deadlines
                        spec=delay:$(py uniform $(awk -v c="$COMMIT" -v k=$((RANDOM % 2 + 1)) 'BEGIN { print k * c - 0.15, k * c + 0.25 }') $RANDOM)
                    fi ;;
            fsync) spec=fsyncs:$((RANDOM % 20 + 3)):$(IFS=,; echo "${logs[*]}") ;;
            checkpoint) spec="appear:$(state_of "$NEXUSFS_STATE_DIR")/checkpoint.tmp" ;;
        esac
        local how=""
        [[ -n $problem ]] || how=$(py killer "$daemon" "$spec" "$cdir/kill.json" "$timeout") || problem="the killer failed: $how"
        # The workers fail on the dead mount; the slow ones are killed.
        sleep 0.3
        for w in "${wpids[@]}"; do kill -9 "$w" 2>/dev/null || true; done
        for w in "${wpids[@]}"; do wait "$w" 2>/dev/null || true; done
        [[ -z $daemon ]] || wait_gone "$daemon" || problem="the daemon survived kill -9"
        # As a user would; every fourth cycle `nexusfs mount` finds the dead mount point itself.
        ((c % 4 == 0)) || detach "$mnt"
        if [[ -z $problem ]] && ! mount_repo "$repo" "$mnt" -o commit="$COMMIT" 2> "$cdir/remount.err"; then
            problem="remount after the kill failed: $(cat "$cdir/remount.err")"
        fi
        local result=""
        if [[ -z $problem ]]; then
            if result=$(py verify "$mnt" "$cdir" "$work/mount/baseline.json" "$work/mount/versions.json" "$WORKERS" "$COMMIT" "$MARGIN" 2>&1); then :; else
                problem=$(grep '^FAIL' <<<"$result" | head -5 | sed 's/^FAIL //')
                [[ -n $problem ]] || problem="verify failed: $(tail -3 <<<"$result")"
            fi
            [[ ! -f $work/mount/baseline.json.new ]] || mv "$work/mount/baseline.json.new" "$work/mount/baseline.json"
            [[ ! -f $work/mount/versions.json.new ]] || mv "$work/mount/versions.json.new" "$work/mount/versions.json"
            local urc=0; umount_repo "$mnt" 2> "$cdir/umount.err" || urc=$?
            if ((urc != 0)); then
                problem=${problem:-"umount exited $urc: $(cat "$cdir/umount.err")"}
                detach "$mnt"
            elif [[ -z $problem ]]; then
                problem=$(clean_check "$repo" "$cdir/after") || true
            fi
        fi
        local line; line=$(printf 'cycle %3d: %-10s %-10s kill %s; %s' "$c" "$mode" "$wmode" "$how" "$(head -1 <<<"$result")")
        if [[ -z $problem ]]; then
            passed[mount]=$((passed[mount] + 1))
            echo "$line; ok ($(elapsed "$start") s)"
            rm -rf "$cdir"
        else
            failed[mount]=$((failed[mount] + 1))
            echo "$line; FAILED ($(elapsed "$start") s)"
            sed 's/^/    /' <<<"$problem"
            local log; log=$(state_of "$NEXUSFS_STATE_DIR")/mount.log
            [[ ! -s $log ]] || { echo "    mount.log:"; tail -n 5 "$log" | sed 's/^/      /'; }
            fail "mount cycle $c ($cdir): $(head -1 <<<"$problem")"
            # Go on from whatever the tree is now, unless the repository cannot be mounted any more.
            if mountpoint -q "$mnt"; then umount_repo "$mnt" 2>/dev/null || detach "$mnt"; fi
            [[ $problem != remount* && $problem != "no daemon"* ]] || break
        fi
    done
    echo "mount: ${passed[mount]} passed, ${failed[mount]} failed"
}

# ---------------------------------------------------------------------------------------------
drill_import() {
    local d=$work/import repo=$work/import/repo src=$work/import/src c
    export NEXUSFS_STATE_DIR=$d/state
    mkdir -p "$src"
    "$nexusfs" init "$repo" >/dev/null
    passed[import]=0 failed[import]=0
    # A first import without a kill: its time is the window the kills are spread over.
    py grow "$src" 0 600 "$seed" && py treestate "$src" "$d/old.json"
    local t0=$EPOCHREALTIME
    "$nexusfs" import "$repo" "$src" --to /t >/dev/null
    local window; window=$(elapsed "$t0")
    echo "== import: $sub_cycles cycles (the first import takes $window s)"
    for ((c = 1; c <= sub_cycles; c++)); do
        local start=$EPOCHREALTIME problem= out=$d/c$c rc=0
        py grow "$src" "$c" 200 "$seed$c"; py treestate "$src" "$d/new.json"
        local spec
        case $((RANDOM % 3)) in
            0|1) spec=delay:$(py uniform 0.05 "$window" $RANDOM) ;;
            2) spec="grow:$((RANDOM % 3 + 1)):$repo/packs/??/*" ;;     # right after a batch's pack is sealed
        esac
        local t_start=$EPOCHREALTIME; "$nexusfs" import "$repo" "$src" --to /t > "$out.import1" 2>&1 & local pid=$!
        local how; how=$(py killer "$pid" "$spec" "$out.kill.json" 30 "$t_start") || true
        local krc=0; wait "$pid" 2>/dev/null || krc=$?; how+=$(exited "$krc" "$out")
        # A kill after the import had finished tests nothing: aim earlier next time.
        [[ $how != *"had exited"* ]] || window=$(awk -v w="$window" 'BEGIN { print w * 0.7 }')
        # What the killed import committed: every file has its old or its new content, none is half-imported.
        if ! problem=$(clean_check "$repo" "$out.killed"); then :
        elif ! "$nexusfs" export "$repo" "$out.export" --path /t > "$out.export.log" 2>&1; then problem="export after the kill failed: $(tail -2 "$out.export.log")"
        elif ! r=$(py compare "$d/old.json" "$d/new.json" "$out.export" partial); then problem="after the kill: $r"
        elif ! "$nexusfs" import "$repo" "$src" --to /t > "$out.import2" 2>&1; then problem="import again exited non-zero: $(tail -2 "$out.import2")"
        elif ! problem=$(clean_check "$repo" "$out.done"); then :
        else
            rm -rf "$out.export"
            if ! "$nexusfs" export "$repo" "$out.export" --path /t > "$out.export.log" 2>&1; then problem="export failed: $(tail -2 "$out.export.log")"
            elif ! r=$(py compare "$d/old.json" "$d/new.json" "$out.export" exact); then problem="after importing again: $r"
            else problem=; fi
        fi
        rm -rf "$out.export"
        local line; line=$(printf 'import %2d: kill %s' "$c" "$how")
        if [[ -z $problem ]]; then
            passed[import]=$((passed[import] + 1)); echo "$line; ok ($(elapsed "$start") s)"
            mv "$d/new.json" "$d/old.json"; rm -f "$out".*
        else
            failed[import]=$((failed[import] + 1)); echo "$line; FAILED"; sed 's/^/    /' <<<"$problem"
            fail "import cycle $c ($out.*): $(head -1 <<<"$problem")"
            mv "$d/new.json" "$d/old.json"
        fi
    done
    echo "import: ${passed[import]} passed, ${failed[import]} failed"
}

# ---------------------------------------------------------------------------------------------
drill_prune() {
    local d=$work/prune repo=$work/prune/repo mnt=$work/prune/mnt c docs=40 keep=3 gen=0
    export NEXUSFS_STATE_DIR=$d/state
    mkdir -p "$mnt"
    "$nexusfs" init "$repo" >/dev/null
    passed[prune]=0 failed[prune]=0
    echo "== prune: $sub_cycles cycles ($docs documents, --keep-last $keep)"
    # Versions to prune: each cycle adds four generations of every document, each in its own commit.
    add_generations() {
        mount_repo "$repo" "$mnt" || return 1
        local g
        for g in 1 2 3 4; do gen=$((gen + 1)); py vwrite "$mnt" "$docs" "$gen" "$seed"; done
        umount_repo "$mnt"
    }
    for ((c = 1; c <= sub_cycles; c++)); do
        local start=$EPOCHREALTIME problem= out=$d/c$c
        add_generations || { problem="could not write the versions"; }
        local spec
        case $((RANDOM % 4)) in
            0) spec=delay:$(py uniform 0.2 1.2 $RANDOM) ;;
            1) spec="appear:$repo/packs/tmp/*.tmp" ;;              # copying live blobs into new packs
            2) spec="drop:$repo/packs/??/*" ;;                     # deleting the retired packs
            3) spec="appear:$(state_of "$NEXUSFS_STATE_DIR")/checkpoint.tmp" ;;
        esac
        local how=
        if [[ -z $problem ]]; then
            local t_start=$EPOCHREALTIME; "$nexusfs" prune "$repo" --keep-last "$keep" > "$out.prune1" 2>&1 & local pid=$!
            how=$(py killer "$pid" "$spec" "$out.kill.json" 20 "$t_start") || true
            local krc=0; wait "$pid" 2>/dev/null || krc=$?; how+=$(exited "$krc" "$out")
            if ! problem=$(clean_check "$repo" "$out.killed"); then :
            elif ! mount_repo "$repo" "$mnt" -o ro 2> "$out.mount"; then problem="mount after the kill failed: $(cat "$out.mount")"
            else
                r=$(py vcheck "$mnt" "$docs" "$gen" "$keep" "$seed" partial) || problem="after the kill: $r"
                umount_repo "$mnt" || problem=${problem:-"umount failed"}
                if [[ -z $problem ]]; then
                    if ! "$nexusfs" prune "$repo" --keep-last "$keep" > "$out.prune2" 2>&1; then problem="prune again failed: $(tail -2 "$out.prune2")"
                    elif ! problem=$(clean_check "$repo" "$out.done"); then :
                    elif ! mount_repo "$repo" "$mnt" -o ro 2> "$out.mount"; then problem="mount after prune failed: $(cat "$out.mount")"
                    else
                        r=$(py vcheck "$mnt" "$docs" "$gen" "$keep" "$seed" pruned) || problem="after the full prune: $r"
                        umount_repo "$mnt" || problem=${problem:-"umount failed"}
                    fi
                fi
            fi
        fi
        local line; line=$(printf 'prune %2d: kill %s' "$c" "$how")
        if [[ -z $problem ]]; then
            passed[prune]=$((passed[prune] + 1)); echo "$line; ok ($(elapsed "$start") s)"; rm -f "$out".*
        else
            failed[prune]=$((failed[prune] + 1)); echo "$line; FAILED"; sed 's/^/    /' <<<"$problem"
            fail "prune cycle $c ($out.*): $(head -1 <<<"$problem")"
            if mountpoint -q "$mnt"; then umount_repo "$mnt" 2>/dev/null || detach "$mnt"; fi
        fi
    done
    echo "prune: ${passed[prune]} passed, ${failed[prune]} failed"
}

# ---------------------------------------------------------------------------------------------
drill_recover() {
    local d=$work/recover repo=$work/recover/repo src=$work/recover/src mnt=$work/recover/mnt c
    export NEXUSFS_STATE_DIR=$d/state
    mkdir -p "$src" "$mnt"
    "$nexusfs" init "$repo" >/dev/null
    passed[recover]=0 failed[recover]=0
    # A repository with a checkpoint (the imports end with one) and journal records after it, one per
    # fsync on a mount, each in packs of its own: recover has packs to read and records to replay.
    py grow "$src" 0 600 "$seed"
    "$nexusfs" import "$repo" "$src" >/dev/null
    py grow "$src" 1 300 "$seed"
    "$nexusfs" import "$repo" "$src" >/dev/null
    mount_repo "$repo" "$mnt"
    py fsyncfiles "$mnt" "$src" 200 "$seed"
    umount_repo "$mnt"
    py treestate "$src" "$d/want.json"
    local t0=$EPOCHREALTIME
    "$nexusfs" recover "$repo" > /dev/null 2>&1
    local window; window=$(elapsed "$t0")
    echo "== recover: $sub_cycles cycles (a full recover takes $window s)"
    local statedir; statedir=$(state_of "$NEXUSFS_STATE_DIR")
    for ((c = 1; c <= sub_cycles; c++)); do
        local start=$EPOCHREALTIME problem= out=$d/c$c spec
        case $((RANDOM % 4)) in
            0|1) spec=delay:$(py uniform "$(awk -v w="$window" 'BEGIN { print w * 0.2 }')" "$(awk -v w="$window" 'BEGIN { print w * 0.9 }')" $RANDOM) ;;
            2) spec="appear:$statedir/catalog.recovering" ;;
            3) spec="appear:$statedir/catalog.db.replaced-*" ;;
        esac
        rm -f "$statedir"/catalog.db.replaced-*
        # New journal records after the last recover's checkpoint, so that every recover replays some.
        mount_repo "$repo" "$mnt" && py fsyncfiles "$mnt" "$src" 40 "$seed$c" && umount_repo "$mnt" && py treestate "$src" "$d/want.json" \
            || { problem="could not add journal records"; }
        local t_start=$EPOCHREALTIME; "$nexusfs" recover "$repo" > "$out.recover1" 2>&1 & local pid=$!
        local how; how=$(py killer "$pid" "$spec" "$out.kill.json" 30 "$t_start") || true
        local krc=0; wait "$pid" 2>/dev/null || krc=$?; how+=$(exited "$krc" "$out")
        local killed_state="catalog $( [[ -f $statedir/catalog.db ]] && echo present || echo missing)"
        # Whatever the killed recover left must not open as a damaged catalog: check passes, or says
        # there is no catalog (exit 6) when none is left; recover again must work and leave everything there.
        local rc=0; "$nexusfs" check "$repo" > "$out.check1" 2>&1 || rc=$?
        if [[ -n $problem ]]; then :
        elif ((rc != 0)) && ! { ((rc == 6)) && [[ $killed_state == *missing ]]; }; then problem="check after the killed recover exited $rc ($killed_state): $(head -3 "$out.check1" | tr '\n' ' ')"
        elif ! "$nexusfs" recover "$repo" > "$out.recover2" 2>&1; then problem="recover again failed: $(tail -2 "$out.recover2")"
        elif ! problem=$(clean_check "$repo" "$out.done"); then :
        elif ! "$nexusfs" export "$repo" "$out.export" > "$out.export.log" 2>&1; then problem="export failed: $(tail -2 "$out.export.log")"
        elif ! r=$(py compare "$d/want.json" "$d/want.json" "$out.export" exact); then problem="after recover: $r"
        else problem=; fi
        rm -rf "$out.export"
        local line; line=$(printf 'recover %2d: kill %s (%s, check %s)' "$c" "$how" "$killed_state" "$rc")
        if [[ -z $problem ]]; then
            passed[recover]=$((passed[recover] + 1)); echo "$line; ok ($(elapsed "$start") s)"; rm -f "$out".*
        else
            failed[recover]=$((failed[recover] + 1)); echo "$line; FAILED"; sed 's/^/    /' <<<"$problem"
            fail "recover cycle $c ($out.*): $(head -1 <<<"$problem")"
        fi
    done
    echo "recover: ${passed[recover]} passed, ${failed[recover]} failed"
}

echo "== crash drill $(date -u '+%F %T') UTC: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); nexusfs $nexusfs (sha256 $(sha256sum "$nexusfs" | cut -c1-12))"
echo "   work folder $work; seed $seed (--seed $seed repeats the random choices, not the timing)"
RANDOM=$((seed % 32768))
drills=(mount import prune recover)
[[ $only == all ]] || drills=("$only")
total_start=$EPOCHREALTIME
for drill in "${drills[@]}"; do "drill_$drill"; done
echo
echo "== summary ($(elapsed "$total_start") s)"
for drill in "${drills[@]}"; do echo "$drill: ${passed[$drill]:-0} passed, ${failed[$drill]:-0} failed"; done
p=0 f=0
for drill in "${drills[@]}"; do p=$((p + ${passed[$drill]:-0})); f=$((f + ${failed[$drill]:-0})); done
echo "$p passed, $f failed"
if ((${#failures[@]})); then
    echo "FAILED:"; printf '  %s\n' "${failures[@]}"
    exit 1
fi
