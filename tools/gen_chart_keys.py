#!/usr/bin/env python3
"""Write the key paths of openstack-helm's charts (their values.yaml) as regionctl's chart data.

    tools/gen_chart_keys.py OPENSTACK_HELM_CHECKOUT [-o src/regionctl/openstack/charts/keys.json]

regionctl checks a values file's top-level keys and ``conf:`` keys against the chart's own, and
the tests check that every key path the helm renderer sets exists in the chart. Paths stop at
lists and at the INI ``conf.<file>`` trees (their sections are the operator's). The checkout may
be a work tree or a bare git directory (read at HEAD).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

CHARTS = ("keystone", "horizon", "nova", "placement", "neutron", "glance", "cinder", "heat")
#: conf keys the charts render as INI files: their sections are free-form
INI = {"keystone": ["keystone"], "horizon": [], "nova": ["nova"], "placement": ["placement"],
       "neutron": ["neutron", "dhcp_agent", "l3_agent", "metadata_agent", "plugins"],
       "glance": ["glance"], "cinder": ["cinder", "backends"], "heat": ["heat"]}


def _read(repo: Path, rel: str) -> tuple[str, str]:
    if (repo / rel).is_file():
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
        return (repo / rel).read_text(), head.strip()
    text = subprocess.run(["git", f"--git-dir={repo}", "show", f"HEAD:{rel}"], capture_output=True, text=True,
                          check=True).stdout
    head = subprocess.run(["git", f"--git-dir={repo}", "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    return text, head.strip()


def _paths(node: Any, prefix: tuple[str, ...], ini: set[str], out: set[str]) -> None:
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        path = prefix + (str(key),)
        out.add(".".join(path))
        if path[:1] == ("conf",) and len(path) == 2 and path[1] in ini:
            continue
        _paths(value, path, ini, out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkout")
    ap.add_argument("-o", "--out", default=str(Path(__file__).resolve().parent.parent
                                                / "src/regionctl/openstack/charts/keys.json"))
    args = ap.parse_args(argv)
    repo = Path(args.checkout)
    charts: dict[str, Any] = {}
    commit = ""
    for chart in CHARTS:
        text, commit = _read(repo, f"{chart}/values.yaml")
        found: set[str] = set()
        _paths(yaml.safe_load(text), (), set(INI[chart]), found)
        charts[chart] = {"ini": INI[chart], "paths": sorted(found)}
    data = {"source": f"openstack-helm {commit}", "charts": charts}
    Path(args.out).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out}: {sum(len(c['paths']) for c in charts.values())} key paths of {len(charts)} charts",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
