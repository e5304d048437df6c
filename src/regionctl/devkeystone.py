"""A real Keystone, embedded: for trying regionctl out and for tests.

regionctl talks to Keystone (regions, endpoints, the catalog). Mocking that
API hides exactly the mistakes regionctl exists to catch, so the dev setup and
the test suite run the real thing: Keystone from PyPI (``regionctl[keystone]``)
with SQLite and key repositories inside one data directory, served on
127.0.0.1 only.

The server always runs in a *separate process* (``python -m
regionctl.devkeystone serve``): Keystone's configuration is process-global,
and tests must be able to kill the server mid-operation. The parent binds the
listening socket itself and hands it over, so "port in use" is reported
synchronously and there is no window in which another program can take the
port. The server exits on SIGTERM, and also when the process that started it
goes away (its stdin pipe reaches EOF), so a killed test run leaves no
orphan holding the port.

Start-up cost is dominated by importing Keystone (~1.7 s on 2 cores). The
``keystone-manage`` steps therefore run in-process (one import instead of
four), and when ``start`` finds the data directory unprepared, the server
process runs them in a forked child after importing Keystone, so a fresh data
directory costs one import, not two.

Expected failures raise :class:`DevKeystoneError` with a message that says
what to do; callers print ``str(error)``, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import logging
import os
import secrets
import select
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any

try:  # POSIX only; without it a data dir is simply not locked.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "DEFAULT_REGION",
    "DevKeystone",
    "DevKeystoneError",
    "keystone_available",
    "prepare",
    "run_foreground",
    "start",
]

HOST = "127.0.0.1"
"""The only address the dev Keystone ever binds or connects to."""

DEFAULT_REGION = "RegionOne"
USERNAME = "admin"
PROJECT = "admin"
DOMAIN = "Default"
START_TIMEOUT = 60.0
"""Seconds to wait for GET /v3; a 2-core CI box needs ~3 s, so 60 s means "broken"."""
STOP_TIMEOUT = 10.0

INSTALL_HINT = "keystone is not installed: pip install 'regionctl[keystone]'"

# Everything lives in the data directory; these are the names inside it.
CONF_FILE = "keystone.conf"
CONF_DIR = "keystone.conf.d"  # passed as --config-dir so no /etc/keystone/*.conf.d applies
PASSWORD_FILE = "admin-password"
STATE_FILE = "devkeystone.json"
LOCK_FILE = "devkeystone.lock"
LOG_FILE = "keystone.log"
DB_FILE = "keystone.db"
FERNET_DIR = "fernet-keys"
CREDENTIAL_DIR = "credential-keys"
POLICY_FILE = "policy.yaml"  # optional overrides; absent means Keystone's in-code defaults
POLICY_DIR = "policy.d"

_LAYOUT_VERSION = 1  # bump when keystone.conf changes meaning, to force a re-prepare
_MSG_PREFIX = "devkeystone: "  # marks the one summary line a child prints before failing
_EXIT_PREPARE_FAILED = 3


class DevKeystoneError(Exception):
    """An expected failure, as one line that says what to do about it."""


# --------------------------------------------------------------------------- #
# The handle
# --------------------------------------------------------------------------- #


@dataclass
class DevKeystone:
    """A running dev Keystone: where it is and how to log in to it.

    The admin credentials are those ``keystone-manage bootstrap`` created; the
    password is kept out of ``repr`` so the handle is safe to print in test
    output.
    """

    url: str
    data_dir: Path
    region: str
    username: str = USERNAME
    password: str = field(default="", repr=False)
    project: str = PROJECT
    user_domain: str = DOMAIN
    project_domain: str = DOMAIN
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    @property
    def port(self) -> int:
        """The loopback port, e.g. for a test that wants to reconnect."""
        return int(self.url.rsplit(":", 1)[1].split("/", 1)[0])

    @property
    def log_file(self) -> Path:
        """Keystone's log and the server's stderr (nothing goes to the terminal)."""
        return self.data_dir / LOG_FILE

    @property
    def pid(self) -> int | None:
        """Server process id, so a test can kill it mid-operation."""
        return self.process.pid if self.process is not None else None

    def is_running(self) -> bool:
        """True while the server process this handle started is alive."""
        return self.process is not None and self.process.poll() is None

    def env(self) -> dict[str, str]:
        """``OS_*`` variables for the openstack CLI, openstacksdk and keystoneauth.

        Merge them over an environment without other ``OS_*`` variables (an
        inherited ``OS_CLOUD`` or ``OS_TOKEN`` would take precedence).
        """
        return {
            "OS_AUTH_URL": self.url,
            "OS_AUTH_TYPE": "password",
            "OS_USERNAME": self.username,
            "OS_PASSWORD": self.password,
            "OS_PROJECT_NAME": self.project,
            "OS_USER_DOMAIN_NAME": self.user_domain,
            "OS_PROJECT_DOMAIN_NAME": self.project_domain,
            "OS_REGION_NAME": self.region,
            "OS_IDENTITY_API_VERSION": "3",
            "OS_INTERFACE": "public",
        }

    def clouds_yaml(self, cloud: str = "regionctl-dev") -> str:
        """A clouds.yaml document with one cloud, for ``OS_CLOUD=<cloud>``."""
        doc = {
            "clouds": {
                cloud: {
                    "auth_type": "password",
                    "auth": {
                        "auth_url": self.url,
                        "username": self.username,
                        "password": self.password,
                        "project_name": self.project,
                        "user_domain_name": self.user_domain,
                        "project_domain_name": self.project_domain,
                    },
                    "region_name": self.region,
                    "identity_api_version": 3,
                    "interface": "public",
                }
            }
        }
        # JSON is valid YAML, but block style is what people expect to read and edit.
        from ruamel.yaml import YAML

        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False
        out = io.StringIO()
        yaml.dump(doc, out)
        return out.getvalue()

    def stop(self) -> None:
        """Stop the server and wait for it; safe to call twice or after it died.

        Signals the server's whole process group (it leads its own session), so
        a keystone-manage child still preparing the data dir goes too.
        """
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    def __enter__(self) -> DevKeystone:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --------------------------------------------------------------------------- #
# Data directory
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class _Layout:
    """Paths inside one data directory (all absolute, so the config is cwd-proof)."""

    root: Path

    @classmethod
    def of(cls, data_dir: Path | str) -> _Layout:
        return cls(Path(data_dir).expanduser().resolve())

    @property
    def conf(self) -> Path:
        return self.root / CONF_FILE

    @property
    def conf_d(self) -> Path:
        return self.root / CONF_DIR

    @property
    def password(self) -> Path:
        return self.root / PASSWORD_FILE

    @property
    def state(self) -> Path:
        return self.root / STATE_FILE

    @property
    def lock(self) -> Path:
        return self.root / LOCK_FILE

    @property
    def log(self) -> Path:
        return self.root / LOG_FILE

    @property
    def db(self) -> Path:
        return self.root / DB_FILE

    @property
    def fernet(self) -> Path:
        return self.root / FERNET_DIR

    @property
    def credential(self) -> Path:
        return self.root / CREDENTIAL_DIR

    def ensure_dirs(self) -> None:
        """Create the data dir and key dirs private (Keystone warns on world-readable keys)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            for d in (self.conf_d, self.fernet, self.credential):
                d.mkdir(exist_ok=True, mode=0o700)
        except OSError as e:
            raise DevKeystoneError(
                f"cannot create dev keystone data dir {self.root}: {e.strerror or e}"
            ) from None

    def conf_text(self) -> str:
        """keystone.conf: everything in the data dir, nothing external."""

        def v(p: Path) -> str:
            return str(p).replace("$", "$$")  # oslo.config interpolates $name

        return f"""\
# Written by regionctl.devkeystone; rewritten on every start/prepare.
# A development Keystone: SQLite, keys and logs in this directory, served on {HOST} only.
[DEFAULT]
log_file = {v(self.log)}
use_stderr = false
debug = false

[database]
connection = sqlite:///{v(self.db)}
# Dev data: durability against power loss is not worth the write latency.
sqlite_synchronous = false

[fernet_tokens]
key_repository = {v(self.fernet)}

[fernet_receipts]
key_repository = {v(self.fernet)}

[credential]
key_repository = {v(self.credential)}

[identity]
# bcrypt hashes are capped at 72 bytes anyway; the default 4096 logs a warning on every login.
max_password_length = 72
# The minimum cost: a dev login should take milliseconds, not a quarter second.
password_hash_rounds = 4

[cache]
# Without a cache every request costs ~200 SQL queries (~0.4 s). One server
# process owns the data dir, so an in-process dict cache stays coherent.
enabled = true
backend = oslo_cache.dict

[oslo_messaging_notifications]
driver = noop

[oslo_policy]
# Absolute paths: never pick up /etc/keystone/policy.yaml; absent files mean in-code defaults.
policy_file = {v(self.root / POLICY_FILE)}
policy_dirs = {v(self.root / POLICY_DIR)}
"""

    def write_conf(self) -> None:
        text = self.conf_text()
        try:
            if not self.conf.exists() or self.conf.read_text() != text:
                _write_private(self.conf, text)
        except OSError as e:
            raise DevKeystoneError(f"cannot write {self.conf}: {e.strerror or e}") from None

    def read_password(self) -> str | None:
        try:
            text = self.password.read_text().strip()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise DevKeystoneError(f"cannot read {self.password}: {e.strerror or e}") from None
        return text or None

    def store_password(self, password: str) -> None:
        if not password or password != password.strip() or "\n" in password:
            raise DevKeystoneError(
                "the dev keystone password must be non-empty, one line, without surrounding spaces"
            )
        if self.read_password() != password:
            try:
                _write_private(self.password, password + "\n")
            except OSError as e:
                raise DevKeystoneError(f"cannot write {self.password}: {e.strerror or e}") from None

    def fingerprint(self, region: str, port: int, password: str) -> str:
        """What a prepared data dir was prepared for; a change means re-run the steps."""
        parts = {
            "layout": _LAYOUT_VERSION,
            "keystone": _keystone_version(),
            "conf": self.conf_text(),
            "region": region,
            "port": port,
            "password": hashlib.sha256(password.encode()).hexdigest(),
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def read_state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write_state(self, **values: Any) -> None:
        state = self.read_state()
        state.update(values)
        _write_private(self.state, json.dumps(state, indent=2, sort_keys=True) + "\n")

    def is_prepared_for(self, region: str, port: int, password: str) -> bool:
        return (
            self.read_state().get("fingerprint") == self.fingerprint(region, port, password)
            and self.db.is_file()
            and (self.fernet / "0").is_file()
            and (self.credential / "0").is_file()
        )

    def log_tail(self, since: int = 0, lines: int = 15) -> list[str]:
        """The last lines of the log written after byte offset ``since``."""
        try:
            with self.log.open("rb") as f:
                size = f.seek(0, os.SEEK_END)
                f.seek(max(since, size - 16384))
                data = f.read().decode("utf-8", "replace")
        except OSError:
            return []
        return [line for line in data.splitlines() if line.strip()][-lines:]

    @contextlib.contextmanager
    def locked(self) -> Iterator[int | None]:
        """Hold the data dir's lock: one server (or prepare) per data dir.

        Yields the lock's file descriptor so a server process can inherit it and
        keep the lock for its lifetime; the kernel drops it when that process dies.
        """
        if fcntl is None:  # pragma: no cover - Windows
            yield None
            return
        fd = os.open(self.lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                url = self.read_state().get("url", "")
                where = f" at {url}" if url else ""
                raise DevKeystoneError(
                    f"a dev keystone is already running on {self.root}{where}: "
                    "stop it first, or use another data dir"
                ) from None
            yield fd
        finally:
            os.close(fd)


def _write_private(path: Path, text: str) -> None:
    """Write a file only the owner can read (it may hold the admin password), atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            fd = -1
            f.write(text)
        os.replace(tmp, path)
    finally:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _keystone_version() -> str:
    try:
        return importlib.metadata.version("keystone")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def keystone_available() -> bool:
    """Whether Keystone is installed, without importing it (that costs ~1.7 s and global state)."""
    return importlib.util.find_spec("keystone") is not None


def _check_installed() -> None:
    if not keystone_available():
        raise DevKeystoneError(INSTALL_HINT)


def _url(port: int) -> str:
    return f"http://{HOST}:{port}/v3"


def _child_env() -> dict[str, str]:
    """The environment for our own subprocesses.

    regionctl must be importable by ``sys.executable -m`` even from an
    uninstalled checkout, and the user's ``OS_BOOTSTRAP_*`` / Keystone config
    variables must not leak in (keystone-manage bootstrap prefers them over
    its arguments).
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OS_BOOTSTRAP_", "OS_KEYSTONE_CONFIG_"))
    }
    src = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _last_message(lines: Sequence[str]) -> str:
    """The line that explains a child's failure: its summary line, else its last line."""
    for line in reversed(lines):
        if line.startswith(_MSG_PREFIX):
            return line[len(_MSG_PREFIX) :].strip()
    return lines[-1].strip() if lines else "(no output)"


# --------------------------------------------------------------------------- #
# Public API
# --------------------------------------------------------------------------- #


def prepare(data_dir: Path, region: str, password: str, port: int) -> None:
    """Make ``data_dir`` a Keystone for ``region`` on ``port``; safe to repeat.

    Writes keystone.conf and the password file, then runs keystone-manage
    db_sync, fernet_setup, credential_setup and bootstrap (in a subprocess, in
    one interpreter). Bootstrap is idempotent: it resets the admin password and
    moves the catalog's identity endpoints to ``port`` if they changed.
    """
    _validate(region, port)
    _check_installed()
    layout = _Layout.of(data_dir)
    layout.ensure_dirs()
    with layout.locked():
        layout.store_password(password)
        layout.write_conf()
        cmd = [
            sys.executable, "-m", "regionctl.devkeystone", "prepare",
            "--data-dir", str(layout.root), "--region", region, "--port", str(port),
        ]  # fmt: skip
        try:
            res = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=_child_env(),
                check=False,
            )
        except OSError as e:
            raise DevKeystoneError(f"cannot run {sys.executable}: {e.strerror or e}") from None
        if res.returncode != 0:
            out = res.stdout.decode("utf-8", "replace").splitlines()
            raise DevKeystoneError(
                f"preparing dev keystone in {layout.root} failed: "
                f"{_last_message([x for x in out if x.strip()])} (log: {layout.log})"
            )


