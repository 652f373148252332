#!/usr/bin/env bash
# Soak (as root, not in CI): a mixed workload on one mount for --minutes (default 60), sampling the
# daemon's RSS, open descriptors (/proc/PID/fd) and threads every --interval seconds (default 60); fails
# if, after the warm-up (--warmup samples, default 3), any of them grows past its bound over the
# warm-up's highest value: RSS by more than RSS_SLACK_MB (default 64) + 25%, descriptors by more than
# FD_SLACK (default 16) over the larger of the warm-up's highest and 64 (the blob store keeps up to 64
# packs open for reading and drops them all at once when full, so the count saws between about 12 and
# 75 under load), threads by more than THREAD_SLACK (default 12: the request loop starts up to
# 10 workers on demand, and the commit thread and stray helpers come and go).
#   bash bench/drills/soak.sh [--minutes M] [--interval S] [--warmup N] [--seed S]
#   env: NEXUSFS_BIN=path (no build), WRITERS=4
# Workload, in rounds of one interval: WRITERS processes of bench/drills/writers.py in the same folders
# (create, overwrite, rename, rename over, save by rename, delete; at most 300 files each), a reader
# listing .versions, and a tar of the tree; each round's tree is verified. Afterwards `nexusfs umount`,
# `check --read-data`, `audit --verify`. Prints the samples, then `N passed, N failed`.
set -euo pipefail
minutes=60 interval=60 warmup=3 seed=${SEED:-$RANDOM$RANDOM}
while (($#)); do
    case $1 in
        --minutes) minutes=$2; shift ;;
        --interval) interval=$2; shift ;;
        --warmup) warmup=$2; shift ;;
        --seed) seed=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
WRITERS=${WRITERS:-4} RSS_SLACK_MB=${RSS_SLACK_MB:-64} FD_SLACK=${FD_SLACK:-16} THREAD_SLACK=${THREAD_SLACK:-12}
drills=$(cd "$(dirname "$0")" && pwd)
source "$(dirname "$0")/../common.sh"
[[ $(id -u) == 0 ]] || { echo "soak.sh needs root (mounts)" >&2; exit 1; }

work=/var/tmp/nexusfs-soak-$$
repo=$work/repo mnt=$work/mnt
mkdir -p "$mnt"
keep_work=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    drill_kill_jobs
    drill_unmount "$mnt" 120
    drill_end_work "$rc" "$keep_work"
    exit "$rc"
}
drill_traps
export NEXUSFS_PASSWORD=soak-drill NEXUSFS_STATE_DIR=$work/state
passes=0 fails=0 failures=()
pass() { passes=$((passes + 1)); echo "  ok    $*"; }
fail() { fails=$((fails + 1)); failures+=("$*"); keep_work=1; echo "  FAIL  $*"; }

