"""Shared fixtures: a small valid site to break, and running the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from keystone_fixture import dev_keystone  # noqa: F401 - one session Keystone for every test module

from regionctl.cli.main import main

#: the two-clouds Keystones and routers: one session fixture (``clouds``) for every module
pytest_plugins = ["clouds_fixture"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
#: The examples' secrets are SOPS-encrypted for this published TEST key (examples/keys/README.md).
TEST_AGE_KEY = EXAMPLES / "keys" / "TEST-KEY-age.txt"

# Every test (and every regionctl process a test starts) opens the examples with the test key, and
# never with the keys of whoever runs the suite (sops's ~/.config/sops/age/keys.txt).
os.environ["SOPS_AGE_KEY_FILE"] = str(TEST_AGE_KEY)
os.environ.pop("SOPS_AGE_KEY", None)
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="regionctl-tests-xdg-")

#: what a region runs unless a test says otherwise: nova and everything nova needs
COMPUTE = ("nova", "placement", "neutron", "glance")


def region_yaml(name: str, services: tuple[str, ...] | str = COMPUTE, *, public: str | None = None,
                internal: str | None = None, parent: str | None = None, extra: str = "") -> str:
    """One region of a site.yaml, in the layout every test's line numbers count on:
    name, parent, addresses, services, then ``extra`` (indented four spaces: infra, nodes, ...)."""
    if isinstance(services, str):
        services = tuple(services.split())
    lines = [f"  {name}:"]
    if parent:
        lines.append(f"    parent: {parent}")
    if public:
        lines += ["    addresses:", f"      public: {public}"] + ([f"      internal: {internal}"] if internal else [])
    lines.append("    services:")
    lines += [f"      {s}:" for s in services]
    return "\n".join(lines) + "\n" + textwrap.indent(textwrap.dedent(extra), "    ")


def site_text(*regions: str, head: str = "") -> str:
    """A site.yaml of ``regions`` (from :func:`region_yaml`), ``head`` lines before ``regions:``."""
    return "format: 1\n" + head + "regions:\n" + "".join(regions)


#: the small valid site the tests break: One hosts Keystone, Two is its child; both run compute
SITE = site_text(region_yaml("One", ("keystone",) + COMPUTE, public="http://192.0.2.1"),
                 region_yaml("Two", COMPUTE, public="http://192.0.2.2", parent="One"))

SECRETS = """\
passwords:
  keystone_admin: admin-pw
  service_users:
    nova: nova-pw
    placement: placement-pw
    neutron: neutron-pw
    glance: glance-pw
    cinder: cinder-pw
  databases:
    keystone: keystone-db
    nova: nova-db
    placement: placement-db
    neutron: neutron-db
    glance: glance-db
    cinder: cinder-db
  messaging: rabbit-pw
"""


@dataclass
class Result:
    code: int
    out: str
    err: str


def make_site(root: Path, site: str = SITE, files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.yaml").write_text(textwrap.dedent(site))
    defaults = {"regions/One/secrets.yaml": SECRETS, "regions/Two/secrets.yaml": SECRETS}
    for rel, text in {**defaults, **(files or {})}.items():
        p = root / rel
        if text is not None:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
    return root


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path / "site")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> Result:
    """Run the CLI in-process (fast) and capture what it prints."""
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return Result(int(exc.value.code or 0), out, err)


def run_process(args: list[str], **kw) -> Result:
    """Run the CLI as a user would, in its own process."""
    p = subprocess.run([sys.executable, "-m", "regionctl", *args], capture_output=True, text=True, **kw)
    return Result(p.returncode, p.stdout, p.stderr)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    return lambda *args: run(list(args), capsys)


def decrypted(path: Path) -> dict:
    """A SOPS-encrypted example file's values (opened with the test key), as plain data."""
    import yaml

    from regionctl.site import age
    from regionctl.site.sopsfile import decrypt_text

    plain, _ = decrypt_text(path.read_text(), str(path), age.find_identities())
    return yaml.safe_load(plain)
