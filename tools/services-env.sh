#!/usr/bin/env bash
# Create (or reuse) the throw-away "services" virtualenv: the real OpenStack service
# packages of one release (tools/services-requirements.txt), so that
# tools/gen_optdata.py can list their real option definitions.
#
#   tools/services-env.sh            # prints the venv path on its last line
#   REGIONCTL_SERVICES_VENV=/some/dir REGIONCTL_SERVICES_PYTHON=python3.12 tools/services-env.sh
#
# The venv is reused while its stamp (hash of the requirements file + the python
# version) matches; otherwise it is rebuilt from scratch.  Progress goes to stderr.
# Nothing here touches the project's own .venv.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/services-requirements.txt"
venv="${REGIONCTL_SERVICES_VENV:-$HOME/.cache/regionctl/services-venv}"
python="${REGIONCTL_SERVICES_PYTHON:-python3}"

log() { printf 'services-env: %s\n' "$*" >&2; }

[[ -f "$req" ]] || { log "missing $req"; exit 1; }
command -v "$python" >/dev/null || { log "no $python on PATH"; exit 1; }
pyver="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { log "$python is $pyver; the 2026.2 services need Python >= 3.11"; exit 1; }

if command -v sha256sum >/dev/null; then
    reqhash="$(sha256sum "$req" | cut -d' ' -f1)"
else
    reqhash="$("$python" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$req")"
fi
stamp_want="requirements=$reqhash python=$pyver"
stamp="$venv/.regionctl-services-stamp"

mkdir -p "$(dirname "$venv")"
# one builder at a time (other checkouts may share the same venv)
if command -v flock >/dev/null; then
    exec 9>"$venv.lock"
    flock 9
fi

if [[ -f "$stamp" && "$(cat "$stamp")" == "$stamp_want" && -x "$venv/bin/python" ]] \
        && "$venv/bin/python" -c 'import oslo_config' 2>/dev/null; then
    log "reusing $venv"
    printf '%s\n' "$venv"
    exit 0
fi

if [[ -e "$venv" ]]; then
    # only ever remove something that is a venv (or an empty dir) at that path
    if [[ -f "$venv/pyvenv.cfg" ]] || [[ -d "$venv" && -z "$(ls -A "$venv")" ]]; then
        log "rebuilding $venv (requirements or python changed, or an earlier build did not finish)"
        rm -rf "$venv"
    else
        log "$venv exists and is not a virtualenv; refusing to replace it"
        exit 1
    fi
fi

start=$SECONDS
log "creating $venv with $python ($pyver)"
"$python" -m venv "$venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
"$venv/bin/python" -m pip install --quiet --upgrade pip >&2
log "installing $(grep -cE '^[A-Za-z0-9]' "$req") pinned packages from $(basename "$req")"
"$venv/bin/python" -m pip install --quiet -r "$req" >&2
"$venv/bin/python" -m pip check >&2
printf '%s\n' "$stamp_want" > "$stamp"
log "ready in $((SECONDS - start))s"
printf '%s\n' "$venv"