def start(
    data_dir: Path,
    region: str = DEFAULT_REGION,
    port: int = 0,
    password: str | None = None,
    *,
    timeout: float = START_TIMEOUT,
) -> DevKeystone:
    """Start a dev Keystone on ``127.0.0.1:port`` and return once GET /v3 answers.

    ``port=0`` reuses the port of the previous run on this data dir if it is
    free (so URLs in clouds.yaml and the catalog stay valid), else any free
    port. Without ``password`` the one stored in the data dir is reused, or a
    new one is generated and stored (mode 0600). The data dir is prepared
    first when it is new or was prepared for another region/port/password.
    """
    _validate(region, port)
    _check_installed()
    layout = _Layout.of(data_dir)
    layout.ensure_dirs()
    with layout.locked() as lock_fd:
        password = password or layout.read_password() or secrets.token_urlsafe(24)
        layout.store_password(password)
        layout.write_conf()
        previous = layout.read_state().get("port")
        with _listen(port, fallback=port == 0 and isinstance(previous, int), previous=previous) as sock:
            port = sock.getsockname()[1]
            prepare_first = not layout.is_prepared_for(region, port, password)
            log_offset = _log_marker(layout, f"starting on {_url(port)} (prepare={prepare_first})")
            proc, read_fd = _spawn_server(layout, region, sock, lock_fd, prepare_first)
    # Only the server process holds the socket and the data dir lock now.
    dk = DevKeystone(url=_url(port), data_dir=layout.root, region=region, password=password, process=proc)
    try:
        _wait_ready(dk, read_fd, layout, log_offset, timeout)
    except BaseException:
        dk.stop()
        raise
    finally:
        _close_quietly(read_fd)
    with contextlib.suppress(OSError):
        layout.write_state(url=dk.url, port=port, region=region)
    return dk


