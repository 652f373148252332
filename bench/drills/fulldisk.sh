#!/usr/bin/env bash
# Full-disk drill (as root): the repository's disk (a small loop-mounted ext4 image) and, separately,
# the state directory's disk (a small tmpfs) run full during big sequential writes, many small saves,
# a checkpoint and `prune` (issue 11, "full disk").
#   bash bench/drills/fulldisk.sh [--short] [--only repo|state] [--seed S]
#   env: NEXUSFS_BIN=path (no build), REPO_MB=64 (the ext4 image), STATE_MB=24 (the tmpfs), T=120 (the
#        timeout(1) of each step, s)
# For each disk: init, mount, a committed set (files written and fsynced, their hashes and copies kept
# outside the mount), then at each fill point the disk is filled to the last block while the workload
# runs:
#   bigwrite    a file written in 1 MiB writes fills the disk half-way (--short: 24 MiB; else also
#               100 MiB, past the 64 MiB where the mount chunks a written file early), then fsync, close;
#   smallsaves  400 (--short: 150) small files written and closed, every 10th fsynced, the disk filled
#               after the first third;
#   checkpoint  fsynced saves until the mount takes a checkpoint (every 256 commits), the disk filled
#               when the checkpoint's image (checkpoint.tmp beside the catalog) appears;
#   prune       after umount, `prune --keep-last 1` with a nearly full disk (two margins: the checkpoint
#               does not fit; the packs it rewrites do not);
#   umount      a file written and closed on a full disk, then `nexusfs umount`: exit 1 naming the full
#               disk, or 0 when the save still fitted (then it must be there on the next mount).
# After each fill: every committed file reads back byte-identical while the disk is full, and after;
# every failed call of a writer failed with ENOSPC or EDQUOT (never EIO or anything else); every save
# whose close returned 0 reads back; after the filler is deleted, new fsynced saves work on the same
# mount; prune exits 0 or 7 with "no space"; umount exits 1 with "could not be saved: no space" (naming
# the disk) when a save did not fit; `check --read-data` and `audit --verify` are clean at the end, and a new mount reads
# everything committed. Prints a line per check and `N passed, N failed`; exits 1 on any failure, keeping
# the work folder (under /var/tmp). Every FUSE mount, tmpfs and loop device is unmounted or detached on
# exit, also on failure.
set -euo pipefail
short=0 only=all seed=${SEED:-$RANDOM$RANDOM}
while (($#)); do
    case $1 in
        --short) short=1 ;;
        --only) only=$2; shift ;;
        --only=*) only=${1#--only=} ;;
        --seed) seed=$2; shift ;;
        --seed=*) seed=${1#--seed=} ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
[[ $only =~ ^(all|repo|state)$ ]] || { echo "--only takes repo or state" >&2; exit 2; }
REPO_MB=${REPO_MB:-64} STATE_MB=${STATE_MB:-24} T=${T:-120}
source "$(dirname "$0")/../common.sh"
[[ $(id -u) == 0 ]] || { echo "fulldisk.sh needs root (loop devices, tmpfs, mounts)" >&2; exit 1; }
for tool in fusermount3 mkfs.ext4 losetup timeout; do
    command -v "$tool" >/dev/null || { echo "fulldisk.sh needs $tool" >&2; exit 1; }
done

work=/var/tmp/nexusfs-fulldisk-$$
mkdir -p "$work"
keep_work=0
fuse_mounts=() disk_mounts=() loops=()
cleanup() {
    local rc=$? m l
    trap - EXIT INT TERM HUP
    drill_kill_jobs
    for m in "${fuse_mounts[@]}"; do drill_unmount "$m"; done
    for m in "${disk_mounts[@]}"; do
        ! mountpoint -q "$m" || umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    # The images are what takes room; the logs and copies stay.
    if ((keep_work)) || ((rc != 0)); then rm -f "$work"/*.img; fi
    drill_end_work "$rc" "$keep_work"
    exit "$rc"
}
drill_traps
export NEXUSFS_PASSWORD=fulldisk-drill

cat > "$work/fd.py" <<'PY'
import errno, hashlib, json, os, random, sys, threading, time

def sha(data): return hashlib.sha256(data).hexdigest()
def ename(e): return errno.errorcode.get(e.errno, str(e.errno))
OK_ERRORS = ("ENOSPC", "EDQUOT")

def content(seed, size):
    rnd = random.Random(seed)
    # Half random, half text: compression and dedup both see something.
    head = rnd.randbytes(size // 2)
    line = ("%s line of a document\n" % seed).encode()
    return head + (line * (size // len(line) + 1))[: size - len(head)]

def load(manifest):
    try:
        with open(manifest) as f: return json.load(f)
    except FileNotFoundError:
        return {}

def save_manifest(manifest, m):
    with open(manifest + ".new", "w") as f: json.dump(m, f)
    os.replace(manifest + ".new", manifest)

def keep(orig, rel, data):
    """The original, outside the mount."""
    p = os.path.join(orig, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f: f.write(data)

def fill(disk, leave=0):
    """Fills the disk with a file .filler* until ENOSPC, or until `leave` bytes are free; returns the bytes written."""
    n = len([x for x in os.listdir(disk) if x.startswith(".filler")])
    fd = os.open(os.path.join(disk, ".filler%d" % n), os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
    total = 0
    try:
        st = os.statvfs(disk)
        room = st.f_bavail * st.f_frsize - leave if leave else None
        for block in (1 << 20, 64 << 10, 4096, 512, 1):
            while room is None or total + block <= room:
                try:
                    total += os.write(fd, b"\0" * block)
                except OSError as e:
                    if e.errno not in (errno.ENOSPC, errno.EDQUOT): raise
                    break
        try: os.fsync(fd)
        except OSError: pass
    finally:
        os.close(fd)
    return total

def unfill(disk):
    for name in os.listdir(disk):
        if name.startswith(".filler"): os.unlink(os.path.join(disk, name))
    os.sync()

class Outcome:
    """Errors a writer saw, by call."""
    def __init__(self): self.errors, self.calls = [], 0
    def do(self, what, fn):
        self.calls += 1
        try:
            return fn(), None
        except OSError as e:
            self.errors.append("%s %s" % (what, ename(e)))
            return None, e
    def bad(self): return [e for e in self.errors if e.split()[-1] not in OK_ERRORS]

def write_file(path, data, fsync, out, chunk=1 << 20, midway=None):
    """Writes and closes path; returns 'committed' (fsync returned 0), 'saved' (close returned 0) or None."""
    fd, e = out.do("open", lambda: os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644))
    if e: return None
    ok = True
    for off in range(0, len(data), chunk):
        if midway and off >= len(data) // 2: midway(); midway = None
        n, e = out.do("write", lambda: os.write(fd, data[off:off + chunk]))
        if e or n != len(data[off:off + chunk]):
            ok = False
            break
    synced = False
    if ok and fsync:
        _, e = out.do("fsync", lambda: os.fsync(fd))
        ok = synced = e is None
    _, e = out.do("close", lambda: os.close(fd))
    if e: return None
    return ("committed" if synced else "saved") if ok else None

def cmd_commit(mnt, orig, manifest, sub, n, seed):
    """n files, each fsynced: the committed set. Fails on any error."""
    m = load(manifest)
    os.makedirs(os.path.join(mnt, sub), exist_ok=True)
    rnd = random.Random(seed)
    out = Outcome()
    for i in range(int(n)):
        rel = "%s/c%04d.dat" % (sub, i)
        size = rnd.choice([0, 1, 700, 4096, 5000, 70000, 300000]) if i else 3 << 20
        data = content("%s-%s" % (seed, rel), size)
        if write_file(os.path.join(mnt, rel), data, True, out) != "committed":
            sys.exit("FAIL writing %s: %s" % (rel, out.errors))
        keep(orig, rel, data)
        m[rel] = sha(data)
    save_manifest(manifest, m)
    print("%d files committed" % int(n))

def cmd_verify(mnt, manifest):
    """Every file of the manifest reads back with its hash; prints FAIL lines."""
    m = load(manifest)
    bad = []
    for rel, h in sorted(m.items()):
        try:
            with open(os.path.join(mnt, rel), "rb") as f: data = f.read()
        except OSError as e:
            bad.append("%s: read failed with %s" % (rel, ename(e))); continue
        if sha(data) != h: bad.append("%s: content differs (%d bytes read)" % (rel, len(data)))
    for b in bad[:8]: print("FAIL", b)
    if len(bad) > 8: print("FAIL ... %d more" % (len(bad) - 8))
    print("%d of %d files intact" % (len(m) - len(bad), len(m)))
    sys.exit(1 if bad else 0)

def report(out, extra, path):
    with open(path, "w") as f:
        json.dump({"errors": out.errors, "bad": out.bad(), "calls": out.calls, **extra}, f)
    print("%d calls, %d failed (%s)%s" % (out.calls, len(out.errors), ", ".join(sorted(set(e.split()[-1] for e in out.errors))) or "none",
          "".join("; %s %s" % kv for kv in extra.items() if not isinstance(kv[1], (list, dict)))))

def adopt(orig, manifest, saved, seed):
    """Saves that returned 0 join what must read back."""
    m = load(manifest)
    for rel, data in saved:
        keep(orig, rel, data); m[rel] = sha(data)
    save_manifest(manifest, m)

def cmd_bigwrite(mnt, orig, manifest, disk, rel, mib, seed, outpath):
    out = Outcome()
    data = content("%s-%s" % (seed, rel), int(mib) << 20)
    filled = []
    r = write_file(os.path.join(mnt, rel), data, True, out, midway=lambda: filled.append(fill(disk)))
    if r: adopt(orig, manifest, [(rel, data)], seed)
    report(out, {"result": r or "failed", "filled": sum(filled)}, outpath)

def cmd_smallsaves(mnt, orig, manifest, disk, sub, n, seed, outpath):
    out = Outcome()
    os.makedirs(os.path.join(mnt, sub), exist_ok=True)
    rnd = random.Random(seed)
    saved, pending, filled = [], [], 0
    for i in range(int(n)):
        if i == int(n) // 3: filled = fill(disk)
        rel = "%s/s%05d.txt" % (sub, i)
        data = content("%s-%s" % (seed, rel), rnd.randint(1, 12000))
        r = write_file(os.path.join(mnt, rel), data, i % 10 == 9, out)
        if r: saved.append((rel, data))
    adopt(orig, manifest, saved, seed)
    report(out, {"saved": len(saved), "filled": filled}, outpath)

def cmd_checkpoint(mnt, orig, manifest, disk, statedir, sub, n, seed, outpath):
    """fsynced saves; the disk is filled the moment checkpoint.tmp appears."""
    out = Outcome()
    os.makedirs(os.path.join(mnt, sub), exist_ok=True)
    fill(disk, leave=4 << 20)
    marker = os.path.join(statedir, "checkpoint.tmp")
    seen = {"fired": False, "inside": False, "filled": 0}
    stop = threading.Event()
    def watch():
        while not stop.is_set():
            if os.path.exists(marker):
                seen["fired"] = True
                seen["filled"] = fill(disk)
                seen["inside"] = os.path.exists(marker)
                return
            time.sleep(0.0002)
    t = threading.Thread(target=watch, daemon=True); t.start()
    saved = []
    for i in range(int(n)):
        rel = "%s/k%05d.txt" % (sub, i)
        data = content("%s-%s" % (seed, rel), 300 + i)
        r = write_file(os.path.join(mnt, rel), data, True, out)
        if r: saved.append((rel, data))
        if seen["fired"] and len(out.errors) >= 6: break
    stop.set(); t.join(5)
    if not seen["fired"]: fill(disk)
    adopt(orig, manifest, saved, seed)
    report(out, {"saved": len(saved), "checkpoint seen": seen["fired"], "filled inside it": seen["inside"]}, outpath)

def cmd_generations(mnt, orig, manifest, sub, gens, seed):
    """Overwrites each file of sub `gens` times (the last one fsynced): versions for prune to remove."""
    m = load(manifest)
    out = Outcome()
    rels = sorted(r for r in m if r.startswith(sub + "/"))
    for g in range(int(gens)):
        for rel in rels:
            data = content("%s-%s-g%d" % (seed, rel, g), 20000 + 1000 * g)
            if not write_file(os.path.join(mnt, rel), data, g == int(gens) - 1, out):
                sys.exit("FAIL overwriting %s: %s" % (rel, out.errors))
            keep(orig, rel, data); m[rel] = sha(data)
    save_manifest(manifest, m)
    print("%d files, %d generations" % (len(rels), int(gens)))

def cmd_unsaved(mnt, orig, pending, rel, seed, outpath):
    out = Outcome()
    data = content("%s-%s" % (seed, rel), 2 << 20)
    r = write_file(os.path.join(mnt, rel), data, False, out)
    if r: adopt(orig, pending, [(rel, data)], seed)      # must be there after an umount that exits 0
    _, e = out.do("mkdir", lambda: os.mkdir(os.path.join(mnt, rel + ".d")))
    report(out, {"result": r or "failed"}, outpath)

def cmd_errors(path):
    """The writer's report: exit 1 with the calls that failed with something but ENOSPC/EDQUOT."""
    with open(path) as f: r = json.load(f)
    if r["bad"]:
        print("; ".join(r["bad"][:6])); sys.exit(1)

if __name__ == "__main__":
    what, args = sys.argv[1], sys.argv[2:]
    if what == "fill": print(fill(args[0], int(args[1]) if len(args) > 1 else 0))
    elif what == "unfill": unfill(args[0])
    else: globals()["cmd_" + what](*args)
PY
py() { timeout "$T" python3 "$work/fd.py" "$@"; }

passes=0 fails=0 failures=()
pass() { passes=$((passes + 1)); echo "  ok    $*"; }
fail() { fails=$((fails + 1)); failures+=("$*"); keep_work=1; echo "  FAIL  $*"; }
# check DESCRIPTION COMMAND...: runs COMMAND under timeout, a pass if it exits 0; its output is shown on failure.
check() {
    local what=$1 out rc=0; shift
    if [[ $(type -t "$1") == function ]]; then out=$("$@" 2>&1) || rc=$?; else out=$(timeout "$T" "$@" 2>&1) || rc=$?; fi
    if ((rc == 0)); then pass "$what${out:+ ($(tail -1 <<<"$out"))}"
    else fail "$what (exit $rc$( ((rc == 124)) && echo ", timed out")): $(grep -m3 . <<<"$out" | tr '\n' ' ')"; fi
}
elapsed() { awk -v s="$1" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }'; }
state_of() { local c; c=$(ls -d "$1"/*/catalog.db 2>/dev/null | head -1); dirname "${c:-$1/x/catalog.db}"; }
mount_repo() {
    [[ " ${fuse_mounts[*]} " == *" $2 "* ]] || fuse_mounts+=("$2")
    timeout "$T" "$nexusfs" mount "$1" "$2" "${@:3}"
}
free_mb() { df -m --output=avail "$1" | tail -1 | tr -d ' '; }

