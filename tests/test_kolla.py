"""render --format kolla, checked against the real kolla-ansible package.

Every variable regionctl writes must be one kolla-ansible defines (group_vars/all, and its
passwords.yml for passwords); every config/ file must be a merge_configs source of a kolla role;
every secret regionctl leaves to kolla's template must be written by that template from the
password regionctl puts in passwords.yml. The package comes from, in order:
REGIONCTL_KOLLA_GROUP_VARS (its ansible/group_vars/all directory), the services venv
(tools/services-env.sh), or the PyPI wheel, downloaded once into ~/.cache/regionctl/.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from oslo_config import cfg

from conftest import COMPUTE, EXAMPLES, ROOT, decrypted, make_site, region_yaml, site_text
from regionctl.openstack import kolla as kolla_data
from regionctl.openstack.deployers import (
    KOLLA_CONF_PASSWORDS,
    KOLLA_DERIVED,
    KOLLA_ENABLE,
    KOLLA_GLOBAL,
    KOLLA_INVENTORY_GROUPS,
    KOLLA_INVENTORY_OPTIONS,
    KOLLA_REGION_NEEDS,
    KOLLA_TEMPLATE_LISTS,
    KOLLA_VRID_VAR,
    KOLLA_WHEN,
    KOLLA_NOVA_COMPUTE,
    KOLLA_NOVA_CONTROLLERS,
    KOLLA_SERVICE_FILE,
    KOLLA_TEMPLATE_SECRETS,
    KOLLA_TEMPLATES,
    KollaPath,
)

EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "site.yaml").is_file())
DEFAULT_KOLLA_VERSION = "22.2.0"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "regionctl"


# -- finding the real kolla-ansible -------------------------------------------------------------

@dataclass(frozen=True)
class Kolla:
    """The package's share/kolla-ansible tree, and where its Python package lives (for mergepwd)."""

    share: Path
    package: Path | None
    origin: str

    @property
    def group_vars(self) -> Path:
        return self.share / "ansible" / "group_vars" / "all"

    @property
    def roles(self) -> Path:
        return self.share / "ansible" / "roles"

    @property
    def passwords(self) -> Path:
        return self.share / "etc_examples" / "kolla" / "passwords.yml"


def kolla_version() -> str:
    """The version tools/services-requirements.txt pins (the services venv's), else ours."""
    req = ROOT / "tools" / "services-requirements.txt"
    if req.is_file():
        m = re.search(r"^kolla-ansible==([0-9][^\s#]*)", req.read_text(), re.M)
        if m:
            return m.group(1)
    return DEFAULT_KOLLA_VERSION


def _package_near(share: Path) -> Path | None:
    """kolla_ansible/ of the same install: a source checkout's root, or the venv's site-packages."""
    candidates = [share.parent / "kolla_ansible"]  # source checkout: <repo>/ansible, <repo>/kolla_ansible
    venv = share.parent.parent  # <venv>/share/kolla-ansible
    candidates += sorted(venv.glob("lib/python3*/site-packages/kolla_ansible"))
    candidates.append(venv / "python" / "kolla_ansible")  # this module's own wheel cache
    return next((c for c in candidates if (c / "cmd" / "mergepwd.py").is_file()), None)


def _from_wheel(version: str) -> Kolla:
    dest = CACHE / f"kolla-ansible-{version}"
    share = dest / "share" / "kolla-ansible"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"kolla-ansible-{version}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (share / "ansible" / "group_vars" / "all").is_dir():
            with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
                p = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                                    "--disable-pip-version-check", "-q", f"kolla-ansible=={version}", "-d", tmp],
                                   capture_output=True, text=True)
                wheels = list(Path(tmp).glob("kolla_ansible-*.whl"))
                if p.returncode != 0 or not wheels:
                    pytest.fail(f"kolla-ansible {version} is needed to check the kolla renderer and could not be "
                                f"downloaded from PyPI ({(p.stderr or p.stdout).strip().splitlines()[-1:]}): "
                                "set REGIONCTL_KOLLA_GROUP_VARS to the package's ansible/group_vars/all, or run "
                                "tools/services-env.sh", pytrace=False)
                unpacked = Path(tmp) / "unpacked"
                prefix = f"kolla_ansible-{version}.data/data/share/kolla-ansible/"
                with zipfile.ZipFile(wheels[0]) as z:
                    for name in z.namelist():
                        if name.startswith(prefix):
                            target = unpacked / "share" / "kolla-ansible" / name[len(prefix):]
                        elif name.startswith("kolla_ansible/"):
                            target = unpacked / "python" / name
                        else:
                            continue
                        if name.endswith("/"):
                            continue
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(z.read(name))
                if dest.exists():
                    shutil.rmtree(dest)
                unpacked.rename(dest)
    return Kolla(share, dest / "python" / "kolla_ansible", f"PyPI wheel kolla-ansible {version} ({dest})")


