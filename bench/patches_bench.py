"""Patch-set benchmark (issue 12): `patches check` and `render --format helm` on a synthetic site.

50 regions with every service; three base nova patches made with diff(1) from the services
environment's nova, and five regions overriding one of them. Measures, in one run (compare
ratios; the machine is noisy):

* `patches check`: a set several regions share checked once (what regionctl does) against each
  region's set checked on its own (GNU patch runs, wall seconds);
* `render --format helm` of the same site with and without the patches (the ConfigMaps and
  mounts they add).

Needs the services environment (make services-env); prints the machine.
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import write_site  # noqa: E402

from regionctl.cli.main import main  # noqa: E402
from regionctl.patches import check, environment  # noqa: E402
from regionctl.patches.validate import load_patches  # noqa: E402
from regionctl.site.load import load  # noqa: E402

REGIONS = 50
OVERRIDDEN = 5
REPEAT = 3

EDITS = [  # (file, old line, new line): small real changes to nova 34's sources
    ("nova/utils.py", "    return val.lower() == 'none'\n", "    return val.strip().lower() == 'none'\n"),
    ("nova/utils.py", "    no greater than the length provided.\n", "    no greater than the length provided (hot-fixed).\n"),
    ("nova/version.py", "NOVA_PACKAGE = None", 'NOVA_PACKAGE = "hotfix1"'),
]


def _diff(tmp: Path, site_packages: Path, rel: str, old: str, new: str, base: str | None = None) -> str:
    text = base if base is not None else (site_packages / rel).read_text()
    a, b = tmp / "a.py", tmp / "b.py"
    a.write_text(text)
    b.write_text(text.replace(old, new))
    r = subprocess.run(["diff", "-u", "--label", f"a/{rel}", "--label", f"b/{rel}", str(a), str(b)],
                       capture_output=True, text=True)
    assert r.returncode == 1, f"{rel}: {old!r} not found"
    return r.stdout


def _timed(fn) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _render(site: Path, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            main(["render", "-s", str(site), "-o", str(out), "--format", "helm"])
    except SystemExit as exc:
        if exc.code:
            raise RuntimeError(f"render failed with {exc.code}") from None


def main_bench() -> None:
    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
          f"{subprocess.run(['patch', '--version'], capture_output=True, text=True).stdout.splitlines()[0]}")
    venv = environment.services_venv()
    env = environment.at(environment.site_packages_of(venv), str(venv))
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        plain = write_site(tmp / "plain", REGIONS)
        site = write_site(tmp / "site", REGIONS)
        pdir = site / "patches/nova"
        pdir.mkdir(parents=True)
        utils = (env.site_packages / "nova/utils.py").read_text()
        fixed_once = utils.replace(EDITS[0][1], EDITS[0][2])
        (pdir / "0001-none-string.patch").write_text(_diff(tmp, env.site_packages, *EDITS[0]))
        (pdir / "0002-truncate-doc.patch").write_text(_diff(tmp, env.site_packages, *EDITS[1], base=fixed_once))
        (pdir / "0003-package.patch").write_text(_diff(tmp, env.site_packages, *EDITS[2]))
        for i in range(1, 1 + OVERRIDDEN):
            rdir = site / f"regions/R{i:03d}/patches/nova"
            rdir.mkdir(parents=True)
            (rdir / "0003-package.patch").write_text(
                _diff(tmp, env.site_packages, EDITS[2][0], EDITS[2][1], f'NOVA_PACKAGE = "hotfix-R{i:03d}"'))
        loaded = load(site)
        found = load_patches(loaded)
        sets = {key: [p for _, p in found.region_set(*key)] for key in found.sets}
        n_patches = sum(len(v) for v in sets.values())
        shared = _timed(lambda: check.check_sets(sets, env))
        each = _timed(lambda: [check.check_set(r, s, ps, env) for (r, s), ps in sets.items()])
        distinct = len({tuple(p.file for p in ps) for ps in sets.values()})
        print(f"patches check, {REGIONS} regions x 3 nova patches ({n_patches} region-patches, {distinct} distinct sets):")
        print(f"  shared sets checked once: {shared:7.3f} s")
        print(f"  every region on its own:  {each:7.3f} s   (x{each / shared:.1f})")
        with_p = _timed(lambda: _render(site, tmp / "out-p"))
        without = _timed(lambda: _render(plain, tmp / "out"))
        files_p = sum(1 for p in (tmp / "out-p").rglob("*") if p.is_file())
        files = sum(1 for p in (tmp / "out").rglob("*") if p.is_file())
        print(f"render --format helm, {REGIONS} regions: without patches {without:.3f} s ({files} files), "
              f"with {with_p:.3f} s ({files_p} files): x{with_p / without:.2f}")


if __name__ == "__main__":
    main_bench()
