"""Hot-fix patches against the real nova of the services environment (issue 12, item 6).

The patches are made here with the real ``diff -u`` from the installed nova/utils.py, checked
with ``regionctl patches check`` (GNU patch on a scratch copy), rendered, and applied by the
rendered start-up script with /bin/sh to a scratch copy of the installed nova package.
Needs REGIONCTL_SERVICES_VENV (``make test`` sets it); without it these tests skip.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import make_site

from regionctl.patches import environment

pytestmark = pytest.mark.services

BUG = "    return val.lower() == 'none'\n"
FIXED = "    return val.strip().lower() == 'none'\n"
OTHER = "    return val.strip().lower() in ('none', 'null')\n"


@pytest.fixture(scope="module")
def venv() -> Path:
    path = os.environ.get("REGIONCTL_SERVICES_VENV")
    if not path:
        pytest.skip("REGIONCTL_SERVICES_VENV is not set: run 'make test' (it builds the services environment)")
    assert (Path(path) / "bin/python").exists(), f"{path}: no bin/python: run 'make services-env'"
    return Path(path)


@pytest.fixture(scope="module")
def site_packages(venv: Path) -> Path:
    return environment.site_packages_of(venv)


@pytest.fixture(scope="module")
def nova_version(site_packages: Path) -> str:
    version = environment.at(site_packages, "test").version("nova")
    assert version is not None
    return version


@pytest.fixture(scope="module")
def utils_py(site_packages: Path) -> str:
    text = (site_packages / "nova/utils.py").read_text()
    assert text.count(BUG) == 1, "nova/utils.py is_none_string changed: pick another line for the test patch"
    return text


def make_patch(tmp: Path, rel: str, old: str, new: str, header: str = "") -> str:
    """A unified diff made by the real diff(1), as `diff -ruN` in a/ b/ trees writes it."""
    a, b = tmp / "a" / rel, tmp / "b" / rel
    for p, text in ((a, old), (b, new)):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    r = subprocess.run(["diff", "-u", "--label", f"a/{rel}", "--label", f"b/{rel}", str(a), str(b)],
                       capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    shutil.rmtree(tmp / "a")
    shutil.rmtree(tmp / "b")
    return header + r.stdout


def hunk_line(patch: str, n: int = 1) -> tuple[int, str]:
    found = [(i, ln) for i, ln in enumerate(patch.splitlines(), 1) if ln.startswith("@@ ")]
    i, ln = found[n - 1]
    return i, ln[: ln.index(" @@") + 3]


@pytest.fixture(scope="module")
def patches(tmp_path_factory: pytest.TempPathFactory, utils_py: str, nova_version: str) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("diffs")
    pin = f"Upstream: https://review.opendev.org/c/openstack/nova/+/900001\nVersions: nova=={nova_version}\n\n"
    fixed = utils_py.replace(BUG, FIXED)
    # The context changed: the patch was made for another nova, whose is_none_string returned None.
    stale_base = utils_py.replace("        return False\n\n    return val.lower()", "        return None\n\n    return val.lower()")
    return {
        "fix": make_patch(tmp, "nova/utils.py", utils_py, fixed, pin),
        "other": make_patch(tmp, "nova/utils.py", utils_py, utils_py.replace(BUG, OTHER)),
        "stale": make_patch(tmp, "nova/utils.py", stale_base, stale_base.replace(BUG, FIXED)),
        # made against a nova without the fix nova already has: the installed one is "fixed"
        "already": make_patch(tmp, "nova/utils.py", utils_py.replace("no greater than", "not greater than"), utils_py),
        "old-pin": make_patch(tmp, "nova/utils.py", utils_py, fixed, "Versions: nova==33.0.0\n"),
    }


def _check(cli, site: Path, site_packages: Path, *args: str):
    return cli("patches", "check", "-s", str(site), "--against", str(site_packages), "-f", "json", *args)


# -- regionctl patches check -----------------------------------------------------------------

def test_real_patch_applies_and_is_rendered(cli, tmp_path: Path, site_packages: Path, patches: dict[str, str],
                                            nova_version: str) -> None:
    site = make_site(tmp_path / "site", files={"patches/nova/0001-none-string.patch": patches["fix"]})
    r = cli("patches", "check", "-s", str(site), "-f", "json")  # the services environment, by the site's release
    assert r.code == 0, r.err
    got = [(x["region"], x["patch"], x["status"], x["checked_against"]) for x in json.loads(r.out)]
    assert got == [(reg, "0001-none-string.patch", "applies", f"nova {nova_version}") for reg in ("One", "Two")]
    out = tmp_path / "out"
    assert cli("render", "-s", str(site), "-o", str(out), "--format", "helm").code == 0
    cm = yaml.safe_load((out / "One/manifests/nova-patches.yaml").read_text())
    assert cm["data"]["0001-none-string.patch"] == patches["fix"]
    assert cli("render", "-s", str(site), "-o", str(tmp_path / "kolla"), "--format", "kolla").code == 0
    assert (tmp_path / "kolla/Two/config/nova/patches/0001-none-string.patch").read_text() == patches["fix"]


def test_stale_patch_fails_with_the_hunk_named(cli, tmp_path: Path, site_packages: Path,
                                              patches: dict[str, str], nova_version: str) -> None:
    site = make_site(tmp_path / "site", files={"regions/Two/patches/nova/0001-stale.patch": patches["stale"]})
    r = _check(cli, site, site_packages, "-r", "Two")
    assert r.code == 1
    line, header = hunk_line(patches["stale"])
    (rec,) = json.loads(r.out)
    assert (rec["status"], rec["line"], rec["detail"]) == ("fails", line, f"hunk #1 ({header}) of nova/utils.py does not apply")
    assert r.err.splitlines()[0] == (f"{site}/regions/Two/patches/nova/0001-stale.patch:{line}: error: region 'Two': "
                                     f"hunk #1 ({header}) of nova/utils.py does not apply (nova {nova_version})")


def test_already_applied_and_pin_mismatch(cli, tmp_path: Path, site_packages: Path, patches: dict[str, str],
                                          nova_version: str) -> None:
    site = make_site(tmp_path / "site", files={"patches/nova/0001-in-release.patch": patches["already"],
                                               "patches/nova/0002-pinned.patch": patches["old-pin"]})
    r = _check(cli, site, site_packages, "-r", "One")
    assert r.code == 1
    got = [(x["patch"], x["status"], x["detail"]) for x in json.loads(r.out)]
    assert got == [
        ("0001-in-release.patch", "already applied", "its reverse applies: the release has it; remove the patch"),
        ("0002-pinned.patch", "pin mismatch",
         f"applies to nova {nova_version}, but its Versions line pins nova==33.0.0: re-checked now; add "
         f"nova=={nova_version} to its Versions line once it is reviewed for this version"),
    ]


def test_region_override_replaces_the_base_patch(cli, tmp_path: Path, site_packages: Path,
                                                 patches: dict[str, str]) -> None:
    site = make_site(tmp_path / "site", files={"patches/nova/0001-none-string.patch": patches["fix"],
                                               "regions/Two/patches/nova/0001-none-string.patch": patches["other"]})
    r = _check(cli, site, site_packages)
    assert r.code == 0, r.err
    got = [(x["region"], x["file"], x["status"]) for x in json.loads(r.out)]
    assert got == [("One", f"{site}/patches/nova/0001-none-string.patch", "applies"),
                   ("Two", f"{site}/regions/Two/patches/nova/0001-none-string.patch", "applies")]
    out = tmp_path / "out"
    assert cli("render", "-s", str(site), "-o", str(out), "--format", "helm").code == 0
    for region, text in (("One", patches["fix"]), ("Two", patches["other"])):
        cm = yaml.safe_load((out / region / "manifests/nova-patches.yaml").read_text())
        assert cm["data"]["0001-none-string.patch"] == text


def test_set_is_checked_in_order(cli, tmp_path: Path, site_packages: Path, patches: dict[str, str]) -> None:
    """The second patch is checked on top of the first: both made on the release conflict."""
    site = make_site(tmp_path / "site")
    pdir = site / "patches/nova"
    pdir.mkdir(parents=True)
    (pdir / "0001-none-string.patch").write_text(patches["fix"])
    r = _check(cli, site, site_packages, "-r", "One")
    assert r.code == 0
    fixed = (site_packages / "nova/utils.py").read_text().replace(BUG, FIXED)
    tmp = tmp_path / "d"
    (pdir / "0002-null.patch").write_text(make_patch(tmp, "nova/utils.py", fixed, fixed.replace(FIXED, OTHER)))
    r = _check(cli, site, site_packages, "-r", "One")
    assert (r.code, [x["status"] for x in json.loads(r.out)]) == (0, ["applies", "applies"])


def test_release_must_match_the_services_environment(cli, tmp_path: Path, patches: dict[str, str], venv: Path) -> None:
    site = make_site(tmp_path / "site", files={"patches/nova/0001-none-string.patch": patches["fix"]})
    r = cli("patches", "check", "-s", str(site), "--release", "2024.1")
    assert (r.code, r.err.strip()) == (1, "regionctl: error: no option data for release '2024.1' (have 2026.2): "
                                          "pass --against SITE_PACKAGES of an environment of that release")


# -- the start-up script, run by /bin/sh against a scratch copy of the installed nova ------------

@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory, site_packages: Path, nova_version: str) -> Path:
    """A copy of the installed nova package (and its metadata), first on the interpreter's path."""
    root = tmp_path_factory.mktemp("site-packages")
    shutil.copytree(site_packages / "nova", root / "nova")
    shutil.copytree(site_packages / f"nova-{nova_version}.dist-info", root / f"nova-{nova_version}.dist-info")
    return root


