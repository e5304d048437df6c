"""A routing loop between real HAProxy routers ends in 508 (its own module: its own routers)."""

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
