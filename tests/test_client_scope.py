"""Scope-aware clients against the real two-clouds Keystones behind rendered routers (issue 15):
the Python API, the real ``openstack`` CLI with regionctl's plugin, and the middleware that
forwards a served request's scope."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from socketserver import ThreadingMixIn

import pytest
from keystoneauth1 import session as ksa_session
from keystoneauth1.identity import v3

from clouds_fixture import PASSWORD, ROUTERS
from regionctl.client.propagate import ScopeMiddleware, current_scope, filter_factory, forward_scope
from regionctl.client.session import ScopedAuth, attach_scope
from regionctl.devkeystone import DevKeystone
from regionctl.scope.grammar import ScopeError
from router_fixture import Topology

pytestmark = [pytest.mark.router, pytest.mark.keystone]
Clouds = tuple[Topology, dict[str, DevKeystone]]
ROUTER_ONE = f"http://{ROUTERS['RegionOne']}:5000/v3"


def password_auth(url: str, keystone: DevKeystone) -> v3.Password:
    return v3.Password(auth_url=url, username=keystone.username, password=keystone.password,
                       user_domain_id="default", project_name="admin", project_domain_id="default")


def known_to(keystone: DevKeystone, token: str) -> bool:
    s = ksa_session.Session()
    r = s.get(f"http://127.0.0.1:{keystone.port}/v3/auth/tokens", raise_exc=False,
              headers={"X-Auth-Token": token, "X-Subject-Token": token})
    return bool(r.status_code == 200)


def test_session_with_scope_gets_cloud_two_token_through_cloud_one_router(clouds: Clouds) -> None:
    _, keystones = clouds
    two = keystones["RegionTwo"]
    s = ksa_session.Session(auth=password_auth(ROUTER_ONE, two))
    assert attach_scope(s, '{"identity": "CloudTwo"}').to_compact() == "identity=CloudTwo"
    token = s.get_token()
    assert token and known_to(two, token)
    assert s.auth.get_access(s).service_catalog.get_endpoints(service_type="identity").get("identity")[0][
        "region_id"] == "RegionTwo"
    # without the scope, CloudOne's router asks CloudOne's Keystone, which does not know CloudTwo's admin
    plain = ksa_session.Session(auth=password_auth(ROUTER_ONE, two))
    with pytest.raises(Exception, match="401"):
        plain.get_token()


def test_bad_scope_is_refused_before_anything_is_sent() -> None:
    s = ksa_session.Session()
    with pytest.raises(ScopeError, match=r"^scope:2: expected '\"' before a service type \(keys are quoted"):
        attach_scope(s, "{identity: CloudTwo}")
    with pytest.raises(ScopeError, match="unknown scope mode 'proxy': use header or direct"):
        attach_scope(s, "image=R2", mode="proxy")
    assert "OpenStack-Scope" not in s.additional_headers


def _add_region_endpoint(admin: ksa_session.Session, url: str, region: str, service_id: str, at: str) -> None:
    admin.post(f"{url}/regions", json={"region": {"id": region}}, raise_exc=False)  # 409 when it exists
    admin.post(f"{url}/endpoints", json={"endpoint": {"service_id": service_id, "interface": "public",
                                                      "region_id": region, "url": at}})


def test_direct_mode_looks_each_type_up_in_its_scoped_region(dev_keystone: DevKeystone) -> None:
    """No router: the image endpoint comes from the scoped region of the one Keystone's catalog."""
    url = f"http://127.0.0.1:{dev_keystone.port}/v3"
    admin = ksa_session.Session(auth=password_auth(url, dev_keystone))
    svc = admin.post(f"{url}/services", json={"service": {"type": "scopetest-image", "name": "st"}}).json()
    sid = svc["service"]["id"]
    _add_region_endpoint(admin, url, "RegionOne", sid, "http://127.0.9.1:9292")
    _add_region_endpoint(admin, url, "ScopeRegionB", sid, "http://127.0.9.2:9292")
    s = ksa_session.Session(auth=password_auth(url, dev_keystone))
    attach_scope(s, "scopetest-image=ScopeRegionB", mode="direct")
    assert isinstance(s.auth, ScopedAuth)
    assert s.get_endpoint(service_type="scopetest-image", region_name="RegionOne",
                          interface="public") == "http://127.0.9.2:9292"
    # a type the scope does not name keeps the caller's region
    assert s.get_endpoint(service_type="identity", region_name="RegionOne", interface="public") == url
    attach_scope(s, "scopetest-image=NoSuchRegion", mode="direct")
    with pytest.raises(ScopeError, match="the catalog has no scopetest-image endpoint in region 'NoSuchRegion'"):
        s.get_endpoint(service_type="scopetest-image", region_name="RegionOne", interface="public")


