#!/usr/bin/env bash
# Corruption drill (as root): one byte flipped, the file truncated, or a 4 KiB block zeroed, at many
# positions in every kind of file the repository and the state directory hold (issue 11, "corruption").
#   bash bench/drills/corruption.sh [--positions N] [--sample N] [--only KIND] [--seed S]
#   env: NEXUSFS_BIN=path (no build), TIMEOUT=120 (s, for each command; a command that takes longer hangs)
# One repository is built once (two imports, each ending with a checkpoint, then saves through a mount,
# each fsynced: journal records after the last checkpoint); a second state is that repository after a
# kill -9 of a mount that had committed more saves, so that its live catalog has a WAL. Which pack bytes
# carry which documents and versions is read from the pristine catalog with SQLite (packs, chunks,
# manifests, nodes, versions: docs/repository-format.md), not through nexusfs. The kinds of file, and
# what every damage to them must give:
#   pack-data, pack-journal, pack-checkpoint (checkpoint and catalog image frames), pack-header, pack-toc
#     (table of contents and trailer): `check --read-data` exits 4 and names exactly the documents and
#     versions whose chunks were in frames the damage reaches (none for headers, tables of contents,
#     journal and checkpoint frames); the mount serves every other document and version byte for byte and
#     gives EIO (and never a wrong byte) for the named ones; `recover` (exit 0 or 4) rebuilds a catalog
#     with which check names the same damage and the mount serves the same. Where a journal record was in
#     the damaged frames, the recovered catalog may lack the saves from there on (replay stops at a gap),
#     but every version it lists reads right.
#   config, key: every command (check, mount, recover) either refuses with a clear message and the exit
#     code of docs/cli.md (3 wrong passphrase, 4 integrity, 5 not a repository) or, where the damage is
#     harmless (a field that is not authenticated), works as before; nothing in the repository is
#     written; with the file put back, check is clean.
#   lock: nothing notices; check is clean and the mount serves everything.
#   catalog (STATE/ID/catalog.db): check exits 0 or 4 and the mount opens or refuses (exit 4, naming
#     `recover`); a read gives the item's bytes or EIO, never other bytes (names and other metadata
#     are not authenticated in the local catalog, so a renamed, lost or unopenable entry is noted, not
#     failed; a mount that cannot commit into the damaged file must say so at umount); `recover`
#     rebuilds the whole tree from the repository, every version byte for byte.
#   catalog-wal (its -wal, left by the kill -9): the roll-forward from the journal brings back what SQLite
#     drops; check is clean and the mount serves every document and version, also after recover.
# No command may crash (a signal, a Swift trap) or hang (timeout(1) around each). --positions N (default
# 6) per kind and damage; --sample N runs N of those cases, every kind and damage in turn (CI: --sample 12).
# Prints a line per case and `N passed, N failed`; exits 1 on any failure, keeping the work folder (under
# /var/tmp) and naming it; removes it otherwise. Everything mounted is unmounted on exit.
set -euo pipefail
positions=6 sample=0 only=all seed=${SEED:-$RANDOM$RANDOM}
while (($#)); do
    case $1 in
        --positions) positions=$2; shift ;;
        --positions=*) positions=${1#--positions=} ;;
        --sample) sample=$2; shift ;;
        --sample=*) sample=${1#--sample=} ;;
        --only) only=$2; shift ;;
        --only=*) only=${1#--only=} ;;
        --seed) seed=$2; shift ;;
        --seed=*) seed=${1#--seed=} ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
kinds="pack-data pack-journal pack-checkpoint pack-header pack-toc config key lock catalog catalog-wal"
[[ $only == all || " $kinds " == *" $only "* ]] || { echo "--only takes one of: $kinds" >&2; exit 2; }
[[ $positions =~ ^[1-9][0-9]*$ && $sample =~ ^[0-9]+$ ]] || { echo "--positions and --sample take numbers" >&2; exit 2; }
TIMEOUT=${TIMEOUT:-120}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../common.sh"
[[ $(id -u) == 0 ]] || { echo "corruption.sh needs root (mounts)" >&2; exit 1; }
command -v fusermount3 >/dev/null || { echo "corruption.sh needs fusermount3 (fuse3)" >&2; exit 1; }

work=/var/tmp/nexusfs-corruption-$$
mkdir -p "$work"
keep_work=0
mounted=()        # mount points this script mounted
cleanup() {
    local rc=$? m
    trap - EXIT INT TERM HUP
    for m in "${mounted[@]}"; do drill_unmount "$m"; done
    drill_end_work "$rc" "$keep_work"
    exit "$rc"
}
drill_traps
export NEXUSFS_PASSWORD=corruption-drill
py() { python3 "$here/corruption.py" "$@"; }

# ---------------------------------------------------------------------------------------------
# Helpers.
failures=()
fail() { failures+=("$*"); keep_work=1; }
elapsed() { awk -v s="$1" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }'; }
# Runs nexusfs under timeout(1): OUT-PREFIX ARGS...; sets rc; a hang (124) or a crash (a signal, a
# Swift trap in the output) is recorded in $broken.
nx() {
    local out=$1; shift
    rc=0; timeout -k 5 "$TIMEOUT" "$nexusfs" "$@" > "$out.out" 2> "$out.err" || rc=$?
    if ((rc == 124 || rc == 137)); then broken+="nexusfs $1 hung (killed after $TIMEOUT s); "
    elif ((rc > 128)); then broken+="nexusfs $1 crashed (signal $((rc - 128))): $(tail -2 "$out.err" | tr '\n' ' '); "
    elif grep -qE 'Fatal error|Stack dump|Illegal instruction|Segmentation fault|Crash' "$out.err"; then
        broken+="nexusfs $1 crashed: $(grep -m1 -E 'Fatal error|Stack dump|Illegal|Segmentation|Crash' "$out.err"); "
    fi
    return 0
}
mount_repo() {    # REPO MOUNTPOINT OUT-PREFIX: mounts (rc as nx) and remembers the mount point for cleanup
    local m=$2
    mkdir -p "$m"
    [[ " ${mounted[*]} " == *" $m "* ]] || mounted+=("$m")
    nx "$3" mount "$1" "$m"
}
umount_repo() {   # MOUNTPOINT: nexusfs umount, or a lazy detach when that fails or hangs
    local urc=0
    timeout -k 5 60 "$nexusfs" umount "$1" > "$work/umount.out" 2>&1 || urc=$?
    ((urc == 0)) && return 0
    if ((urc == 124 || urc == 137)); then broken+="umount of $1 hung; "
    else problem+="umount exited $urc: $(tail -1 "$work/umount.out"); "; fi
    fusermount3 -u -z "$1" 2>/dev/null || umount -l "$1" 2>/dev/null || true
}
# Reads everything through a fresh mount of REPO: verify's HOW (exact, prefix, names) against EXPECT,
# with the items in AFFECTED-FILE to give EIO. Appends to $problem; prints verify's summary line.
read_through_mount() {
    local repo=$1 mnt=$2 out=$3 expect=$4 affected=$5 how=$6 mrc
    mount_repo "$repo" "$mnt" "$out.mount"; mrc=$rc
    if ((mrc != 0)); then problem+="mount exited $mrc: $(head -1 "$out.mount.err"); "; return; fi
    local vrc=0
    timeout -k 5 "$TIMEOUT" python3 "$here/corruption.py" verify "$mnt" "$work/store" "$expect" "$affected" "$how" "$out.verify.json" \
        > "$out.verify" 2>&1 || vrc=$?
    ((vrc == 0)) || broken+="reading through the mount failed or hung (exit $vrc: $(tail -1 "$out.verify")); "
    umount_repo "$mnt"
    if ((vrc == 0)); then
        local p; p=$(python3 -c 'import json,sys; print("; ".join(json.load(open(sys.argv[1]))["problems"][:4]))' "$out.verify.json")
        [[ -z $p ]] || problem+="mount: $p; "
    fi
    seen+=", read $(tail -1 "$out.verify")"
}
# Compares the `affected` of a check --json output with the expected lines; appends to $problem.
same_affected() {   # CHECK-JSON WANT-FILE WHAT [subset]
    local got; got=$(py checkjson "$1" | sort)
    local want; want=$(sort "$2" | sed '/^$/d')
    [[ $got == "-" ]] && { problem+="$3 printed no JSON report: $(head -1 "${1%.out}.err"); "; return; }
    if [[ ${4:-} == subset ]]; then
        local extra; extra=$(comm -23 <(echo "$got" | sed '/^$/d') <(echo "$want"))
        [[ -z $extra ]] || problem+="$3 names items outside the damaged frames: $(echo "$extra" | head -3 | tr '\n' ','); "
    elif [[ $got != "$want" ]]; then
        local missing extra
        missing=$(comm -13 <(echo "$got" | sed '/^$/d') <(echo "$want") | head -3 | tr '\n' ',')
        extra=$(comm -23 <(echo "$got" | sed '/^$/d') <(echo "$want") | head -3 | tr '\n' ',')
        problem+="$3 names the wrong items (not named: ${missing:-none}; named wrongly: ${extra:-none}); "
    fi
}
state_of() { local c; c=$(ls -d "$1"/*/catalog.db 2>/dev/null | head -1); dirname "${c:-$1/x/catalog.db}"; }

# ---------------------------------------------------------------------------------------------
# The pristine repository and the state after a kill -9.
setup() {
    local p=$work/pristine w=$work/walstate
    mkdir -p "$p/mnt" "$work/src"
    export NEXUSFS_STATE_DIR=$p/state
    "$nexusfs" init "$p/repo" >/dev/null
    py grow "$work/src" "$work/store" "$p/expect.json" 1 "$seed"
    "$nexusfs" import "$p/repo" "$work/src" >/dev/null
    py grow "$work/src" "$work/store" "$p/expect.json" 2 "$seed"
    "$nexusfs" import "$p/repo" "$work/src" >/dev/null
    mount_repo "$p/repo" "$p/mnt" "$work/setup-mount"
    ((rc == 0)) || { echo "setup: mount failed: $(cat "$work/setup-mount.err")"; exit 1; }
    py saves "$p/mnt" "$work/store" "$p/expect.json" "$seed" 6
    umount_repo "$p/mnt"
    # The pristine repository must read back whole, or no case means anything.
    : > "$work/none"
    problem= broken= seen=
    "$nexusfs" check "$p/repo" --read-data > "$work/setup-check" 2>&1 || { echo "setup: check failed: $(cat "$work/setup-check")"; exit 1; }
    read_through_mount "$p/repo" "$p/mnt" "$work/setup" "$p/expect.json" "$work/none" exact
    [[ -z $problem$broken ]] || { echo "setup: the undamaged repository does not read back: $problem$broken"; exit 1; }
    echo "   pristine: $("$nexusfs" stats "$p/repo" | tr -s ' ' | paste -sd' ' | cut -c1-160)"
    echo "   pristine reads: ${seen#, read }"
    py index "$(state_of "$p/state")/catalog.db" "$work/index.json"
    # The WAL state: more saves committed by a mount that is then killed (its catalog keeps a -wal).
    cp -a "$p" "$w"
    export NEXUSFS_STATE_DIR=$w/state
    mount_repo "$w/repo" "$w/mnt" "$work/wal-mount"
    ((rc == 0)) || { echo "setup: mount of the WAL state failed: $(cat "$work/wal-mount.err")"; exit 1; }
    py saves "$w/mnt" "$work/store" "$w/expect.json" "$seed-wal" 3
    sleep 2
    local pid; pid=$(grep -o 'pid [0-9]*' "$w/repo/lock" | cut -d' ' -f2)
    [[ -n $pid ]] && kill -9 "$pid"
    sleep 0.5
    fusermount3 -u -z "$w/mnt" 2>/dev/null || true
    local wal; wal=$(state_of "$w/state")/catalog.db-wal
    if [[ -s $wal ]]; then echo "   WAL state: $(stat -c %s "$wal") bytes of WAL after kill -9 of pid $pid"
    else echo "   WAL state: no WAL was left by the kill -9; the catalog-wal cases are skipped"; fi
    py cases "$p/repo" "$p/state" "$w/state" "$work/index.json" "$seed" "$positions" "$work/cases-all.json"
    if [[ $only != all ]]; then
        python3 -c 'import json,sys; c=[x for x in json.load(open(sys.argv[1])) if x["kind"]==sys.argv[2]]; json.dump(c,open(sys.argv[3],"w"))' \
            "$work/cases-all.json" "$only" "$work/cases-only.json"
        mv "$work/cases-only.json" "$work/cases-all.json"
    fi
    py pick "$work/cases-all.json" "$sample" "$seed" "$work/cases.json"
    pristine_hash=$(py treehash "$p/repo")
}

# ---------------------------------------------------------------------------------------------
# One case: damage a copy, then check, the mount, recover, and (for config and keys) the file put back.
run_case() {
    local id=$1 kind mode file pos size base C
    kind=$(py case "$work/cases.json" "$id" kind); mode=$(py case "$work/cases.json" "$id" mode)
    file=$(py case "$work/cases.json" "$id" file); pos=$(py case "$work/cases.json" "$id" pos)
    size=$(py case "$work/cases.json" "$id" size)
    base=$work/pristine; [[ $kind == catalog-wal ]] && base=$work/walstate
    C=$work/case; rm -rf "$C"; mkdir -p "$C"; cp -a "$base/repo" "$base/state" "$C/"
    local expect=$base/expect.json
    python3 -c 'import json,sys; c=[x for x in json.load(open(sys.argv[1])) if x["id"]==int(sys.argv[2])][0]; print("\n".join(c["affected"]))' \
        "$work/cases.json" "$id" > "$C/want"
    local blobs; blobs=$(py case "$work/cases.json" "$id" blobs)
    export NEXUSFS_STATE_DIR=$C/state
    cp -a "$C/$file" "$C/original" 2>/dev/null || true
    py damage "$C/$file" "$mode" "$pos" "$(py case "$work/cases.json" "$id" mask)"
    problem= broken= seen=
    local crc rrc mrc
    nx "$C/check" check "$C/repo" --read-data --json; crc=$rc
    seen+="check $crc"
    case $kind in
    pack-*)
        ((crc == 4)) || problem+="check exited $crc, not 4; "
        same_affected "$C/check.out" "$C/want" check
        read_through_mount "$C/repo" "$C/mnt" "$C/m1" "$expect" "$C/want" exact
        # recover from the packs alone: the live catalog is gone, as when the state directory is lost.
        local statedir; statedir=$(state_of "$C/state")
        rm -f "$statedir"/catalog.db*
        nx "$C/recover" recover "$C/repo"; rrc=$rc; seen+=", recover $rrc"
        ((rrc == 0 || rrc == 4)) || problem+="recover exited $rrc: $(tail -1 "$C/recover.err"); "
        [[ -f $statedir/catalog.db ]] || { problem+="recover left no catalog: $(tail -1 "$C/recover.err"); "; rrc=-1; }
        if ((rrc == 0 || rrc == 4)); then
            nx "$C/check2" check "$C/repo" --read-data --json; seen+=", check $rc"
            ((rc == 4)) || problem+="check after recover exited $rc, not 4; "
            if [[ " $blobs " == *" journal "* ]]; then
                same_affected "$C/check2.out" "$C/want" "check after recover" subset
                read_through_mount "$C/repo" "$C/mnt" "$C/m2" "$expect" "$C/want" prefix
            else
                same_affected "$C/check2.out" "$C/want" "check after recover"
                read_through_mount "$C/repo" "$C/mnt" "$C/m2" "$expect" "$C/want" exact
            fi
        fi ;;
    config|key)
        local before=$crc
        [[ $crc =~ ^(0|3|4|5)$ ]] || problem+="check exited $crc (not 0, 3, 4 or 5): $(head -1 "$C/check.err"); "
        ((crc == 0)) || grep -q '^nexusfs: ' "$C/check.err" || problem+="check gave no clear message: $(head -1 "$C/check.err"); "
        if ((crc == 0)); then
            python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(1 if r["errors"] else 0)' "$C/check.out" \
                || problem+="check exited 0 with errors; "
            read_through_mount "$C/repo" "$C/mnt" "$C/m1" "$expect" "$work/none" exact
        else
            mount_repo "$C/repo" "$C/mnt" "$C/m1"; mrc=$rc; seen+=", mount $mrc"
            ((mrc == 0)) && { umount_repo "$C/mnt"; problem+="mount worked where check refused ($crc); "; }
            ((mrc == crc)) || problem+="mount exited $mrc, check $crc; "
            grep -q '^nexusfs: ' "$C/m1.err" || problem+="mount gave no clear message: $(head -1 "$C/m1.err"); "
        fi
        nx "$C/recover" recover "$C/repo"; rrc=$rc; seen+=", recover $rrc"
        ((rrc == crc)) || problem+="recover exited $rrc, check $crc: $(head -1 "$C/recover.err"); "
        if ((crc != 0)); then
            cp -a "$C/original" "$C/$file"
            [[ $(py treehash "$C/repo") == "$pristine_hash" ]] || problem+="the refused commands changed the repository; "
            nx "$C/check3" check "$C/repo" --read-data --json; seen+=", put back: check $rc"
            ((rc == 0)) || problem+="with the file put back, check exited $rc: $(head -1 "$C/check3.err"); "
        fi ;;
    lock)
        ((crc == 0)) || problem+="check exited $crc: $(head -1 "$C/check.err"); "
        read_through_mount "$C/repo" "$C/mnt" "$C/m1" "$expect" "$work/none" exact ;;
    catalog)
        [[ $crc =~ ^(0|4)$ ]] || problem+="check exited $crc (not 0 or 4): $(head -1 "$C/check.err"); "
        ((crc == 0)) || grep -q '^nexusfs: \|"errors"' "$C/check.err" "$C/check.out" || problem+="check gave no clear message; "
        mount_repo "$C/repo" "$C/mnt" "$C/m1"; mrc=$rc; seen+=", mount $mrc"
        if ((mrc == 0)); then
            local vrc=0
            timeout -k 5 "$TIMEOUT" python3 "$here/corruption.py" verify "$C/mnt" "$work/store" "$expect" "$work/none" names "$C/m1.verify.json" \
                > "$C/m1.verify" 2>&1 || vrc=$?
            ((vrc == 0)) || broken+="reading through the mount failed or hung (exit $vrc: $(tail -1 "$C/m1.verify")); "
            # A mount of a damaged catalog may be unable to commit its last changes; umount must say so.
            local before=$problem
            umount_repo "$C/mnt"
            if [[ $problem != "$before" ]] && grep -q 'changes could not be saved' "$work/umount.out"; then
                problem=$before; seen+=" (umount: changes could not be saved)"
            fi
            if ((vrc == 0)); then
                local p; p=$(python3 -c 'import json,sys; print("; ".join(json.load(open(sys.argv[1]))["problems"][:4]))' "$C/m1.verify.json")
                [[ -z $p ]] || problem+="mount: $p; "
            fi
            seen+=" (read $(tail -1 "$C/m1.verify"))"
            # Damage SQLite cannot see (a name, a size, rows of a zeroed page it does not check) and check
            # passes: counted, not failed; recover below must still bring everything back.
            if ((crc == 0)) && python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["notes"] else 1)' "$C/m1.verify.json"; then
                undetected=$((undetected + 1)); seen+=" UNDETECTED by check"
            fi
        elif ((mrc == 4)); then
            grep -q 'recover' "$C/m1.err" || problem+="mount refused without naming recover: $(head -1 "$C/m1.err"); "
        else
            problem+="mount exited $mrc: $(head -1 "$C/m1.err"); "
        fi
        nx "$C/recover" recover "$C/repo"; rrc=$rc; seen+=", recover $rrc"
        ((rrc == 0)) || problem+="recover exited $rrc: $(tail -1 "$C/recover.err"); "
        nx "$C/check2" check "$C/repo" --read-data --json; seen+=", check $rc"
        ((rc == 0)) || problem+="check after recover exited $rc: $(head -2 "$C/check2.out" "$C/check2.err" | tr '\n' ' '); "
        read_through_mount "$C/repo" "$C/mnt" "$C/m2" "$expect" "$work/none" exact ;;
    catalog-wal)
        ((crc == 0)) || problem+="check exited $crc: $(head -1 "$C/check.err") $(py checkjson "$C/check.out" | head -2); "
        read_through_mount "$C/repo" "$C/mnt" "$C/m1" "$expect" "$work/none" exact
        nx "$C/recover" recover "$C/repo"; rrc=$rc; seen+=", recover $rrc"
        ((rrc == 0)) || problem+="recover exited $rrc: $(tail -1 "$C/recover.err"); "
        read_through_mount "$C/repo" "$C/mnt" "$C/m2" "$expect" "$work/none" exact ;;
    esac
    local what; what=$(printf '%3d %-15s %-8s %-40s @%s/%s' "$id" "$kind" "$mode" "${file#repo/}" "$pos" "$size")
    local n; n=$(grep -c . "$C/want" || true)
    if [[ -z $problem$broken ]]; then
        passed=$((passed + 1)); echo "$what: ok ($n items damaged; $seen)"
    else
        failed=$((failed + 1)); echo "$what: FAILED ($n items damaged; $seen)"
        echo "    $broken$problem" | fold -w 200 -s | sed '2,$s/^/    /'
        [[ -n $broken ]] && crashes=$((crashes + 1))
        mkdir -p "$work/failed"; cp -a "$C" "$work/failed/case-$id"; rm -rf "$work/failed/case-$id/mnt"
        fail "case $id ($kind, $mode at $pos of $file; $work/failed/case-$id): $broken$problem"
    fi
}

echo "== corruption drill $(date -u '+%F %T') UTC: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); nexusfs $nexusfs (sha256 $(sha256sum "$nexusfs" | cut -c1-12))"
echo "   work folder $work; seed $seed (--seed $seed repeats the positions)"
total_start=$EPOCHREALTIME
setup
passed=0 failed=0 crashes=0 undetected=0
ids=$(python3 -c 'import json,sys; print(" ".join(str(c["id"]) for c in json.load(open(sys.argv[1]))))' "$work/cases.json")
count=$(wc -w <<<"$ids")
echo "== $count cases ($(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$work/cases-all.json") in the full set, $positions per kind and damage)"
for id in $ids; do run_case "$id"; done
echo
echo "== summary ($(elapsed "$total_start") s): $crashes crashes or hangs; $undetected damaged catalogs that check passed and the mount served with entries missing or renamed"
echo "$passed passed, $failed failed"
if ((${#failures[@]})); then
    echo "FAILED:"; printf '  %s\n' "${failures[@]}" | cut -c1-400
    exit 1
fi
