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
