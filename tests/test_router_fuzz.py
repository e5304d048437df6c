"""Hostile scope headers against the real rendered routers (a bounded number of requests):
no crash, every refusal a 400 with a reason, the router's verdict the grammar's, and no request
ever reaching an address the site does not declare."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regionctl.scope.grammar import ScopeError, parse
from router_fixture import PORTS, REGIONS, Topology, need_router_env, render, site_yaml, start_backends, start_router

pytestmark = pytest.mark.router

HAPROXY_PARSE_ERROR = b"<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n"
TRAP = "127.0.0.99"  # an address no site declares: a request reaching it is a failure
TYPES = {"identity", "compute", "placement", "network", "image", "volumev3"}
NAMES = set(REGIONS)


@pytest.fixture(scope="module")
def topo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    need_router_env()
    tmp = tmp_path_factory.mktemp("fuzz")
    out = render(tmp, site_yaml())
    t = Topology(out)
    try:
        start_backends(t)
        start_backends(t, {"TRAP": TRAP})
        for r, ip in REGIONS.items():
            start_router(t, out / r / "haproxy", (ip, PORTS["compute"]))
        yield t
        for p in t.procs:
            assert p.poll() is None, "a router died"
    finally:
        t.stop()


def raw_request(host: str, port: int, head: bytes) -> tuple[int, bytes]:
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(head)
        resp = http.client.HTTPResponse(s)
        resp.begin()
        return resp.status, resp.read()


names = st.sampled_from(sorted(NAMES) + [TRAP, "R4", "r1", "R1 ", "", "R1,compute=R2", "é", "R1\\u0000"])
types = st.sampled_from(sorted(TYPES) + ["Compute", "volume", "", "x" * 300])
json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), names),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(types, inner, max_size=3),
                           max_leaves=8)
scope_text = st.one_of(
    st.dictionaries(types, json_values, max_size=4).map(json.dumps),
    st.dictionaries(types, names, max_size=4).map(json.dumps),
    st.lists(st.tuples(types, names), max_size=4).map(lambda ps: ",".join(f"{k}={v}" for k, v in ps)),
    st.text(max_size=200),
    st.integers(min_value=1, max_value=20000).map(lambda n: "compute=" + "R" * n),
)
extra = st.sampled_from([
    b"", b"X-Identity-Url: http://127.0.0.99:5000/v3\r\n", b"Host: 127.0.0.99:8774\r\n",
    b"OpenStack-Scope-Hops: 99999999999999999999\r\n", b"OpenStack-Scope-Hops: 1\r\nOpenStack-Scope-Hops: 1\r\n",
    b"X-Auth-Token: tok!SCOPE!{\"compute\": \"R2\"}\r\n", b"X-Scope: compute=R3\r\n",
])


@settings(max_examples=250, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                    HealthCheck.function_scoped_fixture])
@given(scope=scope_text, copies=st.integers(min_value=0, max_value=3), more=extra,
       inject=st.sampled_from(["", "\r\nX-Identity-Url: http://127.0.0.99:5000", "\n", "\r", "\x00", "\x7f"]),
       entry=st.sampled_from(sorted(REGIONS)), header=st.sampled_from(["OpenStack-Scope", "X-Scope", "openstack-scope"]))
def test_hostile_headers(topo: Topology, scope: str, copies: int, more: bytes, inject: str, entry: str,
                         header: str) -> None:
    value = (scope + inject).encode("utf-8", "surrogatepass")
    head = (f"GET /v2.1/servers HTTP/1.1\r\nHost: {REGIONS[entry]}:8774\r\nX-Test-Id: fuzz\r\n".encode()
            + b"".join(header.encode() + b": " + value + b"\r\n" for _ in range(copies)) + more + b"\r\n")
    status, body = raw_request(REGIONS[entry], PORTS["compute"], head)
    assert status in (200, 400, 508), (status, body[:200])
    if body == HAPROXY_PARSE_ERROR:
        # Not HTTP at all (a CR, NUL or DEL in a header, two Host headers, headers larger than
        # HAProxy's buffer): HAProxy 2.6 refuses it while parsing,
        # before any rule, with its built-in page (custom pages apply there only from 3.2:
        # haproxy/haproxy#3032). Still a 400 with a reason, and nothing was forwarded.
        ctl = {*range(0x20), 0x7f} - {0x09}
        sent = value.replace(b"\r\nX-Identity-Url", b"X-Identity-Url") if copies else b""
        too_large = len(head) > 16384 - 1024  # tune.bufsize - tune.maxrewrite
        assert status == 400 and (any(b in ctl for b in sent) or b"Host:" in more or too_large), head[:300]
        return
    try:
        answer = json.loads(body)
    except ValueError:
        raise AssertionError(f"not JSON: {status} {body[:300]!r} for {head[:300]!r}") from None
    if status != 200:
        assert answer["error"]["code"] == status and answer["error"]["message"]
        assert "\n" not in body.decode().strip()
    else:
        assert answer["server"] in {f"{r}:8774" for r in REGIONS}
    plain = copies == 1 and not more and not inject and len(value) <= 2048
    if plain:  # one well-formed header: the router decides as the grammar does
        try:
            target = parse(scope, types=TYPES, names=NAMES).target("compute", entry)
        except ScopeError:
            target = None
        assert (status, answer.get("server")) == ((200, f"{target}:8774") if target else (400, None)), scope
    assert not [r for r in topo.seen if str(r["server"]).startswith("TRAP")], "a request reached an undeclared address"


def test_absolute_uri_cannot_pick_the_destination(topo: Topology) -> None:
    """A proxy-style request naming another host still goes where the site says."""
    status, body = raw_request(REGIONS["R1"], PORTS["compute"],
                               b"GET http://127.0.0.99:8774/x HTTP/1.1\r\nHost: 127.0.0.99:8774\r\nX-Test-Id: abs\r\n\r\n")
    assert (status, json.loads(body)["server"]) == (200, "R1:8774")
    assert not [r for r in topo.seen if str(r["server"]).startswith("TRAP")]
