"""Render benchmark (issue 3): synthetic sites of 10, 50 and 100 regions with every service.

Measures the whole `regionctl render` path in-process: load, validate (site checks, wiring,
option checks against the real option data), render and write. Prints wall seconds, files per
second and time per region, with the machine. Compare ratios within one run: the machine is
noisy. Target: 100 regions < 2 s, and time per region flat (within 20 %) from 10 to 100.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import write_site  # noqa: E402

from regionctl.cli.main import main  # noqa: E402
from regionctl.openstack import options  # noqa: E402

SIZES = (10, 50, 100)
REPEAT = 3


def run_once(site: Path, out: Path) -> float:
    start = time.perf_counter()
    try:
        main(["render", "-s", str(site), "-o", str(out)])
    except SystemExit as exc:
        if exc.code:
            raise RuntimeError(f"render failed with {exc.code}") from None
    return time.perf_counter() - start


def main_bench() -> None:
    options.load()  # the option data is read once per process; don't charge it to the first size
    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")
    print(f"{'regions':>8} {'files':>6} {'best s':>8} {'median s':>9} {'files/s':>8} {'ms/region':>10}")
    per_region = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            site = write_site(Path(tmp) / f"site{n}", n)
            times = []
            for k in range(REPEAT):
                out = Path(tmp) / f"out{n}-{k}"
                times.append(run_once(site, out))
            files = sum(1 for p in out.rglob("*") if p.is_file())
            best = min(times)
            per_region[n] = best / n
            print(f"{n:>8} {files:>6} {best:>8.3f} {statistics.median(times):>9.3f} {files / best:>8.0f} "
                  f"{1000 * best / n:>10.2f}")
    flat = per_region[SIZES[-1]] / per_region[SIZES[0]]
    print(f"time per region, {SIZES[-1]} vs {SIZES[0]} regions: x{flat:.2f} (target within 1.20)")


if __name__ == "__main__":
    main_bench()
