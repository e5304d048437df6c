"""The scope filter in the services' paste pipelines: the data matches the services' real stock
files, and the rendered fragment, merged into a real stock file, loads with paste.deploy and
refuses a scope the site does not name."""

from __future__ import annotations

import configparser
import json
import os
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES, run_process
from regionctl.openstack.propagation import FILTER, PASTE, with_filter

VENV = Path(os.environ.get("REGIONCTL_SERVICES_VENV", Path.home() / ".cache" / "regionctl" / "services-venv"))


def stock(service: str) -> configparser.RawConfigParser:
    path = VENV / "etc" / service / PASTE[service].file
    if not path.is_file():
        pytest.skip(f"{path}: no services venv (tools/services-env.sh)")
    cp = configparser.RawConfigParser(strict=False)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read(path)
    return cp


@pytest.mark.parametrize("service", sorted(PASTE))
def test_pipelines_are_the_services_real_ones(service: str) -> None:
    cp = stock(service)
    for p in PASTE[service].pipelines:
        assert " ".join(cp.get(p.section, p.key).split()) == p.stock


def test_filter_goes_after_http_proxy_to_wsgi() -> None:
    assert with_filter("request_id cors http_proxy_to_wsgi faultwrap apiv3") == \
        f"request_id cors http_proxy_to_wsgi {FILTER} faultwrap apiv3"
    assert with_filter("a b") == f"{FILTER} a b"
    assert with_filter(f"x {FILTER} y") == f"x {FILTER} y"


def test_rendered_fragment_merged_into_real_nova_file_loads_and_refuses(tmp_path: Path) -> None:
    from paste.deploy import loadfilter

    cp = stock("nova")
    out = tmp_path / "out"
    r = run_process(["render", "-s", str(EXAMPLES / "two-clouds"), "-o", str(out)])
    assert r.code == 0, r.err
    fragment = (out / "RegionOne" / "etc" / "nova" / "api-paste.ini.regionctl-scope").read_text()
    assert "names = RegionOne,RegionTwo,CloudOne,CloudTwo\n" in fragment
    cp.read_string(fragment)
    assert FILTER in cp.get("composite:openstack_compute_api_v21", "keystone").split()
    merged = tmp_path / "api-paste.ini"
    with merged.open("w") as f:
        cp.write(f)
    make = loadfilter(f"config:{merged}", name=FILTER)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    answers: list[str] = []
    wrapped = make(app)
    body = b"".join(wrapped({"HTTP_OPENSTACK_SCOPE": "compute=RegionThree"}, lambda s, h: answers.append(s)))
    assert answers == ["400 Bad Request"]
    assert json.loads(body)["error"]["message"] == ("OpenStack-Scope: unknown region or cloud 'RegionThree' for "
                                                    "compute: the site declares CloudOne, CloudTwo, RegionOne, "
                                                    "RegionTwo")
    assert b"".join(wrapped({"HTTP_OPENSTACK_SCOPE": "compute=CloudTwo"}, lambda s, h: answers.append(s))) == b"ok"


def test_kolla_renders_the_fragments_beside_config(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = run_process(["render", "-s", str(EXAMPLES / "two-clouds"), "--format", "kolla", "-o", str(out)])
    assert r.code == 0, r.err
    got = sorted(str(p.relative_to(out / "RegionTwo" / "scope-paste")) for p in (out / "RegionTwo" / "scope-paste").rglob("*.ini"))
    assert got == ["cinder/api-paste.ini", "glance/glance-api-paste.ini", "neutron/api-paste.ini", "nova/api-paste.ini"]
    assert "kolla-ansible does not copy this file" in (out / "RegionTwo" / "scope-paste" / "nova" / "api-paste.ini").read_text()


def test_scope_is_kept_while_a_lazy_body_streams_and_not_after() -> None:
    from regionctl.client.propagate import ScopeMiddleware, current_scope

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [])
        for _ in range(2):  # e.g. glance streaming image data while it calls another service
            scope = current_scope.get()
            yield (scope.to_compact() if scope else "none").encode()

    mw = ScopeMiddleware(app, names=["RegionTwo"], types=["image"])
    body = mw({"HTTP_OPENSTACK_SCOPE": '{"image": "RegionTwo"}'}, lambda s, h: None)
    assert current_scope.get() is None  # nothing leaks into the serving thread
    assert list(body) == [b"image=RegionTwo", b"image=RegionTwo"]
    assert list(mw({"HTTP_X_SCOPE": "image=RegionTwo"}, lambda s, h: None)) == [b"image=RegionTwo"] * 2
    assert list(mw({}, lambda s, h: None)) == [b"none", b"none"]