def run_foreground(
    data_dir: Path,
    region: str = DEFAULT_REGION,
    port: int = 0,
    password: str | None = None,
    *,
    cloud: str = "regionctl-dev",
    out: IO[str] | None = None,
) -> int:
    """``regionctl dev-keystone``: start, say how to use it, serve until Ctrl-C.

    Also writes ``openrc`` and ``clouds.yaml`` (mode 0600) into the data dir so
    the password need not be copied from the terminal. Returns the exit status.
    """
    out = out or sys.stdout
    t0 = time.monotonic()
    try:
        dk = start(data_dir, region=region, port=port, password=password)
    except KeyboardInterrupt:
        return 130
    try:
        elapsed = time.monotonic() - t0
        openrc = dk.data_dir / "openrc"
        clouds = dk.data_dir / "clouds.yaml"
        env_lines = [f"export {k}={shlex.quote(v)}" for k, v in dk.env().items()]
        _write_private(openrc, "# regionctl dev keystone\n" + "\n".join(env_lines) + "\n")
        _write_private(clouds, dk.clouds_yaml(cloud))
        q = shlex.quote
        pw_file = dk.data_dir / PASSWORD_FILE
        shown_env = [f"  export {k}={q(v)}" if k != "OS_PASSWORD" else f'  export OS_PASSWORD="$(cat {q(str(pw_file))})"'
                     for k, v in dk.env().items()]
        masked_clouds = dk.clouds_yaml(cloud).replace(dk.password, "********")
        print(
            f"Keystone {_keystone_version()} for region {dk.region} at {dk.url} "
            f"(up in {elapsed:.1f}s, pid {dk.pid})\n"
            f"  data:  {dk.data_dir}\n"
            f"  log:   {dk.log_file}\n"
            f"Use it from another shell with these variables (also in {openrc}; "
            f"the password stays in {pw_file}):\n" + "\n".join(shown_env) + "\n"
            f"or this clouds.yaml entry (written with its password to {clouds}; "
            f"export OS_CLIENT_CONFIG_FILE={q(str(clouds))} OS_CLOUD={q(cloud)}):\n"
            + "".join(f"  {line}\n" for line in masked_clouds.splitlines())
            + "then e.g. `openstack region list`. Ctrl-C stops it.",
            file=out,
            flush=True,
        )
        proc = dk.process
        assert proc is not None
        try:
            with _sigterm_as_interrupt():
                rc = proc.wait()
        except KeyboardInterrupt:
            print("\nstopping dev keystone...", file=out, flush=True)
            return 0
        tail = _Layout.of(dk.data_dir).log_tail()
        raise DevKeystoneError(
            f"dev keystone exited unexpectedly ({_describe_status(rc)}): "
            f"{_last_message(tail)} (log: {dk.log_file})"
        )
    finally:
        dk.stop()