@pytest.fixture
def nova(scratch: Path, site_packages: Path):
    """The scratch nova, its patched files restored after each test."""
    yield scratch
    for rel in ("nova/utils.py", "nova/version.py"):
        shutil.copy2(site_packages / rel, scratch / rel)
    assert not [p for p in scratch.rglob("*") if p.suffix in (".orig", ".rej")]


def rendered_set(cli, tmp_path: Path, files: dict[str, str], region: str = "One") -> Path:
    site = make_site(tmp_path / "site", files=files)
    out = tmp_path / "out"
    r = cli("render", "-s", str(site), "-o", str(out), "--format", "kolla")
    assert r.code == 0, r.err
    return out / region / "config/nova/patches"


def run_script(pdir: Path, venv: Path, scratch: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "PYTHON": str(venv / "bin/python"), "PYTHONPATH": str(scratch)}
    return subprocess.run(["/bin/sh", str(pdir / "apply-patches.sh")], capture_output=True, text=True, env=env,
                          timeout=120)


def is_none_string(utils: Path):
    """The function as the file defines it now (run without importing all of nova)."""
    tree = ast.parse(utils.read_text())
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "is_none_string")
    scope: dict = {}
    exec(compile(ast.Module([fn], []), str(utils), "exec"), scope)
    return scope["is_none_string"]


