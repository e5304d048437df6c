"""The catalog commands against a REAL Keystone (regionctl.devkeystone), through the real CLI.

Most tests share the session Keystone (region RegionOne) and reset its catalog to the bootstrap
state around each test; tests that kill or replace Keystone start their own. The example sites'
addresses (10.x, 192.168.x) are data: a guard fails any test whose process tries to connect
anywhere but loopback (and the suite runs in a loopback-only network namespace as well).
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, Result, run

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from faultproxy import Fault, FaultProxy  # noqa: E402 - tools/ is not a package

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
       ("placement", "placement", ":8778"), ("cinderv3", "volumev3", ":8776/v3/%(project_id)s"),
       ("heat", "orchestration", ":8004/v1/%(tenant_id)s"), ("heat-cfn", "cloudformation", ":8000/v1"))
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
    assert r.out.splitlines()[-1] == "Apply complete: 47 created, 0 updated in place, 0 deleted."

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
    assert in_osr2 == sorted((n, t, i, u.replace("%(project_id)s", project).replace("%(tenant_id)s", project))
                             for reg, n, t, i, u in admin_region_rows() if reg == "OSR2")


# ---- plan / apply ------------------------------------------------------------------------------


def test_plan_then_apply_then_nothing_left_to_do(ks: DevKeystone, rc: Callable[..., Result]) -> None:
    site = str(EXAMPLES / "admin-region")
    r = rc("catalog", "plan", "-s", site, "--detailed-exitcode", "-f", "json")
    assert r.code == 2
    assert json.loads(r.out)["summary"] == {"create": 47, "update": 0, "delete": 0, "unchanged": 1,
                                            "not_pruned": 0}
    assert len(live().endpoints) == 2  # plan wrote nothing

    assert rc("catalog", "apply", "-s", site, "--yes").code == 0
    r = rc("catalog", "apply", "-s", site, "--yes")
    assert r.code == 0
    assert r.out.splitlines()[-1] == ("No changes: Keystone matches the site. "
                                      "Plan: 0 to create, 0 to update in place, 0 to delete, 48 unchanged.")
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
    assert (big.requests, len(cat.endpoints)) == (3, 39)


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
    assert r.code == 2  # without --prune nothing is deleted, but CI sees the drift (issue 9 item 14)...
    held = json.loads(r.out)["not_pruned"]  # ...but the plan says what --prune would delete
    assert sorted((c["kind"], c.get("region", c.get("id"))) for c in held) == (
        [("endpoint", "OSR2")] * 17 + [("region", "OSR2")])

    r = rc("catalog", "apply", "-s", str(site), "--prune", "--yes")
    assert r.code == 0, r.err
    assert r.out.splitlines()[-1] == "Apply complete: 0 created, 0 updated in place, 18 deleted."
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
    assert r.code == 2  # duplicates held back are drift CI must see (issue 9 item 14)
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
        "region": ["identity", "cloudformation", "compute", "image", "network", "orchestration", "placement",
                   "volumev3"],
        "AR": ["pub int adm", "", "", "", "", "", "", ""],
        "OSR1": ["pub int adm", "pub int", "pub~ int", "pub int", "pub int", "pub int", "pub int", "pub int"],
        "OSR2": ["pub int adm", "pub int", "pub int", "pub int+", "pub int", "pub int", "pub int", "pub int"],
        "RegionOne": ["pub int", "", "", "", "", "", "", ""],
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
        r = rc("catalog", "apply", "-s", site, "--yes", "--parallel", "1")
        assert r.code == 1
        assert one_line(r) == (
            "regionctl: error: Keystone refused POST /v3/regions for user 'catalog-reader' (HTTP 403): it lacks "
            "permission 'identity:create_region'; use a user with the admin role (clouds.yaml / OS_*) "
            "[stopped after 0 of 47 changes: running apply again will not help until the user has that "
            "permission]")
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
            r = rc("catalog", "apply", "-s", str(EXAMPLES / "admin-region"), "--yes", "--parallel", "1",
                   "--retry-for", "1")
        assert r.code == 1
        assert one_line(r) == (
            f"regionctl: error: cannot reach Keystone at {dk.url} (connection refused, retried for up to 1 s): "
            "check that it runs and that OS_AUTH_URL / clouds.yaml auth_url is right [stopped after 11 of 47 "
            "changes: run 'regionctl catalog apply' again to finish; it re-reads Keystone and creates nothing twice]")
        assert "Done before it stopped (11 of 47):" in r.out.splitlines()
        dk.stop()
        dk = start(data, region="AR", port=dk.port)
        r = rc("catalog", "apply", "-s", str(EXAMPLES / "admin-region"), "--yes")
        assert r.code == 0, r.err
        assert r.out.splitlines()[-1] == "Apply complete: 35 created, 1 updated in place, 0 deleted."
        assert rc("catalog", "plan", "-s", str(EXAMPLES / "admin-region"), "--prune",
                  "--detailed-exitcode").code == 0
        cat = live()
        ids(cat)  # no duplicates
        assert rows_in(cat, {"AR", "OSR1", "OSR2"}) == admin_region_rows()
    finally:
        dk.stop()


def _proxy(ks: DevKeystone, *faults: Fault, delay_ms: float = 0) -> FaultProxy:
    return FaultProxy(ks.url, delay_ms, list(faults)).start()


def test_503_mid_apply_is_retried_and_converges(ks: DevKeystone, rc: Callable[..., Result],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = _proxy(ks, Fault("503", "POST", r"/endpoints$", nth=5))
    try:
        monkeypatch.setenv("OS_AUTH_URL", proxy.url)
        site = str(EXAMPLES / "admin-region")
        r = rc("catalog", "apply", "-s", site, "--yes")
        assert (r.code, r.err) == (0, "")
        assert r.out.splitlines()[-1] == ("Apply complete: 47 created, 0 updated in place, 0 deleted. "
                                          "(1 request(s) retried)")
        assert proxy.stats.faults == {"503": 1}
        assert rc("catalog", "plan", "-s", site, "--detailed-exitcode").code == 0
        assert rows_in(live(), {"AR", "OSR1", "OSR2"}) == admin_region_rows()
    finally:
        proxy.stop()


def test_503_on_every_third_request_converges_in_one_run(ks: DevKeystone, rc: Callable[..., Result],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18: this took 59 runs of apply when nothing was retried."""
    proxy = _proxy(ks, Fault("503", every=3))
    try:
        monkeypatch.setenv("OS_AUTH_URL", proxy.url)
        site = str(EXAMPLES / "admin-region")
        r = rc("catalog", "apply", "-s", site, "--yes")
        assert (r.code, r.err) == (0, "")
        assert r.out.splitlines()[-1].startswith("Apply complete: 47 created, 0 updated in place, 0 deleted. (")
        assert proxy.stats.faults["503"] >= 13
        proxy.faults = []
        ids(live())  # no duplicates
        assert rows_in(live(), {"AR", "OSR1", "OSR2"}) == admin_region_rows()
    finally:
        proxy.stop()


