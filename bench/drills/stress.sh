#!/usr/bin/env bash
# Stress drill (as root): stress-ng's filesystem-class stressors, fio with --verify=crc32c and 8
# concurrent writers in the same folders on one mount, then a clean unmount, `check --read-data` and
# `audit --verify` (issue 11, "stress").
#   bash bench/drills/stress.sh [--short] [--only stressng|fio|writers] [--seed S]
#   env: NEXUSFS_BIN=path (no build), STRESSOR_SECONDS (default 20, --short 2), WRITER_SECONDS
#        (default 120, --short 25), FIO_SIZE (per job, default 64m, --short 16m), WRITERS=8
# stress-ng (Debian's, 0.15): each stressor below runs alone, one instance, with --verify where the
#   stressor has it, in a folder of the mount, under timeout(1); a pass needs exit 0, "failed: 0" in its
#   summary and a mount that still answers. Left out, and why:
#     bind-mount, binderfs   mount filesystems of their own (a bind mount of /, binderfs); nothing of theirs
#                            goes through the mount's folder
#     procfs                 reads /proc only
#     verity                 fs-verity ioctls exist on ext4, f2fs and btrfs only; FUSE has none
#     dup, eventfd           duplicate descriptors of /dev/zero and eventfds; no file of the mount involved
#   A stressor stress-ng itself skips (exit 3 or 4, "not implemented" or missing privileges) is listed as
#   skipped, not passed.
# fio: write, randwrite and a mixed randrw, each with --verify=crc32c --verify_fatal=1 and two jobs at a time
#   in one folder, then (write, randwrite) a --verify_only pass over the written files; a pass needs exit
#   0 and err=0 in every job.
# writers: WRITERS processes for WRITER_SECONDS in the same four folders create, overwrite, rename,
#   rename over, save by rename and delete files whose header says what they hold; each reads back what it
#   wrote; afterwards the tree must be exactly what the writers' models say, with 0 errors.
# Then `nexusfs umount` (exit 0), `check --read-data`, `audit --verify`, and a new mount where the writers'
# tree is verified again. Prints a line per check and `N passed, N failed`; exits 1 on any failure,
# keeping the work folder (under /var/tmp). The mount is unmounted on exit, also on failure.
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
[[ $only =~ ^(all|stressng|fio|writers)$ ]] || { echo "--only takes stressng, fio or writers" >&2; exit 2; }
if ((short)); then d_s=2 d_w=25 d_f=16m; else d_s=20 d_w=120 d_f=64m; fi
STRESSOR_SECONDS=${STRESSOR_SECONDS:-$d_s} WRITER_SECONDS=${WRITER_SECONDS:-$d_w} FIO_SIZE=${FIO_SIZE:-$d_f} WRITERS=${WRITERS:-8}
drills=$(cd "$(dirname "$0")" && pwd)
source "$(dirname "$0")/../common.sh"
[[ $(id -u) == 0 ]] || { echo "stress.sh needs root (mounts)" >&2; exit 1; }
for tool in fusermount3 timeout stress-ng fio python3; do
    command -v "$tool" >/dev/null || { echo "stress.sh needs $tool (apt-get install stress-ng fio)" >&2; exit 1; }
done

STRESSORS=(access chattr chdir chmod chown copy-file dentry dir dirdeep dirmany dnotify fallocate fcntl fiemap
           file-ioctl filename flock fpunch fsize fstat fanotify getdent handle hdd inode-flags inotify io iomix ioprio
           lease link locka lockf lockofd mknod open rename symlink sync-file touch utime xattr)

work=/var/tmp/nexusfs-stress-$$
repo=$work/repo mnt=$work/mnt
mkdir -p "$mnt"
keep_work=0 mounted=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    drill_kill_jobs
    drill_unmount "$mnt" 120
    drill_end_work "$rc" "$keep_work"
    exit "$rc"
}
drill_traps
export NEXUSFS_PASSWORD=stress-drill NEXUSFS_STATE_DIR=$work/state

