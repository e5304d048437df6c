#!/usr/bin/env python3
"""Write the options the services removed in recent releases: src/regionctl/openstack/optdata/removed.json.

    tools/gen_removed.py [--cache DIR] [-o FILE]

For each service and each older release in SNAPSHOTS, the package of that release is downloaded
from the package index (``pip download --no-deps``: no install, nothing run) and the names of the
options it defines are read from its source (every ``cfg.<Type>Opt('name', ...)``). A name that a
service defined then and defines nowhere in the targeted release's option data (any section) is
recorded with the last snapshot that had it, so ``validate`` can say "removed" instead of guessing
a near name. Options that libraries (oslo.*) removed are not covered.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPTDATA = ROOT / "src/regionctl/openstack/optdata"

#: distribution -> (regionctl service, top-level package, its major version in 2025.1)
DISTS = {
    "nova": ("nova", "nova", 31),
    "openstack-placement": ("placement", "placement", 13),
    "glance": ("glance", "glance", 30),
    "neutron": ("neutron", "neutron", 26),
    "cinder": ("cinder", "cinder", 26),
    "keystone": ("keystone", "keystone", 27),
}
#: the older releases read: a few years back, so seed 001's 2019 files are understood too
SNAPSHOTS = ("2019.1", "2021.1", "2023.1", "2025.1", "2026.1")


def major(base_2025_1: int, release: str) -> int:
    year, half = (int(p) for p in release.split("."))
    return base_2025_1 + (year - 2025) * 2 + (half - 1)


def fetch(dist: str, version: str, cache: Path) -> Path:
    """The sdist or wheel of ``dist==version`` in ``cache`` (downloaded once)."""
    cache.mkdir(parents=True, exist_ok=True)
    norm = dist.replace("-", "_").lower()
    for p in cache.iterdir():
        name = p.name.lower().replace("-", "_")
        if name.startswith(f"{norm}_{version}") and name.endswith((".tar.gz", ".whl", ".zip")):
            return p
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(cache),
                    f"{dist}=={version}"], check=True)
    return fetch(dist, version, cache)


def sources(archive: Path, package: str) -> list[tuple[str, bytes]]:
    """(path, bytes) of the package's .py files, tests left out."""
    out = []
    if archive.name.endswith(".whl") or archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            for n in z.namelist():
                if n.endswith(".py") and n.startswith(f"{package}/") and "/tests/" not in n:
                    out.append((n, z.read(n)))
    else:
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                parts = m.name.split("/", 1)
                rel = parts[1] if len(parts) == 2 else ""
                if m.isfile() and rel.endswith(".py") and rel.startswith(f"{package}/") and "/tests/" not in rel:
                    f = t.extractfile(m)
                    if f is not None:
                        out.append((rel, f.read()))
    return out


def option_names(code: bytes) -> set[str]:
    """Names passed to ``cfg.XOpt(...)`` / ``XOpt(...)`` (``DeprecatedOpt`` aliases are not options)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:  # python 2 era files
        return set()
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        fname = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
        if not fname.endswith("Opt") or fname in ("DeprecatedOpt",) or fname[:1].islower():
            continue
        arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "name"), None)
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            names.add(arg.value)
    return names


def current_names(data: dict, service: str) -> set[str]:
    svc = data["services"].get(service, {})
    names = {o for opts in svc.get("sections", {}).values() for o in opts}
    names |= {o for opts in svc.get("templates", {}).values() for o in opts}
    names |= {o for opts in data.get("groups", {}).values() for o in opts}
    return {n.replace("-", "_") for n in names} | names


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=str(Path.home() / ".cache/regionctl/old-releases"))
    ap.add_argument("--release", default="2026.2", help="the targeted release whose option data is compared")
    ap.add_argument("-o", "--out", default=str(OPTDATA / "removed.json"))
    args = ap.parse_args(argv)
    data = json.loads((OPTDATA / f"{args.release}.json").read_text())
    removed: dict[str, dict[str, str]] = {}
    read: dict[str, dict[str, str]] = {}
    for dist, (service, package, base) in DISTS.items():
        now = current_names(data, service)
        found: dict[str, str] = {}
        for release in SNAPSHOTS:
            version = f"{major(base, release)}.0.0"
            archive = fetch(dist, version, Path(args.cache))
            read.setdefault(service, {})[release] = f"{dist} {version}"
            for _, code in sources(archive, package):
                for name in option_names(code):
                    if name not in now and name.replace("-", "_") not in now:
                        found[name] = release  # snapshots are oldest first: the last one wins
        removed[service] = dict(sorted(found.items()))
        print(f"gen_removed: {service}: {len(found)} removed option names", file=sys.stderr)
    out = {"release": args.release, "read": read, "removed": removed}
    Path(args.out).write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"gen_removed: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
