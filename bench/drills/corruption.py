"""Helpers of bench/drills/corruption.sh: the source tree and what each document's versions hold, the
map from pack bytes to the documents and versions whose content they carry (read from the pristine
catalog with SQLite, not through nexusfs), the damage itself, and the reads through a mount."""
import errno, hashlib, json, os, random, sqlite3, stat, sys

def sha(data): return hashlib.sha256(data).hexdigest()

def load(path):
    with open(path) as f: return json.load(f)

def dump(obj, path):
    with open(path + ".tmp", "w") as f: json.dump(obj, f, indent=1, sort_keys=True)
    os.replace(path + ".tmp", path)

def text(rnd, n):
    words = [b"contract", b"invoice", b"report", b"minutes", b"draft", b"approved", b"budget", b"2026", b"review"]
    out = bytearray()
    while len(out) < n:
        out += rnd.choice(words) + (b"\n" if rnd.random() < 0.1 else b" ")
    return bytes(out[:n])

def content(rnd, kind, n):
    return rnd.randbytes(n) if kind == "bin" else text(rnd, n)

class Expect:
    """{path: [sha of version 1, 2, ...]} and a store of every content by sha (outside the repository)."""
    def __init__(self, store, path):
        self.store, self.path = store, path
        self.docs = load(path) if os.path.exists(path) else {}
    def save(self, rel, data):
        os.makedirs(self.store, exist_ok=True)
        h = sha(data)
        with open(os.path.join(self.store, h), "wb") as f: f.write(data)
        versions = self.docs.setdefault("/" + rel, [])
        if not versions or versions[-1] != h:           # identical content adds no version
            versions.append(h)
    def write(self): dump(self.docs, self.path)

def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f: f.write(data)

# Sizes chosen so that packs hold many small frames, some large ones, shared chunks and empty content.
LAYOUT = [("a/note%02d.txt" % i, "txt", 2000 + 1500 * i) for i in range(8)] + \
         [("b/scan%02d.bin" % i, "bin", 40000 + 70000 * i) for i in range(6)] + \
         [("c/big%d.bin" % i, "bin", 900000 + 500000 * i) for i in range(2)] + \
         [("c/log.txt", "txt", 600000), ("c/empty.txt", "txt", 0), ("d/e/deep.txt", "txt", 30000)]

def grow(src, store, expect_path, phase, seed):
    """Phase 1 writes the tree; phase 2 changes some documents, appends to others, adds new ones."""
    rnd = random.Random("%s-%s" % (seed, phase))
    ex = Expect(store, expect_path)
    if phase == "1":
        for rel, kind, n in LAYOUT:
            data = content(rnd, kind, n)
            write_file(os.path.join(src, rel), data)
            ex.save(rel, data)
        shared = open(os.path.join(src, "b/scan03.bin"), "rb").read()
        write_file(os.path.join(src, "d/copy-of-scan03.bin"), shared)    # dedup: the same chunks twice
        ex.save("d/copy-of-scan03.bin", shared)
    else:
        changed = []
        for rel, kind, n in LAYOUT[1::3]:
            write_file(os.path.join(src, rel), content(rnd, kind, max(n, 5000)))
            changed.append(rel)
        for rel in ("a/note00.txt", "a/note04.txt"):
            with open(os.path.join(src, rel), "ab") as f: f.write(text(rnd, 20000))
            changed.append(rel)
        for i in range(3):
            write_file(os.path.join(src, "e/new%d.dat" % i), content(rnd, "bin" if i else "txt", 20000 + 30000 * i))
            changed.append("e/new%d.dat" % i)
        for rel in changed:                            # the import sees each file's last content only
            ex.save(rel, open(os.path.join(src, rel), "rb").read())
    ex.write()

def saves(mnt, store, expect_path, seed, count):
    """Saves through the mount, each fsynced (a journal record and a pack of their own)."""
    rnd = random.Random("%s-saves" % seed)
    ex = Expect(store, expect_path)
    names = sorted(ex.docs)
    for i in range(int(count)):
        rel = names[rnd.randrange(len(names))][1:]
        data = content(rnd, rnd.choice(["txt", "bin"]), rnd.randrange(3000, 250000))
        fd = os.open(os.path.join(mnt, rel), os.O_WRONLY | os.O_TRUNC)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        ex.save(rel, data)
    ex.write()

# ---------------------------------------------------------------------------------------------
# The map from pack bytes to documents, from the pristine catalog (format: docs/repository-format.md).
KINDS = {0: "data", 1: "journal", 2: "checkpoint", 3: "catalogImage"}

