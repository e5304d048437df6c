"""The dev Keystone's data directory: the names inside it, keystone.conf, the password, state, lock, log.

Everything a dev Keystone keeps lives in one directory (SQLite, key repositories, log), so
a test can throw it away and a second one can never share it (the lock). Private files go
through :func:`regionctl.fileio.replace_file` (0600 from the first byte, renamed into place).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib.metadata
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from regionctl.fileio import replace_file

try:  # POSIX only; without it a data dir is simply not locked.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

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
WORKERS_CONF = "workers.conf"  # inside CONF_DIR: what several server processes need (no shared cache)
PASSWORD_FILE = "admin-password"
STATE_FILE = "devkeystone.json"
LOCK_FILE = "devkeystone.lock"
LOG_FILE = "keystone.log"
DB_FILE = "keystone.db"
FERNET_DIR = "fernet-keys"
CREDENTIAL_DIR = "credential-keys"
POLICY_FILE = "policy.yaml"  # optional overrides; absent means Keystone's in-code defaults
POLICY_DIR = "policy.d"

LAYOUT_VERSION = 1  # bump when keystone.conf changes meaning, to force a re-prepare
MSG_PREFIX = "devkeystone: "  # marks the one summary line a child prints before failing
EXIT_PREPARE_FAILED = 3

#: Keystone's caches that must be off when several processes serve one database: each
#: process's dict cache would keep answering what another process has since changed.
#: Only the catalog: it is what regionctl writes and reads back at once. Turning off the
#: others too (assignments, roles, projects, users) makes every request ~40x slower (each
#: token validation goes back to SQL); a dev Keystone whose users change while it runs
#: should be restarted, or run with one worker.
SHARED_STATE_CACHES = ("catalog",)


class DevKeystoneError(Exception):
    """An expected failure, as one line that says what to do about it."""


def url_for(port: int) -> str:
    return f"http://{HOST}:{port}/v3"


def keystone_version() -> str:
    try:
        return importlib.metadata.version("keystone")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def write_private(path: Path, text: str) -> None:
    """Write a file only the owner can read (it may hold the admin password), atomically."""
    replace_file(path, text, 0o600)


@dataclass(frozen=True)
class Layout:
    """Paths inside one data directory (all absolute, so the config is cwd-proof)."""

    root: Path

    @classmethod
    def of(cls, data_dir: Path | str) -> Layout:
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
                write_private(self.conf, text)
        except OSError as e:
            raise DevKeystoneError(f"cannot write {self.conf}: {e.strerror or e}") from None

    def write_workers_conf(self, workers: int) -> None:
        """Several server processes share no cache: turn off the ones that hold changing data.

        Kept in the conf dir, outside keystone.conf, so changing ``--workers`` never forces
        a re-prepare (keystone.conf is part of the prepared fingerprint).
        """
        path = self.conf_d / WORKERS_CONF
        try:
            if workers <= 1:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                return
            text = (f"# Written by regionctl.devkeystone for {workers} server processes on one database.\n"
                    + "".join(f"[{group}]\ncaching = false\n\n" for group in SHARED_STATE_CACHES))
            if not path.exists() or path.read_text() != text:
                write_private(path, text)
        except OSError as e:
            raise DevKeystoneError(f"cannot write {path}: {e.strerror or e}") from None

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
                write_private(self.password, password + "\n")
            except OSError as e:
                raise DevKeystoneError(f"cannot write {self.password}: {e.strerror or e}") from None

    def fingerprint(self, region: str, port: int, password: str) -> str:
        """What a prepared data dir was prepared for; a change means re-run the steps."""
        parts = {
            "layout": LAYOUT_VERSION,
            "keystone": keystone_version(),
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
        write_private(self.state, json.dumps(state, indent=2, sort_keys=True) + "\n")

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

