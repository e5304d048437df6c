"""Starting a dev Keystone: prepare the data dir, bind the port, spawn the server, wait for it.

The parent binds the listening socket itself and hands it over, so "port in use" is reported
synchronously and there is no window in which another program can take the port. The data
dir lock is handed over too: it is held for exactly as long as the server lives.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import json
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from regionctl.devkeystone.datadir import (
    DEFAULT_REGION,
    HOST,
    INSTALL_HINT,
    MSG_PREFIX,
    PASSWORD_FILE,
    START_TIMEOUT,
    DevKeystoneError,
    Layout,
    keystone_version,
    url_for,
    write_private,
)
from regionctl.devkeystone.handle import DevKeystone, signal_group

MAX_WORKERS = 16


def keystone_available() -> bool:
    """Whether Keystone is installed, without importing it (that costs ~1.7 s and global state)."""
    return importlib.util.find_spec("keystone") is not None


def workers_available() -> bool:
    """Whether gunicorn (the multi-process server, ``regionctl[keystone]``) is installed."""
    return importlib.util.find_spec("gunicorn") is not None


def _check_installed(workers: int = 1) -> None:
    # Looked up on the package, so whoever replaces it there (a test) is obeyed.
    import regionctl.devkeystone as package

    if not package.keystone_available():
        raise DevKeystoneError(INSTALL_HINT)
    if workers > 1 and not workers_available():
        raise DevKeystoneError(f"--workers {workers} needs gunicorn: pip install 'regionctl[keystone]'")


def child_env() -> dict[str, str]:
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
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def last_message(lines: Sequence[str]) -> str:
    """The line that explains a child's failure: its summary line, else its last line."""
    for line in reversed(lines):
        if line.startswith(MSG_PREFIX):
            return line[len(MSG_PREFIX) :].strip()
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
    layout = Layout.of(data_dir)
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
                env=child_env(),
                check=False,
            )
        except OSError as e:
            raise DevKeystoneError(f"cannot run {sys.executable}: {e.strerror or e}") from None
        if res.returncode != 0:
            out = res.stdout.decode("utf-8", "replace").splitlines()
            raise DevKeystoneError(
                f"preparing dev keystone in {layout.root} failed: "
                f"{last_message([x for x in out if x.strip()])} (log: {layout.log})"
            )


def start(
    data_dir: Path,
    region: str = DEFAULT_REGION,
    port: int = 0,
    password: str | None = None,
    *,
    timeout: float = START_TIMEOUT,
    workers: int = 1,
) -> DevKeystone:
    """Start a dev Keystone on ``127.0.0.1:port`` and return once GET /v3 answers.

    ``port=0`` reuses the port of the previous run on this data dir if it is
    free (so URLs in clouds.yaml and the catalog stay valid), else any free
    port. Without ``password`` the one stored in the data dir is reused, or a
    new one is generated and stored (mode 0600). The data dir is prepared
    first when it is new or was prepared for another region/port/password.

    ``workers`` > 1 serves with gunicorn: that many processes on the one SQLite
    database, as a production Keystone runs several behind a load balancer.
    """
    _validate(region, port, workers)
    _check_installed(workers)
    layout = Layout.of(data_dir)
    layout.ensure_dirs()
    with layout.locked() as lock_fd:
        password = password or layout.read_password() or secrets.token_urlsafe(24)
        layout.store_password(password)
        layout.write_conf()
        layout.write_workers_conf(workers)
        previous = layout.read_state().get("port")
        with _listen(port, fallback=port == 0 and isinstance(previous, int), previous=previous) as sock:
            port = sock.getsockname()[1]
            prepare_first = not layout.is_prepared_for(region, port, password)
            log_offset = _log_marker(layout, f"starting on {url_for(port)} (prepare={prepare_first}, "
                                             f"workers={workers})")
            proc, read_fd = _spawn_server(layout, region, sock, lock_fd, prepare_first, workers)
    # Only the server process holds the socket and the data dir lock now.
    dk = DevKeystone(url=url_for(port), data_dir=layout.root, region=region, password=password,
                     workers=workers, process=proc)
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


@dataclass(frozen=True)
class Running:
    """What ``run_foreground`` tells its caller once Keystone answers (the caller prints it)."""

    keystone: DevKeystone
    seconds: float  # start-up time
    openrc: Path  # OS_* variables, password included (0600)
    clouds: Path  # a clouds.yaml with one cloud, password included (0600)
    password_file: Path
    cloud: str
    version: str  # Keystone's package version


@dataclass(frozen=True)
class Spec:
    """One Keystone to run: where its data lives, the region it bootstraps, its clouds.yaml name."""

    data_dir: Path
    region: str = DEFAULT_REGION
    cloud: str = "regionctl-dev"
    port: int = 0


