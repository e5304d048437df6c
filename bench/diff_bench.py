"""Diff benchmark (issue 11): ``diff --rev HEAD~1`` on a synthetic 100-region site where one base
value changed (so every region's nova.conf and nova-compute.conf change), side by side with
``render`` of the same site.

Both run in-process, best of a few runs, with the YAML parse cache emptied before each run (as in
a fresh process). Prints the machine; compare the ratio, the machine is noisy. Target: diff < 3 s.
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import write_site  # noqa: E402

from regionctl.cli.main import main  # noqa: E402
from regionctl.diff.compare import compare  # noqa: E402
from regionctl.diff.gitrev import extract  # noqa: E402
from regionctl.diff.mask import Secrets  # noqa: E402
from regionctl.diff.rendered import fallback_origins, render_side, site_secrets  # noqa: E402
from regionctl.site.load import load  # noqa: E402
from regionctl.openstack import options  # noqa: E402
from regionctl.site import yamlio  # noqa: E402

REGIONS = 100
REPEAT = 5


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", *args],
                   cwd=root, check=True, capture_output=True)


def _cpu() -> float:
    """CPU seconds of this process and its children (git): steadier than wall time on a busy machine."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(args: list[str]) -> tuple[float, float, str]:
    """(wall s, cpu s, what it printed)."""
    yamlio._PARSED.clear()
    out = io.StringIO()
    start, cpu = time.perf_counter(), _cpu()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(args)
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise RuntimeError(f"{args[0]} failed with {exc.code}") from None
    return time.perf_counter() - start, _cpu() - cpu, out.getvalue()


def phases(site: Path, tmp: Path) -> list[tuple[str, float]]:
    """Where one diff's CPU goes: the site's own checks and render (twice) against diff's own work."""
    yamlio._PARSED.clear()
    out: list[tuple[str, float]] = []
    c = _cpu()
    loaded = load(site)
    out.append(("load the work tree", _cpu() - c))
    c = _cpu()
    assert loaded.site is not None
    new = render_side(loaded, list(loaded.site.regions), "plain", "the site")
    out.append(("validate + render it", _cpu() - c))
    c = _cpu()
    where, shown_as, _ = extract(site, "HEAD~1", tmp)
    old_site = load(where, shown_as=shown_as)
    out.append(("read HEAD~1 from git objects + load it", _cpu() - c))
    assert old_site.site is not None
    c = _cpu()
    old = render_side(old_site, list(old_site.site.regions), "plain", "HEAD~1")
    out.append(("validate + render HEAD~1", _cpu() - c))
    c = _cpu()
    secrets = site_secrets(old_site, site_secrets(loaded, Secrets()))
    compare(old, new, secrets, fallback_origins(loaded))
    out.append(("compare (the files that differ parsed), mask", _cpu() - c))
    return out


def main_bench() -> None:
    options.load()  # read once per process, as in the render benchmark
    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")
    with tempfile.TemporaryDirectory() as tmp:
        site = write_site(Path(tmp) / "site", REGIONS)
        _git(site, "init", "-q")
        _git(site, "add", "-A")
        _git(site, "commit", "-qm", "synthetic site")
        nova = site / "values" / "nova.yaml"
        nova.write_text(nova.read_text().replace("ram_allocation_ratio: 1.0", "ram_allocation_ratio: 1.5"))
        _git(site, "commit", "-qam", "one base value")
        runs: dict[str, list[tuple[float, float]]] = {"diff --rev HEAD~1": [], "render": []}
        report = ""
        for k in range(REPEAT):  # interleaved, so both see the same machine load
            wall, cpu, report = timed(["diff", "-s", str(site), "--rev", "HEAD~1", "--stat"])
            runs["diff --rev HEAD~1"].append((wall, cpu))
            wall, cpu, _ = timed(["render", "-s", str(site), "-o", str(Path(tmp) / f"out{k}")])
            runs["render"].append((wall, cpu))
        summary = report.strip().splitlines()[-1]
        parts = phases(site, Path(tmp) / "phases")
    print(f"site: {REGIONS} regions, values/nova.yaml ram_allocation_ratio 1.0 -> 1.5; diff says: {summary}")
    print(f"{'command':<20} {'best wall s':>12} {'median wall s':>14} {'best cpu s':>11}")
    for name, rs in runs.items():
        walls, cpus = [w for w, _ in rs], [c for _, c in rs]
        print(f"{name:<20} {min(walls):>12.3f} {statistics.median(walls):>14.3f} {min(cpus):>11.3f}")
    d, r = runs["diff --rev HEAD~1"], runs["render"]
    print(f"diff / render: x{min(w for w, _ in d) / min(w for w, _ in r):.2f} wall, "
          f"x{min(c for _, c in d) / min(c for _, c in r):.2f} cpu (best of {REPEAT}); target: diff under 3 s")
    print("one diff's CPU by phase:")
    for name, cpu in parts:
        print(f"  {name:<52} {cpu:>7.3f} s")


if __name__ == "__main__":
    main_bench()
