"""The server child: ``python -m regionctl.devkeystone prepare|serve`` (Keystone is imported only here).

The server always runs in a *separate process*: Keystone's configuration is process-global,
and tests must be able to kill the server mid-operation. It exits on SIGTERM, and also when
the process that started it goes away (its stdin pipe reaches EOF), so a killed test run
leaves no orphan holding the port.

Start-up cost is dominated by importing Keystone (~1.7 s on 2 cores). The ``keystone-manage``
steps therefore run in-process (one import instead of four), and when ``start`` finds the
data directory unprepared, the server process runs them in a forked child after importing
Keystone, so a fresh data directory costs one import, not two. With ``--workers N`` the same
import is shared by N gunicorn worker processes (forked after the import).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Sequence
from types import FrameType
from typing import Any

from regionctl.devkeystone.datadir import (
    DEFAULT_REGION,
    DOMAIN,
    EXIT_PREPARE_FAILED,
    HOST,
    MSG_PREFIX,
    PROJECT,
    USERNAME,
    Layout,
    url_for,
)


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


def _manage_steps(layout: Layout, region: str, port: int) -> list[list[str]]:
    owner: list[str] = []
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # keystone-manage insists when root
        owner = ["--keystone-user", str(os.getuid()), "--keystone-group", str(os.getgid())]
    url = url_for(port)
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


def _run_manage(layout: Layout, region: str, port: int) -> None:
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
    layout = Layout.of(args.data_dir)
    try:
        _run_manage(layout, args.region, args.port)
    except _StepFailed as e:
        print(f"{MSG_PREFIX}{e}", file=sys.stderr, flush=True)
        return EXIT_PREPARE_FAILED
    return 0


def _prepare_in_fork(layout: Layout, region: str, port: int) -> bool:
    """Run the manage steps in a forked child, sharing this process's Keystone import.

    The child is needed because bootstrap leaves Keystone's globals in a state
    the WSGI app cannot be initialised from; forking after the import saves ~1.7 s.
    """
    if not hasattr(os, "fork"):  # pragma: no cover - Windows
        from regionctl.devkeystone.launcher import child_env

        res = subprocess.run(
            [sys.executable, "-m", "regionctl.devkeystone", "prepare",
             "--data-dir", str(layout.root), "--region", region, "--port", str(port)],
            stdin=subprocess.DEVNULL, env=child_env(), check=False,
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
            print(f"{MSG_PREFIX}{e}", file=sys.stderr)
            rc = EXIT_PREPARE_FAILED
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
    layout = Layout.of(args.data_dir)
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
        print(f"{MSG_PREFIX}cannot import keystone: {_one_line(e)}", file=sys.stderr)
        return 1

    if args.prepare and not _prepare_in_fork(layout, args.region, args.port):
        return EXIT_PREPARE_FAILED  # the child printed the summary line
    _serialize_sqlite_transactions()  # after the migrations, which manage their own transactions

    try:
        app = wsgi.initialize_public_application()
    except SystemExit as e:  # oslo.config reports bad config via argparse exit
        print(f"{MSG_PREFIX}keystone rejected {layout.conf} (exit {e.code})", file=sys.stderr)
        return 1
    except Exception as e:
        traceback.print_exc()
        print(f"{MSG_PREFIX}keystone failed to initialise: {_one_line(e)}", file=sys.stderr)
        return 1

    def on_signal(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    if args.workers > 1:
        _serve_gunicorn(app, args)  # returns only on failure
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

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threading.Thread(target=_watch_parent, args=(sys.stdin.fileno(),), daemon=True).start()

    os.write(args.ready_fd, b"ready\n")
    _close_quietly(args.ready_fd)
    with contextlib.suppress(SystemExit):  # raised by on_signal
        server.serve_forever(poll_interval=0.5)
    server.server_close()
    _exit_quickly()
    return 0  # not reached


def _serialize_sqlite_transactions() -> None:
    """Every transaction takes SQLite's write lock up front (BEGIN IMMEDIATE), waiting up to 30 s.

    With SQLite's default deferred transactions, two requests that read and then write at
    the same time fail at once with "database is locked" (neither may upgrade its read lock),
    which parallel writers (threads or ``--workers``) hit within seconds. Taking the lock at
    BEGIN makes them queue instead: SQLite serializes writers, Keystone's Python work around
    them still overlaps. SQLAlchemy's recipe for pysqlite; only Keystone's engine is in here.
    """
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        if type(dbapi_connection).__module__.startswith("sqlite3"):
            dbapi_connection.execute("PRAGMA busy_timeout = 30000")

    # oslo.db already turns pysqlite's implicit BEGIN off and emits "BEGIN" itself unless
    # conn.info says a transaction is open; this class-level listener runs before its one.
    @event.listens_for(Engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.dialect.name == "sqlite" and "in_transaction" not in conn.info:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            conn.info["in_transaction"] = True


def _exit_quickly() -> None:
    print(f"{MSG_PREFIX}stopped", file=sys.stderr, flush=True)
    # Skip interpreter teardown: it takes over a second with Keystone loaded, and
    # every transaction is already committed. Flush the log first.
    logging.shutdown()
    sys.stdout.flush()
    os._exit(0)


def _serve_gunicorn(app: Any, args: argparse.Namespace) -> None:
    """Serve ``app`` from ``args.workers`` gunicorn processes forked after Keystone's import.

    Each process is one request at a time (gunicorn's sync worker), as Keystone under
    mod_wsgi or uwsgi with one thread per process; the database is the one SQLite file,
    so writes take turns on its lock. Every worker opens its own database connection
    (the engine made before the fork is dropped in the child).
    """
    from gunicorn.app.base import BaseApplication

    ready_fd = args.ready_fd

    def post_fork(server: Any, worker: Any) -> None:
        from keystone.common.sql import core as sql_core

        sql_core.cleanup()  # a fresh engine (and SQLite connection) per process

    def when_ready(server: Any) -> None:
        threading.Thread(target=_watch_parent, args=(sys.stdin.fileno(),), daemon=True).start()
        os.write(ready_fd, b"ready\n")
        _close_quietly(ready_fd)

    def on_exit(server: Any) -> None:
        _exit_quickly()

    settings = {
        "bind": [f"fd://{args.listen_fd}"],
        "workers": args.workers,
        "worker_class": "sync",
        "preload_app": True,
        "timeout": 60,
        "graceful_timeout": 3,
        "accesslog": "-",  # stdout is keystone.log
        "access_log_format": '%(h)s pid=%(p)s "%(r)s" %(s)s %(B)s %(M)sms',
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "regionctl-dev-keystone",
        "post_fork": post_fork,
        "when_ready": when_ready,
        "on_exit": on_exit,
    }

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    sys.argv = [sys.argv[0]]  # gunicorn parses argv too
    Server().run()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m regionctl.devkeystone prepare|serve``: the server side (``regionctl dev-keystone`` is for humans)."""
    parser = argparse.ArgumentParser(prog="python -m regionctl.devkeystone")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("prepare", "serve"):
        p = sub.add_parser(name)
        p.add_argument("--data-dir", required=True)
        p.add_argument("--region", default=DEFAULT_REGION)
        p.add_argument("--port", type=int, default=0)
        if name == "serve":
            p.add_argument("--listen-fd", type=int, required=True)
            p.add_argument("--ready-fd", type=int, required=True)
            p.add_argument("--lock-fd", type=int)  # only held open: the data dir lock
            p.add_argument("--prepare", action="store_true")
            p.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if args.command == "prepare":
        return _child_prepare(args)
    return _child_serve(args)




def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
