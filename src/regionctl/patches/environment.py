"""An installed environment to check patches against: its site-packages and what versions it holds.

The services environment (``make services-env``; ``REGIONCTL_SERVICES_VENV``, default
``~/.cache/regionctl/services-venv``) holds one release of the real services. Its site-packages
is asked of its own interpreter (a venv's layout is the interpreter's business); versions are
read with ``importlib.metadata`` from that directory, so nothing of it is imported here.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from regionctl.errors import UserError
from regionctl.openstack import options
from regionctl.openstack.pypackages import dists
from regionctl.patches.diff import dist_key

DEFAULT_VENV = Path("~/.cache/regionctl/services-venv")
ENV_VAR = "REGIONCTL_SERVICES_VENV"


@dataclass(frozen=True)
class Environment:
    site_packages: Path
    versions: dict[str, str]  # dist_key(name) -> version
    origin: str  # how it was found, for messages

    def version(self, dist: str) -> str | None:
        return self.versions.get(dist_key(dist))


def services_venv() -> Path:
    return Path(os.environ.get(ENV_VAR) or DEFAULT_VENV).expanduser()


def site_packages_of(venv: Path) -> Path:
    """The purelib directory of ``venv``, as its interpreter reports it."""
    python = venv / "bin" / "python"
    if not python.exists():
        raise UserError(f"{venv}: no bin/python: build the services environment (make services-env), set "
                        f"{ENV_VAR}, or pass --against SITE_PACKAGES")
    try:
        p = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                           capture_output=True, text=True, timeout=60)
    except OSError as exc:
        raise UserError(f"{python}: cannot run ({exc.strerror}): rebuild it (make services-env)") from None
    if p.returncode != 0 or not p.stdout.strip():
        raise UserError(f"{python}: cannot tell its site-packages ({(p.stderr.strip().splitlines() or ['no output'])[-1]}): "
                        "rebuild it (make services-env)")
    return Path(p.stdout.strip())


def at(site_packages: Path, origin: str) -> Environment:
    if not site_packages.is_dir():
        raise UserError(f"{site_packages}: no such directory: --against takes a site-packages directory")
    versions: dict[str, str] = {}
    for d in importlib.metadata.distributions(path=[str(site_packages)]):
        name = d.metadata["Name"]
        if name:
            versions.setdefault(dist_key(name), d.version)
    if not versions:
        raise UserError(f"{site_packages}: holds no installed distributions (*.dist-info): "
                        "--against takes the site-packages directory of an environment")
    return Environment(site_packages, versions, origin)


def for_release(release: str | None, services: list[str]) -> Environment:
    """The services environment, refused unless it holds ``release`` (None: the newest packaged one).

    A release's services are known by the versions its option data was generated from
    (``optdata/<release>.json``): same major version of each service, same release.
    """
    try:
        data = options.load(release)
    except KeyError:
        raise UserError(f"no option data for release '{release}' (have {', '.join(options.available_releases())}): "
                        "pass --against SITE_PACKAGES of an environment of that release") from None
    venv = services_venv()
    env = at(site_packages_of(venv), f"the services environment {venv}")
    want = {dist_key(k): v for k, v in data.packages.items()}
    for service in services:
        for dist in dists(service)[:1]:
            have, expected = env.version(dist), want.get(dist_key(dist))
            if have is None or expected is None:
                continue
            if have.split(".")[0] != expected.split(".")[0]:
                raise UserError(f"{venv}: holds {dist} {have}, but release {data.release} is {dist} "
                                f"{expected.split('.')[0]}.x: pass --against SITE_PACKAGES of a {data.release} "
                                "environment")
    return env
