"""Real HAProxy routers with topologies of their own (each test starts and stops its routers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from router_fixture import PORTS, REGIONS, SERVERS, Topology, need_router_env, render, site_yaml, start_backends, \
    start_router

pytestmark = pytest.mark.router


def test_a_misconfigured_router_loop_ends_in_508(tmp_path: Path) -> None:
    """R2's router listening on R3's address (a wrong ``listen``) forwards R3's calls to itself."""
    need_router_env()
    out = render(tmp_path, site_yaml({"R2": "listen: 127.0.0.4"}))
    t = Topology(out)
    try:
        start_backends(t, {"R1": SERVERS["R1"]})
        start_router(t, out / "R1" / "haproxy", (REGIONS["R1"], PORTS["compute"]))
        start_router(t, out / "R2" / "haproxy", ("127.0.0.4", PORTS["compute"]))
        status, body = t.request("R1", PORTS["compute"], "/x", {"OpenStack-Scope": "compute=R3"})
        assert status == 508, body
        assert body["error"]["message"] == "the request passed 3 routers: at most 2 (a routing loop?)"  # type: ignore[index]
    finally:
        t.stop()


def test_apis_on_one_port_told_apart_by_host(tmp_path: Path) -> None:
    """Host-name endpoints (Genestack's ``{name}`` templates) share port 80: Host picks the API."""
    need_router_env()
    site = ("format: 1\nregions:\n  R1:\n    addresses:\n      public: http://{name}.r1.test\n"
            "    router:\n      servers: [127.0.1.2]\n      listen: 127.0.0.2\n"
            "    infra: {database: 127.0.1.2, messaging: ['127.0.1.2:5672'], memcached: ['127.0.1.2:11211']}\n"
            "    services:\n      keystone:\n      nova:\n      placement:\n      neutron:\n      glance:\n")
    out = render(tmp_path, site, ("R1",))
    t = Topology(out)
    try:
        start_backends(t, {"R1": SERVERS["R1"]})
        start_router(t, out / "R1" / "haproxy", (REGIONS["R1"], 80))
        for host, scope, server in [("nova.r1.test", "", "R1:8774"), ("glance.r1.test:80", "image=R1", "R1:9292"),
                                    ("keystone.r1.test", '{"identity": "R1"}', "R1:5000"),
                                    ("elsewhere.test", "compute=R1", "R1:5000")]:  # no API's host: the default
            headers = {"Host": host, "X-Test-Id": "1", **({"OpenStack-Scope": scope} if scope else {})}
            status, body = t.request("R1", 80, "/v2.1/servers", headers)
            assert (status, body.get("server")) == (200, server), (host, body)
    finally:
        t.stop()
