"""Two real Keystones behind two rendered routers (examples/two-clouds' shape, on loopback): a
token request to CloudOne's router scoped to CloudTwo is answered by CloudTwo's Keystone."""

from __future__ import annotations

import http.client

import pytest

from clouds_fixture import ROUTERS, regions_in, token_request
from regionctl.devkeystone import DevKeystone
from router_fixture import Topology

pytestmark = [pytest.mark.router, pytest.mark.keystone]


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
