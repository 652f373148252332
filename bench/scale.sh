#!/usr/bin/env bash
# Scale benchmark (release build, as root): getattr/lookup latency, `find` throughput and the daemon's
# memory as the tree grows to 1,000,000 small files. The tree is built once, incrementally, on the
# bare disk (folders d000..d999 of up to 1,000 files f000..f999 of ~100 bytes each, deterministic and
# all different), and imported after each stage (`nexusfs import` adds what is new, so every stage
# imports into the same repository and re-reads the files it already has). At each size:
#   import     time of `nexusfs import REPO TREE` for the stage                     s, new files/s
#   stat       os.stat of fixed random samples spread over the whole tree, per stat   µs (mean, median, p99)
#                cold:   sample A, just after a fresh mount and dropping the kernel's caches
#                daemon: sample B, disjoint from A, never stat'ed in this mount: every stat is a
#                        lookup the daemon answers (its caches warm from A, the kernel's not)
#                warm:   sample A again (the kernel's attribute/entry cache answers while valid)
#                paged:  sample C, disjoint from A and B, after the state dir (the catalog) has been read
#                        into the page cache: the daemon figure without the disk (nexusfs only)
#   find       `find DIR -type f | wc -l` (readdir only), then `find DIR -ls` (a lookup per entry),
#              each cold: fresh mount, caches dropped                               entries/s
#   RSS        VmRSS / VmHWM of the mount daemon (/proc/PID/status): after mount, after the stats,
#              after each find, and after `echo 2 > drop_caches` (the kernel forgets its inodes, so
#              the daemon gets FORGETs); HWM is the highest of the three daemons of that size  MiB
# The same stat and find measurements run on the bare-disk tree as a reference (cold = caches dropped).
# Ends with a table and the targets: daemon getattr latency at the largest size within 1.2x of the
# smallest, and the daemon's RSS at the largest size at most 256 MiB.
#   bench/scale.sh [--sizes 10000,100000,1000000] [--sample N]
#   env: NEXUSFS_BIN=path (no build); sizes ascending, at most 1,000,000; sample (default 20,000) is
#   cut to size/3 so that A, B and C stay disjoint
# Work dir /var/tmp/nexusfs-scale-$$ (the 1M tree needs ~5 GB and ~1M inodes), removed on exit.
sizes_arg=10000,100000,1000000
sample=20000
while (($#)); do
    case $1 in
        --sizes) sizes_arg=$2; shift ;;
        --sizes=*) sizes_arg=${1#--sizes=} ;;
        --sample) sample=$2; shift ;;
        --sample=*) sample=${1#--sample=} ;;
        -h|--help) sed -n '2,/^sizes_arg=/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
IFS=, read -r -a sizes <<< "$sizes_arg"
prev=0
for n in "${sizes[@]}"; do
    [[ $n =~ ^[0-9]+$ ]] && ((n > prev && n <= 1000000)) || { echo "--sizes: ascending numbers up to 1000000, got $sizes_arg" >&2; exit 2; }
    prev=$n
done
source "$(dirname "$0")/common.sh"
[[ $(id -u) == 0 ]] || { echo "scale.sh needs root (drop_caches)" >&2; exit 1; }

