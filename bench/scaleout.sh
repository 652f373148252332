#!/usr/bin/env bash
# Scale-out benchmark (release build, as root): the workloads of `juicefs bench -p 4` on a nexusfs mount
# of the embedded default (packs in the repository folder) and on one whose packs are in an
# S3-compatible object store (moto's server on loopback), each mounted afresh per run; then the medians,
# the ratio of the object store to the local default, and JuiceFS's published figures for the same
# workloads (docs/en/benchmark/metadata_engines_benchmark.md, "JuiceFS Bench", MySQL metadata engine,
# Amazon S3, c5.xlarge clients: 4 vCPUs, up to 10 Gbit/s; this machine has 2 cores and moto in Python).
#   bench/scaleout.sh [--runs N] [--quick]
#   env: RUNS=3, BIG_MB=256 (per writer), SMALL=100 (files per writer), NEXUSFS_BIN=path (no build)
#   --quick: RUNS=1, BIG_MB=64, SMALL=50 unless set
# Workloads, 4 processes at once as juicefs bench -p 4 runs them:
#   bigwrite    each writes BIG_MB of random data (its own slice), fsync, close                 MiB/s (all four)
#   bigread     each reads its file back, after unmount, mount and dropped caches          MiB/s
#   bigread-nocache  the same with the pack cache emptied too (S3 only: every pack fetched)  MiB/s
#   smallwrite  each writes SMALL files of 128 KiB, closing each; then sync                 files/s
#   smallread   each reads its files back, cold                                            files/s
#   stat        each stats its files, warm                                                 files/s
#   create      each creates 1,000 empty files (mdtest's "File creation"), then sync       files/s
#   visibility  latency of a change on one host becoming visible on another: needs the shared
#               PostgreSQL catalog, not built yet, so printed as n/a.
set -euo pipefail
while (($#)); do
    case $1 in
        --runs) RUNS=$2; shift ;;
        --quick) RUNS=${RUNS:-1} BIG_MB=${BIG_MB:-64} SMALL=${SMALL:-50} ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
RUNS=${RUNS:-3} BIG_MB=${BIG_MB:-256} SMALL=${SMALL:-100}
source "$(dirname "$0")/common.sh"
[[ $(id -u) == 0 ]] || { echo "scaleout.sh needs root (mounts, drop_caches)" >&2; exit 1; }
python3 -c 'import moto.server' 2>/dev/null || python3 -m pip install -q --root-user-action=ignore 'moto[server]'

