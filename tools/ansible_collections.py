#!/usr/bin/env python3
"""Fetch the Ansible collections kolla-ansible's templates use, once, and print where they are.

    tools/ansible_collections.py        # prints the ANSIBLE_COLLECTIONS_PATH on its last line

kolla-ansible's ``install-deps`` takes them from Galaxy (its requirements-core.yml: ansible.utils
<7), which is not always reachable; the same collections ship in the community ``ansible``
package on PyPI. ansible 12.3.0 (for ansible-core 2.19, the services venv's) carries ansible.utils
6.0.0. Only the listed collections are unpacked, into ~/.cache/regionctl/ (XDG_CACHE_HOME), so
tests/test_kolla_genconfig.py finds them inside the loopback-only namespace (make test runs this
first).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

BUNDLE = "12.3.0"
COLLECTIONS = ("ansible/utils",)
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "regionctl"


def collections_path() -> Path:
    dest = CACHE / f"ansible-collections-{BUNDLE}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"ansible-collections-{BUNDLE}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if all((dest / "ansible_collections" / c / "MANIFEST.json").is_file() for c in COLLECTIONS):
            return dest
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            p = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                                "--disable-pip-version-check", "-q", f"ansible=={BUNDLE}", "-d", tmp],
                               capture_output=True, text=True)
            wheels = list(Path(tmp).glob("ansible-*.whl"))
            if p.returncode != 0 or not wheels:
                last = (p.stderr or p.stdout).strip().splitlines()[-1:]
                raise SystemExit(f"ansible_collections: ansible {BUNDLE} could not be downloaded from PyPI: {last}")
            unpacked = Path(tmp) / "unpacked"
            with zipfile.ZipFile(wheels[0]) as z:
                for name in z.namelist():
                    if any(name.startswith(f"ansible_collections/{c}/") for c in COLLECTIONS) and not name.endswith("/"):
                        target = unpacked / name
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(z.read(name))
            if dest.exists():
                shutil.rmtree(dest)
            unpacked.rename(dest)
    return dest


if __name__ == "__main__":
    print(collections_path())
