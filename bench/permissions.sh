#!/usr/bin/env bash
# Shared-folder benchmark (release build): what permission checks, ACL inheritance, DMS attributes and
# the audit log cost on a multi-user mount, against gocryptfs (Debian's; another encrypting FUSE
# filesystem, with -acl) over ext4-like /var/tmp in the same run. Every step runs as an unprivileged
# user on an allow_other mount, in a folder with a default ACL granting a second user. Prints times
# and ratios nexusfs/gocryptfs, and what nexusfs alone does (grant --recursive, audit size).
#   bench/permissions.sh [FILES]     (default 5000)
source "$(dirname "$0")/common.sh"
files=${1:-5000}
command -v gocryptfs >/dev/null || apt-get install -y -qq gocryptfs >/dev/null
command -v setfacl >/dev/null || apt-get install -y -qq acl >/dev/null
work=/var/tmp/nexusfs-bench-permissions-$$
mkdir -p "$work/nx" "$work/gc" "$work/gc-cipher"
chmod 755 "$work"
cleanup() {
    "$nexusfs" umount "$work/nx" 2>/dev/null || fusermount3 -u -z "$work/nx" 2>/dev/null || true
    fusermount3 -u -z "$work/gc" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
for user in nexus-bench-owner nexus-bench-reader; do
    id "$user" >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin "$user"
done
owner=$(id -u nexus-bench-owner); owner_gid=$(id -g nexus-bench-owner)
reader=$(id -u nexus-bench-reader); reader_gid=$(id -g nexus-bench-reader)
export NEXUSFS_PASSWORD=bench NEXUSFS_STATE_DIR=$work/state

"$nexusfs" init "$work/repo" >/dev/null
"$nexusfs" mount "$work/repo" "$work/nx" -o allow_other
echo bench > "$work/gc-pass"
gocryptfs -q -init -passfile "$work/gc-pass" "$work/gc-cipher" >/dev/null
gocryptfs -q -acl -allow_other -passfile "$work/gc-pass" "$work/gc-cipher" "$work/gc" 2>/dev/null

for mnt in "$work/nx" "$work/gc"; do
    mkdir "$mnt/shared"
    chown "$owner:$owner_gid" "$mnt/shared"
    chmod 0750 "$mnt/shared"
    setfacl -m "u:$reader:rx" -d -m "u:$reader:rx" "$mnt/shared"
done

cat > "$work/steps.py" <<'PY'
import json, os, sys, time
mnt, step, files = sys.argv[1], sys.argv[2], int(sys.argv[3])
folder = os.path.join(mnt, "shared")
start = time.perf_counter()
if step == "create":
    for i in range(files):
        with open(os.path.join(folder, f"doc{i:05}.txt"), "w") as f:
            f.write(f"document {i}\n")
elif step == "tag":
    for i in range(files):
        os.setxattr(os.path.join(folder, f"doc{i:05}.txt"), "user.xdg.tags", b"budget,2027")
elif step == "read":
    for name in os.listdir(folder):
        with open(os.path.join(folder, name), "rb") as f:
            f.read()
elif step == "save":
    for i in range(0, files, 5):
        path = os.path.join(folder, f"doc{i:05}.txt")
        temp = os.path.join(folder, f".doc{i:05}.txt.tmp")
        with open(temp, "w") as f:
            f.write(f"document {i}, edited\n")
        os.rename(temp, path)
print(time.perf_counter() - start)
PY

as() { local uid=$1 gid=$2; shift 2; setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"; }
declare -A seconds
for step in create tag read save; do
    case $step in read) uid=$reader gid=$reader_gid ;; *) uid=$owner gid=$owner_gid ;; esac
    for fs in nx gc; do
        seconds[$step.$fs]=$(as "$uid" "$gid" /usr/bin/python3 "$work/steps.py" "$work/$fs" "$step" "$files")
    done
done

start=$(now)
as "$owner" "$owner_gid" "$nexusfs" grant "$work/nx/shared" nexus-bench-reader edit --recursive
grant=$(python3 -c "import time; print(time.time() - $start)")
sleep 1.5
entries=$("$nexusfs" audit "$work/repo" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
start=$(now)
"$nexusfs" audit "$work/repo" --verify >/dev/null || { echo "audit --verify failed"; exit 1; }
verify=$(python3 -c "import time; print(time.time() - $start)")

python3 - "$files" "${seconds[create.nx]}" "${seconds[create.gc]}" "${seconds[tag.nx]}" "${seconds[tag.gc]}" \
    "${seconds[read.nx]}" "${seconds[read.gc]}" "${seconds[save.nx]}" "${seconds[save.gc]}" \
    "$grant" "$entries" "$verify" <<'PY'
import sys
files = int(sys.argv[1])
values = [float(v) for v in sys.argv[2:10]]
print(f"== {files} documents in a shared folder with a default ACL, as unprivileged users, allow_other mounts")
for (label, count), (nx, gc) in zip((("create (inherits the ACL)", files), ("set user.xdg.tags", files),
                                     ("list + read as the granted user", files), ("save by rename, every 5th", files // 5)),
                                    zip(values[0::2], values[1::2])):
    print(f"{label:34} nexusfs {nx:7.2f} s ({nx / count * 1e6:6.0f} us each)   "
          f"gocryptfs {gc:7.2f} s   time nexusfs/gocryptfs {nx / gc:5.2f}x (speed {gc / nx:5.2f}x)")
grant, entries, verify = float(sys.argv[10]), int(sys.argv[11]), float(sys.argv[12])
print(f"nexusfs grant --recursive over {files + 1} nodes: {grant:.2f} s")
print(f"audit log: {entries} entries; audit --verify: {verify:.2f} s")
PY