def manifest_blobs(db, chunks):
    entries = [chunks[k:k + 36] for k in range(0, len(chunks), 36)]
    if entries and entries[0][:32] == bytes(32) and int.from_bytes(entries[0][32:36], "little") == 0:
        out = []
        for part in entries[1:]:
            row = db.execute("SELECT chunks FROM manifest_parts WHERE id = ?", (part[:32],)).fetchone()
            out += manifest_blobs(db, row[0]) if row else [b"missing part " + part[:32]]
        return out
    return [e[:32] for e in entries if e[:32] != bytes(32)]

def index(catalog, out):
    db = sqlite3.connect("file:%s?mode=ro" % catalog, uri=True)
    names = {}
    for parent, name, ino in db.execute("SELECT parent, name, ino FROM entries"):
        names[ino] = (parent, bytes(name).decode())
    def path(ino):
        parts = []
        while ino != 1:
            if ino not in names: return None
            ino, name = names[ino]
            parts.append(name)
        return "/" + "/".join(reversed(parts))
    doc_path = {}
    users = {}                                   # manifest id -> ["PATH (current content)", "PATH version N"]
    for ino, doc, manifest in db.execute("SELECT ino, doc, manifest FROM nodes WHERE doc IS NOT NULL"):
        p = path(ino)
        if p is None: continue
        doc_path[doc] = p
        if manifest is not None:
            users.setdefault(bytes(manifest), []).append("%s (current content)" % p)
    for doc, number, manifest in db.execute("SELECT doc, number, manifest FROM versions"):
        users.setdefault(bytes(manifest), []).append("%s version %d" % (doc_path.get(doc, "document %d" % doc), number))
    blob_users = {}
    for mid, chunks in db.execute("SELECT id, chunks FROM manifests"):
        for blob in manifest_blobs(db, bytes(chunks)):
            blob_users.setdefault(blob.hex(), set()).update(users.get(bytes(mid), []))
    packs = {}
    for name, length, blob, off, ln, kind in db.execute(
            "SELECT p.name, p.length, c.id, c.offset, c.stored_length, c.kind FROM chunks c JOIN packs p ON c.pack = p.id"):
        pk = packs.setdefault(bytes(name).hex(), {"length": length, "frames": []})
        pk["frames"].append({"offset": off, "length": ln, "kind": KINDS.get(kind, str(kind)),
                             "users": sorted(blob_users.get(bytes(blob).hex(), ()))})
    for pk in packs.values():
        pk["frames"].sort(key=lambda f: f["offset"])
    dump({"packs": packs}, out)

# ---------------------------------------------------------------------------------------------
# Cases: (kind, mode, file, position) and what the damage must do.
MODES = ("flip", "truncate", "zero")

def affected_by(pack, mode, pos):
    """The documents and versions whose content lies in frames the damage reaches, and the blob kinds hit."""
    end = pack["length"] if mode == "truncate" else min(pos + (1 if mode == "flip" else 4096), pack["length"])
    users, kinds = set(), set()
    for f in pack["frames"]:
        if f["offset"] < end and f["offset"] + f["length"] > pos:
            users.update(f["users"]); kinds.add(f["kind"])
    return sorted(users), sorted(kinds)

def region(pack, pos):
    if pos < 24: return "pack-header"
    for f in pack["frames"]:
        if f["offset"] <= pos < f["offset"] + f["length"]:
            return {"data": "pack-data", "journal": "pack-journal"}.get(f["kind"], "pack-checkpoint")
    return "pack-toc"