# --------------------------------------------------------------------------- #
# Parent-side helpers
# --------------------------------------------------------------------------- #


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (kill, docker stop) like Ctrl-C while serving in the foreground."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _validate(region: str, port: int) -> None:
    if not region or region != region.strip():
        raise DevKeystoneError(f"invalid region id {region!r}: give a non-empty name")
    if not 0 <= port <= 65535:
        raise DevKeystoneError(f"invalid port {port}: give 1-65535, or 0 for a free one")


def _listen(port: int, *, fallback: bool, previous: Any) -> socket.socket:
    """Bind and listen on 127.0.0.1 here, in the parent, so errors are immediate."""
    candidates = [previous, 0] if fallback else [port]
    last: OSError | None = None
    for p in candidates:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            # Lets a restart rebind while old connections sit in TIME_WAIT; on
            # Linux it does not let two listeners share a port.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((HOST, p))
            sock.listen(128)
            return sock
        except OSError as e:
            sock.close()
            last = e
    assert last is not None
    if last.errno == errno.EADDRINUSE:
        msg = f"port {port} on {HOST} is already in use: stop what uses it, or use port 0 for a free one"
    elif last.errno == errno.EACCES:
        msg = f"not allowed to listen on {HOST}:{port}: use a port above 1023, or 0 for a free one"
    else:
        msg = f"cannot listen on {HOST}:{port}: {last.strerror or last}"
    raise DevKeystoneError(msg)