def run_foreground(
    data_dir: Path,
    region: str = DEFAULT_REGION,
    port: int = 0,
    password: str | None = None,
    *,
    cloud: str = "regionctl-dev",
    workers: int = 1,
    on_ready: Callable[[Running], None] | None = None,
    on_stop: Callable[[], None] | None = None,
) -> int:
    """``regionctl dev-keystone``: start, let the caller say how to use it, serve until Ctrl-C.

    Also writes ``openrc`` and ``clouds.yaml`` (mode 0600) into the data dir so
    the password need not be copied from the terminal. Returns the exit status.
    Printing is the caller's (``regionctl.cli.devkeystone``): ``on_ready`` once it
    answers, ``on_stop`` when Ctrl-C or SIGTERM stops it.
    """
    return run_several([Spec(data_dir, region, cloud, port)], password, workers=workers,
                       on_ready=on_ready, on_stop=on_stop)


def run_several(
    specs: Sequence[Spec],
    password: str | None = None,
    *,
    workers: int = 1,
    on_ready: Callable[[Running], None] | None = None,
    on_stop: Callable[[], None] | None = None,
) -> int:
    """Several Keystones at once (a site of several clouds), each with its own data dir and port;
    one Ctrl-C stops them all, and one that exits stops the others."""
    import shlex

    started: list[DevKeystone] = []
    try:
        ready: list[Running] = []
        for spec in specs:
            t0 = time.monotonic()
            try:
                dk = start(spec.data_dir, region=spec.region, port=spec.port, password=password, workers=workers)
            except KeyboardInterrupt:
                return 130
            started.append(dk)
            openrc = dk.data_dir / "openrc"
            clouds = dk.data_dir / "clouds.yaml"
            env_lines = [f"export {k}={shlex.quote(v)}" for k, v in dk.env().items()]
            try:
                write_private(openrc, "# regionctl dev keystone\n" + "\n".join(env_lines) + "\n")
                write_private(clouds, dk.clouds_yaml(spec.cloud))
            except OSError as e:
                raise DevKeystoneError(f"cannot write into {dk.data_dir}: {e.strerror or e}") from None
            ready.append(Running(dk, time.monotonic() - t0, openrc, clouds, dk.data_dir / PASSWORD_FILE,
                                 spec.cloud, keystone_version()))
        try:  # Ctrl-C may come as soon as the banner is out: catch it from there on
            with _sigterm_as_interrupt():
                for r in ready:
                    if on_ready is not None:
                        on_ready(r)
                gone = _wait_any(started)
        except KeyboardInterrupt:
            if on_stop is not None:
                on_stop()
            return 0
        rc = gone.process.returncode if gone.process is not None else None
        tail = Layout.of(gone.data_dir).log_tail()
        raise DevKeystoneError(
            f"dev keystone exited unexpectedly ({_describe_status(rc)}): "
            f"{last_message(tail)} (log: {gone.log_file})"
        )
    finally:
        for dk in started:
            dk.stop()


def _wait_any(running: Sequence[DevKeystone]) -> DevKeystone:
    """Block until one of the servers exits (one server: wait on it alone)."""
    if len(running) == 1 and running[0].process is not None:
        running[0].process.wait()
        return running[0]
    while True:
        for dk in running:
            if dk.process is not None and dk.process.poll() is not None:
                return dk
        time.sleep(0.5)


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


def _validate(region: str, port: int, workers: int = 1) -> None:
    if not region or region != region.strip():
        raise DevKeystoneError(f"invalid region id {region!r}: give a non-empty name")
    if not 0 <= port <= 65535:
        raise DevKeystoneError(f"invalid port {port}: give 1-65535, or 0 for a free one")
    if not 1 <= workers <= MAX_WORKERS:
        raise DevKeystoneError(f"invalid number of workers {workers}: give 1-{MAX_WORKERS}")


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
    layout: Layout, region: str, sock: socket.socket, lock_fd: int | None, prepare_first: bool, workers: int = 1
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
    if workers > 1:
        cmd += ["--workers", str(workers)]
    try:
        with layout.log.open("ab") as log:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,  # EOF there = we are gone: the server exits
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=pass_fds,
                env=child_env(),
                start_new_session=True,  # Ctrl-C reaches only us; we stop it cleanly
            )
    except OSError as e:
        _close_quietly(read_fd)
        raise DevKeystoneError(f"cannot run {sys.executable}: {e.strerror or e}") from None
    finally:
        _close_quietly(ready_fd)
    return proc, read_fd


def _log_marker(layout: Layout, what: str) -> int:
    """Append a separator to the log; returns the offset where this run's output starts."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    try:
        with layout.log.open("ab") as f:
            offset = f.tell()
            f.write(f"----- {stamp} regionctl dev keystone: {what}\n".encode())
            return offset
    except OSError as e:
        raise DevKeystoneError(f"cannot write {layout.log}: {e.strerror or e}") from None


def _wait_ready(dk: DevKeystone, read_fd: int, layout: Layout, since: int, timeout: float) -> None:
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


def _fail_start(dk: DevKeystone, layout: Layout, since: int, why: str) -> None:
    dk.stop()
    tail = layout.log_tail(since)
    if tail and tail[-1].startswith(MSG_PREFIX):  # a child's own one-line diagnosis
        raise DevKeystoneError(f"dev keystone failed to start: {last_message(tail)} (log: {layout.log})")
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


def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)

