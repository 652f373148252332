#!/usr/bin/env bash
# Filesystem benchmark (release build, as root): the same workloads on a nexusfs mount, a gocryptfs
# mount (Debian's; another encrypting FUSE filesystem) and the bare disk (a folder under /var/tmp).
# Every run mounts each filesystem afresh (new repository / cipher dir / folder), runs the selected
# workloads in order and unmounts it (timed: `nexusfs umount` waits until everything is saved).
# Prints each figure as it is measured, then the medians and the ratio of nexusfs to gocryptfs, always
# oriented so that >1 means nexusfs is better: nexusfs/gocryptfs for speeds (MB/s, files/s, entries/s,
# IOPS), gocryptfs/nexusfs for times (s, ms).
#   bench/fsbench.sh [--runs N] [--quick] [WORKLOAD...]      (default: every workload, 3 runs)
#   env: RUNS=3, SIZE_MB=1024 (the big file), FIO_RUNTIME=10 (s per fio job), NEXUSFS_BIN=path (no build),
#        NEXUSFS_MOUNT_OPTIONS=noindex (extra -o options for the nexusfs mount)
#   --quick: RUNS=1, SIZE_MB=128, FIO_RUNTIME=3, unless set in the environment
# Workloads: seqwrite seqread pwrite smallfiles find rm untar rsync git fio
#   seqwrite   dd of SIZE_MB incompressible data, conv=fsync              MB/s
#   seqread    dd of that file to /dev/null after dropping caches         MB/s
#   pwrite     open/pwrite 4 KiB in the middle/close (then with fsync before close), median of 20  ms
#   smallfiles 10,000 files of 4 KiB in 100 folders, then sync            files/s
#   find       find -ls over them, cold (caches dropped) then warm        entries/s
#   rm         rm -rf of them                                             s
#   untar      tar -xf of /usr/include, then sync                         s
#   rsync      rsync -a of the untarred tree out to the bare disk, cold   s
#   git        git clone of an ~8,000-file repository; git status, warm   s
#   fio        4 KiB randread and randwrite, QD1, psync, buffered, 256 MiB file, caches dropped first  IOPS
#   (always)   unmount: nexusfs umount, fusermount3 -u, or sync for the bare disk   s
# A workload selected without the one that makes its files (seqread, pwrite without seqwrite; find, rm
# without smallfiles; rsync without untar) makes them first, untimed. "Cold" unmounts and mounts the
# filesystem again (a daemon's own caches go too), then drops the kernel's caches.
all_workloads=(seqwrite seqread pwrite smallfiles find rm untar rsync git fio)
workloads=()
while (($#)); do
    case $1 in
        --runs) RUNS=$2; shift ;;
        --runs=*) RUNS=${1#--runs=} ;;
        --quick) RUNS=${RUNS:-1} SIZE_MB=${SIZE_MB:-128} FIO_RUNTIME=${FIO_RUNTIME:-3} ;;
        -h|--help) sed -n '2,/^all_workloads/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) [[ " ${all_workloads[*]} " == *" $1 "* ]] || { echo "unknown workload: $1" >&2; exit 2; }
           workloads+=("$1") ;;
    esac
    shift