work=/var/tmp/nexusfs-scale-$$
tree=$work/tree repo=$work/repo mnt=$work/mnt
cleanup() {
    if mountpoint -q "$mnt" 2>/dev/null; then "$nexusfs" umount "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
mkdir -p "$tree" "$mnt"
export NEXUSFS_PASSWORD=bench NEXUSFS_STATE_DIR=$work/state
: > "$work/results"

cat > "$work/scale.py" <<'PY'
import hashlib, os, random, statistics, sys, time
what = sys.argv[1]
def path(root, k):
    return f"{root}/d{k // 1000:03}/f{k % 1000:03}"
if what == "grow":                             # files [from, to) of the tree; prints seconds
    root, first, last = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    start = time.perf_counter()
    for k in range(first, last):
        if k % 1000 == 0 or k == first:
            os.makedirs(f"{root}/d{k // 1000:03}", exist_ok=True)
        body = (f"nexusfs scale bench file {k:07d}\n{hashlib.sha256(str(k).encode()).hexdigest()}\n"
                + "." * (k % 8)).encode()       # 98..105 bytes, all different
        fd = os.open(path(root, k), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, body)
        os.close(fd)
    print(f"{time.perf_counter() - start:.3f}")
elif what == "stat":                           # per-stat µs for each listed sample: mean median p99
    root, n, want = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    s = min(want, n // 3)
    picked = random.Random(20240601).sample(range(n), 3 * s)
    samples = {w: [path(root, k) for k in picked[i * s:(i + 1) * s]] for i, w in enumerate("ABC")}
    stat, clock = os.stat, time.perf_counter_ns
    for which in sys.argv[5:]:
        times = []
        for p in samples[which]:
            t0 = clock(); stat(p); t1 = clock()
            times.append(t1 - t0)
        times.sort()
        print(f"{statistics.fmean(times) / 1e3:.1f} {times[len(times) // 2] / 1e3:.1f} "
              f"{times[len(times) * 99 // 100] / 1e3:.1f} {len(times)}")
elif what == "table":                          # the results file: lines "size key value"
    res = {}
    for line in open(sys.argv[2]):
        size, key, value = line.split(maxsplit=2)
        res.setdefault(int(size), {})[key] = value.strip()
    sizes = sorted(res)
    def g(n, key, i=0, default="-"):
        v = res[n].get(key)
        return v.split()[i] if v else default
    def f(x, d=0):
        try: return f"{float(x):.{d}f}"
        except ValueError: return x
    print("nexusfs (mount daemon)")
    print(f"{'files':>8} {'import s':>9} {'files/s':>8} | {'stat µs mean/median':>19}: {'cold':>11} {'daemon':>11} {'warm':>11} {'paged':>11}"
          f" | {'find -type f':>12} {'find -ls':>9} e/s | {'RSS MiB':>7} {'HWM MiB':>7}")
    for n in sizes:
        st = lambda k: f"{f(g(n, k, 0), 1)}/{f(g(n, k, 1), 1)}"
        print(f"{n:>8} {f(g(n, 'import_s'), 1):>9} {f(g(n, 'import_rate')):>8} | {'':>19}  {st('nx_cold'):>11} "
              f"{st('nx_daemon'):>11} {st('nx_warm'):>11} {st('nx_paged'):>11} | {f(g(n, 'nx_find')):>12} {f(g(n, 'nx_findls')):>9}     | "
              f"{f(g(n, 'rss_find'), 1):>7} {f(g(n, 'hwm_max'), 1):>7}")
    print()
    print("bare disk (reference; cold = kernel caches dropped)")
    print(f"{'files':>8} {'make s':>9} {'files/s':>8} | {'stat µs mean/median':>19}: {'cold':>11} {'second':>11} {'warm':>11}"
          f" | {'find -type f':>12} {'find -ls':>9} e/s")
    for n in sizes:
        st = lambda k: f"{f(g(n, k, 0), 1)}/{f(g(n, k, 1), 1)}"
        print(f"{n:>8} {f(g(n, 'grow_s'), 1):>9} {f(g(n, 'grow_rate')):>8} | {'':>19}  {st('bare_cold'):>11} "
              f"{st('bare_daemon'):>11} {st('bare_warm'):>11} | {f(g(n, 'bare_find')):>12} {f(g(n, 'bare_findls')):>9}")
    print()
    print("nexusfs details")
    print(f"{'files':>8} {'p99 µs cold/daemon/warm':>24} {'mount s':>8} {'umount s':>8} {'RSS MiB: mount/stats/find/find-ls/forgot':>41} {'HWM after mount':>15} {'repo':>7} {'catalog':>8}")
    for n in sizes:
        p99 = "/".join(f(g(n, k, 2), 0) for k in ("nx_cold", "nx_daemon", "nx_warm"))
        rss = "/".join(f(g(n, k), 1) for k in ("rss_mount", "rss_stat", "rss_find", "rss_findls", "rss_forget"))
        print(f"{n:>8} {p99:>24} {f(g(n, 'mount_s'), 2):>8} {f(g(n, 'umount_s'), 2):>8} {rss:>41} {f(g(n, 'hwm_mount'), 1):>15} "
              f"{g(n, 'repo_du'):>7} {g(n, 'state_du'):>8}")
    lo, hi = sizes[0], sizes[-1]
    print()
    print(f"targets ({hi} files vs {lo}):")
    for k, label in (("nx_daemon", "daemon getattr/lookup"), ("nx_paged", "paged getattr/lookup"), ("nx_cold", "cold getattr/lookup"), ("nx_warm", "warm getattr")):
        try:
            mean = float(g(hi, k, 0)) / float(g(lo, k, 0)); med = float(g(hi, k, 1)) / float(g(lo, k, 1))
            verdict = "(target <= 1.2x, judged on the median)" + (": met" if med <= 1.2 else ": NOT met") if k == "nx_daemon" else ""
            print(f"  {label:22} latency {hi} / {lo}: mean {mean:.2f}x, median {med:.2f}x  {verdict}")
        except (ValueError, ZeroDivisionError):
            print(f"  {label:22} latency: missing")
    for k, label in (("rss_find", "VmRSS after find"), ("rss_findls", "VmRSS after find -ls"), ("hwm_max", "VmHWM (highest)")):
        try:
            v = float(g(hi, k)); print(f"  daemon {label:20} at {hi}: {v:.1f} MiB vs 256 MiB: {'met' if v <= 256 else 'NOT met'}")
        except ValueError:
            print(f"  daemon {label:20}: missing")
PY
py() { python3 "$work/scale.py" "$@"; }
drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
record() { printf '%s %s %s\n' "$n" "$1" "$2" >> "$work/results"; }
say() { printf '  %-50s %s\n' "$1" "$2"; }
secs() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%.3f", e - s }'; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
daemon_pid() { pgrep -f -x "$nexusfs mount $repo $mnt( .*)?" | head -1; }
mem() { local kb; kb=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"); mib "$kb"; }
do_mount() {
    local s=$EPOCHREALTIME; "$nexusfs" mount "$repo" "$mnt"; mount_t=$(secs "$s" "$EPOCHREALTIME")
    pid=$(daemon_pid); [[ -n $pid ]] || { echo "no mount daemon found for $repo" >&2; exit 1; }
}
do_umount() {
    local h; h=$(mem "$pid" VmHWM); [[ $(awk -v a="$h" -v b="$hwm" 'BEGIN { print (a > b) }') == 1 ]] && hwm=$h
    local s=$EPOCHREALTIME; "$nexusfs" umount "$mnt"; umount_t=$(secs "$s" "$EPOCHREALTIME")
}
# stat samples A, B, A of directory $1 for size $n: records PREFIX_cold, PREFIX_daemon, PREFIX_warm
stats() {
    local out key i=0; out=$(py stat "$1" "$n" "$sample" A B A)
    for key in cold daemon warm; do
        i=$((i + 1)); local line; line=$(sed -n ${i}p <<< "$out")
        record "$2_$key" "$line"
        local label=$key; [[ $2 == bare && $key == daemon ]] && label="second (B)"
        say "$2 stat $label µs (mean median p99 n)" "$line"
    done
    if [[ $2 == nx ]]; then
        find "$work/state" -type f -exec cat {} + > /dev/null
        out=$(py stat "$1" "$n" "$sample" C); record nx_paged "$out"
        say "nx stat paged (catalog in page cache) µs" "$out"
    fi
}
# find over directory $1, printing entries; sets found and found_t
findit() {
    local s=$EPOCHREALTIME
    if [[ $2 == ls ]]; then found=$(find "$1" -ls | wc -l); else found=$(find "$1" -type f | wc -l); fi
    found_t=$(secs "$s" "$EPOCHREALTIME")
}

echo "== scale $(date -u '+%F %T') UTC: load average $(cut -d' ' -f1-3 /proc/loadavg) at the start, $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM"
echo "   kernel $(uname -r); nexusfs $nexusfs (sha256 $(sha256sum "$nexusfs" | cut -c1-12), $(date -ur "$nexusfs" '+%F %T') UTC)"
[[ -n ${NEXUSFS_BIN:-} ]] || echo "   built from $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources || echo ' with Sources modified')"
echo "   sizes: ${sizes[*]}; stat samples of min($sample, size/3) paths; work dir $work"
"$nexusfs" init "$repo" >/dev/null
have=0 total_start=$EPOCHREALTIME
for n in "${sizes[@]}"; do
    stage_start=$EPOCHREALTIME
    echo "-- $n files ($(date -u '+%T') UTC, load average $(cut -d' ' -f1-3 /proc/loadavg))"
    t=$(py grow "$tree" "$have" "$n"); sync
    record grow_s "$t"; record grow_rate "$(rate $((n - have)) "$t")"
    say "made files $have..$((n - 1)) on the bare disk" "$t s, $(rate $((n - have)) "$t") files/s"
    s=$EPOCHREALTIME
    msg=$("$nexusfs" import "$repo" "$tree" 2>&1)
    t=$(secs "$s" "$EPOCHREALTIME")
    record import_s "$t"; record import_rate "$(rate $((n - have)) "$t")"
    say "import ($((n - have)) new, $n in the tree)" "$t s, $(rate $((n - have)) "$t") new files/s, $(rate "$n" "$t") scanned/s"
    say "  nexusfs said" "$msg"
    have=$n
    record repo_du "$(du -sh "$repo" | cut -f1)"; record state_du "$(du -sh "$work/state" | cut -f1)"
    say "repository / state dir (catalog)" "$(du -sh "$repo" | cut -f1) / $(du -sh "$work/state" | cut -f1)"

    # bare disk
    drop_caches; stats "$tree" bare
    drop_caches; findit "$tree" type
    record bare_find "$(rate "$found" "$found_t")"; say "bare find -type f, cold" "$found entries, $found_t s, $(rate "$found" "$found_t") entries/s"
    drop_caches; findit "$tree" ls
    record bare_findls "$(rate "$found" "$found_t")"; say "bare find -ls, cold" "$found entries, $found_t s, $(rate "$found" "$found_t") entries/s"

    # nexusfs: stats
    hwm=0
    do_mount; record mount_s "$mount_t"; say "mount (pid $pid)" "$mount_t s"
    r=$(mem "$pid" VmRSS); record rss_mount "$r"; record hwm_mount "$(mem "$pid" VmHWM)"
    say "daemon VmRSS / VmHWM after mount" "$r / $(mem "$pid" VmHWM) MiB"
    drop_caches; say "load average before the stats" "$(cut -d' ' -f1-3 /proc/loadavg)"; stats "$mnt" nx
    r=$(mem "$pid" VmRSS); record rss_stat "$r"; say "daemon VmRSS / VmHWM after the stats" "$r / $(mem "$pid" VmHWM) MiB"
    do_umount
    # nexusfs: find -type f, cold
    do_mount; drop_caches; findit "$mnt" type
    [[ $found == "$n" ]] || say "WARNING: find -type f counted" "$found, expected $n"
    record nx_find "$(rate "$found" "$found_t")"; say "nexusfs find -type f, cold" "$found entries, $found_t s, $(rate "$found" "$found_t") entries/s"
    r=$(mem "$pid" VmRSS); record rss_find "$r"; say "daemon VmRSS / VmHWM after find -type f" "$r / $(mem "$pid" VmHWM) MiB"
    do_umount
    # nexusfs: find -ls, cold
    do_mount; drop_caches; findit "$mnt" ls
    record nx_findls "$(rate "$found" "$found_t")"; say "nexusfs find -ls, cold" "$found entries, $found_t s, $(rate "$found" "$found_t") entries/s"
    r=$(mem "$pid" VmRSS); record rss_findls "$r"; say "daemon VmRSS / VmHWM after find -ls" "$r / $(mem "$pid" VmHWM) MiB"
    sync; echo 2 > /proc/sys/vm/drop_caches; sleep 2
    r=$(mem "$pid" VmRSS); record rss_forget "$r"; say "daemon VmRSS after the kernel forgot its inodes" "$r MiB"
    do_umount; record umount_s "$umount_t"; say "umount" "$umount_t s"
    record hwm_max "$hwm"
    for log in $(find "$work/state" -name mount.log -size +0 2>/dev/null); do
        echo "  nexusfs mount.log:"; tail -n 20 "$log" | sed 's/^/    /'
    done
    say "stage took" "$(secs "$stage_start" "$EPOCHREALTIME") s"
done
echo "-- all stages: $(secs "$total_start" "$EPOCHREALTIME") s; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo
py table "$work/results"