work=/var/tmp/nexusfs-scaleout-$$
moto_pid=
cleanup() {
    mountpoint -q "$work/mnt" 2>/dev/null && { "$nexusfs" umount "$work/mnt" 2>/dev/null || fusermount3 -u -z "$work/mnt" || true; }
    [[ -n $moto_pid ]] && kill -9 "$moto_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
mkdir -p "$work/mnt"
export NEXUSFS_PASSWORD=bench NEXUSFS_STATE_DIR=$work/state
: > "$work/results"

# moto's S3 server on a free loopback port, for the whole run (a bucket per run).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m moto.server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
disown "$moto_pid"
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_ENDPOINT_URL=http://127.0.0.1:$port
python3 - "$port" <<'PY' || { echo "moto did not start: $(tail -5 "$work/moto.log")" >&2; exit 1; }
import socket, sys, time
for _ in range(600):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
make_bucket() { python3 - "$1" <<'PY'
import boto3, os, sys
boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"]).create_bucket(Bucket=sys.argv[1])
PY
}

cat > "$work/load.py" <<'PY'
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
what, root, writers = sys.argv[1], sys.argv[2], 4
big, small = int(os.environ["BIG_MB"]) << 20, int(os.environ["SMALL"])

def bigwrite(k):
    # Writer k's slice of the random source (in the page cache): nothing to deduplicate or compress.
    source = os.open(os.environ["RANDOM_SOURCE"], os.O_RDONLY)
    fd = os.open(f"{root}/big{k}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    for i in range(big >> 20):
        os.write(fd, os.pread(source, 1 << 20, k * big + (i << 20)))
    os.fsync(fd); os.close(fd); os.close(source)

def bigread(k):
    with open(f"{root}/big{k}", "rb", buffering=0) as f:
        while f.read(1 << 20): pass

def smallwrite(k):
    os.makedirs(f"{root}/small{k}", exist_ok=True)
    for i in range(small):
        with open(f"{root}/small{k}/f{i:04}", "wb") as f: f.write(os.urandom(128 << 10))

def smallread(k):
    for i in range(small):
        with open(f"{root}/small{k}/f{i:04}", "rb") as f: f.read()

def stat(k):
    for _ in range(10):
        for i in range(small): os.stat(f"{root}/small{k}/f{i:04}")

def create(k):
    os.makedirs(f"{root}/empty{k}", exist_ok=True)
    for i in range(1000): os.close(os.open(f"{root}/empty{k}/e{i:04}", os.O_WRONLY | os.O_CREAT, 0o644))

work = {"bigwrite": bigwrite, "bigread": bigread, "bigread-nocache": bigread, "smallwrite": smallwrite,
        "smallread": smallread, "stat": stat, "create": create}[what]
start = time.perf_counter()
with ProcessPoolExecutor(writers) as pool: list(pool.map(work, range(writers)))
if what in ("smallwrite", "create"): os.sync()
seconds = time.perf_counter() - start
amount = {"bigwrite": writers * big / 1048576, "bigread": writers * big / 1048576, "bigread-nocache": writers * big / 1048576,
          "smallwrite": writers * small, "smallread": writers * small, "stat": writers * small * 10, "create": writers * 1000}[what]
print(f"{amount / seconds:.1f}")
PY
export BIG_MB SMALL RANDOM_SOURCE=$work/random.bin
head -c $((4 * BIG_MB << 20)) /dev/urandom > "$RANDOM_SOURCE"

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
mount_it() { "$nexusfs" mount "$work/repo" "$work/mnt"; }
go_cold() { "$nexusfs" umount "$work/mnt"; mount_it; drop_caches; }
record() {
    printf '%s\t%s\t%s\n' "$1" "$setup" "$2" >> "$work/results"
    printf '  %-6s %-16s %10s\n' "$setup" "$1" "$2"
}
measure() {
    [[ $1 != bigwrite ]] || cat "$RANDOM_SOURCE" >/dev/null     # the source is read from the page cache
    record "$1" "$(python3 "$work/load.py" "$1" "$work/mnt")"
}

for run in $(seq "$RUNS"); do
    for setup in local s3; do
        echo "run $run, $setup"
        rm -rf "$work/repo" "$work/state"
        if [[ $setup == s3 ]]; then
            make_bucket "bench$run"
            "$nexusfs" init --store "s3://bench$run/repo" "$work/repo" >/dev/null
        else
            "$nexusfs" init "$work/repo" >/dev/null
        fi
        mount_it
        measure bigwrite
        go_cold
        measure bigread
        if [[ $setup == s3 ]]; then
            "$nexusfs" umount "$work/mnt"
            find "$work/repo/packs" -mindepth 1 -maxdepth 1 -name '??' -exec rm -rf {} +
            mount_it; drop_caches
            measure bigread-nocache
        fi
        measure smallwrite
        go_cold
        measure smallread
        measure stat
        measure create
        "$nexusfs" umount "$work/mnt"
    done
done

echo
python3 - "$work/results" <<'PY'
import statistics, sys
values = {}
for line in open(sys.argv[1]):
    row, setup, value = line.split()
    values.setdefault((row, setup), []).append(float(value))
# JuiceFS 1.1.0-beta1, juicefs bench -p 4, MySQL metadata engine, Amazon S3 (published; mdtest's
# "File creation" of empty files is with 12 processes on 3 clients).
juicefs = {"bigwrite": 729.00, "bigread": 905.93, "smallwrite": 82.30, "smallread": 752.40, "stat": 3583.10, "create": 1326.61}
units = {"bigwrite": "MiB/s", "bigread": "MiB/s", "bigread-nocache": "MiB/s", "smallwrite": "files/s",
         "smallread": "files/s", "stat": "files/s", "create": "files/s"}
print(f"{'workload':16} {'unit':8} {'local':>10} {'s3 (moto)':>10} {'s3/local':>9} {'JuiceFS pub.':>13} {'s3/JuiceFS':>11}")
for row in units:
    local = values.get((row, "local")); s3 = values.get((row, "s3"))
    local = statistics.median(local) if local else None
    s3 = statistics.median(s3) if s3 else None
    ratio = f"{s3 / local:8.2f}x" if local and s3 else f"{'-':>9}"
    pub = juicefs.get(row)
    vs = f"{s3 / pub:10.2f}x" if pub and s3 else f"{'-':>11}"
    print(f"{row:16} {units[row]:8} {local or 0:10.1f} {s3 or 0:10.1f} {ratio} {pub or 0:13.1f} {vs}".replace(" 0.0 ", "   - "))
print(f"{'visibility':16} {'ms':8} {'n/a':>10} {'n/a':>10}   (a change seen on another host: needs the PostgreSQL catalog, not built)")
PY
