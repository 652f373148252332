#!/usr/bin/env bash
# Version history benchmark (release build), printing figures and ratios:
#  1. history of a document with 1,000 versions vs 10: listing .versions/NAME and reading a version;
#  2. 20 versions of a 20 MB document with a few small edits each: stored bytes vs one version;
#  3. the versioned corpus of ../shared/bench/corpus.py replayed into a mount, against the same
#     rounds stored as restic snapshots (Debian's restic), sizes and times.
#   bench/versions.sh [ROUNDS]     (default 10)
source "$(dirname "$0")/common.sh"
rounds=${1:-10}
corpus_py=${CORPUS_PY:-../shared/bench/corpus.py}
command -v restic >/dev/null || apt-get install -y -qq restic >/dev/null
work=/var/tmp/nexusfs-bench-versions-$$
mkdir -p "$work/mnt"
cleanup() { "$nexusfs" umount "$work/mnt" 2>/dev/null || fusermount3 -u -z "$work/mnt" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export NEXUSFS_PASSWORD=bench RESTIC_PASSWORD=bench NEXUSFS_STATE_DIR=$work/state
stored() { "$nexusfs" stats "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["storedBytes"])'; }

"$nexusfs" init "$work/repo" >/dev/null
"$nexusfs" mount "$work/repo" "$work/mnt"

echo "== history length: 10 vs 1,000 versions"
python3 - "$work/mnt" <<'PY'
import os, sys, time
mnt = sys.argv[1]
for name, count in (("ten.txt", 10), ("thousand.txt", 1000)):
    path = os.path.join(mnt, name)
    for i in range(count):
        with open(path, "w") as f:
            f.write(f"version {i}\n" + "x" * 1000)
def timed(fn, n=50):
    start = time.perf_counter()
    for _ in range(n): fn()
    return (time.perf_counter() - start) / n * 1e3
time.sleep(1.5)
results = {}
for name, count in (("ten.txt", 10), ("thousand.txt", 1000)):
    folder = os.path.join(mnt, ".versions", name)
    listed = os.listdir(folder)
    assert len(listed) == count, (name, len(listed))
    middle = os.path.join(folder, sorted(listed)[count // 2])
    results[name] = (timed(lambda: os.listdir(folder), 20), timed(lambda: open(middle, "rb").read()))
    print(f"{count:5d} versions: list {results[name][0]:.3f} ms, read one version {results[name][1]:.3f} ms")
(l10, r10), (l1000, r1000) = results["ten.txt"], results["thousand.txt"]
print(f"ratio 1000/10: list {l1000 / l10:.2f}x (100x the entries), read {r1000 / r10:.2f}x")
PY

echo "== 20 versions of a 20 MB document with a few small edits"
"$nexusfs" umount "$work/mnt"
"$nexusfs" init "$work/one" >/dev/null
mkdir -p "$work/onesrc" && head -c 20000000 /dev/urandom > "$work/onesrc/big.bin"
"$nexusfs" import "$work/one" "$work/onesrc" >/dev/null
base=$(stored "$work/one")
"$nexusfs" init "$work/twenty" >/dev/null
"$nexusfs" mount "$work/twenty" "$work/mnt"
python3 - "$work/mnt/big.bin" <<'PY'
import random, sys
path = sys.argv[1]
rng = random.Random(7)
with open(path, "wb") as f: f.write(rng.randbytes(20_000_000))
for i in range(19):
    with open(path, "r+b") as f:
        for _ in range(3):
            f.seek(rng.randrange(20_000_000 - 16)); f.write(rng.randbytes(16))
PY
versions=$(ls "$work/mnt/.versions/big.bin" | wc -l)
"$nexusfs" umount "$work/mnt"
twenty=$(stored "$work/twenty")
python3 -c "print(f'$versions versions: {$twenty/1e6:.2f} MB stored vs one version {$base/1e6:.2f} MB: {$twenty/$base:.3f}x')"

echo "== corpus: $rounds rounds into a mount vs restic snapshots"
"$nexusfs" init "$work/corpusrepo" >/dev/null
"$nexusfs" mount "$work/corpusrepo" "$work/mnt"
t0=$(now)
python3 "$corpus_py" replay "$work/mnt/corpus" --rounds "$rounds" > "$work/nexusfs.json"
sync -f "$work/mnt" 2>/dev/null || true
"$nexusfs" umount "$work/mnt"
t1=$(now)
restic init --repo "$work/restic" >/dev/null 2>&1
t2=$(now)
python3 "$corpus_py" replay "$work/local" --rounds "$rounds" --exec "restic backup --repo $work/restic -q {dir} >/dev/null" > "$work/restic.json"
t3=$(now)
python3 - "$work" "$(stored "$work/corpusrepo")" "$t0" "$t1" "$t2" "$t3" <<'PY'
import os, sys
work, nx, t0, t1, t2, t3 = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:])
du = lambda p: sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(p) for f in fs)
re = du(f"{work}/restic")
print(f"nexusfs: stored {nx/1e6:.2f} MB, {t1-t0:.1f} s (writing through the mount, saves and commits included)")
print(f"restic:  stored {re/1e6:.2f} MB, {t3-t2:.1f} s (writing locally plus one backup per round)")
print(f"ratio nexusfs/restic: size {nx/re:.3f}x, time {(t1-t0)/(t3-t2):.3f}x")
PY
