#!/usr/bin/env bash
# The catalog demo: a real Keystone on 127.0.0.1, a site's catalog planned, applied, shown, and
# planned again to show there is nothing left to do.
#
#   tools/demo-catalog.sh [SITE]        (default: examples/admin-region)
#
# As root it re-runs itself in a loopback-only network namespace (unshare -n), so the example's
# addresses (10.x, 192.168.x) are unreachable by construction; regionctl talks only to the URL it
# authenticated with (127.0.0.1) anyway. The Keystone's data lives in a temp dir, removed at exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
site="${1:-$root/examples/admin-region}"
regionctl="${REGIONCTL:-$root/.venv/bin/regionctl}"
[ -x "$regionctl" ] || regionctl="$(command -v regionctl || true)"
if [ -z "$regionctl" ]; then
    echo "demo-catalog: regionctl not found: run 'make venv' first (or set REGIONCTL)" >&2
    exit 1
fi

if [ "$(id -u)" = 0 ] && [ -z "${DEMO_CATALOG_NETNS:-}" ] && command -v unshare >/dev/null; then
    export DEMO_CATALOG_NETNS=1
    exec unshare -n -- sh -c 'ip link set lo up && exec "$0" "$@"' "${BASH_SOURCE[0]}" "$site"
fi
if [ -n "${DEMO_CATALOG_NETNS:-}" ]; then
    echo "== in a loopback-only network namespace: nothing but 127.0.0.1 is reachable"
else
    echo "== not root: no network namespace; regionctl still talks only to 127.0.0.1"
fi

data="$(mktemp -d "${TMPDIR:-/tmp}/regionctl-demo.XXXXXX")"
ks_pid=""
cleanup() {
    if [ -n "$ks_pid" ] && kill -0 "$ks_pid" 2>/dev/null; then
        # SIGTERM: dev-keystone treats it as Ctrl-C (a background job ignores SIGINT here)
        kill -TERM "$ks_pid" 2>/dev/null || true
        wait "$ks_pid" 2>/dev/null || true
    fi
    rm -rf "$data"
}
trap cleanup EXIT INT TERM

step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "starting a real Keystone for the site's identity region (regionctl dev-keystone)"
"$regionctl" dev-keystone -s "$site" --port 0 --data "$data/keystone" > "$data/keystone.out" 2>&1 &
ks_pid=$!
for _ in $(seq 1 600); do
    [ -s "$data/keystone/openrc" ] && grep -q '^Use it' "$data/keystone.out" 2>/dev/null && break
    if ! kill -0 "$ks_pid" 2>/dev/null; then
        cat "$data/keystone.out" >&2
        echo "demo-catalog: dev-keystone did not start" >&2
        exit 1
    fi
    sleep 0.1
done
cat "$data/keystone.out"
# shellcheck disable=SC1091
. "$data/keystone/openrc"
export OS_CLIENT_CONFIG_FILE=/dev/null  # only the dev Keystone, never a clouds.yaml of this machine

step "what apply would change"
show "$regionctl" catalog plan -s "$site"

step "apply it"
show "$regionctl" catalog apply -s "$site" --yes

step "the live catalog, regions x service types (drift against the site would be marked)"
show "$regionctl" catalog show -s "$site"

step "plan again: exit status 0 means nothing left to do"
set +e
show "$regionctl" catalog plan -s "$site" --detailed-exitcode
rc=$?
set -e
echo "exit status: $rc"

step "stopping Keystone"
exit "$rc"