done
((${#workloads[@]})) || workloads=("${all_workloads[@]}")
RUNS=${RUNS:-3} SIZE_MB=${SIZE_MB:-1024} FIO_RUNTIME=${FIO_RUNTIME:-10}
megabytes=$(awk -v m="${SIZE_MB}" 'BEGIN { print m * 1048576 / 1e6 }')
source "$(dirname "$0")/common.sh"
[[ $(id -u) == 0 ]] || { echo "fsbench.sh needs root (drop_caches)" >&2; exit 1; }
for tool in gocryptfs fio rsync git; do
    command -v $tool >/dev/null || apt-get install -y -qq $tool >/dev/null
done

work=/var/tmp/nexusfs-fsbench-$$
data=$work/data
declare -A mnt=([nexusfs]=$work/nx [gocryptfs]=$work/gc [bare]=$work/bare)
cleanup() {
    mountpoint -q "$work/nx" && { "$nexusfs" umount "$work/nx" 2>/dev/null || fusermount3 -u -z "$work/nx" || true; }
    mountpoint -q "$work/gc" && { fusermount3 -u "$work/gc" 2>/dev/null || fusermount3 -u -z "$work/gc" || true; }
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
mkdir -p "$data" "$work/nx" "$work/gc"
export NEXUSFS_PASSWORD=bench NEXUSFS_STATE_DIR=$work/nx-state
echo bench > "$work/gc-pass"
: > "$work/results"

# Rows of the table, in order, with their units; a unit ending in /s or IOPS is higher-is-better.
rows=(seqwrite seqread pwrite-close pwrite-fsync smallfiles find-cold find-warm rm untar rsync
      git-clone git-status fio-randread fio-randwrite unmount)
declare -A unit=([seqwrite]=MB/s [seqread]=MB/s [pwrite-close]=ms [pwrite-fsync]=ms [smallfiles]=files/s
    [find-cold]=entries/s [find-warm]=entries/s [rm]=s [untar]=s [rsync]=s [git-clone]=s [git-status]=s
    [fio-randread]=IOPS [fio-randwrite]=IOPS [unmount]=s)

# Helpers: time a command (seconds, its stdout discarded), drop the caches, record a figure.
timeit() { local start=$EPOCHREALTIME; "$@" >/dev/null || return; awk -v s="$start" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.4f", e - s }'; }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.1f", n / t }'; }
record() {
    printf '%s\t%s\t%s\n' "$1" "$fs" "$2" >> "$work/results"
    printf '  %-9s %-14s %12s %s\n' "$fs" "$1" "$2" "${unit[$1]}"
}
selected() { [[ " ${workloads[*]} " == *" $1 "* ]]; }

cat > "$work/fsbench.py" <<'PY'
import json, os, statistics, sys, time
what = sys.argv[1]
if what == "smallfiles":                       # seconds for 100 folders x 100 files of 4 KiB, then sync
    root, blobs = sys.argv[2], os.urandom(4096 * 10000)
    start = time.perf_counter()
    os.mkdir(root)
    for d in range(100):
        os.mkdir(os.path.join(root, f"d{d:03}"))
        for f in range(100):
            with open(os.path.join(root, f"d{d:03}", f"f{f:03}"), "wb") as out:
                i = d * 100 + f
                out.write(blobs[i * 4096:(i + 1) * 4096])
    os.sync()
    print(time.perf_counter() - start)
elif what == "pwrite":                         # median ms of open/pwrite 4 KiB/close, then with fsync
    path = sys.argv[2]
    base, medians = os.path.getsize(path) // 2, []
    for n, sync in enumerate((False, True)):
        times = []
        for i in range(20):
            block = os.urandom(4096)
            start = time.perf_counter()
            fd = os.open(path, os.O_WRONLY)
            os.pwrite(fd, block, base + (n * 20 + i) * 4096)
            if sync:
                os.fsync(fd)
            os.close(fd)
            times.append(time.perf_counter() - start)
        medians.append(f"{statistics.median(times) * 1000:.2f}")
    print(*medians)
elif what == "fio":                            # IOPS from fio's JSON output
    job = json.load(open(sys.argv[2]))["jobs"][0]
    print(f"{job[sys.argv[3]]['iops']:.0f}")
elif what == "gitfill":                        # deterministic text files until the tree has N files
    root, want = sys.argv[2], int(sys.argv[3])
    have = sum(len(files) for _, _, files in os.walk(root))
    os.makedirs(os.path.join(root, "generated"), exist_ok=True)
    for i in range(max(0, want - have)):
        with open(os.path.join(root, "generated", f"file{i:05}.h"), "w") as out:
            out.write("".join(f"#define GENERATED_{i}_{j} {i * j}\n" for j in range(20 + i % 80)))
elif what == "table":                          # medians and ratios of a results file
    rows, units = sys.argv[3].split(), dict(u.split("=") for u in sys.argv[4].split())
    values = {}
    for line in open(sys.argv[2]):
        row, fs, value = line.split()
        values.setdefault((row, fs), []).append(float(value))
    decimals = {"MB/s": 1, "files/s": 0, "entries/s": 0, "IOPS": 0, "s": 3, "ms": 2}
    print(f"{'workload':15} {'unit':10} {'nexusfs':>11} {'gocryptfs':>11} {'bare disk':>11}   "
          f"nexusfs vs gocryptfs (>1: nexusfs better)")
    for row in rows:
        got = {fs: statistics.median(values[(row, fs)]) for fs in ("nexusfs", "gocryptfs", "bare") if (row, fs) in values}
        if not got:
            continue
        unit = units[row]
        fmt = lambda fs: f"{got[fs]:11.{decimals[unit]}f}" if fs in got else f"{'-':>11}"
        ratio = ""
        if got.get("nexusfs") and got.get("gocryptfs"):
            faster = unit.endswith("/s") or unit == "IOPS"
            r = got["nexusfs"] / got["gocryptfs"] if faster else got["gocryptfs"] / got["nexusfs"]
            ratio = f"{r:8.2f}x  ({'speed nexusfs/gocryptfs' if faster else 'time gocryptfs/nexusfs'})"
        print(f"{row:15} {unit:10} {fmt('nexusfs')} {fmt('gocryptfs')} {fmt('bare')}   {ratio}")
PY
py() { python3 "$work/fsbench.py" "$@"; }

# Inputs, made once on the bare disk.
prepare() {
    if selected seqwrite || selected seqread || selected pwrite; then
        head -c $((SIZE_MB << 20)) /dev/urandom > "$data/random.bin"
    fi
    if selected untar || selected rsync; then tar -C /usr -cf "$data/include.tar" include; fi
    if selected git; then
        cp -a /usr/include "$data/gitsrc"
        py gitfill "$data/gitsrc" 8000
        git -C "$data/gitsrc" init -q
        git -C "$data/gitsrc" add -A
        git -C "$data/gitsrc" -c user.name=bench -c user.email=bench@localhost commit -q -m tree
    fi
}

mount_fs() {
    case $fs in
        nexusfs) rm -rf "$work/nx-repo" "$work/nx-state"
                 "$nexusfs" init "$work/nx-repo" >/dev/null
                 "$nexusfs" mount "$work/nx-repo" "$work/nx" ${NEXUSFS_MOUNT_OPTIONS:+-o "$NEXUSFS_MOUNT_OPTIONS"} ;;
        gocryptfs) rm -rf "$work/gc-cipher"; mkdir "$work/gc-cipher"
                   gocryptfs -q -init -passfile "$work/gc-pass" "$work/gc-cipher" >/dev/null 2>&1
                   gocryptfs -q -nosyslog -passfile "$work/gc-pass" "$work/gc-cipher" "$work/gc" ;;
        bare) rm -rf "$work/bare"; mkdir "$work/bare" ;;
    esac
}
umount_fs() {
    case $fs in
        nexusfs) "$nexusfs" umount "$work/nx" ;;
        gocryptfs) fusermount3 -u "$work/gc" ;;
        bare) sync ;;
    esac
}

