"""A site of two clouds applied to two real Keystones on loopback (issue 13): each catalog holds its
own region only, seen through the real `openstack` CLI; credentials of one cloud that reach the
other's Keystone are refused; an unreachable cloud does not stop the other from being planned."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import COMPUTE, SECRETS, make_site, region_yaml, run_process, site_text
from regionctl.devkeystone import DevKeystone, keystone_available, start

pytestmark = pytest.mark.keystone
OPENSTACK = str(Path(sys.executable).with_name("openstack"))


def site_of(keystones: dict[str, DevKeystone]) -> str:
    head = "clouds:\n  CloudOne: {os_cloud: cloud-one}\n  CloudTwo: {os_cloud: cloud-two}\n"
    regions = []
    for i, (name, ks) in enumerate(keystones.items(), 1):
        regions.append(region_yaml(name, ("keystone",) + COMPUTE, public=f"http://192.0.2.{i}",
                                   extra=f"cloud: Cloud{name[6:]}\n").replace(
            "      keystone:\n", f"      keystone:\n        urls: {{identity: '{ks.url}'}}\n"))
    return site_text(*regions, head=head)


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str], dict[str, DevKeystone]]]:
    if not keystone_available():
        pytest.skip("needs regionctl[keystone]")
    tmp = tmp_path_factory.mktemp("two-clouds")
    keystones: dict[str, DevKeystone] = {}
    try:
        for name in ("RegionOne", "RegionTwo"):
            keystones[name] = start(tmp / name, region=name)
        root = make_site(tmp / "site", site_of(keystones), {f"regions/{r}/secrets.yaml": SECRETS for r in keystones})
        for gone in ("One", "Two"):
            shutil.rmtree(root / "regions" / gone, ignore_errors=True)
        clouds: dict[str, object] = {}
        for entry, ks in zip(("cloud-one", "cloud-two"), keystones.values()):
            clouds.update(yaml.safe_load(ks.clouds_yaml(entry))["clouds"])
        (tmp / "clouds.yaml").write_text(yaml.safe_dump({"clouds": clouds}))
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env["OS_CLIENT_CONFIG_FILE"] = str(tmp / "clouds.yaml")
        yield root, env, keystones
    finally:
        for ks in keystones.values():
            ks.stop()


def endpoints(env: dict[str, str], cloud: str) -> set[tuple[str, str]]:
    p = subprocess.run([OPENSTACK, "--os-cloud", cloud, "endpoint", "list", "-f", "json"], capture_output=True,
                       text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    return {(e["Region"], e["Service Type"]) for e in json.loads(p.stdout)}


def test_each_cloud_applied_to_its_own_keystone(two) -> None:
    root, env, _ = two
    r = run_process(["catalog", "apply", "-s", str(root), "--yes"], env=env)
    assert r.code == 0, r.err
    assert "cloud CloudOne: " in r.out and "cloud CloudTwo: " in r.out
    types = {"identity", "compute", "placement", "network", "image"}
    assert endpoints(env, "cloud-one") == {("RegionOne", t) for t in types}
    assert endpoints(env, "cloud-two") == {("RegionTwo", t) for t in types}
    r = run_process(["catalog", "plan", "-s", str(root), "--prune", "--detailed-exitcode"], env=env)
    assert r.code == 0, r.out + r.err
    assert r.out.count("No changes: Keystone matches the site.") == 2


def test_credentials_of_the_other_cloud_are_refused(two) -> None:
    root, env, keystones = two
    r = run_process(["catalog", "plan", "-s", str(root), "--cloud", "CloudTwo", "--os-cloud", "cloud-one"], env=env)
    assert r.code == 1
    assert r.err.splitlines() == [
        f"regionctl: error: cloud CloudTwo: the credentials of clouds.yaml entry 'cloud-one' reach the Keystone at "
        f"{keystones['RegionOne'].url}, which is not the one the site declares for CloudTwo "
        f"({keystones['RegionTwo'].url}): fix the entry or site.yaml"]


def test_an_unreachable_cloud_does_not_stop_the_other(two, tmp_path: Path) -> None:
    root, env, keystones = two
    dead = dict(env)
    config = yaml.safe_load(Path(env["OS_CLIENT_CONFIG_FILE"]).read_text())
    config["clouds"]["cloud-two"]["auth"]["auth_url"] = "http://127.0.0.1:9/v3"
    (tmp_path / "clouds.yaml").write_text(yaml.safe_dump(config))
    dead["OS_CLIENT_CONFIG_FILE"] = str(tmp_path / "clouds.yaml")
    r = run_process(["catalog", "plan", "-s", str(root)], env=dead)
    assert r.code == 1
    assert "cloud CloudOne: " in r.out and "No changes: Keystone matches the site." in r.out
    lines = r.err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("regionctl: error: cloud CloudTwo: "), r.err
    assert lines[1] == "regionctl: error: not everything was planned: cloud(s) CloudTwo could not be read (above)"


def test_dev_keystone_runs_one_keystone_per_cloud(tmp_path: Path) -> None:
    """`regionctl dev-keystone -s examples/two-clouds`: CloudOne's and CloudTwo's Keystones at once."""
    import signal
    from conftest import EXAMPLES
    if not keystone_available():
        pytest.skip("needs regionctl[keystone]")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    p = subprocess.Popen([sys.executable, "-m", "regionctl", "dev-keystone", "-s", str(EXAMPLES / "two-clouds"),
                          "--data", str(tmp_path / "dk")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env, start_new_session=True)
    try:
        assert p.stdout is not None
        firsts = []
        while len(firsts) < 2:
            line = p.stdout.readline()
            assert line, p.stderr.read() if p.stderr else ""
            if line.startswith("Keystone "):
                firsts.append(line)
    finally:
        os.killpg(p.pid, signal.SIGINT)
        p.communicate(timeout=60)
    assert [" for region RegionOne at http://127.0.0.1:" in firsts[0],
            " for region RegionTwo at http://127.0.0.1:" in firsts[1]] == [True, True], firsts
    assert yaml.safe_load((tmp_path / "dk/CloudOne/clouds.yaml").read_text())["clouds"].keys() == {"cloud-one"}
    assert yaml.safe_load((tmp_path / "dk/CloudTwo/clouds.yaml").read_text())["clouds"].keys() == {"cloud-two"}
