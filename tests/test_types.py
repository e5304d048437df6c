"""Types everywhere: the package type-checks (mypy), so a wrong call fails here, not at a user."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_package_type_checks() -> None:
    p = subprocess.run([sys.executable, "-m", "mypy", "src/regionctl", "--ignore-missing-imports",
                        "--cache-dir", str(ROOT / ".mypy_cache")], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-3000:]