def cases(repo, state, wal_state, index_path, seed, positions, out):
    rnd = random.Random("%s-cases" % seed)
    idx = load(index_path)["packs"]
    per = int(positions)
    found = []
    # Pack positions: drawn until each pack region has its share, so that rare regions (headers,
    # tables of contents, checkpoint frames) are hit as often as content.
    want = {r: {m: per for m in MODES} for r in ("pack-data", "pack-journal", "pack-checkpoint", "pack-header", "pack-toc")}
    # Pack names are random: order the packs by what they hold, so that a seed repeats the choices.
    names = sorted(idx, key=lambda n: (idx[n]["length"], len(idx[n]["frames"]), n))
    for _ in range(200000):
        if not any(n for r in want.values() for n in r.values()): break
        name = rnd.choice(names)
        pk = idx[name]
        target = rnd.choice([r for r, m in want.items() if any(m.values())])
        if target == "pack-header": pos = rnd.randrange(24)
        elif target == "pack-toc":
            last = pk["frames"][-1]
            start = last["offset"] + last["length"]
            pos = rnd.randrange(start, pk["length"])
        else:
            frames = [f for f in pk["frames"] if region(pk, f["offset"]) == target]
            if not frames: continue
            f = rnd.choice(frames)
            pos = f["offset"] + rnd.choice([0, 4, 8, 30, 64, rnd.randrange(f["length"]), f["length"] - 1])
        for mode in MODES:
            if want[target][mode] == 0: continue
            if mode == "zero" and target in ("pack-header", "pack-toc") and rnd.random() < 0.5:
                pos = max(0, pos - 2048)      # a block across the region's edge
            users, kinds = affected_by(pk, mode, pos)
            found.append({"kind": target, "mode": mode, "file": "repo/packs/%s/%s" % (name[:2], name), "pos": pos,
                          "size": pk["length"], "affected": users, "blobs": kinds})
            want[target][mode] -= 1
            break
    def files_of(kind, base, paths):
        for mode in MODES:
            for k in range(per):
                p = paths[k % len(paths)]
                size = os.path.getsize(os.path.join(base, p))
                pos = rnd.randrange(size) if size else 0
                if k == 0 and mode != "flip": pos = 0 if mode == "truncate" else pos
                found.append({"kind": kind, "mode": mode, "file": p, "pos": pos, "size": size, "affected": [], "blobs": []})
    top = os.path.dirname(repo)
    keys = ["repo/keys/" + n for n in sorted(os.listdir(os.path.join(repo, "keys")))]
    files_of("config", top, ["repo/config"])
    files_of("key", top, keys)
    files_of("lock", top, ["repo/lock"])
    cat = [os.path.relpath(os.path.join(d, f), top) for d, _, fs in os.walk(state) for f in fs if f == "catalog.db"]
    files_of("catalog", top, cat)
    wal = [os.path.relpath(os.path.join(d, f), os.path.dirname(wal_state)) for d, _, fs in os.walk(wal_state)
           for f in fs if f == "catalog.db-wal"]
    if wal:
        files_of("catalog-wal", os.path.dirname(wal_state), wal)
    for i, c in enumerate(found):
        c["mask"] = rnd.randrange(1, 256)
        c["id"] = i + 1
    dump(found, out)

def pick(cases_path, sample, seed, out):
    """All cases, or a sample of N that takes every kind and mode in turn."""
    found = load(cases_path)
    n = int(sample)
    if n <= 0 or n >= len(found):
        dump(found, out); return
    rnd = random.Random("%s-pick" % seed)
    groups = {}
    for c in found: groups.setdefault((c["kind"], c["mode"]), []).append(c)
    order = sorted(groups); rnd.shuffle(order)
    for g in groups.values(): rnd.shuffle(g)
    chosen, k = [], 0
    while len(chosen) < n:
        g = groups[order[k % len(order)]]
        if g: chosen.append(g.pop())
        k += 1
    dump(sorted(chosen, key=lambda c: c["id"]), out)

def case(cases_path, number, field):
    c = next(c for c in load(cases_path) if c["id"] == int(number))
    v = c[field]
    print(" ".join(v) if isinstance(v, list) else v)

def damage(path, mode, pos, mask):
    pos, mask = int(pos), int(mask)
    os.chmod(path, 0o600)
    if mode == "truncate":
        os.truncate(path, pos)
    else:
        with open(path, "r+b") as f:
            f.seek(pos)
            size = os.fstat(f.fileno()).st_size
            if mode == "flip":
                b = f.read(1) or b"\0"                 # an empty file (the free lock) gains a byte
                f.seek(pos); f.write(bytes([b[0] ^ mask]))
            else:
                f.write(bytes(min(4096, max(0, size - pos)) if size else 4096))
            f.flush(); os.fsync(f.fileno())

def check_json(path):
    """The `affected` list of a `check --json` output, one per line ('-' when there is no JSON)."""
    try:
        report = load(path)
    except Exception:
        print("-"); return
    for a in report.get("affected", []): print(a)

# ---------------------------------------------------------------------------------------------
# Reading through the mount.
def read_all(path):
    """(bytes read, errno or None): reads until EOF or the first error."""
    out = bytearray()
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        return bytes(out), e.errno
    try:
        while True:
            try:
                b = os.read(fd, 1 << 17)
            except OSError as e:
                return bytes(out), e.errno
            if not b: return bytes(out), None
            out += b
    finally:
        os.close(fd)

def listed(mnt):
    """{"PATH (current content)": file, "PATH version N": file} for everything the mount shows."""
    out = {}
    for d, dirs, files in os.walk(mnt):
        for f in files:
            full = os.path.join(d, f)
            rel = "/" + os.path.relpath(full, mnt)
            if not stat.S_ISREG(os.lstat(full).st_mode): continue
            out["%s (current content)" % rel] = full
            vdir = os.path.join(d, ".versions", f)
            try:
                names = os.listdir(vdir)
            except OSError:
                continue
            for v in names:
                digits = [p for p in v.split(".") if len(p) == 5 and p.isdigit()]
                if digits:
                    out["%s version %d" % (rel, int(digits[-1]))] = os.path.join(vdir, v)
    return out