def test_script_applies_then_reports_already_applied(cli, tmp_path: Path, venv: Path, nova: Path,
                                                     patches: dict[str, str], nova_version: str) -> None:
    pdir = rendered_set(cli, tmp_path, {"patches/nova/0001-none-string.patch": patches["fix"]})
    assert is_none_string(nova / "nova/utils.py")(" None ") is False
    r = run_script(pdir, venv, nova)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"regionctl-patches: nova {nova_version}, ") and lines[0].endswith(f" in {nova}")
    assert lines[1:] == [f"regionctl-patches: applied 0001-none-string.patch to nova {nova_version}",
                         "regionctl-patches: 1 patch(es) applied"]
    assert is_none_string(nova / "nova/utils.py")(" None ") is True
    r = run_script(pdir, venv, nova)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1:] == [
        f"regionctl-patches: already applied 0001-none-string.patch to nova {nova_version}; skipped",
        "regionctl-patches: 0 patch(es) applied"]


def test_script_refuses_a_stale_patch_and_changes_nothing(cli, tmp_path: Path, venv: Path, nova: Path,
                                                          site_packages: Path, patches: dict[str, str],
                                                          nova_version: str) -> None:
    """0001 applies; 0002 changes nova/version.py (applies) and nova/utils.py (stale): all rolled back."""
    version_py = (site_packages / "nova/version.py").read_text()
    two_files = make_patch(tmp_path / "d", "nova/version.py", version_py,
                           version_py.replace('NOVA_PACKAGE = None', 'NOVA_PACKAGE = "hotfix1"'))
    stale = patches["stale"]
    second = two_files + stale
    pdir = rendered_set(cli, tmp_path, {"patches/nova/0001-none-string.patch": patches["other"]})
    (pdir / "0002-stale.patch").write_text(second)
    (pdir / "series").write_text("0001-none-string.patch\n0002-stale.patch\n")
    before = {rel: (nova / rel).read_bytes() for rel in ("nova/utils.py", "nova/version.py")}
    r = run_script(pdir, venv, nova)
    assert r.returncode == 1
    line = len(two_files.splitlines()) + hunk_line(stale)[0]
    header = second.splitlines()[line - 1]
    assert r.stderr.splitlines() == [
        f"regionctl-patches: error: 0002-stale.patch does not apply to nova {nova_version}: hunk #1 of nova/utils.py "
        f"({pdir}/0002-stale.patch:{line}: {header}) does not apply: nothing was changed; "
        "the service must not start"]
    assert r.stdout.splitlines()[1:] == [f"regionctl-patches: applied 0001-none-string.patch to nova {nova_version}",
                                         "regionctl-patches: rolled back: 0001-none-string.patch"]
    assert {rel: (nova / rel).read_bytes() for rel in before} == before