def _spawn_server(
    layout: _Layout, region: str, sock: socket.socket, lock_fd: int | None, prepare_first: bool
) -> tuple[subprocess.Popen[bytes], int]:
    """Run ``serve`` with our socket and lock; returns it and the read end of its ready pipe."""
    port = sock.getsockname()[1]
    read_fd, ready_fd = os.pipe()
    pass_fds = [sock.fileno(), ready_fd] + ([lock_fd] if lock_fd is not None else [])
    cmd = [
        sys.executable, "-m", "regionctl.devkeystone", "serve",
        "--data-dir", str(layout.root), "--region", region, "--port", str(port),
        "--listen-fd", str(sock.fileno()), "--ready-fd", str(ready_fd),
    ]  # fmt: skip
    if lock_fd is not None:
        cmd += ["--lock-fd", str(lock_fd)]
    if prepare_first:
        cmd.append("--prepare")
    try:
        with layout.log.open("ab") as log:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,  # EOF there = we are gone: the server exits
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=pass_fds,
                env=_child_env(),
                start_new_session=True,  # Ctrl-C reaches only us; we stop it cleanly
            )
    except OSError as e:
        _close_quietly(read_fd)
        raise DevKeystoneError(f"cannot run {sys.executable}: {e.strerror or e}") from None
    finally:
        _close_quietly(ready_fd)
    return proc, read_fd