@pytest.fixture(scope="session")
def kolla() -> Kolla:
    env = os.environ.get("REGIONCTL_KOLLA_GROUP_VARS")
    if env:
        gv = Path(env)
        if not gv.is_dir() or not list(gv.glob("*.yml")):
            pytest.fail(f"REGIONCTL_KOLLA_GROUP_VARS={env}: not a directory of *.yml: point it at kolla-ansible's "
                        "ansible/group_vars/all", pytrace=False)
        share = gv.parent.parent.parent
        return Kolla(share, _package_near(share), f"REGIONCTL_KOLLA_GROUP_VARS ({env})")
    venv = Path(os.environ.get("REGIONCTL_SERVICES_VENV", CACHE / "services-venv"))
    share = venv / "share" / "kolla-ansible"
    if (share / "ansible" / "group_vars" / "all").is_dir():
        return Kolla(share, _package_near(share), f"services venv ({venv})")
    return _from_wheel(kolla_version())


def _yaml_keys(path: Path) -> set[str]:
    data = yaml.safe_load(path.read_text()) or {}
    assert isinstance(data, dict), path
    return set(data)


@pytest.fixture(scope="session")
def kolla_vars(kolla: Kolla) -> set[str]:
    """Every variable kolla-ansible defines for all hosts."""
    names: set[str] = set()
    for f in sorted(kolla.group_vars.glob("*.yml")):
        names |= _yaml_keys(f)
    assert {"openstack_region_name", "multiple_regions_names", "enable_keystone"} <= names, kolla.origin
    return names


@pytest.fixture(scope="session")
def kolla_passwords(kolla: Kolla) -> set[str]:
    names = _yaml_keys(kolla.passwords)
    assert "keystone_admin_password" in names, kolla.origin
    return names


# -- rendering ---------------------------------------------------------------------------------

def render(cli, site: Path, out: Path, fmt: str = "kolla", *extra: str) -> dict[str, str]:
    r = cli("render", "--format", fmt, "-s", str(site), "-o", str(out), *extra)
    assert r.code == 0, r.err
    return {str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}


def keys_of(text: str) -> set[str]:
    data = yaml.safe_load(text) or {}
    assert isinstance(data, dict)
    return set(data)


def parse_ini(path: Path) -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    if path.is_file():
        cfg.ConfigParser(str(path), sections).parse()
    return sections


NODE_SITE = site_text(
    region_yaml("One", ("keystone",) + COMPUTE + ("cinder",), public="https://api.one.example.com",
                internal="http://10.0.1.10", extra="""\
        infra:
          database: 10.0.1.20:3307
        """),
    region_yaml("Two", COMPUTE, public="http://192.0.2.2", parent="One"))


@pytest.mark.parametrize("example", EXAMPLE_NAMES + ["fqdn"])
def test_every_variable_is_one_kolla_defines(cli, tmp_path: Path, kolla_vars: set[str], kolla_passwords: set[str],
                                             example: str) -> None:
    site = make_site(tmp_path / "s", NODE_SITE) if example == "fqdn" else EXAMPLES / example
    files = render(cli, site, tmp_path / "o")
    globs = [f for f in files if f.endswith("/globals.yml")]
    pws = [f for f in files if f.endswith("/passwords.yml")]
    assert globs and len(globs) == len(pws)
    for rel in globs:
        unknown = keys_of(files[rel]) - kolla_vars
        assert not unknown, f"{rel}: kolla-ansible does not define {sorted(unknown)}"
    for rel in pws:
        unknown = keys_of(files[rel]) - kolla_passwords
        assert not unknown, f"{rel}: not in kolla-ansible's passwords.yml: {sorted(unknown)}"
        assert keys_of(files[rel]), rel