timeout 120 "$nexusfs" init "$repo" >/dev/null
timeout 120 "$nexusfs" mount "$repo" "$mnt"
# The daemon: the process holding REPO/lock that serves the mount.
daemon=$(awk '{ for (i = 1; i < NF; i++) if ($i == "pid") print $(i + 1) }' "$repo/lock")
[[ -n $daemon && -d /proc/$daemon ]] || { echo "no daemon pid in $repo/lock" >&2; exit 1; }
sample() {
    local rss threads fds
    rss=$(awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$daemon/status")
    threads=$(awk '/^Threads/ { print $2 }' "/proc/$daemon/status")
    fds=$(ls "/proc/$daemon/fd" | wc -l)
    echo "$rss $fds $threads"
}
echo "== soak $(date -u '+%F %T') UTC: $minutes min, a sample every $interval s, $warmup warm-up samples; daemon pid $daemon; seed $seed"
printf '   %-6s %8s %5s %8s  %s\n' minute "RSS MiB" fds threads round
rounds=$(( (minutes * 60 + interval - 1) / interval ))
samples=() start=$SECONDS
for ((r = 1; r <= rounds; r++)); do
    round_end=$((start + r * interval))
    # Writers for most of the interval, a reader of .versions and a tar beside them.
    timeout $((interval + 120)) python3 "$drills/writers.py" run "$mnt" soak "$WRITERS" $((interval * 8 / 10)) "$seed$r" "$work/model.json" --max-files 300 > "$work/round.out" 2>&1 &
    wpid=$!
    ( end=$((SECONDS + interval * 7 / 10)); while ((SECONDS < end)); do
          for d in "$mnt"/soak/shared-*; do ls "$d/.versions" >/dev/null 2>&1 || true; done
          tar -cf /dev/null -C "$mnt" soak 2>/dev/null || true
          sleep 1
      done ) &
    rpid=$!
    wrc=0; wait "$wpid" || wrc=$?
    wait "$rpid" || true
    result=$(tail -1 "$work/round.out")
    ((wrc == 0)) || fail "round $r: writers exited $wrc: $(grep -m3 ERROR "$work/round.out" | tr '\n' ' ')"
    vout=$(timeout 600 python3 "$drills/writers.py" verify "$mnt" soak "$work/model.json" 2>&1) || fail "round $r: tree: $(grep -m3 FAIL <<<"$vout" | tr '\n' ' ')"
    # The next round's writers start from an empty folder (their models are per round).
    timeout 600 rm -rf "$mnt/soak" || fail "round $r: rm -rf"
    while ((SECONDS < round_end)); do sleep 1; done
    [[ -d /proc/$daemon ]] || { fail "round $r: the daemon is gone"; break; }
    s=$(sample); samples+=("$s")
    printf '   %-6s %8s %5s %8s  %s\n' $(( (SECONDS - start) / 60 )) $s "${result#* writers, }"
done

echo "== bounds after $warmup warm-up samples"
if ((${#samples[@]} <= warmup)); then
    fail "only ${#samples[@]} samples: nothing after the warm-up to compare (--minutes too short for --warmup)"
else
    read -r base_rss base_fds base_threads < <(printf '%s\n' "${samples[@]:0:warmup}" | awk '
        { if ($1 > r) r = $1; if ($2 > f) f = $2; if ($3 > t) t = $3 } END { print r, f, t }')
    read -r max_rss max_fds max_threads < <(printf '%s\n' "${samples[@]:warmup}" | awk '
        { if ($1 > r) r = $1; if ($2 > f) f = $2; if ($3 > t) t = $3 } END { print r, f, t }')
    rss_bound=$((base_rss + base_rss / 4 + RSS_SLACK_MB)) fd_bound=$(( (base_fds > 64 ? base_fds : 64) + FD_SLACK )) thread_bound=$((base_threads + THREAD_SLACK))
    ((max_rss <= rss_bound)) && pass "RSS: at most $max_rss MiB after warm-up (warm-up $base_rss MiB, bound $rss_bound)" \
        || fail "RSS grew to $max_rss MiB (warm-up $base_rss MiB, bound $rss_bound)"
    ((max_fds <= fd_bound)) && pass "descriptors: at most $max_fds after warm-up (warm-up $base_fds, bound $fd_bound)" \
        || fail "descriptors grew to $max_fds (warm-up $base_fds, bound $fd_bound)"
    ((max_threads <= thread_bound)) && pass "threads: at most $max_threads after warm-up (warm-up $base_threads, bound $thread_bound)" \
        || fail "threads grew to $max_threads (warm-up $base_threads, bound $thread_bound)"
fi
rc=0; out=$(timeout 300 "$nexusfs" umount "$mnt" 2>&1) || rc=$?
((rc == 0)) && pass "nexusfs umount" || fail "nexusfs umount: exit $rc: $out"
for cmd in "check --read-data" "audit --verify"; do
    rc=0; out=$(timeout 1800 "$nexusfs" ${cmd%% *} "$repo" ${cmd#* } 2>&1) || rc=$?
    ((rc == 0)) && pass "$cmd: $(tail -1 <<<"$out")" || fail "$cmd: exit $rc: $(head -5 <<<"$out" | tr '\n' ' ')"
done
echo "$passes passed, $fails failed"
if ((fails)); then echo "FAILED:"; printf '  %s\n' "${failures[@]}"; exit 1; fi
