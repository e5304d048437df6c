#!/usr/bin/env bash
# A PNG of a report page, drawn by Debian's headless Chromium: tools/report-screenshot.sh PAGE.html OUT.png [WxH]
# A private, throw-away profile; --no-sandbox only as root (Chromium refuses otherwise). Fails if
# the page wrote anything to the console (an error, or a fetch its Content-Security-Policy blocked).
set -euo pipefail
page=$1 out=$2 size=${3:-1280,1000}
chromium=${REGIONCTL_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$chromium" ] || { echo "report-screenshot: chromium is not installed: make sysdeps" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sandbox=()
[ "$(id -u)" = 0 ] && sandbox=(--no-sandbox)
"$chromium" --headless "${sandbox[@]}" --user-data-dir="$work/profile" --disable-gpu --no-first-run \
    --disable-extensions --disable-background-networking --hide-scrollbars --force-device-scale-factor=1 \
    --enable-logging=stderr --v=0 --window-size="$size" --screenshot="$work/shot.png" \
    "file://$(realpath "$page")" >/dev/null 2>"$work/log" || { tail -20 "$work/log" >&2; exit 1; }
if grep -E '^\[[^]]*:CONSOLE' "$work/log" >&2; then
    echo "report-screenshot: $page wrote to the console (above)" >&2
    exit 1
fi
mkdir -p "$(dirname "$out")"
mv "$work/shot.png" "$out"
echo "wrote $out" >&2