def _services(kolla: Kolla, role: str) -> set[str]:
    data = yaml.safe_load((kolla.roles / role / "defaults" / "main.yml").read_text())
    return set(data[role.replace("-", "_") + "_services"])


def _sources(kolla: Kolla, role: str) -> str:
    return (kolla.roles / role / "tasks" / "config.yml").read_text()


def _kolla_merges(kolla: Kolla, p: KollaPath) -> bool:
    rel = p.rel if p.container is None else p.rel.replace(p.container, "{{ item.key }}")
    return f"{{{{ node_custom_config }}}}/{rel}" in _sources(kolla, p.role) and \
        (p.container is None or p.container in _services(kolla, p.role))


def test_config_paths_are_kollas_merge_sources(kolla: Kolla) -> None:
    paths = list(KOLLA_SERVICE_FILE.values()) + list(KOLLA_NOVA_CONTROLLERS) + [KOLLA_NOVA_COMPUTE]
    for p in paths:
        assert _kolla_merges(kolla, p), f"kolla-ansible's {p.role} role does not merge config/{p.rel}"
    for p in KOLLA_SERVICE_FILE.values():
        assert _kolla_merges(kolla, KollaPath(KOLLA_GLOBAL.rel, p.role)), p.role


def test_rendered_config_files_are_known_paths(cli, tmp_path: Path) -> None:
    files = {**render(cli, EXAMPLES / "two-regions", tmp_path / "two"),
             **render(cli, EXAMPLES / "admin-region", tmp_path / "ar")}
    known = {p.rel for p in [KOLLA_GLOBAL, KOLLA_NOVA_COMPUTE, *KOLLA_SERVICE_FILE.values(), *KOLLA_NOVA_CONTROLLERS]}
    written = {f.split("/config/", 1)[1] for f in files if "/config/" in f}
    assert written == known  # RegionOne runs every service but heat, which the OSRs run


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@pytest.fixture(scope="session")
def kolla_defs(kolla: Kolla) -> dict[str, list[str]]:
    """Every variable definition of the package (group_vars and role defaults), as text."""
    defs: dict[str, list[str]] = {}
    files = sorted(kolla.group_vars.glob("*.yml")) + sorted(kolla.roles.glob("*/defaults/main.yml"))
    for f in files:
        for k, v in (yaml.safe_load(f.read_text()) or {}).items():
            defs.setdefault(k, []).append(v if isinstance(v, str) else json.dumps(v))
    return defs


def _reaches(expr: str, var: str, defs: dict[str, list[str]], seen: set[str]) -> bool:
    for name in _NAME.findall(expr):
        if name == var:
            return True
        if name in defs and name not in seen:
            seen.add(name)
            if any(_reaches(e, var, defs, seen) for e in defs[name]):
                return True
    return False


def _template_options(path: Path) -> dict[tuple[str, str], list[str]]:
    section, out = None, {}  # type: ignore[var-annotated]
    for line in path.read_text().splitlines():
        m = re.match(r"^\[([^\]]+)\]\s*$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^([A-Za-z0-9_]+)\s*=\s*(.*)$", line)
        if m and section:
            out.setdefault((section, m.group(1)), []).append(m.group(2))
    return out


def test_secrets_left_to_kolla_are_written_by_its_templates(kolla: Kolla, kolla_defs: dict[str, list[str]]) -> None:
    for (key, section, option), var in sorted(KOLLA_TEMPLATE_SECRETS.items()):
        t = KOLLA_TEMPLATES[key]
        exprs = _template_options(kolla.roles / t.role / "templates" / t.template).get((section, option))
        assert exprs, f"{t.role}/templates/{t.template} has no [{section}] {option}"
        assert any(_reaches(e, var, kolla_defs, set()) for e in exprs), \
            f"{t.role}/templates/{t.template} [{section}] {option} = {exprs} is not built from {var}"