# --- the real openstack CLI -------------------------------------------------------------------

@pytest.fixture(scope="module")
def osc_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment to run ``openstack`` with regionctl's plugin registered by its entry point.

    The shared venv's regionctl metadata may predate the entry point (an editable install of
    another tree); then a dist-info declaring the same entry point is put on the path."""
    from importlib.metadata import entry_points
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    if not any(ep.value == "regionctl.client.osc" for ep in entry_points(group="openstack.cli.extension")):
        d = tmp_path_factory.mktemp("ep") / "regionctl_scope_plugin-0.dist-info"
        d.mkdir()
        (d / "METADATA").write_text("Metadata-Version: 2.1\nName: regionctl-scope-plugin\nVersion: 0\n")
        (d / "entry_points.txt").write_text("[openstack.cli.extension]\nregionctl_scope = regionctl.client.osc\n")
        env["PYTHONPATH"] = f"{d.parent}{os.pathsep}{env['PYTHONPATH']}"
    return env


def openstack(env: dict[str, str], keystone: DevKeystone, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "openstack"
    creds = ["--os-auth-url", ROUTER_ONE, "--os-username", keystone.username, "--os-password", keystone.password,
             "--os-project-name", "admin", "--os-user-domain-id", "default", "--os-project-domain-id", "default",
             "--os-identity-api-version", "3"]
    return subprocess.run([str(exe), *creds, *args], env=env, capture_output=True, text=True, timeout=120)


def test_openstack_token_issue_scoped_to_cloud_two(clouds: Clouds, osc_env: dict[str, str]) -> None:
    two = clouds[1]["RegionTwo"]
    r = openstack(osc_env, two, "--os-scope", '{"identity": "CloudTwo"}', "token", "issue", "-f", "json")
    assert r.returncode == 0, r.stderr
    assert known_to(two, json.loads(r.stdout)["id"])
    r = openstack(osc_env, two, "token", "issue", "-f", "json")  # no scope: CloudOne's Keystone refuses
    assert r.returncode == 1 and "401" in r.stderr


def test_openstack_catalog_and_endpoint_list_follow_os_scope_env(clouds: Clouds, osc_env: dict[str, str]) -> None:
    two = clouds[1]["RegionTwo"]
    env = {**osc_env, "OS_SCOPE": "identity=CloudTwo"}
    r = openstack(env, two, "catalog", "list", "-f", "json")
    assert r.returncode == 0, r.stderr
    regions = {e["region"] for s in json.loads(r.stdout) for e in s["Endpoints"]}
    assert regions == {"RegionTwo"}
    r = openstack(env, two, "endpoint", "list", "-f", "json")
    assert r.returncode == 0, r.stderr
    assert {e["Region"] for e in json.loads(r.stdout)} == {"RegionTwo"}


def test_openstack_bad_scope_is_one_line_exit_1(clouds: Clouds, osc_env: dict[str, str]) -> None:
    two = clouds[1]["RegionTwo"]
    r = openstack(osc_env, two, "--os-scope", "identity=", "token", "issue")
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "--os-scope: scope:10: expected a region or cloud name for identity (letters, digits, '.', '_', '-'), "
        "found the end of the scope"]


# --- propagation: a service that calls another while serving a request --------------------------

class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def front(clouds: Clouds) -> Iterator[str]:
    """A small service behind ScopeMiddleware (as its paste pipeline would place it): on each
    request it asks for a token as CloudTwo's admin through CloudOne's router, with a session made
    once and forwarding the served request's scope."""
    two = clouds[1]["RegionTwo"]
    outgoing = forward_scope(ksa_session.Session())
    auth_body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": two.username, "domain": {"id": "default"}, "password": two.password}}}}}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        r = outgoing.post(f"{ROUTER_ONE}/auth/tokens", json=auth_body, raise_exc=False)
        scope = current_scope.get()
        body = json.dumps({"status": r.status_code, "scope": scope.to_compact() if scope else None}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    wrapped = filter_factory({}, names="RegionOne,RegionTwo,CloudOne,CloudTwo", types="identity")(app)
    assert isinstance(wrapped, ScopeMiddleware)
    srv = make_server("127.0.0.5", 8080, wrapped, server_class=_Threading, handler_class=_Quiet)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield "http://127.0.0.5:8080"
    srv.shutdown()
    srv.server_close()


def _get(url: str, scope: str | None, extra: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    s = ksa_session.Session()
    r = s.get(url, headers={**({"OpenStack-Scope": scope} if scope else {}), **(extra or {})}, raise_exc=False)
    return r.status_code, r.json()


def test_served_scope_is_forwarded_on_the_services_own_calls(front: str) -> None:
    assert _get(front, "identity=CloudTwo") == (200, {"status": 201, "scope": "identity=CloudTwo"})
    assert _get(front, None) == (200, {"status": 401, "scope": None})  # local: CloudOne's Keystone


def test_no_header_names_the_keystone(front: str, clouds: Clouds) -> None:
    """OpenStackoid's X-Identity-Url picked the Keystone; here it changes nothing."""
    two = f"http://127.0.0.1:{clouds[1]['RegionTwo'].port}/v3"
    assert _get(front, None, {"X-Identity-Url": two, "X-Identity-Cloud": "CloudTwo"}) == \
        (200, {"status": 401, "scope": None})


@pytest.mark.parametrize("scope,reason", [
    ("identity=CloudThree", "unknown region or cloud 'CloudThree' for identity: the site declares "
                            "CloudOne, CloudTwo, RegionOne, RegionTwo"),
    ("image=RegionTwo", "unknown service type 'image': the catalog has identity"),
    ("{identity", "expected '\"' before a service type (keys are quoted strings), found 'i'"),
    ("identity=" + "R" * 2100, "the scope is 2109 bytes: at most 2048 are accepted"),
])
def test_middleware_refuses_what_the_site_does_not_name(front: str, scope: str, reason: str) -> None:
    status, body = _get(front, scope)
    assert (status, body["error"]["message"]) == (400, f"OpenStack-Scope: {reason}")


def test_openstack_scope_on_a_type_the_catalog_lacks_is_one_line(clouds: Clouds, osc_env: dict[str, str]) -> None:
    """The router refuses it (its catalog has identity only). The CLI ends on the router's reason; before
    it, openstackclient's own line about the failed version discovery (not ours to silence)."""
    two = clouds[1]["RegionTwo"]
    r = openstack(osc_env, two, "--os-scope", "image=RegionTwo", "token", "issue")
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert lines[-1] == "unknown service type 'image' (HTTP 400)" and "Traceback" not in r.stderr, r.stderr


def test_openstack_direct_mode_uses_the_scoped_regions_endpoints(dev_keystone: DevKeystone,
                                                                 osc_env: dict[str, str]) -> None:
    """No router: straight to CloudOne's Keystone; identity in RegionOne is there, in RegionTwo not."""
    env = {**osc_env, "OS_AUTH_URL": f"http://127.0.0.1:{dev_keystone.port}/v3", "OS_SCOPE_MODE": "direct"}
    creds = ["--os-username", dev_keystone.username, "--os-password", dev_keystone.password,
             "--os-project-name", "admin", "--os-user-domain-id", "default", "--os-project-domain-id", "default"]
    exe = str(Path(sys.executable).parent / "openstack")
    ok = subprocess.run([exe, *creds, "--os-scope", "identity=RegionOne", "region", "list", "-f", "json"],
                        env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "RegionOne" in {r["Region"] for r in json.loads(ok.stdout)}
    bad = subprocess.run([exe, *creds, "--os-scope", "identity=NoSuchRegion", "region", "list"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == ["scope:1: the catalog has no identity endpoint in region 'NoSuchRegion'"]


# --- failover and fan-out (reads only) against the two real Keystones --------------------------

def _cloud_targets(keystones: dict[str, DevKeystone]) -> list[Any]:
    from regionctl.client.spread import Target
    out = []
    for region, cloud in (("RegionOne", "CloudOne"), ("RegionTwo", "CloudTwo")):
        k = keystones[region]
        s = ksa_session.Session(auth=password_auth(f"http://127.0.0.1:{k.port}/v3", k))
        out.append(Target(cloud, s, {"service_type": "identity", "interface": "public", "region_name": region}))
    return out


def test_fan_out_lists_each_clouds_regions_tagged(clouds: Clouds) -> None:
    from regionctl.client.spread import fan_out_list
    items = fan_out_list(_cloud_targets(clouds[1]), "/regions", "regions", tag="cloud")
    assert {(i["id"], i["cloud"]) for i in items} >= {("RegionOne", "CloudOne"), ("RegionTwo", "CloudTwo")}
    assert ("RegionTwo", "CloudOne") not in {(i["id"], i["cloud"]) for i in items}


def test_failover_moves_on_after_connection_errors_not_after_4xx(clouds: Clouds) -> None:
    from regionctl.client.spread import SpreadError, Target, first_that_answers
    targets = _cloud_targets(clouds[1])
    dead = Target("Dead", ksa_session.Session(), endpoint_override="http://127.0.0.1:9/v3")  # nothing listens
    name, r = first_that_answers([dead, *targets], "/regions")
    assert name == "CloudOne" and r.status_code == 200
    name, r = first_that_answers(targets, "/regions/NoSuchRegion")
    assert (name, r.status_code) == ("CloudOne", 404)  # a 4xx is an answer: CloudTwo is not asked
    with pytest.raises(ValueError, match="failover is for reads only"):
        first_that_answers(targets, "/regions", method="POST")
    with pytest.raises(SpreadError, match="no region answered: Dead: ConnectFailure"):
        first_that_answers([dead], "/regions")


def test_cloud_connections_pick_the_scoped_clouds_connection(clouds: Clouds) -> None:
    """Direct routing across clouds with openstacksdk: a Connection per cloud, no router."""
    import openstack.connection
    from regionctl.client.session import CloudConnections
    conns = {cloud: openstack.connection.Connection(auth_url=f"http://127.0.0.1:{k.port}/v3", username=k.username,
                                                    password=k.password, project_name="admin",
                                                    user_domain_id="default", project_domain_id="default",
                                                    region_name=region)
             for (region, cloud), k in ((("RegionOne", "CloudOne"), clouds[1]["RegionOne"]),
                                        (("RegionTwo", "CloudTwo"), clouds[1]["RegionTwo"]))}
    routed = CloudConnections('{"identity": "CloudTwo"}', conns, local="CloudOne")
    assert {e.region_id for e in routed.for_type("identity").identity.endpoints()} == {"RegionTwo"}
    assert routed.for_type("compute") is conns["CloudOne"]
    with pytest.raises(ScopeError, match="unknown cloud 'CloudThree' for image: connections are given for CloudOne, "
                                         "CloudTwo"):
        CloudConnections("image=CloudThree", conns, local="CloudOne")
