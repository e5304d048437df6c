"""Report benchmark (issue 17): `regionctl report` on synthetic sites of 10, 50 and 100 regions.

The report validates the site (as render does) and then gathers and draws the page; this prints
both, in one run, so the cost of the page itself is the ratio report / validate, and the page's
size per region. Compare ratios within one run: the machine is noisy.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import write_site  # noqa: E402

from regionctl.check.validate import validate  # noqa: E402
from regionctl.openstack import options  # noqa: E402
from regionctl.report.gather import gather  # noqa: E402
from regionctl.report.page import build_page  # noqa: E402
from regionctl.site.load import load  # noqa: E402

SIZES = (10, 50, 100)
REPEAT = 3


def best(fn: object, repeat: int = REPEAT) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times), result


def main_bench() -> None:
    options.load()
    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")
    print(f"{'regions':>8} {'validate s':>11} {'gather s':>9} {'page s':>7} {'page/validate':>14} "
          f"{'KiB':>6} {'KiB/region':>11}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in SIZES:
            site = write_site(Path(tmp) / f"site{n}", n)
            loaded = load(site)
            t_validate, report = best(lambda: validate(loaded))
            t_gather, data = best(lambda: gather(loaded, report))  # type: ignore[arg-type]
            t_page, html = best(lambda: build_page(data))  # type: ignore[arg-type]
            kib = len(str(html).encode()) / 1024
            print(f"{n:>8} {t_validate:>11.3f} {t_gather:>9.3f} {t_page:>7.3f} "
                  f"{(t_gather + t_page) / t_validate:>14.2f} {kib:>6.0f} {kib / n:>11.1f}")


if __name__ == "__main__":
    main_bench()