# Cold: unmount and mount the same filesystem again (so that nothing a daemon keeps in memory
# survives), then drop the kernel's caches.
go_cold() {
    case $fs in
        nexusfs) "$nexusfs" umount "$work/nx" && "$nexusfs" mount "$work/nx-repo" "$work/nx" ${NEXUSFS_MOUNT_OPTIONS:+-o "$NEXUSFS_MOUNT_OPTIONS"} ;;
        gocryptfs) fusermount3 -u "$work/gc" && gocryptfs -q -nosyslog -passfile "$work/gc-pass" "$work/gc-cipher" "$work/gc" ;;
    esac
    drop_caches
}
need_big() { [[ -f $d/big ]] || dd if="$data/random.bin" of="$d/big" bs=1M conv=fsync status=none; }
need_small() { [[ -d $d/small ]] || py smallfiles "$d/small" >/dev/null; }
need_src() { [[ -d $d/src ]] || untar; }
untar() { mkdir "$d/src" && tar -C "$d/src" -xf "$data/include.tar" && sync; }

# The workloads: each runs in $d, the directory of filesystem $fs.
wl_seqwrite() {
    cat "$data/random.bin" >/dev/null          # the source is read from the page cache
    local t; t=$(timeit dd if="$data/random.bin" of="$d/big" bs=1M conv=fsync status=none)
    record seqwrite "$(rate "$megabytes" "$t")"
}
wl_seqread() {
    need_big; go_cold
    local t; t=$(timeit dd if="$d/big" of=/dev/null bs=1M status=none)
    record seqread "$(rate "$megabytes" "$t")"
}
wl_pwrite() {
    need_big
    local ms; ms=$(py pwrite "$d/big")
    record pwrite-close "${ms% *}"; record pwrite-fsync "${ms#* }"
}
wl_smallfiles() { local t; t=$(py smallfiles "$d/small"); record smallfiles "$(rate 10000 "$t")"; }
wl_find() {                                    # 10,000 files + 100 folders + the top one
    need_small; go_cold
    local cold warm; cold=$(timeit find "$d/small" -ls); warm=$(timeit find "$d/small" -ls)
    record find-cold "$(rate 10101 "$cold")"; record find-warm "$(rate 10101 "$warm")"
}
wl_rm() { need_small; local t; t=$(timeit rm -rf "$d/small"); record rm "$t"; }
wl_untar() { cat "$data/include.tar" >/dev/null; local t; t=$(timeit untar); record untar "$t"; }
wl_rsync() {
    need_src; rm -rf "$work/out"; go_cold
    local t; t=$(timeit rsync -a "$d/src/" "$work/out/"); record rsync "$t"
    rm -rf "$work/out"
}
wl_git() {
    local clone status; clone=$(timeit git clone -q --no-hardlinks "$data/gitsrc" "$d/git")
    git -C "$d/git" status >/dev/null; status=$(timeit git -C "$d/git" status)
    record git-clone "$clone"; record git-status "$status"
}
wl_fio() {
    local rw
    fio --name=x --filename="$d/fio.dat" --size=256m --create_only=1 --output="$work/fio.json" >/dev/null
    for rw in randread randwrite; do
        go_cold
        fio --name=x --filename="$d/fio.dat" --size=256m --bs=4k --rw=$rw --iodepth=1 --ioengine=psync \
            --direct=0 --runtime="$FIO_RUNTIME" --time_based --output-format=json --output="$work/fio.json" >/dev/null
        local iops; iops=$(py fio "$work/fio.json" "${rw#rand}"); record fio-$rw "$iops"
    done
}