def test_enable_variables_and_region_list(cli, tmp_path: Path) -> None:
    files = render(cli, EXAMPLES / "admin-region", tmp_path)
    ar = yaml.safe_load(files["AR/globals.yml"])
    osr = yaml.safe_load(files["OSR1/globals.yml"])
    assert ar["openstack_region_name"] == "AR" and osr["openstack_region_name"] == "OSR1"
    assert ar["multiple_regions_names"] == ["AR", "OSR1", "OSR2"]
    assert "multiple_regions_names" not in osr
    assert {k: ar[k] for k in KOLLA_ENABLE.values()} == {
        "enable_keystone": True, "enable_horizon": True, "enable_nova": False, "enable_placement": False,
        "enable_neutron": False, "enable_glance": False, "enable_cinder": False, "enable_heat": False}
    assert {k: osr[k] for k in KOLLA_ENABLE.values()} == {
        "enable_keystone": False, "enable_horizon": False, "enable_nova": True, "enable_placement": True,
        "enable_neutron": True, "enable_glance": True, "enable_cinder": True, "enable_heat": True}
    for g in (ar, osr):
        assert g["keystone_internal_url"] == "http://10.24.63.248:5000"
        assert g["keystone_public_url"] == "http://10.24.63.248:5000"
    assert osr["kolla_internal_vip_address"] == "10.24.64.248"
    assert osr["kolla_external_vip_address"] == "10.24.64.248"
    assert osr["kolla_enable_tls_internal"] is False


