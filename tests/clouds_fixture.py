"""Two real Keystones behind two rendered routers, examples/two-clouds' shape on loopback: one
session fixture (``clouds``, imported by conftest.py) for every test that needs them, since each
Keystone costs seconds. CloudOne is the session's Keystone; CloudTwo one of its own."""

from __future__ import annotations

import http.client
import json
import shutil
from collections.abc import Iterator

import pytest

from conftest import SECRETS, make_site, run_process
from regionctl.devkeystone import DevKeystone, keystone_available, start
from router_fixture import Topology, need_router_env, start_router

ROUTERS = {"RegionOne": "127.0.0.6", "RegionTwo": "127.0.0.7"}  # apart from router_fixture.py's .2-.4
PASSWORD = "cloud-two-admin-pw"


def site_yaml(ports: dict[str, int]) -> str:
    out = ["format: 1", "clouds:", "  CloudOne: {}", "  CloudTwo: {}", "regions:"]
    for (region, ip), cloud in zip(ROUTERS.items(), ("CloudOne", "CloudTwo")):
        out += [f"  {region}:", f"    cloud: {cloud}", "    addresses:", f"      public: http://{ip}",
                "    router:", "      servers: [127.0.0.1]", f"      ports: {{identity: {ports[region]}}}",
                "    services:", "      keystone:"]
    return "\n".join(out) + "\n"


@pytest.fixture(scope="session")
def clouds(tmp_path_factory: pytest.TempPathFactory,
           dev_keystone: DevKeystone) -> Iterator[tuple[Topology, dict[str, DevKeystone]]]:
    """CloudOne is the session's Keystone (region RegionOne); CloudTwo one of its own."""
    need_router_env()
    if not keystone_available():
        pytest.skip("needs regionctl[keystone]")
    tmp = tmp_path_factory.mktemp("clouds")
    keystones: dict[str, DevKeystone] = {"RegionOne": dev_keystone}
    t: Topology | None = None
    try:
        keystones["RegionTwo"] = start(tmp / "RegionTwo", region="RegionTwo", password=PASSWORD)
        root = make_site(tmp / "site", site_yaml({r: k.port for r, k in keystones.items()}),
                         {f"regions/{r}/secrets.yaml": SECRETS for r in ROUTERS})
        for gone in ("One", "Two"):
            shutil.rmtree(root / "regions" / gone, ignore_errors=True)
        out = tmp / "out"
        r = run_process(["render", "-s", str(root), "--format", "haproxy", "-o", str(out)])
        assert r.code == 0, r.err
        t = Topology(out)
        for region, ip in ROUTERS.items():
            start_router(t, out / region / "haproxy", (ip, 5000))
        yield t, keystones
    finally:
        if t is not None:
            t.stop()
        if "RegionTwo" in keystones:
            keystones["RegionTwo"].stop()


def token_request(router: str, scope: str | None, keystone: DevKeystone) -> tuple[int, str, dict[str, object]]:
    """A password token request for ``keystone``'s admin, sent to ``router``."""
    auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": keystone.username, "domain": {"id": "default"}, "password": keystone.password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    conn = http.client.HTTPConnection(router, 5000, timeout=30)
    headers = {"Content-Type": "application/json", **({"OpenStack-Scope": scope} if scope else {})}
    conn.request("POST", "/v3/auth/tokens", json.dumps(auth), headers)
    resp = conn.getresponse()
    body = json.loads(resp.read() or b"{}")
    conn.close()
    return resp.status, resp.getheader("X-Subject-Token") or "", body


def regions_in(body: dict[str, object]) -> set[str]:
    token = body["token"]
    assert isinstance(token, dict)
    return {e["region_id"] for s in token["catalog"] for e in s["endpoints"]}