# Sets up the disk for TARGET; sets repo, state, disk (the filesystem that gets filled).
make_disks() {
    local target=$1 d=$work/$1
    mkdir -p "$d/mnt" "$d/disk"
    if [[ $target == repo ]]; then
        truncate -s "${REPO_MB}M" "$work/$target.img"
        mkfs.ext4 -q -F -m 0 -b 4096 "$work/$target.img"
        local loop; loop=$(losetup --find --show "$work/$target.img"); loops+=("$loop")
        mount "$loop" "$d/disk"; disk_mounts+=("$d/disk")
        repo=$d/disk/repo state=$d/state
        echo "   repository on $loop (ext4, $REPO_MB MiB) at $d/disk; state directory on $(df --output=source "$work" | tail -1)"
    else
        mount -t tmpfs -o size="${STATE_MB}m" tmpfs "$d/disk"; disk_mounts+=("$d/disk")
        repo=$d/repo state=$d/disk/state
        echo "   state directory on tmpfs ($STATE_MB MiB) at $d/disk; repository on $(df --output=source "$work" | tail -1)"
    fi
    disk=$d/disk
}

# After a fill: the writer's errors, the committed set while full, then free, new saves, the set again.
after_fill() {
    local label=$1 report=$2 mnt=$3
    check "$label: every failed call failed with ENOSPC/EDQUOT" py errors "$report"
    check "$label: committed files intact while the disk is full" py verify "$mnt" "$manifest"
    py unfill "$disk"
    check "$label: after freeing space, new fsynced saves work on the same mount" py commit "$mnt" "$orig" "$manifest" "$label-after" 5 "$seed$label"
    check "$label: committed files intact after freeing space" py verify "$mnt" "$manifest"
}

