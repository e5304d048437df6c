"""Bounds on what a site may hold, so no input can take unbounded time or memory.

Each bound is far above what a real site needs (the examples' largest file is a few KB) and can be
raised with an environment variable for a site that really is that big:

    REGIONCTL_MAX_FILE_BYTES   262144   bytes in one site file (YAML parsing costs seconds per 100 KB)
    REGIONCTL_MAX_YAML_NODES   50000    values in one file, aliases counted each time they are used
    REGIONCTL_MAX_YAML_DEPTH   64       levels of nesting in one file
    REGIONCTL_MAX_REGIONS      1000     regions in site.yaml (validate costs ~10 ms per region)
    REGIONCTL_MAX_SITE_FILES   10000    values files in a site
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from regionctl.errors import UserError


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 256 * 1024
    yaml_nodes: int = 50_000
    yaml_depth: int = 64
    regions: int = 1000
    site_files: int = 10_000


ENV = {
    "file_bytes": "REGIONCTL_MAX_FILE_BYTES",
    "yaml_nodes": "REGIONCTL_MAX_YAML_NODES",
    "yaml_depth": "REGIONCTL_MAX_YAML_DEPTH",
    "regions": "REGIONCTL_MAX_REGIONS",
    "site_files": "REGIONCTL_MAX_SITE_FILES",
}


def current() -> Limits:
    """The defaults, with any REGIONCTL_MAX_* variable applied (a bad one is a UserError)."""
    values: dict[str, int] = {}
    for f in fields(Limits):
        raw = os.environ.get(ENV[f.name])
        if raw is None or raw == "":
            continue
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n <= 0:
            raise UserError(f"{ENV[f.name]}={raw[:40]!r}: expected a positive whole number (see README: limits)")
        values[f.name] = n
    return Limits(**values)
