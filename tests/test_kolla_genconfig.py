"""kolla-ansible checks our kolla output itself: its own role templates, rendered by Ansible with
kolla's own ``merge_configs`` action over our ``config/``, are the files kolla would deploy.

``kolla-ansible genconfig`` needs reachable hosts and a container engine, so this runs the part
of it that writes the files: for each service, the ``merge_configs`` task of the role's
``tasks/config.yml`` (its ``sources`` list verbatim: the role's template, then
``node_custom_config``'s global.conf, <service>.conf, per-container and per-host files), in a
wrapper role that links the real role's defaults, vars, templates and filter plugins, with
kolla's group_vars/all, kolla's multinode inventory's groups over one controller and one
compute host (loopback addresses as their interface facts), and globals.yml and passwords.yml
as extra vars, as kolla-ansible passes them. Ansible (ansible-core) and kolla-ansible come from
the services venv (tools/services-requirements.txt pins both); the ansible.utils collection
kolla's variables use from tools/ansible_collections.py (the community ``ansible`` wheel on PyPI,
unpacked once into ~/.cache/regionctl/; make test fetches it before entering the loopback-only
namespace).

Then, for OSR1 of examples/admin-region: every option regionctl's plain renderer writes for
OSR1 is in the final file kolla writes (the same value, or the password kolla's template writes
from passwords.yml), and the memcached lists are kolla's own, one entry per controller.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, ROOT, run_process
from regionctl.openstack.deployers import KOLLA_INVENTORY_OPTIONS
from test_kolla import CACHE, KOLLA_TEMPLATE_SECRETS, parse_ini

pytestmark = pytest.mark.services

VENV = Path(os.environ.get("REGIONCTL_SERVICES_VENV", CACHE / "services-venv"))
CONTROLLER, COMPUTE = ("control01", "127.0.0.11"), ("compute01", "127.0.0.12")
INTERFACES = ("bond0", "eth0")  # admin-region's kolla.network_interface; kolla's default (two-regions)


@dataclass(frozen=True)
class Case:
    """A region of an example, and the memcached list kolla must deploy for it."""

    example: str
    region: str
    memcached: tuple[str, ...]
    site_lists: bool  # the site names the hosts (infra.memcached): regionctl's list replaces kolla's
    ceph: bool  # glance and cinder on rbd (kolla's *_backend_ceph turned on)

    def __str__(self) -> str:
        return f"{self.example}/{self.region}"


CASES = (
    Case("admin-region", "OSR1", (f"{CONTROLLER[1]}:11211",), False, False),  # kolla's list: its [memcached] host
    Case("two-regions", "RegionTwo", ("192.168.40.23:11211",), True, True),  # Ceph backends, infra lists
)


@dataclass(frozen=True)
class Target:
    """One file kolla writes: the role and template, the container, the host, regionctl's file."""

    role: str
    template: str
    container: str
    host: str
    plain: str  # OUT/<region>/etc/<this> from render --format plain
    conf_key: str


TARGETS = (
    Target("nova", "nova.conf.j2", "nova-api", CONTROLLER[0], "nova/nova.conf", "nova"),
    Target("nova-cell", "nova.conf.j2", "nova-compute", COMPUTE[0], "nova/nova-compute.conf", "nova_compute"),
    Target("neutron", "neutron.conf.j2", "neutron-server", CONTROLLER[0], "neutron/neutron.conf", "neutron"),
    Target("glance", "glance-api.conf.j2", "glance-api", CONTROLLER[0], "glance/glance-api.conf", "glance"),
    Target("cinder", "cinder.conf.j2", "cinder-volume", CONTROLLER[0], "cinder/cinder.conf", "cinder"),
    Target("placement", "placement.conf.j2", "placement-api", CONTROLLER[0], "placement/placement.conf", "placement"),
)


def _share() -> Path:
    """kolla-ansible's ansible/ tree; like tests/test_real_services.py, skipped without
    REGIONCTL_SERVICES_VENV (make test-quick), failed when it is set and broken."""
    if not os.environ.get("REGIONCTL_SERVICES_VENV"):
        pytest.skip("REGIONCTL_SERVICES_VENV is not set: run 'make test' (it builds the services environment)")
    share = VENV / "share" / "kolla-ansible" / "ansible"
    if not (VENV / "bin" / "ansible-playbook").is_file() or not (share / "roles").is_dir():
        pytest.fail(f"{VENV}: no ansible-playbook or kolla-ansible: run tools/services-env.sh", pytrace=False)
    return share