echo "== fsbench $(date -u '+%F %T') UTC: load average $(cut -d' ' -f1-3 /proc/loadavg) at the start, $(nproc) cores"
echo "   kernel $(uname -r); nexusfs $nexusfs (sha256 $(sha256sum "$nexusfs" | cut -c1-12), $(date -ur "$nexusfs" '+%F %T') UTC)"
[[ -n ${NEXUSFS_BIN:-} ]] || echo "   built from $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources || echo ' with Sources modified')"
echo "   $(gocryptfs --version | head -1)"
echo "   RUNS=$RUNS SIZE_MB=$SIZE_MB FIO_RUNTIME=$FIO_RUNTIME; workloads: ${workloads[*]}"
echo "   ratio = nexusfs vs gocryptfs, >1 means nexusfs is better: speed nexusfs/gocryptfs, time gocryptfs/nexusfs"
prepare
failures=()
for ((run = 1; run <= RUNS; run++)); do
    for fs in nexusfs gocryptfs bare; do
        echo "-- run $run/$RUNS: $fs"
        d=${mnt[$fs]}
        set +e; (set -e; mount_fs); rc=$?; set -e
        ((rc == 0)) || { echo "  $fs mount FAILED (exit $rc)"; failures+=("run $run: $fs mount (exit $rc)"); continue; }
        for w in "${workloads[@]}"; do
            set +e; (set -e; "wl_$w"); rc=$?; set -e
            ((rc == 0)) || { echo "  $fs $w FAILED (exit $rc)"; failures+=("run $run: $fs $w (exit $rc)"); }
        done
        t=$(timeit umount_fs) || { failures+=("run $run: $fs unmount"); fusermount3 -u -z "$d" 2>/dev/null || true; t=; }
        [[ -z $t ]] || record unmount "$t"
        if [[ $fs == nexusfs ]]; then
            for log in $(find "$work/nx-state" -name mount.log -size +0 2>/dev/null); do
                echo "  nexusfs mount.log:"; tail -n 20 "$log" | sed 's/^/    /'
            done
        fi
        rm -rf "$work/nx-repo" "$work/nx-state" "$work/gc-cipher" "$work/bare"
    done
done
echo
echo "== medians of $RUNS run(s); ratio: >1 means nexusfs is better"
py table "$work/results" "${rows[*]}" "$(for r in "${rows[@]}"; do printf '%s=%s ' "$r" "${unit[$r]}"; done)"
((${#failures[@]} == 0)) || { echo; echo "FAILED:"; printf '  %s\n' "${failures[@]}"; exit 1; }
