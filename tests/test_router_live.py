"""The rendered routers, run by the real HAProxy on loopback: three regions, real requests."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from router_fixture import PORTS, REGIONS, Topology, need_router_env, render, site_yaml, start_backends, start_router

pytestmark = pytest.mark.router

TYPES = ("compute", "placement", "network", "image", "volumev3")


@pytest.fixture(scope="module")
def topo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    need_router_env()
    tmp = tmp_path_factory.mktemp("routers")
    # R1 also registers cinder's volumev2: two APIs on port 8776, told apart by path.
    # R3's public frontends honour scope only from 10.0.0.0/8 (so not from loopback).
    site = site_yaml({"R3": "scope_from:\n  public: [10.0.0.0/8]"}).replace(
        "      cinder:\n  R2:", "      cinder:\n        catalog: [volumev2, volumev3]\n  R2:")
    out = render(tmp, site)
    t = Topology(out)
    try:
        start_backends(t)
        for r, ip in REGIONS.items():
            start_router(t, out / r / "haproxy", (ip, PORTS["compute"]))
        yield t
    finally:
        t.stop()


def ask(topo: Topology, region: str, type_: str, headers: dict[str, str] | None = None,
        path: str = "") -> tuple[int, dict[str, object]]:
    path = path or ("/v3/p/volumes" if type_ == "volumev3" else "/x")
    return topo.request(region, PORTS[type_], path, {"X-Test-Id": "1", **(headers or {})})


def test_no_scope_stays_local(topo: Topology) -> None:
    for region in REGIONS:
        for t in TYPES:
            status, body = ask(topo, region, t)
            assert (status, body["server"]) == (200, f"{region}:{PORTS[t]}")


@pytest.mark.parametrize("form", ["json", "compact"])
def test_every_scope_lands_on_its_region(topo: Topology, form: str) -> None:
    for entry in ("R1", "R2"):  # R3 drops the scope of loopback clients
        for t in TYPES:
            for target in REGIONS:
                scope = json.dumps({t: target, "identity": "R1"}) if form == "json" else f"identity=R1,{t}={target}"
                status, body = ask(topo, entry, t, {"OpenStack-Scope": scope})
                assert (status, body["server"]) == (200, f"{target}:{PORTS[t]}"), (entry, t, target)


def test_identity_is_the_one_keystone_whatever_the_region(topo: Topology) -> None:
    for target in REGIONS:
        status, body = ask(topo, "R1", "identity", {"OpenStack-Scope": f"identity={target}"}, "/v3/auth/tokens")
        assert (status, body.get("server")) == (200, "R1:5000"), (target, status, body)


def test_remote_hop_rewrites_host_and_keeps_the_scope(topo: Topology) -> None:
    status, body = ask(topo, "R1", "image", {"OpenStack-Scope": '{"image": "R2"}', "Host": "127.0.0.2:9292"})
    headers = body["headers"]
    assert isinstance(headers, dict)
    assert (status, body["server"], headers["host"]) == (200, "R2:9292", "127.0.0.3:9292")
    assert headers["openstack-scope"] == '{"image": "R2"}'
    assert "openstack-scope-hops" not in headers  # removed before the local servers
    status, body = ask(topo, "R1", "image", {"Host": "127.0.0.2:9292"})
    assert body["headers"]["host"] == "127.0.0.2:9292"  # type: ignore[index]


def test_unknown_names_are_400_with_the_reason(topo: Topology) -> None:
    cases = {
        '{"compute": "R9"}': "unknown region or cloud 'R9'",
        "comptue=R2": "unknown service type 'comptue'",
        "compute=R2,compute=R3": "service type 'compute' is given twice",
        '{"compute": ["R2"]}': "malformed scope: give a JSON object of service type to region or cloud, "
                               "or type=name,type=name",
        "x" * 3000: "the scope is longer than 2048 bytes",
    }
    for scope, reason in cases.items():
        status, body = ask(topo, "R1", "compute", {"OpenStack-Scope": scope})
        assert (status, body) == (400, {"error": {"code": 400, "title": "Bad Request", "message": reason}}), scope


def test_region_without_the_api_is_400(topo: Topology) -> None:
    status, body = ask(topo, "R1", "volumev3", {"OpenStack-Scope": "volumev2=R2"}, "/v2/p/volumes")
    assert status == 400
    assert body["error"]["message"] == "R2 has no public volumev2 endpoint in the catalog"  # type: ignore[index]


def test_path_no_api_owns_goes_to_the_local_default(topo: Topology) -> None:
    status, body = ask(topo, "R1", "volumev3", {"OpenStack-Scope": "volumev3=R2"}, "/")
    assert (status, body["server"]) == (200, "R1:8776")
    status, body = ask(topo, "R1", "volumev3", {"OpenStack-Scope": "volumev3=R2"}, "/v3/p/volumes")
    assert (status, body["server"]) == (200, "R2:8776")


def test_hop_counter_stops_loops(topo: Topology) -> None:
    status, body = ask(topo, "R1", "compute", {"OpenStack-Scope-Hops": "3"})
    assert status == 508
    assert body["error"]["message"] == "the request passed 3 routers: at most 2 (a routing loop?)"  # type: ignore[index]
    assert ask(topo, "R1", "compute", {"OpenStack-Scope-Hops": "2"})[0] == 200
    assert ask(topo, "R1", "compute", {"OpenStack-Scope-Hops": "-1"})[0] == 400


def test_token_suffix_is_the_scope_and_is_stripped(topo: Topology) -> None:
    token = 'gAAAAAB-token!SCOPE!{"compute": "R2"}'
    status, body = ask(topo, "R1", "compute", {"X-Auth-Token": token, "X-Subject-Token": "subj!SCOPE!x"})
    headers = body["headers"]
    assert isinstance(headers, dict)
    assert (status, body["server"]) == (200, "R2:8774")
    assert headers["x-auth-token"] == "gAAAAAB-token"
    assert headers["x-subject-token"] == "subj"
    assert headers["openstack-scope"] == '{"compute": "R2"}'


def test_x_scope_header_of_openstackoid(topo: Topology) -> None:
    status, body = ask(topo, "R1", "network", {"X-Scope": '{"network": "R3"}'})
    assert (status, body["server"]) == (200, "R3:9696")
    assert "x-scope" not in body["headers"]  # type: ignore[operator]


def test_untrusted_scope_is_dropped(topo: Topology) -> None:
    # R3's public frontends honour scope only from 10.0.0.0/8; this client is 127.0.0.1
    status, body = ask(topo, "R3", "compute", {"OpenStack-Scope": "compute=R2", "X-Auth-Token": "t!SCOPE!compute=R2"})
    headers = body["headers"]
    assert isinstance(headers, dict)
    assert (status, body["server"]) == (200, "R3:8774")
    assert "openstack-scope" not in headers and headers["x-auth-token"] == "t"


def test_identity_urls_from_clients_are_removed(topo: Topology) -> None:
    status, body = ask(topo, "R1", "compute", {"X-Identity-Url": "http://127.0.0.99:5000", "X-Identity-Cloud": "x"})
    assert status == 200
    assert not {"x-identity-url", "x-identity-cloud"} & set(body["headers"])  # type: ignore[arg-type]
