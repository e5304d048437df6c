"""The catalog commands against a REAL Keystone (regionctl.devkeystone), through the real CLI.

Most tests share the session Keystone (region RegionOne) and reset its catalog to the bootstrap
state around each test; tests that kill or replace Keystone start their own. The example sites'
addresses (10.x, 192.168.x) are data: a guard fails any test whose process tries to connect
anywhere but loopback (and the suite runs in a loopback-only network namespace as well).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, Result, run

from regionctl.catalog.apply import apply
from regionctl.catalog.live import Keystone, connect
from regionctl.catalog.model import Catalog, Endpoint, Region, Service
from regionctl.catalog.plan import plan
from regionctl.devkeystone import DevKeystone, start

pytestmark = pytest.mark.keystone

ROOT = Path(__file__).resolve().parent.parent
OPENSTACK = str(Path(sys.executable).with_name("openstack"))
KS_PUBLIC = "http://10.24.63.248:5000/v3"
KS_ADMIN = "http://10.24.63.248:35357/v3"
SEED_003 = sorted([(r, "keystone", "identity", i, KS_ADMIN if i == "admin" else KS_PUBLIC)
                   for r in ("AR", "OSR1", "OSR2") for i in ("public", "internal", "admin")])
OWN = (("nova", "compute", ":8774/v2.1"), ("glance", "image", ":9292"), ("neutron", "network", ":9696"),
       ("placement", "placement", ":8778"), ("cinderv3", "volumev3", ":8776/v3/%(project_id)s"))
HOSTS = {"OSR1": "10.24.64.248", "OSR2": "10.24.65.248"}


def admin_region_rows() -> list[tuple[str, str, str, str, str]]:
    """The whole admin-region catalog: seed 003's identity table plus the OSRs' own services."""
    own = [(r, name, type_, i, f"http://{HOSTS[r]}{tail}")
           for r in HOSTS for name, type_, tail in OWN for i in ("public", "internal")]
    return sorted(SEED_003 + own)


# ---- guards and helpers ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if this process connects anywhere but 127.0.0.0/8 (or ::1)."""
    real = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                loop = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loop = host == "localhost"
            if not loop:
                raise AssertionError(f"connection to {address} attempted: only loopback is allowed")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def use_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], tmp: Path) -> None:
    """Exactly these OS_* variables, and no clouds.yaml from the machine."""
    for key in list(os.environ):
        if key.startswith("OS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp / "no-clouds.yaml"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def bootstrap_catalog(dk: DevKeystone) -> Catalog:
    """What keystone-manage bootstrap leaves: one region, identity public + internal at its URL."""
    return Catalog((Region(dk.region),), (Service("identity", "keystone"),),
                   (Endpoint("identity", "keystone", "public", dk.region, dk.url),
                    Endpoint("identity", "keystone", "internal", dk.region, dk.url)))


def reset(dk: DevKeystone) -> None:
    """Back to the bootstrap catalog: everything else deleted, the region's marker cleared."""
    ks = connect()
    live = ks.read()
    p = plan(bootstrap_catalog(dk), live, prune=True, managed=[r.id for r in live.regions])
    apply(p, ks)
    ks.call("PATCH", f"/regions/{dk.region}", {"region": {"description": "", "managed_by": None}})
    after = connect().read()
    assert sorted((e.region, e.type, e.interface, e.url) for e in after.endpoints) == [
        (dk.region, "identity", "internal", dk.url), (dk.region, "identity", "public", dk.url)]
    assert [(r.id, r.managed) for r in after.regions] == [(dk.region, False)]
    assert [s.key for s in after.services] == [("identity", "keystone")]


@pytest.fixture
def ks(dev_keystone: DevKeystone, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[DevKeystone]:
    """The session Keystone as the OS_* environment, with a bootstrap-state catalog."""
    use_env(monkeypatch, dev_keystone.env(), tmp_path)
    reset(dev_keystone)
    yield dev_keystone
    use_env(monkeypatch, dev_keystone.env(), tmp_path)  # the test may have changed them
    reset(dev_keystone)


@pytest.fixture
def rc(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """``rc("catalog", "plan", ...)``: the real CLI, in-process."""
    return lambda *args: run(list(args), capsys)


def live() -> Catalog:
    return connect().read()


def rows_in(cat: Catalog, regions: set[str]) -> list[tuple[str, str, str, str, str]]:
    return sorted((e.region, e.name, e.type, e.interface, e.url) for e in cat.endpoints if e.region in regions)


def ids(cat: Catalog) -> dict[tuple[str, str, str, str], str]:
    out = {}
    for e in cat.endpoints:
        assert e.key not in out, f"duplicate endpoint {e.label()}"
        assert e.id is not None
        out[e.key] = e.id
    return out


def copy_site(name: str, tmp: Path) -> Path:
    dst = tmp / name
    shutil.copytree(EXAMPLES / name, dst)
    return dst


def openstack(*args: str, env: dict[str, str] | None = None) -> Any:
    """The real python-openstackclient, in its own process; JSON out.

    The catalog's identity URLs point at 10.24.63.248 (data, unreachable here), so it is told to
    use the Keystone it authenticated with, as regionctl does.
    """
    e = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    e.update(env or {k: v for k, v in os.environ.items() if k.startswith("OS_")})
    e["OS_IDENTITY_ENDPOINT_OVERRIDE"] = e["OS_AUTH_URL"]
    p = subprocess.run([OPENSTACK, *args, "-f", "json"], capture_output=True, text=True, env=e, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def one_line(r: Result) -> str:
    """The error line of a failed command: exactly one line on stderr, no traceback."""
    lines = r.err.splitlines()
    assert len(lines) == 1, r.err
    assert "Traceback" not in r.err
    return lines[0]


# ---- seed 003 through the real openstack CLI ---------------------------------------------------


def test_admin_region_gives_seed_003_table(ks: DevKeystone, rc: Callable[..., Result]) -> None:
    r = rc("catalog", "apply", "-s", str(EXAMPLES / "admin-region"), "--yes")
    assert r.code == 0, r.err
    assert r.out.splitlines()[-1] == "Apply complete: 37 created, 0 updated in place, 0 deleted."

    listed = openstack("endpoint", "list")
    got = sorted((e["Region"], e["Service Name"], e["Service Type"], e["Interface"], e["URL"])
                 for e in listed if e["Region"] in ("AR", "OSR1", "OSR2"))
    assert [g for g in got if g[2] == "identity"] == SEED_003
    assert got == admin_region_rows()
    # the bootstrap region is not the site's: untouched
    assert sorted((e["Region"], e["Interface"], e["URL"]) for e in listed if e["Region"] not in HOSTS
                  and e["Region"] != "AR") == [("RegionOne", "internal", ks.url), ("RegionOne", "public", ks.url)]

    regions = {r_["Region"]: (r_["Parent Region"], r_["Description"]) for r_ in openstack("region", "list")}
    assert regions == {"RegionOne": (None, ""), "AR": (None, "Administrative region (Keystone, Horizon)"),
                       "OSR1": ("AR", "OpenStack region 1"), "OSR2": ("AR", "OpenStack region 2")}

    env = {k: v for k, v in os.environ.items() if k.startswith("OS_") and k != "OS_REGION_NAME"}
    catalog = openstack("catalog", "list", "--os-region-name", "OSR2", env=env)
    in_osr2 = sorted((svc["Name"], svc["Type"], ep["interface"], ep["url"])
                     for svc in catalog for ep in svc["Endpoints"] if ep["region"] == "OSR2")
    project = connect().call("GET", "/projects?name=admin")["projects"][0]["id"]  # the token fills it in
    assert in_osr2 == sorted((n, t, i, u.replace("%(project_id)s", project))
                             for reg, n, t, i, u in admin_region_rows() if reg == "OSR2")


# ---- plan / apply ------------------------------------------------------------------------------


def test_plan_then_apply_then_nothing_left_to_do(ks: DevKeystone, rc: Callable[..., Result]) -> None:
    site = str(EXAMPLES / "admin-region")
    r = rc("catalog", "plan", "-s", site, "--detailed-exitcode", "-f", "json")
    assert r.code == 2
    assert json.loads(r.out)["summary"] == {"create": 37, "update": 0, "delete": 0, "unchanged": 1,
                                            "not_pruned": 0}
    assert len(live().endpoints) == 2  # plan wrote nothing

    assert rc("catalog", "apply", "-s", site, "--yes").code == 0
    r = rc("catalog", "apply", "-s", site, "--yes")
    assert r.code == 0
    assert r.out.splitlines()[-1] == ("No changes: Keystone matches the site. "
                                      "Plan: 0 to create, 0 to update in place, 0 to delete, 38 unchanged.")
    r = rc("catalog", "plan", "-s", site, "--detailed-exitcode")
    assert (r.code, r.err) == (0, "")
    assert rows_in(live(), {"AR", "OSR1", "OSR2"}) == admin_region_rows()


def test_reading_costs_three_requests_whatever_the_size(ks: DevKeystone) -> None:
    small = connect()
    small.read()
    assert small.requests == 3
    site_plan = plan(_desired("admin-region"), small.read())
    apply(site_plan, small)
    big = connect()
    cat = big.read()
    assert (big.requests, len(cat.endpoints)) == (3, 31)


def _desired(example: str) -> Catalog:
    from regionctl.catalog.desired import desired_catalog
    from regionctl.site.load import load

    site = load(EXAMPLES / example).site
    assert site is not None
    return desired_catalog(site)


def test_url_change_is_updated_in_place(ks: DevKeystone, rc: Callable[..., Result], tmp_path: Path) -> None:
    site = copy_site("admin-region", tmp_path)
    assert rc("catalog", "apply", "-s", str(site), "--yes").code == 0
    before = ids(live())
    text = (site / "site.yaml").read_text()
    osr1, osr2 = text.split("  OSR2:")
    osr1 = osr1.replace("      nova:\n", "      nova:\n        urls:\n          compute:\n"
                                       "            public: https://compute.osr1.example.com/v2.1\n", 1)
    (site / "site.yaml").write_text(osr1 + "  OSR2:" + osr2)

    r = rc("catalog", "plan", "-s", str(site), "-f", "json", "--detailed-exitcode")
    assert r.code == 2
    key = ("compute", "nova", "public", "OSR1")
    assert json.loads(r.out)["changes"] == [{
        "op": "update", "kind": "endpoint", "region": "OSR1", "type": "compute", "name": "nova",
        "interface": "public", "id": before[key],
        "old": {"url": "http://10.24.64.248:8774/v2.1", "enabled": True},
        "new": {"url": "https://compute.osr1.example.com/v2.1", "enabled": True}}]
    r = rc("catalog", "apply", "-s", str(site), "--yes")
    assert r.out.splitlines()[-1] == "Apply complete: 0 created, 1 updated in place, 0 deleted."
    after = live()
    assert ids(after) == before  # every endpoint kept its ID
    assert next(e.url for e in after.endpoints if e.key == key) == "https://compute.osr1.example.com/v2.1"


def test_removing_a_region_with_prune_removes_only_its_endpoints(
        ks: DevKeystone, rc: Callable[..., Result], tmp_path: Path) -> None:
    site = copy_site("admin-region", tmp_path)
    assert rc("catalog", "apply", "-s", str(site), "--yes").code == 0
    before = live()
    text = (site / "site.yaml").read_text()
    (site / "site.yaml").write_text(text[: text.index("  OSR2:")])
    shutil.rmtree(site / "regions" / "OSR2")

    r = rc("catalog", "plan", "-s", str(site), "--detailed-exitcode", "-f", "json")
    assert r.code == 0  # without --prune nothing is deleted...
    held = json.loads(r.out)["not_pruned"]  # ...but the plan says what --prune would delete
    assert sorted((c["kind"], c.get("region", c.get("id"))) for c in held) == (
        [("endpoint", "OSR2")] * 13 + [("region", "OSR2")])

    r = rc("catalog", "apply", "-s", str(site), "--prune", "--yes")
    assert r.code == 0, r.err
    assert r.out.splitlines()[-1] == "Apply complete: 0 created, 0 updated in place, 14 deleted."
    after = live()
    kept = {k: v for k, v in ids(before).items() if k[3] != "OSR2"}
    assert ids(after) == kept
    assert [r_.id for r_ in after.regions] == ["RegionOne", "AR", "OSR1"]
    assert sorted(s.key for s in after.services) == sorted(s.key for s in before.services)
    assert rc("catalog", "plan", "-s", str(site), "--prune", "--detailed-exitcode").code == 0


def test_duplicates_are_reported_then_repaired_with_prune(
        ks: DevKeystone, rc: Callable[..., Result]) -> None:
    site = str(EXAMPLES / "admin-region")
    assert rc("catalog", "apply", "-s", site, "--yes").code == 0
    good = ids(live())
    k = connect()
    cat = k.read()
    nova = next(s.id for s in cat.services if s.key == ("compute", "nova"))
    glance = next(s.id for s in cat.services if s.key == ("image", "glance"))
    twin = k.call("POST", "/services", {"service": {"type": "compute", "name": "nova"}})["service"]["id"]
    for sid, iface, region, url in ((nova, "public", "OSR1", "http://10.24.64.248:8774/v2.1"),
                                    (glance, "internal", "OSR1", "http://10.24.64.250:9292"),
                                    (twin, "public", "OSR2", "http://10.24.65.248:8774/v2.1")):
        k.call("POST", "/endpoints", {"endpoint": {"service_id": sid, "interface": iface, "region_id": region,
                                                   "url": url}})

    r = rc("catalog", "plan", "-s", site, "--detailed-exitcode")
    assert r.code == 0
    assert "note: 3 duplicate endpoint(s) found: 'apply --prune' reduces each to one" in r.out
    r = rc("catalog", "plan", "-s", site, "--prune", "-f", "json")
    changes = json.loads(r.out)["changes"]
    assert sorted((c["op"], c["kind"], c.get("region", ""), c.get("type")) for c in changes) == [
        ("delete", "endpoint", "OSR1", "compute"), ("delete", "endpoint", "OSR1", "image"),
        ("delete", "endpoint", "OSR2", "compute"), ("delete", "service", "", "compute")]

    r = rc("catalog", "apply", "-s", site, "--prune", "--yes")
    assert r.out.splitlines()[-1] == "Apply complete: 0 created, 0 updated in place, 4 deleted."
    after = live()
    assert rows_in(after, {"AR", "OSR1", "OSR2"}) == admin_region_rows()
    assert ids(after)[("image", "glance", "internal", "OSR1")] == good[("image", "glance", "internal", "OSR1")]
    assert len([s for s in after.services if s.key == ("compute", "nova")]) == 1
    assert rc("catalog", "plan", "-s", site, "--prune", "--detailed-exitcode").code == 0


def test_identity_urls_pointing_elsewhere_stay_fixable(ks: DevKeystone, rc: Callable[..., Result]) -> None:
    """two-regions moves the very endpoint regionctl logs in through to 192.168.40.15; later runs
    still talk to 127.0.0.1 (the loopback guard would fail the test otherwise)."""
    site = str(EXAMPLES / "two-regions")
    r = rc("catalog", "apply", "-s", site, "--yes")
    assert r.code == 0, r.err
    cat = live()
    assert sorted((e.interface, e.url) for e in cat.endpoints if e.region == "RegionOne" and e.type == "identity") \
        == [("admin", "http://192.168.40.15:5000/v3"), ("internal", "http://192.168.40.15:5000/v3"),
            ("public", "http://192.168.40.15:5000/v3")]
    assert rc("catalog", "plan", "-s", site, "--prune", "--detailed-exitcode").code == 0


def test_import_then_plan_shows_no_changes(ks: DevKeystone, rc: Callable[..., Result], tmp_path: Path) -> None:
    assert rc("catalog", "apply", "-s", str(EXAMPLES / "two-regions"), "--yes").code == 0
    out = tmp_path / "imported"
    r = rc("catalog", "import", "-o", str(out))
    assert r.code == 0, r.err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "regions/RegionOne/secrets.yaml", "regions/RegionTwo/secrets.yaml", "site.yaml"]
    assert r.err.splitlines()[-1] == ("imported 2 region(s), 33 endpoint(s) from 1 cloud(s); next: fill in the "
                                      f"secrets, then 'regionctl catalog plan -s {out}'")
    r = rc("catalog", "plan", "-s", str(out), "--prune", "--detailed-exitcode")
    assert (r.code, r.err) == (0, ""), r.out
    assert rc("validate", "-s", str(out)).code == 1  # secrets are left to fill in: render needs them


def test_show_marks_drift(ks: DevKeystone, rc: Callable[..., Result]) -> None:
    site = str(EXAMPLES / "admin-region")
    assert rc("catalog", "apply", "-s", site, "--yes").code == 0
    k = connect()
    cat = k.read()
    nova_osr1 = next(e for e in cat.endpoints if e.key == ("compute", "nova", "public", "OSR1"))
    k.call("PATCH", f"/endpoints/{nova_osr1.id}", {"endpoint": {"url": "http://10.24.64.99:8774/v2.1"}})
    glance_osr2 = next(e for e in cat.endpoints if e.key == ("image", "glance", "internal", "OSR2"))
    k.call("DELETE", f"/endpoints/{glance_osr2.id}")

    r = rc("catalog", "show", "-s", site, "-f", "json")
    cells = {(c["region"], c["type"], c["interface"]): c["state"] for c in json.loads(r.out)}
    assert {k_: v for k_, v in cells.items() if v != "ok"} == {
        ("OSR1", "compute", "public"): "changed", ("OSR2", "image", "internal"): "missing",
        ("RegionOne", "identity", "public"): "unmanaged", ("RegionOne", "identity", "internal"): "unmanaged"}
    r = rc("catalog", "show", "-s", site)
    assert r.code == 0
    table = {cells[0]: cells[1:] for cells in (
        [c.strip() for c in line.rstrip()[1:-1].split(line[0])]
        for line in r.out.splitlines() if line[:1] in ("│", "┃"))}
    assert table == {
        "region": ["identity", "compute", "image", "network", "placement", "volumev3"],
        "AR": ["pub int adm", "", "", "", "", ""],
        "OSR1": ["pub int adm", "pub~ int", "pub int", "pub int", "pub int", "pub int"],
        "OSR2": ["pub int adm", "pub int", "pub int+", "pub int", "pub int", "pub int"],
        "RegionOne": ["pub int", "", "", "", "", ""],
    }
    assert r.out.splitlines()[-1] == ("+ missing from Keystone   - in Keystone, not in the site   "
                                      "~ other URL or disabled   ! duplicates")


# ---- auth and errors ---------------------------------------------------------------------------


def test_clouds_yaml_and_os_cloud(dev_keystone: DevKeystone, rc: Callable[..., Result], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    use_env(monkeypatch, {}, tmp_path)
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(dev_keystone.clouds_yaml("dev"))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    r = rc("catalog", "plan", "-s", str(EXAMPLES / "admin-region"), "--os-cloud", "dev")
    assert r.code == 0, r.err
    assert r.out.startswith(f"Catalog plan against {dev_keystone.url} as admin:")
    monkeypatch.setenv("OS_CLOUD", "dev")
    assert rc("catalog", "plan", "-s", str(EXAMPLES / "admin-region")).code == 0
    r = rc("catalog", "plan", "-s", str(EXAMPLES / "admin-region"), "--os-cloud", "nope")
    assert one_line(r).startswith("regionctl: error: Cloud nope was not found: pass --os-cloud NAME")
    assert r.code == 1


def test_unversioned_auth_url_is_discovered(ks: DevKeystone, rc: Callable[..., Result],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OS_AUTH_URL", ks.url.removesuffix("/v3"))
    r = rc("catalog", "plan", "-s", str(EXAMPLES / "admin-region"), "--detailed-exitcode")
    assert r.code == 2, r.err


def test_wrong_password_is_one_line(ks: DevKeystone, rc: Callable[..., Result],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OS_PASSWORD", "not-the-password")
    r = rc("catalog", "plan", "-s", str(EXAMPLES / "admin-region"), "--detailed-exitcode")
    assert r.code == 1
    assert r.out == ""
    assert one_line(r) == (f"regionctl: error: Keystone at {ks.url} rejected the credentials of user 'admin' "
                           "(HTTP 401): check the password, user, project and domains in OS_* / clouds.yaml")
    assert "not-the-password" not in r.err


def test_keystone_not_running_is_one_line(ks: DevKeystone, rc: Callable[..., Result],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("OS_AUTH_URL", f"http://127.0.0.1:{port}/v3")
    r = rc("catalog", "apply", "-s", str(EXAMPLES / "admin-region"), "--yes")
    assert r.code == 1
    assert one_line(r) == (f"regionctl: error: cannot reach Keystone at http://127.0.0.1:{port}/v3 "
                           "(connection refused): check that it runs and that OS_AUTH_URL / clouds.yaml "
                           "auth_url is right")


def _user(k: Keystone, name: str, password: str) -> str:
    """A user in the Default domain with the member role on the admin project (no admin role)."""
    uid = k.call("POST", "/users", {"user": {"name": name, "password": password, "domain_id": "default"}})
    uid = uid["user"]["id"]
    project = k.call("GET", "/projects?name=admin")["projects"][0]["id"]
    member = k.call("GET", "/roles?name=member")["roles"][0]["id"]
    k.call("PUT", f"/projects/{project}/users/{uid}/roles/{member}")
    return str(uid)


def test_member_user_gets_the_missing_permission_named(ks: DevKeystone, rc: Callable[..., Result],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    k = connect()
    uid = _user(k, "catalog-member", "member-pw-123")
    try:
        monkeypatch.setenv("OS_USERNAME", "catalog-member")
        monkeypatch.setenv("OS_PASSWORD", "member-pw-123")
        r = rc("catalog", "plan", "-s", str(EXAMPLES / "admin-region"))
        assert r.code == 1
        assert one_line(r) == ("regionctl: error: Keystone refused GET /v3/services for user 'catalog-member' "
                               "(HTTP 403): it lacks permission 'identity:list_services'; use a user with the "
                               "admin role (clouds.yaml / OS_*)")
    finally:
        k.call("DELETE", f"/users/{uid}")


def test_system_reader_can_plan_but_not_apply(ks: DevKeystone, rc: Callable[..., Result],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    k = connect()
    uid = k.call("POST", "/users", {"user": {"name": "catalog-reader", "password": "reader-pw-123",
                                             "domain_id": "default"}})["user"]["id"]
    reader = k.call("GET", "/roles?name=reader")["roles"][0]["id"]
    k.call("PUT", f"/system/users/{uid}/roles/{reader}")
    try:
        for var in ("OS_PROJECT_NAME", "OS_PROJECT_DOMAIN_NAME"):
            monkeypatch.delenv(var)
        monkeypatch.setenv("OS_SYSTEM_SCOPE", "all")
        monkeypatch.setenv("OS_USERNAME", "catalog-reader")
        monkeypatch.setenv("OS_PASSWORD", "reader-pw-123")
        site = str(EXAMPLES / "admin-region")
        assert rc("catalog", "plan", "-s", site, "--detailed-exitcode").code == 2
        r = rc("catalog", "apply", "-s", site, "--yes")
        assert r.code == 1
        assert one_line(r) == (
            "regionctl: error: Keystone refused POST /v3/regions for user 'catalog-reader' (HTTP 403): it lacks "
            "permission 'identity:create_region'; use a user with the admin role (clouds.yaml / OS_*) "
            "[stopped after 0 of 37 changes: run 'regionctl catalog apply' again to finish; it re-reads "
            "Keystone and creates nothing twice]")
    finally:
        k.call("DELETE", f"/users/{uid}")


def test_apply_without_a_terminal_needs_yes(ks: DevKeystone, rc: Callable[..., Result]) -> None:
    r = rc("catalog", "apply", "-s", str(EXAMPLES / "admin-region"))
    assert r.code == 1
    assert one_line(r) == ("regionctl: error: not applying: stdin is not a terminal, so nobody can confirm; "
                           "review 'regionctl catalog plan', then pass --yes")
    assert len(live().endpoints) == 2


# ---- faults half-way through apply -------------------------------------------------------------


def _count_writes(monkeypatch: pytest.MonkeyPatch, before_write: Callable[[int, str, str], None]) -> None:
    """Call ``before_write(n, method, url)`` before every write request keystoneauth sends."""
    from keystoneauth1 import session

    real = session.Session.request
    count = {"n": 0}

    def request(self: Any, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if method in ("POST", "PATCH", "DELETE") and "/auth/tokens" not in url:
            count["n"] += 1
            before_write(count["n"], method, url)
        return real(self, url, method, *args, **kwargs)

    monkeypatch.setattr(session.Session, "request", request)


def test_keystone_killed_mid_apply_then_rerun_converges(
        rc: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "keystone"
    dk = start(data, region="AR")
    try:
        use_env(monkeypatch, dk.env(), tmp_path)

        def kill_at_12(n: int, method: str, url: str) -> None:
            if n == 12 and dk.is_running():
                assert dk.process is not None
                os.killpg(dk.process.pid, signal.SIGKILL)
                dk.process.wait()

        with monkeypatch.context() as m:
            _count_writes(m, kill_at_12)
            r = rc("catalog", "apply", "-s", str(EXAMPLES / "admin-region"), "--yes")
        assert r.code == 1
        assert one_line(r) == (
            f"regionctl: error: cannot reach Keystone at {dk.url} (connection refused): check that it runs and "
            "that OS_AUTH_URL / clouds.yaml auth_url is right [stopped after 11 of 37 changes: run 'regionctl "
            "catalog apply' again to finish; it re-reads Keystone and creates nothing twice]")
        dk.stop()
        dk = start(data, region="AR", port=dk.port)
        r = rc("catalog", "apply", "-s", str(EXAMPLES / "admin-region"), "--yes")
        assert r.code == 0, r.err
        assert r.out.splitlines()[-1] == "Apply complete: 26 created, 0 updated in place, 0 deleted."
        assert rc("catalog", "plan", "-s", str(EXAMPLES / "admin-region"), "--prune",
                  "--detailed-exitcode").code == 0
        cat = live()
        ids(cat)  # no duplicates
        assert rows_in(cat, {"AR", "OSR1", "OSR2"}) == admin_region_rows()
    finally:
        dk.stop()


class _FlakyProxy:
    """A loopback HTTP proxy in front of Keystone that answers 503 to the Nth endpoint create."""

    def __init__(self, upstream: str, fail_at: int) -> None:
        host, port = upstream.split("//")[1].split("/")[0].split(":")
        self.fail_at = fail_at
        self.creates = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "POST" and self.path.rstrip("/").endswith("/endpoints"):
                    proxy.creates += 1
                    if proxy.creates == proxy.fail_at:
                        msg = b'{"error": {"code": 503, "message": "Service Unavailable", "title": "x"}}'
                        self.send_response(503)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(msg)))
                        self.end_headers()
                        self.wfile.write(msg)
                        return
                conn = http.client.HTTPConnection(host, int(port), timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v3"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_5xx_mid_apply_then_rerun_converges(ks: DevKeystone, rc: Callable[..., Result],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = _FlakyProxy(ks.url, fail_at=5)
    try:
        monkeypatch.setenv("OS_AUTH_URL", proxy.url)
        site = str(EXAMPLES / "admin-region")
        r = rc("catalog", "apply", "-s", site, "--yes")
        assert r.code == 1
        assert one_line(r) == (
            f"regionctl: error: Keystone at {proxy.url} failed on POST /v3/endpoints: HTTP 503: Service "
            "Unavailable: check its log, then re-run [stopped after 12 of 37 changes: run 'regionctl catalog "
            "apply' again to finish; it re-reads Keystone and creates nothing twice]")
        r = rc("catalog", "apply", "-s", site, "--yes")
        assert r.code == 0, r.err
        assert r.out.splitlines()[-1] == "Apply complete: 25 created, 0 updated in place, 0 deleted."
        assert rc("catalog", "plan", "-s", site, "--detailed-exitcode").code == 0
        assert rows_in(live(), {"AR", "OSR1", "OSR2"}) == admin_region_rows()
    finally:
        proxy.close()


# ---- several clouds, and dev-keystone itself ---------------------------------------------------


def test_import_merges_two_clouds(ks: DevKeystone, rc: Callable[..., Result], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert rc("catalog", "apply", "-s", str(EXAMPLES / "admin-region"), "--yes").code == 0
    other = start(tmp_path / "other", region="Far")
    try:
        clouds = tmp_path / "clouds.yaml"
        a = ks.clouds_yaml("a")
        b = other.clouds_yaml("b").removeprefix("clouds:\n")
        clouds.write_text(a + b)
        use_env(monkeypatch, {}, tmp_path)
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
        out = tmp_path / "merged"
        r = rc("catalog", "import", "--os-cloud", "a", "--os-cloud", "b", "-o", str(out))
        assert r.code == 0, r.err
        assert (f"warning: cloud 'b' has its own Keystone ({other.url}, region 'Far'): a site shares one "
                "Keystone, so its regions get 'AR''s identity endpoints") in r.err.splitlines()
        from regionctl.check.site import check_all
        from regionctl.site.load import load

        site = load(out).site
        assert site is not None
        assert list(site.regions) == ["RegionOne", "AR", "OSR1", "OSR2", "Far"]
        assert site.identity_regions() == ["AR"]
        assert [str(p) for p in check_all(load(out)) if p.is_error] == []
        assert rc("catalog", "plan", "-s", str(out), "--os-cloud", "a").code == 0
    finally:
        other.stop()


def test_dev_keystone_command_runs_the_sites_identity_region(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    p = subprocess.Popen([sys.executable, "-m", "regionctl", "dev-keystone", "-s", str(EXAMPLES / "admin-region"),
                          "--data", str(tmp_path / "dk")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env, start_new_session=True)
    try:
        assert p.stdout is not None
        first = p.stdout.readline()
        assert first.startswith("Keystone ") and " for region AR at http://127.0.0.1:" in first, first
        banner = [first]
        while not banner[-1].startswith("then e.g.") and banner[-1]:
            banner.append(p.stdout.readline())
        first = "".join(banner)
    finally:
        os.killpg(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    password = (tmp_path / "dk" / "admin-password").read_text().strip()
    assert password not in first + out + err
    openrc = (tmp_path / "dk" / "openrc").read_text()
    assert "export OS_REGION_NAME=AR" in openrc
    printed = (first + out).splitlines()
    assert "  export OS_REGION_NAME=AR" in printed and "  export OS_USERNAME=admin" in printed
    assert f'  export OS_PASSWORD="$(cat {tmp_path / "dk" / "admin-password"})"' in printed
    assert "        password: ********" in printed and "      region_name: AR" in printed


def _on_a_terminal(args: list[str], answer: bytes, timeout: float = 60) -> tuple[int, str]:
    """Run regionctl with stdin/stdout/stderr on a pseudo-terminal; answer its prompt."""
    import pty
    import select

    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "regionctl", *args], stdin=slave, stdout=slave, stderr=slave,
                         env=dict(os.environ, COLUMNS="200"), close_fds=True)
    os.close(slave)
    out = b""
    answered = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if not answered and b"[y/N]" in out:
                os.write(master, answer)
                answered = True
        elif p.poll() is not None:
            break
    code = p.wait(timeout=30)
    os.close(master)
    return code, out.decode(errors="replace")


def test_apply_on_a_terminal_asks_first(ks: DevKeystone) -> None:
    site = str(EXAMPLES / "admin-region")
    code, out = _on_a_terminal(["catalog", "apply", "-s", site], b"n\n")
    assert code == 1
    assert f"Apply these 37 changes to Keystone at {ks.url}? [y/N]: n" in out
    assert out.rstrip().endswith("regionctl: aborted")
    assert len(live().endpoints) == 2
    code, out = _on_a_terminal(["catalog", "apply", "-s", site], b"y\n")
    assert code == 0, out
    assert out.rstrip().endswith("Apply complete: 37 created, 0 updated in place, 0 deleted.")
    assert rows_in(live(), {"AR", "OSR1", "OSR2"}) == admin_region_rows()
