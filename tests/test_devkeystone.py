"""regionctl.devkeystone: a real Keystone in a subprocess, on 127.0.0.1 only.

The tests marked ``keystone`` run the real thing (skipped, with the install
hint, when Keystone is not installed). They share one server per module;
the restart and crash tests restart that same server on its data dir, so the
``ks`` fixture always hands out the live instance.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from regionctl import devkeystone
from regionctl.devkeystone import DevKeystone, DevKeystoneError, prepare, start

if TYPE_CHECKING:
    from keystoneauth1.session import Session

REGION = "RegionTest"  # not the default, so we see the argument reach bootstrap

requires_keystone = pytest.mark.skipif(
    not devkeystone.keystone_available(), reason=devkeystone.INSTALL_HINT
)


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #


def ks_session(dk: DevKeystone, password: str | None = None) -> Session:
    """A keystoneauth v3 password session that ignores proxy settings (loopback only)."""
    import requests
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    http = requests.Session()
    http.trust_env = False  # an HTTP(S)_PROXY in the environment must not see 127.0.0.1
    auth = v3.Password(
        auth_url=dk.url,
        username=dk.username,
        password=dk.password if password is None else password,
        project_name=dk.project,
        user_domain_name=dk.user_domain,
        project_domain_name=dk.project_domain,
    )
    return session.Session(auth=auth, session=http)


def region_ids(dk: DevKeystone, sess: Session | None = None) -> list[str]:
    """Region ids, reached through the catalog entry bootstrap created for this region."""
    sess = sess or ks_session(dk)
    resp = sess.get(
        "/regions",
        endpoint_filter={"service_type": "identity", "interface": "public", "region_name": dk.region},
    )
    return [r["id"] for r in resp.json()["regions"]]


def validate_token(dk: DevKeystone, token: str) -> int:
    import requests

    http = requests.Session()
    http.trust_env = False
    resp = http.get(
        f"{dk.url}/auth/tokens",
        headers={"X-Auth-Token": token, "X-Subject-Token": token},
        timeout=30,
    )
    return resp.status_code


@dataclass
class Live:
    """The module's server; tests that restart it put the new handle here."""

    dk: DevKeystone


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    if not devkeystone.keystone_available():
        pytest.skip(devkeystone.INSTALL_HINT)
    holder = Live(start(tmp_path_factory.mktemp("devks"), region=REGION))
    try:
        yield holder
    finally:
        holder.dk.stop()


@pytest.fixture
def ks(live: Live) -> DevKeystone:
    assert live.dk.is_running(), f"dev keystone died; see {live.dk.log_file}"
    return live.dk


# --------------------------------------------------------------------------- #
# no Keystone needed
# --------------------------------------------------------------------------- #


def test_missing_keystone_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(devkeystone, "keystone_available", lambda: False)
    for call in (lambda: start(tmp_path), lambda: prepare(tmp_path, "R", "pw", 5000)):
        with pytest.raises(DevKeystoneError) as err:
            call()
        assert str(err.value) == "keystone is not installed: pip install 'regionctl[keystone]'"
    assert not any(tmp_path.iterdir()), "nothing is written when keystone is missing"


@pytest.mark.parametrize("port", [-1, 65536])
def test_bad_port_is_rejected(tmp_path: Path, port: int) -> None:
    with pytest.raises(DevKeystoneError, match="invalid port"):
        start(tmp_path, port=port)


@pytest.mark.parametrize("workers", [0, 17])
def test_bad_number_of_workers_is_rejected(tmp_path: Path, workers: int) -> None:
    with pytest.raises(DevKeystoneError) as err:
        start(tmp_path, workers=workers)
    assert str(err.value) == f"invalid number of workers {workers}: give 1-16"
    assert not any(tmp_path.iterdir())


def test_env_and_clouds_yaml() -> None:
    from ruamel.yaml import YAML

    dk = DevKeystone(url="http://127.0.0.1:5999/v3", data_dir=Path("/nowhere"), region="R1", password="s3cret")
    env = dk.env()
    assert env["OS_AUTH_URL"] == "http://127.0.0.1:5999/v3"
    assert env["OS_PASSWORD"] == "s3cret"
    assert env["OS_REGION_NAME"] == "R1"
    assert env["OS_IDENTITY_API_VERSION"] == "3"
    assert env["OS_INTERFACE"] == "public"
    for key in ("OS_USERNAME", "OS_PROJECT_NAME", "OS_USER_DOMAIN_NAME", "OS_PROJECT_DOMAIN_NAME"):
        assert env[key]
    cloud = YAML(typ="safe").load(io.StringIO(dk.clouds_yaml("mine")))["clouds"]["mine"]
    assert cloud["auth"] == {
        "auth_url": env["OS_AUTH_URL"],
        "username": env["OS_USERNAME"],
        "password": "s3cret",
        "project_name": env["OS_PROJECT_NAME"],
        "user_domain_name": env["OS_USER_DOMAIN_NAME"],
        "project_domain_name": env["OS_PROJECT_DOMAIN_NAME"],
    }
    assert cloud["region_name"] == "R1"
    assert "s3cret" not in repr(dk), "the password stays out of repr (test logs)"
    assert dk.port == 5999


