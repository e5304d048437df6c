"""The handle on a running dev Keystone: where it is, how to log in, how to stop it."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from regionctl.devkeystone.datadir import DOMAIN, LOG_FILE, PROJECT, STOP_TIMEOUT, USERNAME


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
    workers: int = 1  # server processes (1: one threaded process; more: gunicorn on one SQLite database)
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
            signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                signal_group(proc, signal.SIGKILL)
                proc.wait()
        _wait_group_gone(proc)  # gunicorn's workers may outlive their arbiter by a moment
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



def signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal the process group ``proc`` leads (it was started in its own session)."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError, AttributeError):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError, AttributeError):
        return False
    return True


def _wait_group_gone(proc: subprocess.Popen[bytes]) -> None:
    """Wait until no process of the server's group is left (they hold its port and data dir lock)."""
    deadline = time.monotonic() + STOP_TIMEOUT
    killed = False
    while _group_alive(proc.pid):
        if time.monotonic() > deadline:
            if killed:
                return  # only unreaped zombies can be left: they hold nothing
            signal_group(proc, signal.SIGKILL)
            killed, deadline = True, time.monotonic() + 2.0
        time.sleep(0.05)
