#!/usr/bin/env bash
# Run a command where the only network is loopback: a new network namespace with `lo` up.
# The example sites' addresses (10.x, 192.168.x) are data: nothing may connect to them, and in
# here nothing can. Needs root (CI and the dev machines run as root); otherwise it says so and
# runs the command as it is.
set -euo pipefail
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null; then
    exec unshare --net -- bash -c 'ip link set lo up && exec "$@"' loopback-only "$@"
fi
echo "loopback-only: not root (or no unshare/ip): running without a network namespace" >&2
exec "$@"
