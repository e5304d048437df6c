#!/usr/bin/env python3
"""Write the variables kolla-ansible defines for all hosts (its group_vars/all) as regionctl's data.

    tools/gen_kolla_vars.py [KOLLA_SHARE] [-o src/regionctl/openstack/kolla/variables.json]

KOLLA_SHARE is the package's share/kolla-ansible directory (default: the services venv's,
tools/services-env.sh). ``validate`` checks a site's ``kolla:`` keys against these names, and
says kolla's default where a region leaves one unset; tests/test_kolla.py checks the file
against the same package.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("REGIONCTL_SERVICES_VENV", Path.home() / ".cache/regionctl/services-venv"))


def read(share: Path) -> dict[str, object]:
    names: dict[str, object] = {}
    for f in sorted((share / "ansible/group_vars/all").glob("*.yml")):
        for k, v in (yaml.safe_load(f.read_text()) or {}).items():
            # defaults kept only where they are plain values (a Jinja expression depends on others)
            names[k] = v if isinstance(v, (str, int, bool)) and "{{" not in str(v) else None
    return names


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("share", nargs="?", default=str(VENV / "share/kolla-ansible"))
    ap.add_argument("-o", "--out", default=str(ROOT / "src/regionctl/openstack/kolla/variables.json"))
    args = ap.parse_args()
    share = Path(args.share)
    version = "unknown"
    meta = sorted(share.parent.parent.glob("lib/python3*/site-packages/kolla_ansible-*.dist-info"))
    if meta:
        version = re.sub(r"^kolla_ansible-|\.dist-info$", "", meta[-1].name)
    found = read(share)
    if not found:
        print(f"{share}: no ansible/group_vars/all/*.yml: pass kolla-ansible's share/kolla-ansible", file=sys.stderr)
        return 1
    data = {"source": f"kolla-ansible {version}", "variables": dict(sorted(found.items()))}
    Path(args.out).write_text(json.dumps(data, indent=0, sort_keys=False) + "\n")
    print(f"wrote {args.out}: {len(found)} variables of kolla-ansible {version}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