def _log_marker(layout: _Layout, what: str) -> int:
    """Append a separator to the log; returns the offset where this run's output starts."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    try:
        with layout.log.open("ab") as f:
            offset = f.tell()
            f.write(f"----- {stamp} regionctl dev keystone: {what}\n".encode())
            return offset
    except OSError as e:
        raise DevKeystoneError(f"cannot write {layout.log}: {e.strerror or e}") from None


def _wait_ready(dk: DevKeystone, read_fd: int, layout: _Layout, since: int, timeout: float) -> None:
    """Wait for the server's "ready" byte, then confirm GET /v3 answers."""
    proc = dk.process
    assert proc is not None
    deadline = time.monotonic() + timeout
    ready = False
    while not ready:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _fail_start(dk, layout, since, f"did not come up within {timeout:g}s")
        readable, _, _ = select.select([read_fd], [], [], min(remaining, 0.5))
        if readable:
            data = os.read(read_fd, 64)
            if data.startswith(b"ready"):
                ready = True
            elif not data:  # EOF: the server died before it got ready
                try:
                    rc = proc.wait(5)
                except subprocess.TimeoutExpired:
                    rc = None
                _fail_start(dk, layout, since, _describe_status(rc))
        elif proc.poll() is not None:
            _fail_start(dk, layout, since, _describe_status(proc.returncode))

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    try:
        with opener.open(dk.url, timeout=max(1.0, deadline - time.monotonic())) as resp:
            body = json.loads(resp.read())
        if not str(body.get("version", {}).get("id", "")).startswith("v3"):
            raise ValueError(f"unexpected answer: {body!r:.200}")
    except (OSError, ValueError) as e:
        _fail_start(dk, layout, since, f"GET {dk.url} failed: {e}")


def _fail_start(dk: DevKeystone, layout: _Layout, since: int, why: str) -> None:
    dk.stop()
    tail = layout.log_tail(since)
    if tail and tail[-1].startswith(_MSG_PREFIX):  # a child's own one-line diagnosis
        raise DevKeystoneError(f"dev keystone failed to start: {_last_message(tail)} (log: {layout.log})")
    shown = "\n".join(f"  | {line}" for line in tail) or "  (log is empty)"
    raise DevKeystoneError(
        f"dev keystone at {dk.url} failed to start: {why}; last lines of {layout.log}:\n{shown}"
    )


def _describe_status(rc: int | None) -> str:
    if rc is None:
        return "still running"
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit status {rc}"


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError, AttributeError):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)


def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


# --------------------------------------------------------------------------- #
# Child side: runs in `python -m regionctl.devkeystone prepare|serve`
# --------------------------------------------------------------------------- #


class _StepFailed(Exception):
    """A keystone-manage step failed; str() is the one-line summary."""


