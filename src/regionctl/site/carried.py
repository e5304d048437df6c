"""What a region carries for Genestack as is: ``regions/<r>/genestack/``, copied into its /etc/genestack.

Seed 000's region directory is the whole ``/etc/genestack``: ``inventory/`` (bootstrap and
kubespray), ``kustomize/<service>/overlay/`` (the post-renderer of every ``install-<svc>.sh``),
``helm-chart-versions.yaml`` and anything else the operator keeps there. ``render --format helm``
copies every file under ``regions/<r>/genestack/`` byte for byte beside the ``helm-configs/`` it
renders, so ``regionctl link`` hides nothing. The values loader never reads this directory (it
reads only ``regions/<r>/*.yaml``), so these files are not values layers.

* A symlink is refused, never followed or copied: it can point outside the site (a copy would
  carry a file the site does not hold, or a secret from the machine that renders), and Genestack's
  ``bootstrap.sh`` makes the links it wants itself (``kustomize/kustomize.sh``,
  ``kustomize/<service>/base`` into /opt/genestack).
* A file is written mode 0600 when it may hold a secret: its source is not world-readable, a part
  of its path reads as secret (``credentials/``, ``*.key``, ``secrets.yaml``), or it is YAML with a
  key that reads as secret holding a value, or a Kubernetes ``kind: Secret``.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from regionctl.site import layout
from regionctl.site.load import LoadedSite
from regionctl.site.problems import Problem, error
from regionctl.site.secrets import SECRET_MAPS, looks_secret_key, secret_path

GENESTACK_DIR = "genestack"


@dataclass(frozen=True)
class CarriedFile:
    rel: str  # under regions/<r>/genestack/ (and so under /etc/genestack)
    data: bytes
    secret: bool
    executable: bool


@dataclass
class Carried:
    files: list[CarriedFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def genestack_rel(region: str) -> str:
    return f"{layout.REGIONS_DIR}/{region}/{GENESTACK_DIR}"


def carried(loaded: LoadedSite, region: str) -> Carried:
    """Every file of the region's genestack/ directory, read once per load."""
    key = f"carried:{region}"
    found = loaded.memo.get(key)
    if not isinstance(found, Carried):
        found = loaded.memo[key] = _read(loaded, region)
    return found


def _read(loaded: LoadedSite, region: str) -> Carried:
    out = Carried()
    base = genestack_rel(region)
    if region not in loaded.region_dirs:
        return out
    root = loaded.paths.path(base)
    if root.is_symlink():
        out.problems.append(_link_problem(loaded, base))
        return out
    if not root.is_dir():
        return out
    try:
        _walk(loaded, root, base, "", out)
    except OSError as exc:
        where = loaded.shown(f"{base}/{Path(exc.filename).relative_to(root)}" if exc.filename else base)
        out.problems.append(error(where, 0, f"cannot be read ({str(exc.strerror).lower()}): fix its permissions, or remove it"))
    out.files.sort(key=lambda f: f.rel)
    return out


def _walk(loaded: LoadedSite, directory: Path, base: str, prefix: str, out: Carried) -> None:
    for entry in sorted(directory.iterdir()):
        rel = prefix + entry.name
        shown = f"{base}/{rel}"
        st = entry.lstat()
        if stat.S_ISLNK(st.st_mode):
            out.problems.append(_link_problem(loaded, shown))
        elif stat.S_ISDIR(st.st_mode):
            _walk(loaded, entry, base, rel + "/", out)
        elif not stat.S_ISREG(st.st_mode):
            out.problems.append(error(loaded.shown(shown), 0, "is not a regular file: regionctl copies only files "
                                                             "into /etc/genestack; remove it"))
        else:
            data = entry.read_bytes()
            secret = not st.st_mode & stat.S_IROTH or _secret_name(rel) or _secret_content(data)
            out.files.append(CarriedFile(rel, data, secret, bool(st.st_mode & 0o111)))


def _link_problem(loaded: LoadedSite, shown: str) -> Problem:
    return error(loaded.shown(shown), 0,
                 "is a symlink: regionctl copies only files the site holds into /etc/genestack (a link can point "
                 "outside the site; Genestack's bootstrap.sh makes kustomize.sh and kustomize/<service>/base links "
                 "itself): replace it with the file it points at, or remove it")


def _secret_name(rel: str) -> bool:
    for part in rel.split("/"):
        stem = part.split(".", 1)[0]
        if looks_secret_key(part) or looks_secret_key(stem) or stem.lower() in SECRET_MAPS or "secret" in part.lower():
            return True
    return False


def _secret_content(data: bytes) -> bool:
    try:
        docs = list(yaml.safe_load_all(data.decode("utf-8")))
    except (UnicodeDecodeError, yaml.YAMLError):
        return False
    return any(_secret_tree(d, ()) for d in docs)


def _secret_tree(node: Any, path: tuple[str, ...]) -> bool:
    if isinstance(node, dict):
        if str(node.get("kind", "")) == "Secret":
            return True
        return any(_secret_tree(v, path + (str(k),)) for k, v in node.items())
    if isinstance(node, list):
        return any(_secret_tree(v, path) for v in node)
    return secret_path(path, node)
