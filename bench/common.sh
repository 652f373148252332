# Sourced by every bench script: run from the package root, build nexusfs in release mode, and
# give `$nexusfs` (the binary) and `now` (wall-clock seconds, fractional). With NEXUSFS_BIN set,
# nothing is built and that binary is used.
set -euo pipefail
[[ -z ${NEXUSFS_BIN:-} ]] || NEXUSFS_BIN=$(realpath "$NEXUSFS_BIN")
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="/opt/swift/usr/bin:$PATH"
if [[ -n ${NEXUSFS_BIN:-} ]]; then
    nexusfs=$NEXUSFS_BIN
    [[ -x $nexusfs ]] || { echo "NEXUSFS_BIN=$nexusfs is not an executable" >&2; exit 1; }
else
    swift build -c release --product nexusfs >/dev/null
    nexusfs=$(swift build -c release --show-bin-path)/nexusfs
fi
now() { python3 -c 'import time; print(time.time())'; }

# The drills (bench/drills/*.sh) end alike, also when they fail: each defines `cleanup` from these
# and installs it with `drill_traps`. Background jobs are killed, mounts undone, and the work folder
# ($work) removed, or kept and named when the drill failed or asked to keep it.
drill_traps() {
    trap cleanup EXIT
    trap 'echo "interrupted"; exit 130' INT TERM HUP
}
drill_kill_jobs() {
    local pid
    for pid in $(jobs -p); do kill -9 "$pid" 2>/dev/null || true; done
}
# MOUNTPOINT [SECONDS]: `nexusfs umount` (which waits for the last saves), else a lazy unmount.
drill_unmount() {
    local m=$1
    if mountpoint -q "$m" 2>/dev/null || grep -q " $m fuse" /proc/self/mounts; then
        timeout "${2:-60}" "$nexusfs" umount "$m" >/dev/null 2>&1 || fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    fi
}
# RC KEEP: keeps and names $work if RC is not 0 or KEEP is 1; removes it otherwise.
drill_end_work() {
    if (($2)) || (($1 != 0)); then echo "work folder kept: $work"; else rm -rf "$work"; fi
}