def expected_items(docs):
    out = {}
    for p, versions in docs.items():
        for n, h in enumerate(versions, 1):
            out["%s version %d" % (p, n)] = h
        out["%s (current content)" % p] = versions[-1]
    return out

def verify(mnt, store, expect_path, affected_path, how, out):
    """Reads every document and version through the mount. how = exact: the tree is exactly the
    expected one, the affected items give EIO and everything else its bytes; prefix: as exact, but a
    document may have lost its newest versions (their journal records were damaged); names: the
    catalog itself was damaged, so a name or an item may be missing or new, but no read gives bytes
    that are not that item's. Prints a summary and writes the problems (JSON list) to out."""
    docs = load(expect_path)
    affected = set(l.strip() for l in open(affected_path) if l.strip() and l.strip() != "-")
    want = expected_items(docs)
    got = listed(mnt)
    if how == "prefix":
        # A document's current content is its newest version that is still listed.
        for p, versions in docs.items():
            present = [n for n in range(1, len(versions) + 1) if "%s version %d" % (p, n) in got]
            if present: want["%s (current content)" % p] = versions[present[-1] - 1]
        damaged_shas = set(want[a] for a in affected if a in want)
    problems, notes = [], []
    counts = {"right": 0, "eio": 0}
    for item, full in sorted(got.items()):
        data, err = read_all(full)
        h = want.get(item)
        if h is None:
            (notes if how == "names" else problems).append("%s: listed by the mount but never written" % item)
            if how == "names" and err is None:
                known = set(v for vs in docs.values() for v in vs)
                if sha(data) not in known:
                    problems.append("%s: reads %d bytes that no document ever held" % (item, len(data)))
            continue
        original = open(os.path.join(store, h), "rb").read()
        if err is None:
            if data != original:
                problems.append("%s: WRONG BYTES: read %d bytes, sha %s, the original has %d bytes, sha %s"
                                % (item, len(data), sha(data)[:12], len(original), h[:12]))
            elif item in affected:
                problems.append("%s: damaged, but read back whole and right (check named it)" % item)
            else:
                counts["right"] += 1
        elif err == errno.EIO:
            if not original.startswith(data):
                problems.append("%s: WRONG BYTES before EIO: %d bytes that are not the original's start" % (item, len(data)))
            elif item not in affected and how != "names" and not (how == "prefix" and h in damaged_shas):
                problems.append("%s: EIO, but none of its content was damaged" % item)
            else:
                counts["eio"] += 1
        elif how == "names" and err == errno.ENOENT:
            notes.append("%s: listed, but not found when opened" % item)   # a refusal, not wrong bytes
        else:
            problems.append("%s: read failed with %s (expected EIO or the bytes)" % (item, errno.errorcode.get(err, err)))
    missing = sorted(set(want) - set(got))
    if how == "prefix":
        for p, versions in docs.items():
            present = [n for n in range(1, len(versions) + 1) if "%s version %d" % (p, n) in got]
            if present != list(range(1, len(present) + 1)):
                problems.append("%s: versions %s are listed, not a run from 1" % (p, present))
        lost = [m for m in missing if " version " in m]
        if lost: notes.append("%d newest versions lost with the damaged journal record" % len(lost))
        missing = [m for m in missing if " version " not in m]
    for m in missing:
        (notes if how == "names" else problems).append("%s: missing from the mount" % m)
    dump({"problems": problems, "notes": notes}, out)
    print("%d right, %d EIO, %d problems%s" % (counts["right"], counts["eio"], len(problems),
                                               ("; " + "; ".join(notes[:2])) if notes else ""))

def tree_hash(repo):
    """One hash of every file in the repository but the lock (to see that a refused command wrote nothing)."""
    h = hashlib.sha256()
    for d, _, fs in sorted(os.walk(repo)):
        for f in sorted(fs):
            p = os.path.join(d, f)
            if os.path.relpath(p, repo) == "lock": continue
            h.update(os.path.relpath(p, repo).encode() + b"\0")
            with open(p, "rb") as fh: h.update(hashlib.sha256(fh.read()).digest())
    print(h.hexdigest())

if __name__ == "__main__":
    what, args = sys.argv[1], sys.argv[2:]
    {"grow": grow, "saves": saves, "index": index, "cases": cases, "pick": pick, "case": case, "damage": damage,
     "checkjson": check_json, "verify": verify, "treehash": tree_hash}[what](*args)