def test_script_refuses_a_patch_pinned_to_another_version(cli, tmp_path: Path, venv: Path, nova: Path,
                                                          patches: dict[str, str], nova_version: str) -> None:
    commented = patches["old-pin"].replace("Versions:", "#  Versions:")  # a header comment, as git log shows it
    pdir = rendered_set(cli, tmp_path, {"patches/nova/0001-none-string.patch": commented})
    before = (nova / "nova/utils.py").read_bytes()
    r = run_script(pdir, venv, nova)
    assert (r.returncode, r.stderr.splitlines()) == (1, [
        f"regionctl-patches: error: 0001-none-string.patch is not for this version: nova {nova_version} is running, "
        "the patch pins nova==33.0.0: re-check it (regionctl patches check) and add the version to its Versions: "
        "line; nothing was changed"])
    assert (nova / "nova/utils.py").read_bytes() == before


def test_service_packages_are_the_wheels_own(site_packages: Path) -> None:
    """Every (distribution, top-level package) of openstack/pypackages.py, as the services environment installs it."""
    import importlib.metadata

    from regionctl.openstack.pypackages import SERVICE_PACKAGES

    checked = 0
    for service, pkgs in SERVICE_PACKAGES.items():
        for p in pkgs:
            found = list(importlib.metadata.distributions(path=[str(site_packages)], name=p.dist))
            if service == "horizon" and not found:
                continue  # the services environment has no horizon
            assert found, f"{service}: no distribution {p.dist}"
            tops = {str(f).split("/", 1)[0] for f in found[0].files or [] if "/" in str(f)}
            assert p.top in tops, f"{service}: {p.dist} installs {sorted(tops)}, not {p.top}"
            checked += 1
    assert checked >= 12
