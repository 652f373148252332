#!/usr/bin/env bash
# Repository benchmark (release build): dedup figures of issue 2, and the versioned
# document corpus (../shared/bench/corpus.py) imported round by round into nexusfs and
# backed up by restic (Debian's) in the same run. Prints figures and ratios.
#   bench/repository.sh [ROUNDS]        (default 10)
source "$(dirname "$0")/common.sh"
rounds=${1:-10}
corpus_py=${CORPUS_PY:-../shared/bench/corpus.py}
command -v restic >/dev/null || apt-get install -y -qq restic >/dev/null

work=/var/tmp/nexusfs-bench-$$
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
export NEXUSFS_PASSWORD=bench RESTIC_PASSWORD=bench NEXUSFS_STATE_DIR=$work/state
stored() { "$nexusfs" stats "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["storedBytes"])'; }

echo "== dedup: the same tree imported twice, and one byte changed in a 50 MB file"
python3 "$corpus_py" init "$work/tree" >/dev/null
"$nexusfs" init "$work/dedup" >/dev/null
"$nexusfs" import "$work/dedup" "$work/tree" --to /a >/dev/null
one=$(stored "$work/dedup")
"$nexusfs" import "$work/dedup" "$work/tree" --to /b >/dev/null
two=$(stored "$work/dedup")
python3 -c "print(f'same tree twice: {$one} -> {$two} stored bytes, +{($two-$one)/$one*100:.3f} %')"
head -c 50000000 /dev/urandom > "$work/big.bin"
mkdir -p "$work/single" && cp "$work/big.bin" "$work/single/big.bin"
"$nexusfs" import "$work/dedup" "$work/single" --to /big >/dev/null
before=$(stored "$work/dedup")
printf '\x5a' | dd of="$work/single/big.bin" bs=1 seek=25000000 conv=notrunc status=none
"$nexusfs" import "$work/dedup" "$work/single" --to /big >/dev/null
after=$(stored "$work/dedup")
python3 -c "print(f'one byte changed in 50 MB: +{$after-$before} stored bytes ({($after-$before)/1e6:.3f} MB)')"

echo "== corpus: $rounds rounds, nexusfs import vs restic backup"
"$nexusfs" init "$work/nexusfs" >/dev/null
restic init --repo "$work/restic" >/dev/null 2>&1
cat > "$work/step.sh" <<STEP
set -e
t0=\$(python3 -c "import time; print(time.time())")
"$nexusfs" import "$work/nexusfs" "\$2" >/dev/null
t1=\$(python3 -c "import time; print(time.time())")
restic backup --repo "$work/restic" -q "\$2" >/dev/null
t2=\$(python3 -c "import time; print(time.time())")
echo "\$1 \$t0 \$t1 \$t2" >> "$work/times"
STEP
python3 "$corpus_py" replay "$work/corpus" --rounds "$rounds" --exec "bash $work/step.sh {round} {dir}" > "$work/replay.json"
python3 - "$work" "$(stored "$work/nexusfs")" <<'PY'
import json, os, sys
work, nx_stored = sys.argv[1], int(sys.argv[2])
def du(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
rows = [l.split() for l in open(f"{work}/times")]
nx_time = sum(float(r[2]) - float(r[1]) for r in rows)
re_time = sum(float(r[3]) - float(r[2]) for r in rows)
logical = sum(json.loads(l)["logical_bytes"] for l in open(f"{work}/replay.json"))
re_stored = du(f"{work}/restic")
nx_dir = du(f"{work}/nexusfs")
print(f"logical bytes over all rounds: {logical/1e6:.1f} MB")
print(f"nexusfs: stored {nx_stored/1e6:.2f} MB (repository directory {nx_dir/1e6:.2f} MB), import time {nx_time:.2f} s")
print(f"restic:  stored {re_stored/1e6:.2f} MB, backup time {re_time:.2f} s")
print(f"ratio nexusfs/restic: size {nx_dir/re_stored:.3f}x, time {nx_time/re_time:.3f}x")
PY
