"""Two real Keystones behind two rendered routers (examples/two-clouds' shape, on loopback): a
token request to CloudOne's router scoped to CloudTwo is answered by CloudTwo's Keystone."""

from __future__ import annotations

import http.client
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import SECRETS, make_site, run_process
from regionctl.devkeystone import DevKeystone, keystone_available, start
from router_fixture import Topology, need_router_env, start_router

pytestmark = [pytest.mark.router, pytest.mark.keystone]

ROUTERS = {"RegionOne": "127.0.0.2", "RegionTwo": "127.0.0.3"}
PASSWORD = "cloud-two-admin-pw"


def site_yaml(ports: dict[str, int]) -> str:
    out = ["format: 1", "clouds:", "  CloudOne: {}", "  CloudTwo: {}", "regions:"]
    for (region, ip), cloud in zip(ROUTERS.items(), ("CloudOne", "CloudTwo")):
        out += [f"  {region}:", f"    cloud: {cloud}", "    addresses:", f"      public: http://{ip}",
                "    router:", "      servers: [127.0.0.1]", f"      ports: {{identity: {ports[region]}}}",
                "    services:", "      keystone:"]
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
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


def test_token_scoped_to_cloud_two_comes_from_cloud_two(clouds: tuple[Topology, dict[str, DevKeystone]]) -> None:
    _, keystones = clouds
    status, token, body = token_request(ROUTERS["RegionOne"], "identity=CloudTwo", keystones["RegionTwo"])
    assert status == 201, body
    assert regions_in(body) == {"RegionTwo"}  # CloudTwo's catalog: it issued the token
    # and CloudTwo's Keystone, asked directly, knows the token
    conn = http.client.HTTPConnection("127.0.0.1", keystones["RegionTwo"].port, timeout=30)
    conn.request("GET", "/v3/auth/tokens", headers={"X-Auth-Token": token, "X-Subject-Token": token})
    assert conn.getresponse().status == 200
    conn.close()


def test_without_scope_each_router_asks_its_own_keystone(clouds: tuple[Topology, dict[str, DevKeystone]]) -> None:
    _, keystones = clouds
    one, two = keystones["RegionOne"], keystones["RegionTwo"]
    # (CloudOne is the session's Keystone: other tests may have added regions to its catalog)
    cloud_one = regions_in(token_request(ROUTERS["RegionOne"], None, one)[2])
    assert "RegionOne" in cloud_one and "RegionTwo" not in cloud_one
    assert regions_in(token_request(ROUTERS["RegionTwo"], None, two)[2]) == {"RegionTwo"}
    assert regions_in(token_request(ROUTERS["RegionTwo"], '{"identity": "CloudOne"}', one)[2]) == cloud_one
    assert token_request(ROUTERS["RegionOne"], None, two)[0] == 401  # CloudTwo's admin is not CloudOne's
    status, _, body = token_request(ROUTERS["RegionOne"], "identity=CloudThree", one)
    assert (status, body["error"]["message"]) == (400, "unknown region or cloud 'CloudThree'")  # type: ignore[index]
