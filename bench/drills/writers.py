"""Concurrent writers for the stress and soak drills: N processes create, overwrite, rename,
rename over and delete files in the same folders, each file holding a header that says what it
must contain, so the tree can be verified afterwards without a log.

  python3 writers.py run MNT TOP WRITERS SECONDS SEED MODEL.json [--max-files N]
  python3 writers.py verify MNT TOP MODEL.json
run exits 1 if any call failed (every error is printed); verify exits 1 on any difference.
"""
import errno, hashlib, json, multiprocessing, os, random, sys, time

FOLDERS = ["shared-a", "shared-b", "shared-c", "shared-a/inner"]

def body(w, f, g, size):
    """The content of writer w's file f at generation g: a header, then bytes derived from it."""
    header = b"nexusfs-writer w=%d f=%d g=%d size=%d\n" % (w, f, g, size)
    out, block = bytearray(header), hashlib.sha256(header).digest()
    while len(out) < size:
        out += block
        block = hashlib.sha256(block).digest()
    return bytes(out[:max(size, len(header))])

def parse(data):
    line = data.split(b"\n", 1)[0]
    try:
        fields = dict(kv.split(b"=") for kv in line.split(b" ")[1:])
        return int(fields[b"w"]), int(fields[b"f"]), int(fields[b"g"]), int(fields[b"size"])
    except (ValueError, KeyError):
        return None

def worker(mnt, top, w, seconds, seed, max_files, out):
    rnd = random.Random("%s-%d" % (seed, w))
    files = {}                      # relative path -> (f, g, size)
    errors, ops, counter = [], {}, 0
    deadline = time.monotonic() + seconds
    def path(rel): return os.path.join(mnt, top, rel)
    def write(rel, f, g, size, fsync):
        data = body(w, f, g, size)
        tmp = None
        with open(path(rel), "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush(); os.fsync(fh.fileno())
        with open(path(rel), "rb") as fh:
            back = fh.read()
        if back != data:
            errors.append("%s read back %d bytes, not the %d just written" % (rel, len(back), len(data)))
        files[rel] = (f, g, size)
    while time.monotonic() < deadline:
        op = rnd.choices(["create", "overwrite", "rename", "replace", "delete", "save_by_rename", "read"],
                         [4 if len(files) < max_files else 0, 4, 2, 1, 2 if len(files) > 5 else 0, 2, 2])[0]
        ops[op] = ops.get(op, 0) + 1
        mine = sorted(files)
        try:
            if op == "create" or not mine:
                counter += 1
                rel = "%s/w%d-%05d.dat" % (rnd.choice(FOLDERS), w, counter)
                write(rel, counter, 0, rnd.choice([0, 10, 700, 4096, 9000, 65536, 200000]), rnd.random() < 0.1)
            elif op == "overwrite":
                rel = rnd.choice(mine); f, g, _ = files[rel]
                write(rel, f, g + 1, rnd.choice([50, 5000, 70000]), rnd.random() < 0.1)
            elif op == "rename":
                rel = rnd.choice(mine)
                dst = "%s/%s" % (rnd.choice(FOLDERS), os.path.basename(rel))
                if dst != rel and dst not in files:
                    os.rename(path(rel), path(dst)); files[dst] = files.pop(rel)
            elif op == "replace" and len(mine) > 1:
                src, dst = rnd.sample(mine, 2)
                os.replace(path(src), path(dst)); files[dst] = files.pop(src)
            elif op == "delete":
                rel = rnd.choice(mine)
                os.unlink(path(rel)); del files[rel]
            elif op == "save_by_rename":          # an editor's save: a temp file renamed over the document
                rel = rnd.choice(mine); f, g, _ = files[rel]
                tmp = "%s/.w%d.tmp" % (os.path.dirname(rel), w)
                write(tmp, f, g + 1, rnd.choice([100, 8000]), False)
                os.replace(path(tmp), path(rel)); files[rel] = files.pop(tmp)
            elif op == "read":
                # Any file of any writer: it must parse as some writer's whole file, or be mid-save.
                folder = path(rnd.choice(FOLDERS))
                names = [n for n in os.listdir(folder) if n.endswith(".dat")]
                if names:
                    try:
                        with open(os.path.join(folder, rnd.choice(names)), "rb") as fh: fh.read()
                    except FileNotFoundError:
                        pass                      # another writer renamed or deleted it
        except OSError as e:
            errors.append("%s: %s (%s)" % (op, os.strerror(e.errno), errno.errorcode.get(e.errno, e.errno)))
    with open(out, "w") as fh:
        json.dump({"files": files, "errors": errors, "ops": ops}, fh)

def run(mnt, top, writers, seconds, seed, model, max_files=400):
    for folder in FOLDERS:
        os.makedirs(os.path.join(mnt, top, folder), exist_ok=True)
    procs = []
    for w in range(int(writers)):
        p = multiprocessing.Process(target=worker, args=(mnt, top, w, float(seconds), seed, int(max_files), "%s.w%d" % (model, w)))
        p.start(); procs.append(p)
    for p in procs: p.join()
    merged, errors, ops = {}, [], {}
    for w in range(int(writers)):
        try:
            with open("%s.w%d" % (model, w)) as fh: r = json.load(fh)
        except (OSError, ValueError):
            errors.append("writer %d died (exit %s)" % (w, procs[w].exitcode)); continue
        os.unlink("%s.w%d" % (model, w))
        merged.update({rel: [w] + list(v) for rel, v in r["files"].items()})
        errors += ["writer %d: %s" % (w, e) for e in r["errors"]]
        for k, v in r["ops"].items(): ops[k] = ops.get(k, 0) + v
    with open(model, "w") as fh: json.dump(merged, fh)
    for e in errors[:10]: print("ERROR", e)
    print("%d writers, %d operations (%s), %d files, %d errors" % (int(writers), sum(ops.values()),
          ", ".join("%s %d" % kv for kv in sorted(ops.items())), len(merged), len(errors)))
    return 1 if errors else 0

def verify(mnt, top, model):
    with open(model) as fh: want = json.load(fh)
    root, seen, bad = os.path.join(mnt, top), set(), []
    for dirpath, dirs, names in os.walk(root):
        for n in names:
            rel = os.path.relpath(os.path.join(dirpath, n), root)
            seen.add(rel)
            if rel not in want: bad.append("%s: a file no writer left there" % rel); continue
            w, f, g, size = want[rel]
            with open(os.path.join(dirpath, n), "rb") as fh: data = fh.read()
            if data != body(w, f, g, size):
                bad.append("%s: expected writer %d file %d generation %d (%d bytes), found %s (%d bytes)"
                           % (rel, w, f, g, size, parse(data), len(data)))
    bad += ["%s: missing" % rel for rel in sorted(set(want) - seen)]
    for b in bad[:10]: print("FAIL", b)
    print("%d of %d files as the writers left them" % (len(want) - len([b for b in bad if "no writer" not in b]), len(want)))
    return 1 if bad else 0

if __name__ == "__main__":
    what, args = sys.argv[1], sys.argv[2:]
    if what == "run":
        extra = {}
        if "--max-files" in args:
            i = args.index("--max-files"); extra["max_files"] = args[i + 1]; del args[i:i + 2]
        sys.exit(run(*args, **extra))
    elif what == "verify": sys.exit(verify(*args))
    else: sys.exit("unknown command " + what)