def _collections() -> Path:
    """ANSIBLE_COLLECTIONS_PATH with ansible.utils (tools/ansible_collections.py: once, then cached)."""
    p = subprocess.run([sys.executable, str(ROOT / "tools" / "ansible_collections.py")], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.fail(p.stderr.strip() or p.stdout.strip(), pytrace=False)
    return Path(p.stdout.strip().splitlines()[-1])


def _merge_task(share: Path, t: Target) -> dict[str, object]:
    """The role's own merge_configs task for ``t.template`` (kolla's sources, verbatim)."""
    tasks = yaml.safe_load((share / "roles" / t.role / "tasks" / "config.yml").read_text())
    for task in tasks:
        merge = task.get("merge_configs") or {}
        sources = merge.get("sources") or []
        if sources and sources[0] == f"{{{{ role_path }}}}/templates/{t.template}":
            return task  # type: ignore[no-any-return]
    raise AssertionError(f"kolla's {t.role} role has no merge_configs task for {t.template}")


def _inventory(share: Path) -> str:
    """kolla's multinode inventory with its first groups (the ones to edit) over our two hosts."""
    text = (share / "inventory" / "multinode").read_text()
    rest = text[text.index("[baremetal:children]"):]
    hosts = {"control": [CONTROLLER], "network": [CONTROLLER], "compute": [COMPUTE], "monitoring": [CONTROLLER],
             "storage": [CONTROLLER]}
    head = "".join(f"[{g}]\n" + "".join(f"{h} ansible_connection=local\n" for h, _ in hs) + "\n"
                   for g, hs in hosts.items())
    return head + "[deployment]\nlocalhost ansible_connection=local\n\n" + rest


def _playbook(share: Path, work: Path, out: Path) -> Path:
    roles = work / "roles"
    plays: list[dict[str, object]] = [{
        "name": "the facts kolla's variables and these templates read (none gathered)", "hosts": "control:compute",
        "gather_facts": False,
        "tasks": [{"ansible.builtin.set_fact": {
            "cacheable": True,
            **{i: {"ipv4": {"address": "{{ regionctl_address }}"}} for i in INTERFACES},
            "hostname": "{{ inventory_hostname }}", "nodename": "{{ inventory_hostname }}",
            "processor_vcpus": 2, "os_family": "Debian", "architecture": "x86_64"}}],
    }]
    for t in TARGETS:
        name = f"{t.role}-{t.container}"
        role = roles / name
        role.mkdir(parents=True)
        for part in ("defaults", "vars", "templates", "filter_plugins"):
            if (share / "roles" / t.role / part).is_dir():
                (role / part).symlink_to(share / "roles" / t.role / part)
        task = dict(_merge_task(share, t))
        merge = dict(task["merge_configs"])  # type: ignore[arg-type]
        merge["sources"] = [s.replace("{{ role_path }}", str(share / "roles" / t.role)) for s in merge["sources"]]
        (out / t.host / t.container).mkdir(parents=True)
        merge["dest"] = f"{out}/{t.host}/{t.container}/{t.template.removesuffix('.j2')}"
        services = f"{t.role.replace('-', '_')}_services"
        mine = {"name": f"kolla's {t.role} merge_configs for {t.container}", "vars": task.get("vars", {}),
                "merge_configs": merge,
                "loop": f"{{{{ {services} | dict2items | selectattr('key', 'equalto', '{t.container}') | list }}}}"}
        (role / "tasks").mkdir()
        (role / "tasks" / "main.yml").write_text(yaml.safe_dump([mine]))
        plays.append({"name": name, "hosts": t.host, "gather_facts": False, "roles": [name]})
    book = work / "genconfig.yml"
    book.write_text(yaml.safe_dump(plays, sort_keys=False))
    return book


@pytest.fixture(scope="session", params=CASES, ids=str)
def kolla_files(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Target.plain -> the file kolla-ansible's own templates and merge_configs write for the case."""
    case: Case = request.param
    share = _share()
    work = tmp_path_factory.mktemp("kolla-genconfig")
    rendered = work / "rendered"
    r = run_process(["render", "--format", "kolla", "-s", str(EXAMPLES / case.example), "-o", str(rendered)])
    assert r.code == 0, r.err
    region = rendered / case.region
    # passwords.yml as docs/deploy.md makes it: ours over kolla's full list (the rest empty here)
    full = yaml.safe_load((share.parent / "etc_examples" / "kolla" / "passwords.yml").read_text())
    full.update(yaml.safe_load((region / "passwords.yml").read_text()))
    (work / "passwords.yml").write_text(yaml.safe_dump(full))
    (work / "inventory").write_text(_inventory(share))
    hv = work / "host_vars"
    hv.mkdir()
    for host, address in (CONTROLLER, COMPUTE):
        python = str(VENV / "bin" / "python")  # over kolla's group_vars/baremetal discovery
        (hv / f"{host}.yml").write_text(yaml.safe_dump({"regionctl_address": address,
                                                        "ansible_python_interpreter": python}))
    (work / "group_vars").symlink_to(share / "group_vars")
    out = work / "etc-kolla"
    book = _playbook(share, work, out)
    env = {**os.environ, "ANSIBLE_ACTION_PLUGINS": str(share / "action_plugins"),
           "ANSIBLE_FILTER_PLUGINS": str(share / "filter_plugins"), "ANSIBLE_LIBRARY": str(share / "library"),
           "ANSIBLE_MODULE_UTILS": str(share / "module_utils"), "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
           "ANSIBLE_HOME": str(work / "ansible-home"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0",
           "ANSIBLE_PYTHON_INTERPRETER": str(VENV / "bin" / "python"), "ANSIBLE_FORKS": "2",
           "ANSIBLE_COLLECTIONS_PATH": str(_collections()), "ANSIBLE_DEPRECATION_WARNINGS": "0",
           "PATH": f"{VENV / 'bin'}:{os.environ.get('PATH', '')}"}
    p = subprocess.run([str(VENV / "bin" / "ansible-playbook"), "-i", str(work / "inventory"), str(book),
                        "-e", f"@{region / 'globals.yml'}", "-e", f"@{work / 'passwords.yml'}",
                        "-e", f"node_custom_config={region / 'config'}"],
                       capture_output=True, text=True, env=env, cwd=work, timeout=300)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    found = {}
    for t in TARGETS:
        f = out / t.host / t.container / t.template.removesuffix(".j2")
        assert f.is_file(), f
        found[t.plain] = f
    plain = work / "plain"
    r = run_process(["render", "-s", str(EXAMPLES / case.example), "-o", str(plain)])
    assert r.code == 0, r.err
    found["plain"] = plain / case.region / "etc"
    found["kolla"] = region
    return found


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.plain)
def test_kolla_deploys_every_region_option(kolla_files: dict[str, Path], target: Target, request) -> None:
    case = request.node.callspec.params["kolla_files"]
    want = parse_ini(kolla_files["plain"] / target.plain)
    got = parse_ini(kolla_files[target.plain])
    passwords = yaml.safe_load((kolla_files["kolla"] / "passwords.yml").read_text())
    assert want, target.plain
    for section, options in want.items():
        for option, value in options.items():
            if (section, option) in KOLLA_INVENTORY_OPTIONS and not case.site_lists:
                continue  # kolla's own memcached wiring: test_memcached_lists
            have = got.get(section, {}).get(option)
            if have == value:
                continue
            var = KOLLA_TEMPLATE_SECRETS.get((target.conf_key, section, option))
            assert var and have and str(passwords[var]) in have[-1], \
                f"{target.plain} [{section}] {option}: kolla deploys {have}, the region's value is {value}"


MEMCACHED = {k for k, (_, is_list) in KOLLA_INVENTORY_OPTIONS.items() if is_list}


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.plain)
def test_memcached_lists(kolla_files: dict[str, Path], target: Target, request) -> None:
    """kolla's own list (one entry per [memcached] host on its api interface), or the site's where
    it names the hosts; kolla's nova-compute has none of its own."""
    case = request.node.callspec.params["kolla_files"]
    got = parse_ini(kolla_files[target.plain])
    lists = {(s, o): got[s][o] for s, o in MEMCACHED if o in got.get(s, {})}
    if target.role == "nova-cell" and not case.site_lists:
        assert not lists
        return
    assert lists and set(map(tuple, lists.values())) == {case.memcached}, lists


def test_backends(kolla_files: dict[str, Path], request) -> None:
    """two-regions' RegionTwo: kolla renders its templates with glance_backend_ceph and
    cinder_backend_ceph on, and the site's backends are what it deploys; admin-region keeps
    kolla's file store."""
    case = request.node.callspec.params["kolla_files"]
    glance = parse_ini(kolla_files["glance/glance-api.conf"])
    cinder = parse_ini(kolla_files["cinder/cinder.conf"])
    globals_yml = yaml.safe_load((kolla_files["kolla"] / "globals.yml").read_text())
    if not case.ceph:
        assert "rbd" not in glance["DEFAULT"]["enabled_backends"][0] and "glance_backend_ceph" not in globals_yml
        return
    assert globals_yml["glance_backend_ceph"] is True and globals_yml["cinder_backend_ceph"] is True
    assert glance["DEFAULT"]["enabled_backends"] == ["ceph:rbd"] and glance["glance_store"]["default_backend"] == ["ceph"]
    assert cinder["DEFAULT"]["enabled_backends"] == ["ceph"]
    assert cinder["ceph"]["volume_driver"] == ["cinder.volume.drivers.rbd.RBDDriver"]
    assert cinder["ceph"]["rbd_secret_uuid"] == ["a8b264e0-a34f-4dff-b8e4-0104221ba6a0"]
