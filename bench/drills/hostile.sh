#!/usr/bin/env bash
# Hostile-input drill (as root): input built to break the mount and the commands, each case a clear
# error (or what ext4 does), no crash, no hang, no unbounded memory (issue 11, "hostile input").
#   bash bench/drills/hostile.sh [--quick] [--only names|paths|xattrs|fuzz|acl|grant|repo]
#   env: NEXUSFS_BIN=path (no build)
# On the debug build of a 2-core VM: --quick about 2 minutes (CI), the full form about 10.
# names   every byte length 1-255 (ASCII, multi-byte UTF-8, arbitrary bytes), invalid UTF-8 and other odd
#         names: created, listed byte-exact, read, renamed, saved twice and found in .versions; 256, 300,
#         1024, 1025 and 4000 bytes give ENAMETOOLONG on every call that takes a name, as on ext4.
# paths   relative and absolute paths of 4,094-5,000 bytes, symlink targets of 4,095 and 4,096 bytes, a
#         tree 3,000 folders deep (2,100 quick) reached by descriptors: the same results as on ext4.
# xattrs  name and value limits, flags and buffer sizes as on ext4; 64 KiB values; a great many on one
#         file up to the documented limit (then ENOSPC, listxattr still works); 100,000 over 100 files
#         (10,000 quick), read back, with the daemon's VmRSS sampled.
# fuzz    every user.nexus.* and system.nexus.* attribute set to fuzzed values: status EINVAL unless a
#         status, notes stored byte-exact, computed ones EPERM, malformed grants EINVAL with the ACL
#         unchanged, comments only as UTF-8 text.
# acl     malformed system.posix_acl_access/default blobs (version, truncated, counts, tags, bits, huge):
#         the mount gives what ext4 gives (EINVAL), the stored ACL unchanged.
# grant   `nexusfs grant` with bad principals (unknown, empty, '@', very long, non-UTF-8, numbers out of
#         range): exit 2 and a message; nothing granted.
# repo    a repository whose config, key files or packs are replaced by random or crafted bytes: mount,
#         check, log, export, recover and stats each exit with a documented code and a `nexusfs:` message,
#         under timeout(1) and an address-space limit (prlimit), never by a signal.
# The reference for "as on ext4" is a folder under the work folder (/var/tmp, ext4 or another local disk).
# After each case on the mount the daemon must still be alive and serving (the root stats, a known file
# reads back). Prints a line per case and `N passed, N failed`; exits 1 on any failure, keeping the work
# folder and naming it. Everything mounted is unmounted on exit.
set -euo pipefail
quick=0 only=all
while (($#)); do
    case $1 in
        --quick) quick=1 ;;
        --only) only=$2; shift ;;
        --only=*) only=${1#--only=} ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
[[ $only =~ ^(all|names|paths|xattrs|fuzz|acl|grant|repo)$ ]] || { echo "--only takes names, paths, xattrs, fuzz, acl, grant or repo" >&2; exit 2; }
helper=$(realpath "$(dirname "$0")/hostile.py")
source "$(dirname "$0")/../common.sh"
[[ $(id -u) == 0 ]] || { echo "hostile.sh needs root (mounts, the ext4 reference's trusted names)" >&2; exit 1; }
command -v fusermount3 >/dev/null || { echo "hostile.sh needs fusermount3 (fuse3)" >&2; exit 1; }

work=/var/tmp/nexusfs-hostile-$$
mkdir -p "$work"
mounted=()
cleanup() {
    local rc=$? m
    trap - EXIT INT TERM HUP
    drill_kill_jobs
    for m in "${mounted[@]}"; do drill_unmount "$m"; done
    drill_end_work "$rc" 0
    exit "$rc"
}
drill_traps
export NEXUSFS_PASSWORD=hostile-drill NEXUSFS_STATE_DIR=$work/state

passed=0 failed=0 failures=()
pass() { passed=$((passed + 1)); echo "ok $*"; }
fail() { failed=$((failed + 1)); failures+=("$*"); echo "FAIL $*"; }
elapsed() { awk -v s="$1" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.1f", e - s }'; }
mount_repo() {    # REPO MOUNTPOINT [OPTIONS]
    local m=$2
    [[ " ${mounted[*]} " == *" $m "* ]] || mounted+=("$m")
    "$nexusfs" mount "$1" "$m" "${@:3}"
}
daemon_pid() { sed -n 's/.* by pid \([0-9]*\).*/\1/p' "$1/lock"; }

repo=$work/repo mnt=$work/mnt ref=$work/ext4
mkdir -p "$mnt" "$ref"
"$nexusfs" init "$repo" >/dev/null

# The mount sections: each is a run of the helper, whose `ok`/`FAIL` lines are counted here.
run_section() {
    local section=$1 out=$work/$1.out start=$EPOCHREALTIME rc=0 pid
    pid=$(daemon_pid "$repo")
    echo "== $section"
    timeout 1800 python3 "$helper" "$section" "$mnt" "$ref" "$pid" "$( ((quick)) && echo quick)" > "$out" 2>&1 || rc=$?
    local p f
    p=$(grep -c '^ok ' "$out" || true) f=$(grep -c '^FAIL ' "$out" || true)
    grep '^FAIL \|^section:\|^Traceback\|Error' "$out" | head -40 || true
    ((quick)) || grep '^ok ' "$out" | grep -i 'xattrs\|rss\|deep' || true
    passed=$((passed + p)) failed=$((failed + f))
    while read -r line; do failures+=("$section: ${line#FAIL }"); done < <(grep '^FAIL ' "$out" | head -20)
    if ((rc != 0 && f == 0)); then
        fail "$section: the helper exited $rc: $(tail -3 "$out" | tr '\n' ' ')"
    fi
    echo "$section: $p passed, $f failed ($(elapsed "$start") s)"
}

mount_sections=(names paths xattrs fuzz acl)
want() { [[ $only == all || $only == "$1" ]]; }
need_mount=0
for s in "${mount_sections[@]}" grant; do want "$s" && need_mount=1; done
if ((need_mount)); then
    mount_repo "$repo" "$mnt" -o commit=1
    python3 "$helper" setup "$mnt" "$ref" "$(daemon_pid "$repo")"
fi
echo "== hostile-input drill $(date -u '+%F %T') UTC: $(nproc) cores; nexusfs $nexusfs (sha256 $(sha256sum "$nexusfs" | cut -c1-12))"
echo "   work folder $work; reference folder on $(stat -f -c %T "$ref"); $( ((quick)) && echo quick form || echo full form)"
total_start=$EPOCHREALTIME
for s in "${mount_sections[@]}"; do want "$s" && run_section "$s"; done

# ---------------------------------------------------------------------------------------------
# grant with bad principals: exit 2 with a message, no signal, nothing granted.
alive() {    # the daemon serves: the root stats and the known file reads back
    local pid; pid=$(daemon_pid "$repo")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && stat "$mnt" >/dev/null && cmp -s <(python3 -c 'import sys; sys.stdout.write("the hostile drill'"'"'s canary\n" * 100)') "$mnt/known.txt"
}
if want grant; then
    echo "== grant"
    start=$EPOCHREALTIME
    echo doc > "$mnt/granted.txt"
    acl_before=$(getfacl -n "$mnt/granted.txt" 2>&1)
    long=$(head -c 100000 /dev/zero | tr '\0' u)
    principals=("" "@" "@@" ":" "user:" "group:" "user:@" "no-such-user-hostile" "group:no-such-group-hostile"
        "@no-such-group-hostile" "$long" "user:$long" $'\xff\xfe' $'caf\xc3' $'a\nb' "a b" "4294967296" "4294967295"
        "99999999999999999999" "-1" "+5" "0x10" "1e3" " 1000" "user:4294967296" "group:4294967295" "public:"
        "everyone" "user:group:0" "%s%n" "../../etc/passwd")
    for principal in "${principals[@]}"; do
        rc=0; timeout 30 "$nexusfs" grant "$mnt/granted.txt" "$principal" view > "$work/grant.out" 2>&1 || rc=$?
        shown=$(printf '%q' "$principal" | cut -c1-40)
        msg=$(head -1 "$work/grant.out" | cut -c1-100)
        if ((rc != 2)); then fail "grant to $shown: exit $rc (expected 2): $msg"
        elif ! grep -q '^nexusfs: \|^Error: ' "$work/grant.out"; then fail "grant to $shown: exit 2 without a message"
        elif [[ $(getfacl -n "$mnt/granted.txt" 2>&1) != "$acl_before" ]]; then fail "grant to $shown changed the ACL"
        elif ! alive; then fail "grant to $shown: the daemon does not serve"
        else pass "grant to $shown: exit 2 ($msg)"; fi
    done
    # A grant to a real user works, and a bad level is exit 2.
    rc=0; "$nexusfs" grant "$mnt/granted.txt" nobody view > "$work/grant.out" 2>&1 || rc=$?
    ((rc == 0)) && getfacl -n "$mnt/granted.txt" 2>/dev/null | grep -q "^user:65534:r--" && pass "grant to nobody works" || fail "grant to nobody: exit $rc $(head -1 "$work/grant.out")"
    rc=0; "$nexusfs" grant "$mnt/granted.txt" nobody $'view\xff' > "$work/grant.out" 2>&1 || rc=$?
    ((rc == 2)) && pass "grant of an unknown level: exit 2" || fail "grant of an unknown level: exit $rc"
    rc=0; "$nexusfs" grant "$work/repo" nobody view > "$work/grant.out" 2>&1 || rc=$?
    ((rc == 1)) && pass "grant outside a mount: exit 1 ($(head -1 "$work/grant.out"))" || fail "grant outside a mount: exit $rc"
    # The commands that take a mounted path find a document whose name is not UTF-8.
    odd=$mnt/$'caf\xe9 \xff.txt'
    echo one > "$odd"; sleep 0.1; echo two > "$odd"; sleep 0.1
    for cmd in "log" "restore --version 1 --to $work/restored" "comment @ a comment" "comments" "grant @ nobody view" "access"; do
        rc=0
        set -f; words=($cmd); set +f
        [[ ${words[1]:-} == @ ]] && words=("${words[0]}" "$odd" "${words[@]:2}") || words=("${words[0]}" "$odd" "${words[@]:1}")
        timeout 30 "$nexusfs" "${words[@]}" > "$work/odd.out" 2>&1 || rc=$?
        ((rc == 0)) && pass "${words[0]} on a document named caf\\xe9 \\xff.txt" || fail "${words[0]} on a document named caf\\xe9 \\xff.txt: exit $rc: $(head -1 "$work/odd.out")"
    done
    [[ $(cat "$work/restored" 2>/dev/null) == one ]] && pass "restore --to of that document wrote version 1" || fail "restore --to of that document wrote $(head -c 40 "$work/restored" 2>&1)"
    echo "grant: done ($(elapsed "$start") s)"
fi

# ---------------------------------------------------------------------------------------------
# Damaged repositories: every command gives a documented exit code and a message, in bounded time
# and memory.
if ((need_mount)); then
    python3 "$helper" tree "$mnt" "$work/mounted.json"
    rc=0; "$nexusfs" umount "$mnt" || rc=$?
    ((rc == 0)) && pass "umount after the mount sections" || fail "umount after the mount sections exited $rc"
    rc=0; "$nexusfs" check "$repo" > "$work/check.out" 2>&1 || rc=$?
    ((rc == 0)) && pass "check after the mount sections" || fail "check after the mount sections exited $rc: $(head -3 "$work/check.out" | tr '\n' ' ')"
    # What the sections left (odd names, paths longer than PATH_MAX) exports byte-exact.
    rc=0; timeout 600 "$nexusfs" export "$repo" "$work/export" > "$work/export.out" 2>&1 || rc=$?
    if ((rc != 0)); then fail "export after the mount sections exited $rc: $(head -2 "$work/export.out" | tr '\n' ' ')"
    elif r=$(python3 "$helper" tree "$work/export" "$work/exported.json" && python3 "$helper" compare-trees "$work/mounted.json" "$work/exported.json"); then
        pass "export after the mount sections: $r"
    else fail "export after the mount sections differs from the mount: $r"; fi
    rm -rf "$work/export"
    if want grant; then
        rc=0; "$nexusfs" log "$repo" /$'caf\xe9 \xff.txt' > "$work/odd.out" 2>&1 || rc=$?
        ((rc == 0)) && [[ $(grep -c . "$work/odd.out") -ge 2 ]] && pass "log REPO PATH of a document named caf\\xe9 \\xff.txt" \
            || fail "log REPO PATH of a document named caf\\xe9 \\xff.txt: exit $rc: $(head -1 "$work/odd.out")"
    fi
fi
if want repo; then
    echo "== repo"
    start=$EPOCHREALTIME
    base=$work/base
    mkdir -p "$base/src/d"
    head -c 300000 /dev/urandom > "$base/src/d/random.bin"
    seq 1 20000 > "$base/src/d/numbers.txt"
    echo small > "$base/src/small.txt"
    NEXUSFS_STATE_DIR=$base/state "$nexusfs" init "$base/repo" >/dev/null
    NEXUSFS_STATE_DIR=$base/state "$nexusfs" import "$base/repo" "$base/src" >/dev/null
    python3 "$helper" craft-keys "$base/repo" "$base/crafted"
    # A limit on the address space: far above what a command needs (Argon2id's 64 MiB, the catalog),
    # far below what an unchecked 2^63 or 2^32 length would ask for.
    limit=$((4 << 30))
    damage() {    # KIND REPO: one way of damaging REPO
        local r=$2 p k
        p=$(ls -S "$r"/packs/??/* | head -1)    # the largest: the one with d/random.bin's content
        case $1 in
            config-random)     head -c 4096 /dev/urandom > "$r/config" ;;
            config-empty)      : > "$r/config" ;;
            config-huge)       head -c $((64 << 20)) /dev/zero | tr '\0' ' ' > "$r/config" ;;
            config-version)    python3 - "$r/config" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["version"] = 2**63; open(sys.argv[1], "w").write(json.dumps(c))
PY
            ;;
            config-body)       python3 - "$r/config" <<'PY'
import base64, json, sys
c = json.load(open(sys.argv[1]))
body = json.loads(base64.b64decode(c["config"]))
body["chunker"] = {"averageSize": 2**63, "maxSize": 2**64 - 1, "minSize": 0, "normalizationLevel": 2**31}
c["config"] = base64.b64encode(json.dumps(body).encode()).decode()
open(sys.argv[1], "w").write(json.dumps(c))
PY
            ;;
            config-chunker)    python3 - "$r/config" <<'PY'
import base64, json, sys
c = json.load(open(sys.argv[1]))
body = json.loads(base64.b64decode(c["config"]))
body["chunker"] = {"averageSize": 1 << 30, "maxSize": 1 << 31, "minSize": 1 << 29, "normalizationLevel": 3}
c["config"] = base64.b64encode(json.dumps(body).encode()).decode()
open(sys.argv[1], "w").write(json.dumps(c))
PY
            ;;
            config-mac)        python3 - "$r/config" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["mac"] = "0" * 64; open(sys.argv[1], "w").write(json.dumps(c))
PY
            ;;
            config-dir)        rm -f "$r/config"; mkdir "$r/config" ;;
            config-fifo)       rm -f "$r/config"; mkfifo "$r/config" ;;
            keys-random)       for f in "$r"/keys/*.key; do head -c 2000 /dev/urandom > "$f"; done ;;
            keys-empty)        for f in "$r"/keys/*.key; do : > "$f"; done ;;
            keys-none)         rm -f "$r"/keys/*.key ;;
            key-fifo)          mkfifo "$r/keys/0000000000000000.key" ;;
            wrong-passphrase-planted-key) cp "$base/crafted/memory.key" "$r/keys/0000000000000000.key" ;;
            key-*)             cp "$base/crafted/${1#key-}.key" "$r/keys/0000000000000000.key" ;;
            pack-random)       for f in "$r"/packs/??/*; do s=$(stat -c %s "$f"); chmod u+w "$f"; head -c "$s" /dev/urandom > "$f"; done ;;
            pack-empty)        chmod u+w "$p"; : > "$p" ;;
            pack-header-only)  chmod u+w "$p"; truncate -s 24 "$p" ;;
            pack-sparse)       chmod u+w "$p"; truncate -s $((64 << 30)) "$p" ;;
            pack-toc-length)   chmod u+w "$p"; python3 "$helper" patch-trailer "$p" 0 4294967295 ;;
            pack-toc-count)    chmod u+w "$p"; python3 "$helper" patch-trailer "$p" 4 4294967295 ;;
            pack-toc-small)    chmod u+w "$p"; python3 "$helper" patch-trailer "$p" 0 0 ;;
            pack-frames)       chmod u+w "$p"; python3 "$helper" patch-frames "$p" ;;
            pack-name)         chmod u+w "$p"; printf '\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff' | dd of="$p" bs=1 seek=8 conv=notrunc status=none ;;
            pack-fifo)         rm -f "$p"; mkfifo "$p" ;;
            pack-dir)          rm -f "$p"; mkdir "$p" ;;
            pack-symlink-zero) rm -f "$p"; ln -s /dev/zero "$p" ;;
            pack-stray)        mkdir -p "$r/packs/ff"; head -c 100000 /dev/urandom > "$r/packs/ff/ffffffffffffffffffffffffffffffff" ;;
            *) echo "unknown damage $1" >&2; return 1 ;;
        esac
    }
    kinds=(config-random config-empty config-huge config-version config-body config-chunker config-mac config-dir config-fifo
           keys-random keys-empty keys-none key-memory key-memory-over key-iterations key-parallelism key-salt key-hex key-huge-numbers
           key-fifo pack-random pack-empty pack-header-only pack-sparse pack-toc-length pack-toc-count pack-toc-small
           pack-frames pack-name pack-fifo pack-dir pack-symlink-zero pack-stray wrong-passphrase-planted-key)
    ((quick)) && kinds=(config-random config-body config-mac config-fifo keys-random key-memory-over key-hex
                        pack-random pack-sparse pack-toc-length pack-frames pack-fifo)
    commands=(mount check log export recover stats)
    for kind in "${kinds[@]}"; do
        for command in "${commands[@]}"; do
            t=$work/r-$kind-$command
            rm -rf "$t"; mkdir -p "$t"
            cp -a "$base/repo" "$t/repo"; cp -a "$base/state" "$t/state"
            if ! damage "$kind" "$t/repo" 2> "$t/damage.err"; then fail "$kind: could not damage: $(cat "$t/damage.err")"; continue; fi
            export NEXUSFS_STATE_DIR=$t/state
            case $command in
                mount)   args=(mount "$t/repo" "$t/mnt"); mkdir -p "$t/mnt"; mounted+=("$t/mnt") ;;
                check)   args=(check "$t/repo" --read-data) ;;
                log)     args=(log "$t/repo" /d/random.bin) ;;
                export)  args=(export "$t/repo" "$t/out") ;;
                recover) args=(recover "$t/repo") ;;
                stats)   args=(stats "$t/repo") ;;
            esac
            rc=0; cstart=$EPOCHREALTIME
            pw=$NEXUSFS_PASSWORD; [[ $kind != wrong-passphrase-* ]] || pw=not-the-passphrase
            NEXUSFS_PASSWORD=$pw timeout -k 5 120 prlimit --as=$limit -- "$nexusfs" "${args[@]}" > "$t/out.txt" 2>&1 < /dev/null || rc=$?
            took=$(elapsed "$cstart")
            msg=$(grep -m1 '^nexusfs: \|^error: ' "$t/out.txt" | cut -c1-150 || true)
            served=""
            if [[ $command == mount ]] && ((rc == 0)); then
                # A mount that works must serve, and give EIO (never wrong bytes) for damaged content.
                if cmp -s "$t/mnt/small.txt" "$base/src/small.txt" 2>/dev/null; then served="serves"
                elif cat "$t/mnt/small.txt" >/dev/null 2>&1; then served="serves, small.txt WRONG BYTES"
                else served="serves nothing"; fi
                cmp -s "$t/mnt/d/random.bin" "$base/src/d/random.bin" 2>/dev/null && served+=", random.bin intact" \
                    || { cat "$t/mnt/d/random.bin" > /dev/null 2> "$t/read.err" && served+=", WRONG BYTES" || served+=", EIO on damaged content"; }
                timeout 60 "$nexusfs" umount "$t/mnt" >/dev/null 2>&1 || fusermount3 -u -z "$t/mnt" 2>/dev/null || true
            fi
            line="$kind: $command exit $rc in $took s${served:+ ($served)}${msg:+: $msg}"
            if ((rc == 124 || rc == 137)); then fail "$line (timed out: a hang)"
            elif ((rc > 128)); then fail "$line (killed by signal $((rc - 128)): a crash; $(grep -m1 -i 'fatal\|error' "$t/out.txt" | cut -c1-150))"
            elif ((rc != 0)) && [[ -z $msg ]]; then fail "$line (no nexusfs: message: $(head -2 "$t/out.txt" | tr '\n' ' ' | cut -c1-150))"
            elif ((rc != 0 && rc != 1 && rc != 3 && rc != 4 && rc != 5 && rc != 6)); then fail "$line (not a documented code for damage)"
            elif [[ $served == *"WRONG BYTES"* ]]; then fail "$line"
            elif [[ $kind == config-* || $kind == keys-* ]] && ((rc == 0)); then fail "$line (a damaged config or key set was accepted)"
            elif [[ $kind == pack-* && $kind != pack-stray && $command == check ]] && ((rc != 4)); then
                fail "$line (check must report the damaged pack: exit 4)"
            elif [[ $command == export ]] && ((rc == 0)) && ! diff -r "$t/out" "$base/src" > /dev/null 2>&1; then
                fail "$line (the export differs from what was imported: WRONG BYTES)"
            elif [[ $kind == wrong-passphrase-* ]] && ((rc != 3)); then fail "$line (a wrong passphrase is exit 3)"
            elif [[ $kind == key-* ]] && ((rc != 0)); then fail "$line (one hostile key file among good ones must not lock the repository)"
            else pass "$line"; rm -rf "$t"; fi
        done
    done
    echo "repo: done ($(elapsed "$start") s)"
fi

echo
echo "== summary ($(elapsed "$total_start") s)"
echo "$passed passed, $failed failed"
if ((${#failures[@]})); then
    echo "FAILED:"; printf '  %s\n' "${failures[@]}" | head -60
    exit 1
fi