def test_addresses_fqdn_tls_and_database(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", NODE_SITE)
    files = render(cli, root, tmp_path / "o")
    one = yaml.safe_load(files["One/globals.yml"])
    assert one["kolla_internal_vip_address"] == "10.0.1.10" and one["kolla_enable_tls_internal"] is False
    assert one["kolla_external_fqdn"] == "api.one.example.com" and one["kolla_enable_tls_external"] is True
    assert "kolla_external_vip_address" not in one
    assert "# kolla_external_vip_address: the address api.one.example.com resolves to" in files["One/globals.yml"]
    assert one["database_address"] == "10.0.1.20" and one["database_port"] == "3307"
    two = yaml.safe_load(files["Two/globals.yml"])
    assert two["keystone_internal_url"] == "http://10.0.1.10:5000"
    assert two["keystone_public_url"] == "https://api.one.example.com:5000"


def test_template_addresses_give_per_service_fqdns(cli, tmp_path: Path) -> None:
    files = render(cli, EXAMPLES / "genestack-sjc-dfw", tmp_path)
    dfw = yaml.safe_load(files["dfw/globals.yml"])
    assert dfw["nova_external_fqdn"] == "nova.api.dfw.example.com"
    assert dfw["nova_internal_fqdn"] == "nova.internal.dfw.example.com"
    assert dfw["haproxy_single_external_frontend"] is True
    assert dfw["kolla_enable_tls_external"] is True and dfw["kolla_enable_tls_internal"] is True
    assert dfw["keystone_internal_url"] == "https://keystone.internal.sjc.example.com"
    assert "keystone_external_fqdn" not in dfw  # dfw runs no Keystone
    sjc = yaml.safe_load(files["sjc/globals.yml"])
    assert sjc["keystone_external_fqdn"] == "keystone.api.sjc.example.com"


def test_passwords_from_secrets_and_modes(cli, tmp_path: Path) -> None:
    files = render(cli, EXAMPLES / "admin-region", tmp_path)
    osr = yaml.safe_load(files["OSR1/passwords.yml"])
    ar_secrets = decrypted(EXAMPLES / "admin-region/regions/AR/secrets.yaml")
    osr_secrets = decrypted(EXAMPLES / "admin-region/regions/OSR1/secrets.yaml")
    assert osr["keystone_admin_password"] == ar_secrets["passwords"]["keystone_admin"]
    assert osr["nova_keystone_password"] == osr_secrets["passwords"]["service_users"]["nova"]
    assert osr["nova_api_database_password"] == osr["nova_database_password"] == osr_secrets["passwords"]["databases"]["nova"]
    assert osr["rabbitmq_password"] == osr_secrets["passwords"]["messaging"]
    for rel in files:
        mode = stat.S_IMODE((tmp_path / rel).stat().st_mode)
        assert mode == (0o600 if rel.endswith("passwords.yml") else 0o644), rel


def _controller_chain(region_dir: Path, service: str) -> list[Path]:
    base = region_dir / "config"
    if service == "nova":
        return [base / KOLLA_GLOBAL.rel, base / "nova.conf", base / KOLLA_NOVA_CONTROLLERS[0].rel]
    return [base / KOLLA_GLOBAL.rel, base / KOLLA_SERVICE_FILE[service].rel]


def _merged(paths: list[Path]) -> dict[str, dict[str, list[str]]]:
    """merge_configs: later files win per option."""
    out: dict[str, dict[str, list[str]]] = {}
    for p in paths:
        for section, options in parse_ini(p).items():
            out.setdefault(section, {}).update(options)
    return out


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_kolla_merges_reproduce_plain(cli, tmp_path: Path, example: str) -> None:
    """config/ plus what kolla's templates write from passwords.yml == the plain renderer's files."""
    plain = render(cli, EXAMPLES / example, tmp_path / "plain", "plain")
    render(cli, EXAMPLES / example, tmp_path / "kolla")
    site_regions = yaml.safe_load((EXAMPLES / example / "site.yaml").read_text())["regions"]
    checked = 0
    for rel in plain:
        if not rel.endswith(".conf"):
            continue
        region, _, svc_dir, filename = rel.split("/")
        rdir = tmp_path / "kolla" / region
        passwords = yaml.safe_load((rdir / "passwords.yml").read_text())
        if filename == "nova-compute.conf":
            key, chain = "nova_compute", [rdir / "config" / KOLLA_GLOBAL.rel, rdir / "config/nova.conf",
                                          rdir / "config" / KOLLA_NOVA_COMPUTE.rel]
        else:
            service = {"glance-api.conf": "glance"}.get(filename, filename.removesuffix(".conf"))
            key, chain = service, _controller_chain(rdir, service)
        want = parse_ini(tmp_path / "plain" / rel)
        got = _merged(chain)
        for section, options in want.items():
            for option, value in options.items():
                if got.get(section, {}).get(option) == value:
                    continue
                infra = KOLLA_INVENTORY_OPTIONS.get((section, option), ("", False))[0]
                if infra and not (site_regions[region].get("infra") or {}).get(infra):
                    assert got.get(section, {}).get(option) is None, (rel, section, option)
                    continue  # left to kolla's templates (its inventory's hosts)
                var = KOLLA_TEMPLATE_SECRETS.get((key, section, option))
                assert var and var in passwords and got.get(section, {}).get(option) is None, \
                    f"{rel} [{section}] {option}: kolla gets {got.get(section, {}).get(option)}, plain has {value}"
                assert str(passwords[var]) in value[0] or value[0] == str(passwords[var]), (rel, section, option)
        extra = {(s, o) for s, opts in got.items() for o in opts if o not in want.get(s, {})}
        if (site_regions[region].get("infra") or {}).get("memcached"):
            extra -= set(KOLLA_TEMPLATE_LISTS.get(key, ()))  # the site's list over kolla's (placement's [cache])
        assert not extra, f"{rel}: config/ sets what plain does not: {sorted(extra)}"
        checked += 1
    assert checked


def test_secret_kollas_template_does_not_write_stays_and_file_is_0600(cli, tmp_path: Path) -> None:
    render(cli, EXAMPLES / "two-regions", tmp_path)
    cinder = tmp_path / "RegionTwo/config/cinder.conf"
    assert parse_ini(cinder)["ceph"]["rbd_secret_uuid"] == ["a8b264e0-a34f-4dff-b8e4-0104221ba6a0"]
    assert stat.S_IMODE(cinder.stat().st_mode) == 0o600
    nova = (tmp_path / "RegionTwo/config/nova.conf").read_text()
    assert "meditech2019" not in nova and "metadata_proxy_shared_secret" not in nova


def _mergepwd(kolla: Kolla) -> Any:
    if kolla.package is None:
        pytest.fail(f"kolla_ansible's Python package is not beside {kolla.share}: needed for kolla-mergepwd",
                    pytrace=False)
    spec = importlib.util.spec_from_file_location("kolla_mergepwd", kolla.package / "cmd" / "mergepwd.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.mergepwd


def test_kolla_mergepwd_completes_passwords(cli, tmp_path: Path, kolla: Kolla) -> None:
    """docs/deploy.md's step: kolla's own mergepwd puts ours over a full passwords file."""
    render(cli, EXAMPLES / "two-regions", tmp_path / "o")
    full = tmp_path / "full.yml"
    shutil.copy(kolla.passwords, full)
    full.chmod(0o600)
    _mergepwd(kolla)(str(tmp_path / "o/RegionTwo/passwords.yml"), str(full), str(full))
    merged = yaml.safe_load(full.read_text())
    ours = yaml.safe_load((tmp_path / "o/RegionTwo/passwords.yml").read_text())
    assert set(merged) == _yaml_keys(kolla.passwords)
    assert {k: merged[k] for k in ours} == ours


def test_byte_identical_and_no_temp_files(cli, tmp_path: Path) -> None:
    a = render(cli, EXAMPLES / "admin-region", tmp_path / "a")
    b = render(cli, EXAMPLES / "admin-region", tmp_path / "b")
    assert a == b
    assert not [p for p in tmp_path.rglob(".*")]


def test_variable_data_is_the_packages(kolla_vars: set[str], kolla: Kolla) -> None:
    """openstack/kolla/variables.json (tools/gen_kolla_vars.py) lists exactly the package's variables."""
    assert set(kolla_data.variables()) == kolla_vars, f"run tools/gen_kolla_vars.py ({kolla.origin})"
    assert kolla_data.source() == f"kolla-ansible {kolla_version()}"


def test_named_variables_are_kollas(kolla_vars: set[str], kolla_passwords: set[str], kolla: Kolla) -> None:
    defaults: dict[str, Any] = {}
    for f in sorted(kolla.group_vars.glob("*.yml")):
        defaults.update(yaml.safe_load(f.read_text()) or {})
    named = {row.var for row in KOLLA_WHEN} | set(KOLLA_REGION_NEEDS) | {KOLLA_VRID_VAR} | set(KOLLA_DERIVED)
    assert not named - kolla_vars, sorted(named - kolla_vars)
    assert not set(KOLLA_CONF_PASSWORDS.values()) - kolla_passwords
    for var in KOLLA_REGION_NEEDS + (KOLLA_VRID_VAR,):  # the defaults validate's warnings quote
        assert kolla_data.variables()[var] == defaults[var], var
    for row in KOLLA_WHEN:
        assert defaults[row.var] is False, row.var  # off unless the site's backends say so


def test_memcached_options_left_to_kolla_are_its_templates(kolla: Kolla) -> None:
    """Each row of KOLLA_INVENTORY_OPTIONS is written by kolla's templates (the lists from the
    inventory group), in every template that has the section."""
    found = set()
    assert set(KOLLA_TEMPLATE_LISTS) == set(KOLLA_TEMPLATES)
    for key, t in sorted(KOLLA_TEMPLATES.items()):
        options = _template_options(kolla.roles / t.role / "templates" / t.template)
        lists = set()
        for (section, option), (infra, is_list) in KOLLA_INVENTORY_OPTIONS.items():
            exprs = options.get((section, option))
            if not exprs:
                continue
            found.add((section, option))
            if is_list:
                group = KOLLA_INVENTORY_GROUPS[infra]
                assert any(f"groups['{group}']" in e for e in exprs), (t.template, section, option, exprs)
                lists.add((section, option))
        assert lists == set(KOLLA_TEMPLATE_LISTS[key]), f"{t.role}/templates/{t.template}: {sorted(lists)}"
    assert found == set(KOLLA_INVENTORY_OPTIONS)
