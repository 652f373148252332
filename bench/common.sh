# Sourced by every bench script: run from the package root, build nexusfs in release mode, and
# give `$nexusfs` (the binary) and `now` (wall-clock seconds, fractional).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release --product nexusfs >/dev/null
nexusfs=$(swift build -c release --show-bin-path)/nexusfs
now() { python3 -c 'import time; print(time.time())'; }