def test_429_retry_after_is_honoured_and_a_long_one_gives_up(ks: DevKeystone, rc: Callable[..., Result],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = _proxy(ks, Fault("429", "POST", r"/regions$", nth=2, retry_after="1"))
    try:
        monkeypatch.setenv("OS_AUTH_URL", proxy.url)
        site = str(EXAMPLES / "admin-region")
        t0 = time.monotonic()
        r = rc("catalog", "apply", "-s", site, "--yes", "--parallel", "1")
        assert (r.code, r.err) == (0, "")
        assert time.monotonic() - t0 >= 1.0  # it waited as told
        assert proxy.stats.faults == {"429": 1}
        rc_reset(ks)
        proxy.faults = [Fault("429", "POST", r"/regions$", nth=1, retry_after="30")]
        r = rc("catalog", "apply", "-s", site, "--yes", "--parallel", "1", "--retry-for", "5")
        assert r.code == 1
        assert one_line(r) == (
            f"regionctl: error: Keystone at {proxy.url} is limiting requests (HTTP 429 on POST /v3/regions): "
            "Too Many Requests (asked to retry after 30 s, beyond the 5 s cap): wait, or lower --parallel, then "
            "re-run [stopped after 0 of 47 changes: run 'regionctl catalog apply' again to finish; it re-reads "
            "Keystone and creates nothing twice]")
    finally:
        proxy.stop()


def rc_reset(dk: DevKeystone) -> None:
    """Back to bootstrap, straight to Keystone (the OS_AUTH_URL may point at a proxy)."""
    url = os.environ["OS_AUTH_URL"]
    os.environ["OS_AUTH_URL"] = dk.url
    try:
        reset(dk)
    finally:
        os.environ["OS_AUTH_URL"] = url


def test_lost_answers_are_read_back_never_repeated_blindly(ks: DevKeystone, rc: Callable[..., Result],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Dropped after Keystone did it (drop-after) and before it saw it (drop-before): no duplicate, nothing missing."""
    proxy = _proxy(ks, Fault("drop-after", "POST", r"/endpoints$", nth=3),
                   Fault("drop-after", "POST", r"/services$", nth=2),
                   Fault("drop-after", "POST", r"/regions$", nth=1),
                   Fault("drop-before", "POST", r"/endpoints$", nth=7))
    try:
        monkeypatch.setenv("OS_AUTH_URL", proxy.url)
        site = str(EXAMPLES / "admin-region")
        r = rc("catalog", "apply", "-s", site, "--yes")
        assert (r.code, r.err) == (0, "")
        assert r.out.splitlines()[-1] == ("Apply complete: 47 created, 0 updated in place, 0 deleted. "
                                          "(3 lost answer(s) settled by reading back)")
        assert proxy.stats.faults == {"drop-after": 3, "drop-before": 1}
        cat = live()
        ids(cat)  # no duplicate endpoint
        assert sorted(s.key for s in cat.services) == sorted(set(s.key for s in cat.services))
        assert rows_in(cat, {"AR", "OSR1", "OSR2"}) == admin_region_rows()
        assert rc("catalog", "plan", "-s", site, "--detailed-exitcode").code == 0
    finally:
        proxy.stop()


def test_refused_connections_after_keystone_answered_are_retried(ks: DevKeystone, rc: Callable[..., Result],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = _proxy(ks)
    try:
        monkeypatch.setenv("OS_AUTH_URL", proxy.url)
        k = connect()
        k.read()  # Keystone has answered
        proxy.refuse(1.0)
        k.conn.session.session.close()  # new connections from here on: refused for a second
        t0 = time.monotonic()
        cat = k.read()
        assert time.monotonic() - t0 >= 0.5
        assert k.retries >= 1 and len(cat.endpoints) == 2
    finally:
        proxy.stop()


# ---- several clouds, and dev-keystone itself ---------------------------------------------------


def test_import_of_two_keystones_is_a_site_of_two_clouds(ks: DevKeystone, rc: Callable[..., Result], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # serial, so Keystone lists the regions in the site's order (the importer keeps that order)
    assert rc("catalog", "apply", "-s", str(EXAMPLES / "admin-region"), "--yes", "--parallel", "1").code == 0
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
        assert not [line for line in r.err.splitlines() if "has its own Keystone" in line], r.err
        from regionctl.check.site import check_all
        from regionctl.site.load import load

        site = load(out).site
        assert site is not None
        assert list(site.regions) == ["RegionOne", "AR", "OSR1", "OSR2", "Far"]
        assert list(site.clouds) == ["a", "b"] and [site.cloud_of(r) for r in site.regions] == ["a"] * 4 + ["b"]
        assert site.identity_regions("a") == ["AR"] and site.identity_regions("b") == ["Far"]
        assert [str(p) for p in check_all(load(out)) if p.is_error] == []
        r = rc("catalog", "plan", "-s", str(out))  # each cloud against its own Keystone
        assert r.code == 0, r.out + r.err
        a, b = r.out.split("Catalog plan against cloud b: ")
        assert a.startswith("Catalog plan against cloud a: ") and b.startswith(f"{other.url} as admin:")
        assert "No changes: Keystone matches the site." in b
        # cloud a: only the identity endpoints of the session Keystone's own bootstrap region, as warned
        assert "Plan: 1 to create, 2 to update in place, 0 to delete" in a
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
    assert f"Apply these 47 changes to Keystone at {ks.url}? [y/N]: n" in out
    assert out.rstrip().endswith("regionctl: aborted")
    assert len(live().endpoints) == 2
    code, out = _on_a_terminal(["catalog", "apply", "-s", site], b"y\n")
    assert code == 0, out
    assert out.rstrip().endswith("Apply complete: 47 created, 0 updated in place, 0 deleted.")
    assert rows_in(live(), {"AR", "OSR1", "OSR2"}) == admin_region_rows()


# ---- saved plans -------------------------------------------------------------------------------


def test_saved_plan_runs_exactly_and_a_stale_one_is_refused(ks: DevKeystone, rc: Callable[..., Result],
                                                            tmp_path: Path) -> None:
    site = copy_site("admin-region", tmp_path)
    saved = tmp_path / "plan.json"
    r = rc("catalog", "plan", "-s", str(site), "-o", str(saved))
    assert r.code == 0, r.err
    doc = json.loads(saved.read_text())
    assert doc["format"] == "regionctl.catalog-plan/1" and doc["live"]["fingerprint"].startswith("sha256:")
    assert doc["site"]["revision"].startswith("sha256:") and len(doc["changes"]) == 47
    assert json.loads(rc("catalog", "plan", "-s", str(site), "-f", "json").out) == doc  # one schema
    assert oct(saved.stat().st_mode & 0o777) == "0o600"

    (site / "site.yaml").write_text((site / "site.yaml").read_text().replace("OpenStack region 1", "Changed"))
    r = rc("catalog", "apply", str(saved), "--yes")  # the site changed since: the saved plan still rules
    assert r.code == 0, r.err
    assert r.out.splitlines()[-1] == "Apply complete: 47 created, 0 updated in place, 0 deleted."
    assert {r_.id: r_.description for r_ in live().regions}["OSR1"] == "OpenStack region 1"

    r = rc("catalog", "apply", str(saved), "--yes")  # Keystone changed since (by this very plan)
    assert r.code == 1
    line = one_line(r)
    assert line.startswith(f"regionctl: error: {saved}: stale plan: Keystone's catalog changed since it was made "
                           "(region AR added, region OSR1 added, region OSR2 added and 44 more change(s)): "), line
    assert line.endswith(f"make a new one with 'regionctl catalog plan -o {saved}' and review it")

    r = rc("catalog", "plan", "-s", str(site), "-o", str(saved))
    k = connect()
    osr2 = next(e for e in k.read().endpoints if e.region == "OSR2" and e.type == "compute" and e.interface == "public")
    k.call("PATCH", f"/endpoints/{osr2.id}", {"endpoint": {"url": "http://192.0.2.77:8774/v2.1"}})
    r = rc("catalog", "apply", str(saved), "--yes")
    assert one_line(r) == (f"regionctl: error: {saved}: stale plan: Keystone's catalog changed since it was made "
                           f"(endpoint {osr2.id} (OSR2 public) url changed): make a new one with 'regionctl "
                           f"catalog plan -o {saved}' and review it")


def test_saved_plan_that_is_not_one_is_one_line(ks: DevKeystone, rc: Callable[..., Result], tmp_path: Path) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text('{"format": "something else"}')
    r = rc("catalog", "apply", str(bad), "--yes")
    assert one_line(r) == (f"regionctl: error: {bad}: error: not a saved plan of this regionctl (format "
                           "'something else', expected 'regionctl.catalog-plan/1'): make one with "
                           f"'regionctl catalog plan -o {bad}'")
    bad.write_text("{\n  oops")
    r = rc("catalog", "apply", str(bad), "--yes")
    assert one_line(r) == (f"regionctl: error: {bad}:2: error: not a saved plan (invalid JSON): make one with "
                           f"'regionctl catalog plan -o {bad}'")


# ---- prune never deletes the Keystone it talks to ---------------------------------------------


def test_prune_keeps_identity_endpoints_of_this_keystone_however_it_is_spelled(
        ks: DevKeystone, monkeypatch: pytest.MonkeyPatch) -> None:
    """Authenticated as http://localhost:PORT (unversioned) from another region: 127.0.0.1 endpoints stay."""
    port = ks.port
    monkeypatch.setenv("OS_AUTH_URL", f"http://localhost:{port}")
    monkeypatch.setenv("OS_REGION_NAME", "Elsewhere")
    k = connect()
    assert k.identity_url.rstrip("/") == f"http://localhost:{port}/v3"
    cat = k.read()
    k.call("POST", "/endpoints", {"endpoint": {"service_id": cat.services[0].id, "interface": "admin",
                                               "region_id": ks.region, "url": f"http://[::1]:{port}/v3/"}})
    cat = k.read()
    nothing = Catalog((Region(ks.region),))
    p = plan(nothing, cat, prune=True, managed=[ks.region])
    assert p.changes == ()
    assert len(p.notes) == 3 and all(n.endswith("is kept: regionctl authenticated through it") for n in p.notes)
    monkeypatch.setenv("OS_AUTH_URL", ks.url)


# ---- a production-shaped Keystone: several worker processes -------------------------------------


def test_parallel_apply_against_two_workers(rc: Callable[..., Result], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from regionctl.devkeystone import workers_available

    if not workers_available():
        pytest.skip("gunicorn is not installed: pip install 'regionctl[keystone]'")
    dk = start(tmp_path / "k", region="AR", workers=2)
    try:
        deadline = time.monotonic() + 30
        while True:  # two worker processes under gunicorn's arbiter
            out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(dk.pid)], capture_output=True, text=True).stdout
            if len(out.split()) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len(out.split()) == 2, out
        use_env(monkeypatch, dk.env(), tmp_path)
        site = str(EXAMPLES / "admin-region")
        r = rc("catalog", "apply", "-s", site, "--yes", "--parallel", "10")
        assert (r.code, r.err) == (0, "")
        assert r.out.splitlines()[-1] == "Apply complete: 44 created, 3 updated in place, 0 deleted."
        cat = live()
        ids(cat)
        assert rows_in(cat, {"AR", "OSR1", "OSR2"}) == admin_region_rows()
        assert rc("catalog", "plan", "-s", site, "--detailed-exitcode").code == 0  # every worker sees it all
        served = {line.split()[1] for line in dk.log_file.read_text().splitlines() if '"POST /v3/endpoints' in line}
        assert len(served) == 2, served  # both workers wrote (gunicorn's access lines name the pid)
    finally:
        dk.stop()
