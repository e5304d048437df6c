"""Against the real services (issue 3, item 5): their own validator, and option data that can't go stale.

Needs the services environment (`make services-env`; `make test` builds it and sets
REGIONCTL_SERVICES_VENV). Without that variable these tests skip; with it, a missing or broken
environment fails.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT

from regionctl.openstack import options
from regionctl.check.options import dynamic_sections
from regionctl.resolve.values import resolve_region
from regionctl.site.load import load

pytestmark = pytest.mark.services

EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "site.yaml").is_file())
OPTDATA = ROOT / "src/regionctl/openstack/optdata"


@pytest.fixture(scope="module")
def venv() -> Path:
    path = os.environ.get("REGIONCTL_SERVICES_VENV")
    if not path:
        pytest.skip("REGIONCTL_SERVICES_VENV is not set: run 'make test' (it builds the services environment)")
    bin_dir = Path(path) / "bin"
    assert (bin_dir / "oslo-config-validator").exists(), f"{path}: no oslo-config-validator: run 'make services-env'"
    return Path(path)


def runtime_auth_sections(service: str) -> set[str]:
    """Sections where the service registers keystoneauth's plugin options at run time only.

    oslo-config-validator reads the sample config, which lacks them (cinder [nova] username,
    password...), so it would reject correct files; regionctl's own check covers these.
    """
    raw = json.loads((OPTDATA / f"{options.load().release}.json").read_text())["services"][service]
    return {sec for sec, kinds in raw["keystoneauth"].items()
            if "auth" in kinds and "password" not in raw["sections"].get(sec, {})}


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_oslo_config_validator_accepts_every_rendered_file(cli, venv: Path, tmp_path: Path, example: str) -> None:
    r = cli("render", "-s", str(EXAMPLES / example), "-o", str(tmp_path))
    assert r.code == 0, r.err
    data = json.loads((OPTDATA / f"{options.load().release}.json").read_text())
    loaded = load(EXAMPLES / example)
    checked = 0
    for region in loaded.site.regions:
        values = resolve_region(loaded, region)
        for conf in values.files.values():
            path = tmp_path / region / "etc" / conf.service / conf.filename
            assert path.is_file(), path
            excluded = sorted(runtime_auth_sections(conf.service) | set(dynamic_sections(conf)))
            args = [str(venv / "bin/oslo-config-validator"), "--input-file", str(path)]
            args += [a for ns in data["services"][conf.service]["namespaces"] for a in ("--namespace", ns)]
            args += [a for g in excluded for a in ("--exclude-group", g)]
            p = subprocess.run(args, capture_output=True, text=True, timeout=300)
            errors = [line for line in p.stderr.splitlines() if line.startswith("ERROR")]
            assert (p.returncode, errors) == (0, []), f"{path}:\n" + "\n".join(errors or p.stderr.splitlines()[-5:])
            checked += 1
    assert checked >= 6


def test_validator_catches_what_regionctl_catches(venv: Path, tmp_path: Path) -> None:
    """The real validator agrees nova's [neutron] url is gone (seed 001's mistake)."""
    conf = tmp_path / "nova.conf"
    conf.write_text("[neutron]\nurl = http://192.168.40.23:9696\n")
    data = json.loads((OPTDATA / f"{options.load().release}.json").read_text())
    args = [str(venv / "bin/oslo-config-validator"), "--input-file", str(conf)]
    args += [a for ns in data["services"]["nova"]["namespaces"] for a in ("--namespace", ns)]
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1
    assert "ERROR:oslo_config.validator:neutron/url is not part of the sample config" in p.stderr


def test_packaged_option_data_equals_generated(venv: Path, tmp_path: Path) -> None:
    """The committed JSON is what the installed services say: it cannot go stale silently."""
    release = options.load().release
    out = tmp_path / f"{release}.json"
    p = subprocess.run([str(venv / "bin/python"), str(ROOT / "tools/gen_optdata.py"), "--release", release, "-o", str(out)],
                       capture_output=True, text=True, timeout=1200)
    assert p.returncode == 0, p.stderr[-2000:]
    assert out.read_bytes() == (OPTDATA / f"{release}.json").read_bytes(), "run 'make optdata' and commit the result"