passes=0 fails=0 skips=() failures=()
pass() { passes=$((passes + 1)); echo "  ok    $*"; }
fail() { fails=$((fails + 1)); failures+=("$*"); keep_work=1; echo "  FAIL  $*"; }
elapsed() { awk -v s="$1" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }'; }
alive() { timeout 10 stat "$mnt" >/dev/null 2>&1 && timeout 10 ls "$mnt" >/dev/null 2>&1; }

drill_stressng() {
    echo "== stress-ng $(stress-ng --version | awk '{print $3}'): ${#STRESSORS[@]} stressors, ${STRESSOR_SECONDS}s each"
    local s
    for s in "${STRESSORS[@]}"; do
        local dir=$mnt/stress-ng/$s log=$work/stress-ng-$s.log rc=0 start=$EPOCHREALTIME
        mkdir -p "$dir"
        local args=(--"$s" 1 --temp-path "$dir" --timeout "${STRESSOR_SECONDS}s" --metrics-brief --log-file "$log" --verify)
        case $s in
            hdd) args+=(--hdd-bytes 32m) ;;
            iomix) args+=(--iomix-bytes 16m) ;;
            fallocate) args+=(--fallocate-bytes 32m) ;;
            dirdeep) args+=(--dirdeep-dirs 2 --dirdeep-inodes 2000) ;;
            dirmany) args+=(--dirmany-bytes 0) ;;
        esac
        (cd "$dir" && timeout $((STRESSOR_SECONDS + 60)) stress-ng "${args[@]}") > "$log.out" 2>&1 || rc=$?
        # stress-ng 0.15 reports a failed verification or system call as a "fail:" line (and exit 2).
        local failed; failed=$(grep -cE '^stress-ng: fail:|failed: [1-9]' "$log" || true)
        local summary; summary=$(awk -v s="$s" '$1 == "stress-ng:" && $2 == "metrc:" && $4 == s { print $5 " bogo ops" }' "$log")
        if ((rc == 3 || rc == 4)) || { ((rc == 0)) && grep -qiE 'skipping|will be skipped|skipped: [1-9]' "$log"; }; then
            skips+=("$s"); echo "  skip  stress-ng --$s: $(grep -m1 -iE 'skipp|not implemented|not supported|cannot' "$log" | sed 's/^stress-ng: [a-z]*: *\[[0-9]*\] //' | cut -c1-140)"
        elif ((rc == 0)) && ((failed == 0)) && alive; then
            pass "stress-ng --$s ($(elapsed "$start") s; $summary)"
        else
            fail "stress-ng --$s: exit $rc$( ((rc == 124)) && echo ' (timed out)'), $failed failed$(alive || echo ', the mount does not answer'): $(grep -m3 -iE 'fail|error|fatal' "$log" | tr '\n' ' ' | cut -c1-300)"
            alive || return 1
        fi
        timeout 120 rm -rf "$dir" || fail "rm -rf of stress-ng --$s's folder"
    done
}