# --------------------------------------------------------------------------- #
# the real Keystone
# --------------------------------------------------------------------------- #


@pytest.mark.keystone
@requires_keystone
def test_password_login_lists_bootstrap_region(ks: DevKeystone) -> None:
    assert ks.url.startswith("http://127.0.0.1:") and ks.url.endswith("/v3")
    sess = ks_session(ks)
    assert REGION in region_ids(ks, sess)
    identity = sess.get_endpoint(service_type="identity", interface="public", region_name=REGION)
    assert identity is not None and identity.rstrip("/") == ks.url


@pytest.mark.keystone
@requires_keystone
def test_token_works(ks: DevKeystone) -> None:
    token = ks_session(ks).get_token()
    assert token
    assert validate_token(ks, token) == 200
    assert validate_token(ks, token[:-4] + "AAAA") in (401, 404)


@pytest.mark.keystone
@requires_keystone
def test_wrong_password_is_refused(ks: DevKeystone) -> None:
    from keystoneauth1 import exceptions

    with pytest.raises(exceptions.Unauthorized):
        ks_session(ks, password=ks.password + "x").get_token()


@pytest.mark.keystone
@requires_keystone
def test_password_is_stored_private(ks: DevKeystone) -> None:
    stored = ks.data_dir / devkeystone.PASSWORD_FILE
    assert stored.read_text().strip() == ks.password
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


@pytest.mark.keystone
@requires_keystone
def test_env_works_with_openstack_cli(ks: DevKeystone) -> None:
    cli = Path(sys.executable).parent / "openstack"
    if not cli.exists():
        pytest.skip(f"no openstack CLI next to {sys.executable}: pip install 'regionctl[test]'")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OS_") and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    env.update(ks.env(), no_proxy="127.0.0.1", NO_PROXY="127.0.0.1")
    res = subprocess.run(
        [str(cli), "region", "list", "-f", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert REGION in [r["Region"] for r in json.loads(res.stdout)]


@pytest.mark.keystone
@requires_keystone
def test_second_server_on_same_data_dir_is_refused(ks: DevKeystone) -> None:
    with pytest.raises(DevKeystoneError, match="already running") as err:
        start(ks.data_dir)
    assert "\n" not in str(err.value)


@pytest.mark.keystone
@requires_keystone
def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DevKeystoneError) as err:
            start(tmp_path, port=port)
    assert str(err.value).startswith(f"port {port} on 127.0.0.1 is already in use")
    assert "\n" not in str(err.value)


@pytest.mark.keystone
@requires_keystone
def test_restart_keeps_password_port_and_tokens(live: Live) -> None:
    first = live.dk
    token = ks_session(first).get_token()
    assert token
    first.stop()
    assert not first.is_running()

    second = live.dk = start(first.data_dir, region=REGION)  # no password: the stored one
    assert second.password == first.password
    assert second.url == first.url, "port 0 reuses the previous port when it is free"
    assert REGION in region_ids(second, ks_session(second, password=first.password))
    assert validate_token(second, token) == 200, "fernet keys persist across restarts"


@pytest.mark.keystone
@requires_keystone
def test_killed_server_can_be_restarted(live: Live) -> None:
    victim = live.dk
    assert victim.pid is not None
    os.kill(victim.pid, signal.SIGKILL)
    assert victim.process is not None
    victim.process.wait(10)
    victim.stop()  # harmless on a dead server

    live.dk = start(victim.data_dir, region=REGION)
    assert REGION in region_ids(live.dk)


@pytest.mark.keystone
@requires_keystone
def test_keystone_manage_failure_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / devkeystone.DB_FILE).write_bytes(b"this is not a sqlite database" * 100)
    with pytest.raises(DevKeystoneError) as err:
        prepare(tmp_path, REGION, "pw-for-broken-db", 5999)
    msg = str(err.value)
    assert "\n" not in msg
    assert "keystone-manage db_sync failed" in msg and "not a database" in msg, msg
    assert str(tmp_path / devkeystone.LOG_FILE) in msg


@pytest.mark.keystone
@requires_keystone
def test_start_timeout_is_clear_and_leaves_nothing_running(tmp_path: Path) -> None:
    with pytest.raises(DevKeystoneError) as err:
        start(tmp_path, timeout=0.5)  # a fresh dir needs ~3 s
    first_line = str(err.value).splitlines()[0]
    assert "did not come up within 0.5s" in first_line and str(tmp_path) in first_line
    # The server and its keystone-manage child are gone: the data dir lock is free.
    with (tmp_path / devkeystone.LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