drill() {
    local target=$1 repo state disk mnt=$work/$1/mnt orig=$work/$1/orig manifest=$work/$1/manifest.json start=$EPOCHREALTIME
    echo "== $target: the ${target/repo/repository}${target/state/ directory}'s disk runs full"
    make_disks "$target"
    export NEXUSFS_STATE_DIR=$state
    timeout "$T" "$nexusfs" init "$repo" >/dev/null
    local sd; sd=$(state_of "$state")
    mount_repo "$repo" "$mnt" || { fail "$target: mount failed"; return; }
    check "$target: committed set written" py commit "$mnt" "$orig" "$manifest" base 30 "$seed"

    echo "-- $target: big sequential writes"
    local mib
    for mib in 24 $( ((short)) || echo 100); do
        py bigwrite "$mnt" "$orig" "$manifest" "$disk" "big$mib.bin" "$mib" "$seed" "$work/$target/big$mib.json" | sed 's/^/   writer: /' || true
        after_fill "$target/bigwrite-${mib}M" "$work/$target/big$mib.json" "$mnt"
    done

    echo "-- $target: many small saves"
    py smallsaves "$mnt" "$orig" "$manifest" "$disk" small "$( ((short)) && echo 150 || echo 400)" "$seed" "$work/$target/small.json" | sed 's/^/   writers: /' || true
    after_fill "$target/smallsaves" "$work/$target/small.json" "$mnt"

    echo "-- $target: a checkpoint"
    py checkpoint "$mnt" "$orig" "$manifest" "$disk" "$sd" ckpt 320 "$seed" "$work/$target/ckpt.json" | sed 's/^/   writers: /' || true
    after_fill "$target/checkpoint" "$work/$target/ckpt.json" "$mnt"
    grep -q "checkpoint failed" "$sd/mount.log" 2>/dev/null && echo "   mount.log: $(grep -c 'checkpoint failed' "$sd/mount.log") failed checkpoint(s), tried again"

    echo "-- $target: umount with a save that does not fit"
    py fill "$disk" >/dev/null
    local pending=$work/$target/pending.json
    rm -f "$pending"
    py unsaved "$mnt" "$orig" "$pending" unsaved.bin "$seed" "$work/$target/unsaved.json" | sed 's/^/   writer: /' || true
    check "$target/umount: every failed call failed with ENOSPC/EDQUOT" py errors "$work/$target/unsaved.json"
    local urc=0 uout; uout=$(timeout "$T" "$nexusfs" umount "$mnt" 2>&1) || urc=$?
    echo "   umount: exit $urc: $uout"
    # The last saves may still fit (SQLite reuses WAL pages it has): then umount exits 0 and they must be
    # there on the next mount; otherwise it exits 1 naming the full disk.
    local saved_anyway=0
    if ((urc == 1)) && [[ $uout == *"could not be saved: no space left"* ]]; then pass "$target/umount: exits 1 and says the changes could not be saved for lack of space"
        if [[ $target == state ]]; then
            [[ $uout == *"state directory's disk"* ]] && pass "$target/umount: the message names the state directory's disk" \
                || fail "$target/umount: the message names the wrong disk: $uout"
        fi
    elif ((urc == 0)); then saved_anyway=1
    else fail "$target/umount: expected exit 1 and 'could not be saved: no space left' (or 0 with everything saved), got exit $urc: $uout"; fi
    grep -q " $mnt fuse" /proc/self/mounts && { fail "$target/umount: still mounted"; fusermount3 -u -z "$mnt"; }
    py unfill "$disk"
    mount_repo "$repo" "$mnt" || fail "$target: remount after the failed umount"
    check "$target/umount: committed files intact on the next mount" py verify "$mnt" "$manifest"
    if ((saved_anyway)); then
        if [[ -f $pending ]]; then check "$target/umount: exit 0, and the save made on the full disk is there on the next mount" py verify "$mnt" "$pending"
        else pass "$target/umount: exit 0 (the writer's close had failed with ENOSPC; the umount stored it)"; fi
    fi

    echo "-- $target: prune"
    py generations "$mnt" "$orig" "$manifest" base 4 "$seed" >/dev/null || fail "$target/prune: could not write the generations"
    timeout "$T" "$nexusfs" umount "$mnt" || fail "$target/prune: umount before prune"
    local margin
    for margin in 16 1024; do
        # The catalog holds names too: with the state directory full, its checkpoint image is what does not fit.
        py fill "$disk" $((margin * 1024)) >/dev/null
        local prc=0 pout; pout=$(timeout "$T" "$nexusfs" prune "$repo" --keep-last 1 2>&1) || prc=$?
        echo "   prune with $margin KiB free: exit $prc: $(tail -1 <<<"$pout")"
        if ((prc == 0)) || { ((prc == 7)) && grep -qiE 'no space|is full' <<<"$pout"; }; then pass "$target/prune-$margin: exit 0, or 7 naming the full disk"
        else fail "$target/prune-$margin: exit $prc: $(tail -2 <<<"$pout" | tr '\n' ' ')"; fi
        # With the state directory full, SQLite may find no room for the catalog's -wal and -shm files:
        # then check must say so (exit 7), not fail otherwise.
        local crc=0 cout; cout=$(timeout "$T" "$nexusfs" check "$repo" 2>&1) || crc=$?
        if ((crc == 0)) || { [[ $target == state ]] && ((crc == 7)) && grep -qiE 'no space|is full' <<<"$cout"; }; then
            pass "$target/prune-$margin: check on the full disk exits 0$([[ $target == state ]] && echo ", or 7 naming the full disk") ($(tail -1 <<<"$cout"))"
        else fail "$target/prune-$margin: check on the full disk exited $crc: $(tail -2 <<<"$cout" | tr '\n' ' ')"; fi
        py unfill "$disk"
        mount_repo "$repo" "$mnt" -o ro || fail "$target/prune-$margin: mount after prune"
        check "$target/prune-$margin: committed files intact" py verify "$mnt" "$manifest"
        timeout "$T" "$nexusfs" umount "$mnt" || fail "$target/prune-$margin: umount"
    done
    check "$target/prune: prune with space works" "$nexusfs" prune "$repo" --keep-last 1

    echo "-- $target: at the end"
    check "$target: check --read-data clean" "$nexusfs" check "$repo" --read-data
    check "$target: audit --verify clean" "$nexusfs" audit "$repo" --verify
    mount_repo "$repo" "$mnt" || fail "$target: final mount"
    check "$target: committed files intact on a new mount" py verify "$mnt" "$manifest"
    check "$target: final umount" "$nexusfs" umount "$mnt"
    echo "   $target: $(elapsed "$start") s"
}

echo "== full-disk drill $(date -u '+%F %T') UTC: $(nproc) cores; nexusfs $nexusfs (sha256 $(sha256sum "$nexusfs" | cut -c1-12))"
echo "   work folder $work; seed $seed; $( ((short)) && echo short || echo full) form"
total_start=$EPOCHREALTIME
targets=(repo state)
[[ $only == all ]] || targets=("$only")
for target in "${targets[@]}"; do drill "$target"; done
echo
echo "== summary ($(elapsed "$total_start") s)"
echo "$passes passed, $fails failed"
if ((fails)); then
    echo "FAILED:"; printf '  %s\n' "${failures[@]}"
    exit 1
fi