class _DropUnusedCacheBackend(logging.Filter):
    """oslo.cache loads every backend plugin; memcache's absence is logged as an ERROR."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "memcache" not in record.getMessage()


def _quiet_logs() -> None:
    """Keep keystone.log readable: drop noise that looks like trouble but is not.

    Deprecation warnings (eventlet, via oslo.service), pycadf's notice that a
    region id is not a UUID, and the missing optional memcache backend.
    """
    import warnings

    logging.getLogger("stevedore.extension").addFilter(_DropUnusedCacheBackend())

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
    warnings.filterwarnings("ignore", message=r"Invalid uuid")
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")  # not a DeprecationWarning


def _manage_steps(layout: _Layout, region: str, port: int) -> list[list[str]]:
    owner: list[str] = []
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # keystone-manage insists when root
        owner = ["--keystone-user", str(os.getuid()), "--keystone-group", str(os.getgid())]
    url = _url(port)
    return [
        ["db_sync"],
        ["fernet_setup", *owner],
        ["credential_setup", *owner],
        [
            "bootstrap",
            "--bootstrap-username", USERNAME,
            "--bootstrap-project-name", PROJECT,
            "--bootstrap-region-id", region,
            "--bootstrap-public-url", url,
            "--bootstrap-internal-url", url,
        ],  # fmt: skip
    ]


def _run_manage(layout: _Layout, region: str, port: int) -> None:
    """Run the keystone-manage steps in this process (one import, not four).

    Calls ``keystone.cmd.cli.main`` (what the keystone-manage console script
    calls) once per step, resetting oslo.config in between. Bootstrap goes
    last because it locks Keystone's provider registry for the process.
    """
    password = layout.read_password()
    if not password:
        raise _StepFailed(f"no password in {layout.password}")
    for key in [k for k in os.environ if k.startswith("OS_BOOTSTRAP_")]:
        del os.environ[key]
    # The password goes through the environment, not argv, so it never shows in `ps`.
    os.environ["OS_BOOTSTRAP_PASSWORD"] = password

    _quiet_logs()
    try:
        import keystone.conf
        from keystone.cmd import cli
    except Exception as e:
        raise _StepFailed(f"cannot import keystone: {_one_line(e)}") from e
    conf = keystone.conf.CONF
    base = ["keystone-manage", "--config-file", str(layout.conf), "--config-dir", str(layout.conf_d)]
    for step in _manage_steps(layout, region, port):
        conf.reset()
        conf.clear()
        conf.unregister_opt(cli.command_opt)  # cli.main registers it again
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                cli.main(argv=base + step)
        except SystemExit as e:
            if e.code not in (0, None):
                said = [x for x in printed.getvalue().splitlines() if x.strip()]
                detail = said[-1].strip() if said else f"exit status {e.code}"
                raise _StepFailed(f"keystone-manage {step[0]} failed: {detail}") from None
        except Exception as e:
            traceback.print_exc()
            raise _StepFailed(f"keystone-manage {step[0]} failed: {_one_line(e)}") from e
        finally:
            sys.stdout.write(printed.getvalue())
    layout.write_state(fingerprint=layout.fingerprint(region, port, password), region=region, port=port)


def _one_line(e: BaseException) -> str:
    """``Type: first line of the message`` (SQLAlchemy appends a "Background on this error" line)."""
    lines = str(e).strip().splitlines()
    return f"{type(e).__name__}: {lines[0]}" if lines else type(e).__name__


def _child_prepare(args: argparse.Namespace) -> int:
    layout = _Layout.of(args.data_dir)
    try:
        _run_manage(layout, args.region, args.port)
    except _StepFailed as e:
        print(f"{_MSG_PREFIX}{e}", file=sys.stderr, flush=True)
        return _EXIT_PREPARE_FAILED
    return 0


def _prepare_in_fork(layout: _Layout, region: str, port: int) -> bool:
    """Run the manage steps in a forked child, sharing this process's Keystone import.

    The child is needed because bootstrap leaves Keystone's globals in a state
    the WSGI app cannot be initialised from; forking after the import saves ~1.7 s.
    """
    if not hasattr(os, "fork"):  # pragma: no cover - Windows
        res = subprocess.run(
            [sys.executable, "-m", "regionctl.devkeystone", "prepare",
             "--data-dir", str(layout.root), "--region", region, "--port", str(port)],
            stdin=subprocess.DEVNULL, env=_child_env(), check=False,
        )  # fmt: skip
        return res.returncode == 0
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # child: never return into the server code
        rc = 1
        try:
            _run_manage(layout, region, port)
            rc = 0
        except _StepFailed as e:
            print(f"{_MSG_PREFIX}{e}", file=sys.stderr)
            rc = _EXIT_PREPARE_FAILED
        except BaseException:
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(rc)

    def stop_child(signum: int, frame: FrameType | None) -> None:
        # Being stopped mid-prepare: take the child along before exiting, so
        # once our starter sees us gone, the data dir lock is free too.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        os._exit(128 + signum)

    previous = [signal.signal(s, stop_child) for s in (signal.SIGTERM, signal.SIGINT)]
    try:
        _, status = os.waitpid(pid, 0)
    finally:
        for s, handler in zip((signal.SIGTERM, signal.SIGINT), previous, strict=True):
            signal.signal(s, handler)
    return os.waitstatus_to_exitcode(status) == 0


def _watch_parent(fd: int) -> None:
    """Exit when the starter goes away: its end of our stdin closes.

    Reads the raw fd: a daemon thread blocked in a buffered ``sys.stdin`` read
    aborts interpreter shutdown.
    """
    with contextlib.suppress(OSError):
        while os.read(fd, 4096):
            pass
    # Aimed at the main thread, so its select() is interrupted at once; a
    # process-wide kill may land on this thread and wait for the poll timeout.
    main = threading.main_thread().ident
    if main is not None and hasattr(signal, "pthread_kill"):
        signal.pthread_kill(main, signal.SIGTERM)
    else:  # pragma: no cover
        os.kill(os.getpid(), signal.SIGTERM)


def _child_serve(args: argparse.Namespace) -> int:
    layout = _Layout.of(args.data_dir)
    _quiet_logs()
    # initialize_public_application() parses sys.argv with oslo.config: give it
    # exactly our config, and an empty --config-dir so no /etc conf.d applies.
    sys.argv = [sys.argv[0], "--config-file", str(layout.conf), "--config-dir", str(layout.conf_d)]
    os.environ["OS_KEYSTONE_CONFIG_DIR"] = str(layout.root)
    os.environ.pop("OS_KEYSTONE_CONFIG_FILES", None)
    try:
        import keystone.conf  # noqa: F401  (imported before a fork, shared by it)
        from keystone.cmd import cli  # noqa: F401
        from keystone.server import wsgi
        from werkzeug.serving import WSGIRequestHandler, make_server
    except Exception as e:
        traceback.print_exc()
        print(f"{_MSG_PREFIX}cannot import keystone: {_one_line(e)}", file=sys.stderr)
        return 1

    if args.prepare and not _prepare_in_fork(layout, args.region, args.port):
        return _EXIT_PREPARE_FAILED  # the child printed the summary line

    try:
        app = wsgi.initialize_public_application()
    except SystemExit as e:  # oslo.config reports bad config via argparse exit
        print(f"{_MSG_PREFIX}keystone rejected {layout.conf} (exit {e.code})", file=sys.stderr)
        return 1
    except Exception as e:
        traceback.print_exc()
        print(f"{_MSG_PREFIX}keystone failed to initialise: {_one_line(e)}", file=sys.stderr)
        return 1

    class Handler(WSGIRequestHandler):
        """Plain access log lines (werkzeug colours them) into keystone.log via the root logger."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            self.log("info", '"%s" %s %s', self.requestline, getattr(code, "value", code), size)

    # Werkzeug's threaded server: it ships with Keystone (via Flask), speaks
    # HTTP/1.1 keep-alive, and adopts an already-listening socket.
    server = make_server(
        HOST, args.port, app, threaded=True, request_handler=Handler, fd=args.listen_fd
    )
    _close_quietly(args.listen_fd)  # make_server dup'ed it

    def on_signal(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threading.Thread(target=_watch_parent, args=(sys.stdin.fileno(),), daemon=True).start()

    os.write(args.ready_fd, b"ready\n")
    _close_quietly(args.ready_fd)
    with contextlib.suppress(SystemExit):  # raised by on_signal
        server.serve_forever(poll_interval=0.5)
    server.server_close()
    print(f"{_MSG_PREFIX}stopped", file=sys.stderr, flush=True)
    # Skip interpreter teardown: it takes over a second with Keystone loaded, and
    # every transaction is already committed. Flush the log first.
    logging.shutdown()
    sys.stdout.flush()
    os._exit(0)


def _cmd_run(args: argparse.Namespace) -> int:
    try:
        return run_foreground(Path(args.data_dir), args.region, args.port)
    except DevKeystoneError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m regionctl.devkeystone``: the server side, plus ``run`` for humans."""
    parser = argparse.ArgumentParser(prog="python -m regionctl.devkeystone")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("prepare", "serve", "run"):
        p = sub.add_parser(name)
        p.add_argument("--data-dir", required=True)
        p.add_argument("--region", default=DEFAULT_REGION)
        p.add_argument("--port", type=int, default=0)
        if name == "serve":
            p.add_argument("--listen-fd", type=int, required=True)
            p.add_argument("--ready-fd", type=int, required=True)
            p.add_argument("--lock-fd", type=int)  # only held open: the data dir lock
            p.add_argument("--prepare", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        return _child_prepare(args)
    if args.command == "serve":
        return _child_serve(args)
    return _cmd_run(args)


if __name__ == "__main__":
    sys.exit(main())