drill_fio() {
    echo "== fio $(fio --version): crc32c verify, $FIO_SIZE per job"
    local job
    mkdir -p "$mnt/fio"
    for job in write:1m randwrite:4k randrw:16k; do
        local rw=${job%%:*} bs=${job#*:}
        local out=$work/fio-$rw.json rc=0 start=$EPOCHREALTIME
        local args=(--directory="$mnt/fio" --name="$rw" --rw="$rw" --bs="$bs" --size="$FIO_SIZE" --numjobs=2
                    --ioengine=psync --verify=crc32c --verify_fatal=1 --do_verify=1 --fsync_on_close=1 --verify_state_save=0
                    --output-format=json --output="$out")
        [[ $rw != randrw ]] || args+=(--rwmixread=40 --verify_backlog=256)
        timeout 600 fio "${args[@]}" > "$out.log" 2>&1 || rc=$?
        local errs; errs=$(python3 -c 'import json,sys; print(sum(j["error"] for j in json.load(open(sys.argv[1]))["jobs"]))' "$out" 2>/dev/null || echo "no report")
        if ((rc == 0)) && [[ $errs == 0 ]]; then pass "fio --rw=$rw --bs=$bs --verify=crc32c x2 ($(elapsed "$start") s)"
        else fail "fio --rw=$rw: exit $rc, errors $errs: $(grep -m3 -iE 'verify|error|crc' "$out.log" | tr '\n' ' ' | cut -c1-300)"; fi
        # The written files read back through a verify-only pass (the same offsets, no writes). Not
        # for randrw: it writes only some blocks, and its in-run verify (verify_backlog) reads those.
        [[ $rw != randrw ]] || { rm -f "$mnt/fio/$rw".*; continue; }
        rc=0; start=$EPOCHREALTIME
        timeout 600 fio "${args[@]}" --verify_only=1 --output="$out.verify" > "$out.log" 2>&1 || rc=$?
        if ((rc == 0)); then pass "fio --rw=$rw: --verify_only pass over what it wrote ($(elapsed "$start") s)"
        else fail "fio --rw=$rw --verify_only: exit $rc: $(grep -m3 -iE 'verify|error|crc' "$out.log" | tr '\n' ' ' | cut -c1-300)"; fi
        rm -f "$mnt/fio/$rw".*
    done
}

drill_writers() {
    echo "== $WRITERS writers in the same folders for ${WRITER_SECONDS}s"
    local out rc=0
    out=$(timeout $((WRITER_SECONDS + 300)) python3 "$drills/writers.py" run "$mnt" writers "$WRITERS" "$WRITER_SECONDS" "$seed" "$work/writers.json" 2>&1) || rc=$?
    echo "   $(tail -1 <<<"$out")"
    if ((rc == 0)); then pass "$WRITERS writers: 0 errors"; else fail "$WRITERS writers: exit $rc: $(grep -m5 ERROR <<<"$out" | tr '\n' ' ')"; fi
    rc=0; out=$(timeout 600 python3 "$drills/writers.py" verify "$mnt" writers "$work/writers.json" 2>&1) || rc=$?
    if ((rc == 0)); then pass "the writers' tree on the mount: $(tail -1 <<<"$out")"; else fail "the writers' tree: $(grep -m5 FAIL <<<"$out" | tr '\n' ' ')"; fi
}

echo "== stress drill $(date -u '+%F %T') UTC: $(nproc) cores; nexusfs $nexusfs (sha256 $(sha256sum "$nexusfs" | cut -c1-12))"
echo "   work folder $work; seed $seed; $( ((short)) && echo short || echo full) form"
total_start=$EPOCHREALTIME
timeout 120 "$nexusfs" init "$repo" >/dev/null
timeout 120 "$nexusfs" mount "$repo" "$mnt"
parts=(stressng fio writers)
[[ $only == all ]] || parts=("$only")
for part in "${parts[@]}"; do "drill_$part" || true; done

echo "== afterwards"
rc=0; out=$(timeout 300 "$nexusfs" umount "$mnt" 2>&1) || rc=$?
if ((rc == 0)); then pass "nexusfs umount"; else fail "nexusfs umount: exit $rc: $out"; fusermount3 -u -z "$mnt" 2>/dev/null || true; fi
for cmd in "check --read-data" "audit --verify"; do
    rc=0; out=$(timeout 900 "$nexusfs" ${cmd%% *} "$repo" ${cmd#* } 2>&1) || rc=$?
    if ((rc == 0)); then pass "$cmd: $(tail -1 <<<"$out")"; else fail "$cmd: exit $rc: $(head -5 <<<"$out" | tr '\n' ' ')"; fi
done
if [[ -f $work/writers.json ]]; then
    timeout 120 "$nexusfs" mount "$repo" "$mnt" -o ro
    rc=0; out=$(timeout 600 python3 "$drills/writers.py" verify "$mnt" writers "$work/writers.json" 2>&1) || rc=$?
    if ((rc == 0)); then pass "the writers' tree after a remount: $(tail -1 <<<"$out")"; else fail "the writers' tree after a remount: $(grep -m5 FAIL <<<"$out" | tr '\n' ' ')"; fi
    timeout 120 "$nexusfs" umount "$mnt" || fail "umount of the read-only mount"
fi
echo
echo "== summary ($(elapsed "$total_start") s)"
((${#skips[@]} == 0)) || echo "skipped by stress-ng itself: ${skips[*]}"
echo "$passes passed, $fails failed"
if ((fails)); then
    echo "FAILED:"; printf '  %s\n' "${failures[@]}"
    exit 1
fi
