"""The plain renderer: region wiring, determinism, modes, oslo.config parsing, overrides."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from oslo_config import cfg

from conftest import EXAMPLES, SECRETS, make_site

EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "site.yaml").is_file())


def rendered(cli, site: Path, out: Path, *extra: str) -> dict[str, str]:
    r = cli("render", "-s", str(site), "-o", str(out), *extra)
    assert r.code == 0, r.err
    return {str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}


def parse_ini(path: Path) -> dict[str, dict[str, list[str]]]:
    """Parse with oslo.config's own parser, as the services do."""
    sections: dict[str, dict[str, list[str]]] = {}
    cfg.ConfigParser(str(path), sections).parse()
    return sections


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_every_file_parses_with_oslo_config(cli, tmp_path: Path, example: str) -> None:
    files = rendered(cli, EXAMPLES / example, tmp_path)
    confs = [f for f in files if f.endswith(".conf")]
    assert confs
    for rel in confs:
        sections = parse_ini(tmp_path / rel)
        assert "keystone_authtoken" in sections or rel.endswith(("keystone.conf", "nova-compute.conf"))


def test_same_site_byte_identical(cli, tmp_path: Path) -> None:
    a = rendered(cli, EXAMPLES / "two-regions", tmp_path / "a")
    b = rendered(cli, EXAMPLES / "two-regions", tmp_path / "b")
    assert a == b


def test_files_per_region_and_modes(cli, tmp_path: Path) -> None:
    files = rendered(cli, EXAMPLES / "admin-region", tmp_path)
    assert sorted(f for f in files if f.startswith("AR/")) == [
        "AR/etc/keystone/keystone.conf", "AR/etc/openstack-dashboard/local_settings.py"]
    assert sorted(f for f in files if f.startswith("OSR1/")) == [
        "OSR1/etc/cinder/cinder.conf", "OSR1/etc/glance/glance-api.conf", "OSR1/etc/heat/heat.conf",
        "OSR1/etc/neutron/neutron.conf",
        "OSR1/etc/nova/nova-compute.conf", "OSR1/etc/nova/nova.conf", "OSR1/etc/placement/placement.conf"]
    for rel in files:
        mode = stat.S_IMODE((tmp_path / rel).stat().st_mode)
        assert mode == (0o644 if rel.endswith("local_settings.py") else 0o600), rel
    assert not [p for p in tmp_path.rglob(".*")], "temp files left behind"


def test_region_wiring_two_regions(cli, tmp_path: Path) -> None:
    rendered(cli, EXAMPLES / "two-regions", tmp_path)
    nova = parse_ini(tmp_path / "RegionTwo/etc/nova/nova.conf")
    compute = parse_ini(tmp_path / "RegionTwo/etc/nova/nova-compute.conf")
    for conf in (nova, compute):
        assert conf["cinder"]["os_region_name"] == ["RegionTwo"]
        assert conf["cinder"]["catalog_info"] == ["volumev3::internalURL"]
        assert "region_name" not in conf["cinder"]
        assert conf["placement"]["region_name"] == ["RegionTwo"]
        assert conf["neutron"]["region_name"] == ["RegionTwo"]
        assert "url" not in conf["neutron"]
        assert conf["glance"]["region_name"] == ["RegionTwo"]
        assert conf["DEFAULT"]["transport_url"] == ["rabbit://openstack:meditech2019@192.168.40.23:5672//"]
    assert nova["keystone_authtoken"]["www_authenticate_uri"] == ["http://192.168.40.15:5000"]
    assert nova["keystone_authtoken"]["auth_url"] == ["http://192.168.40.15:5000"]
    assert nova["keystone_authtoken"]["region_name"] == ["RegionTwo"]
    assert nova["keystone_authtoken"]["memcached_servers"] == ["192.168.40.23:11211"]
    assert nova["database"]["connection"] == ["mysql+pymysql://nova:meditech2019@192.168.40.23/nova"]
    assert nova["api_database"]["connection"] == ["mysql+pymysql://nova:meditech2019@192.168.40.23/nova_api"]
    assert "database" not in compute and "keystone_authtoken" not in compute
    glance = parse_ini(tmp_path / "RegionTwo/etc/glance/glance-api.conf")
    assert glance["glance_store"]["cinder_os_region_name"] == ["RegionTwo"]
    assert glance["ceph"]["rbd_store_pool"] == ["images2"]
    assert glance["DEFAULT"]["enabled_backends"] == ["ceph:rbd"]
    neutron = parse_ini(tmp_path / "RegionTwo/etc/neutron/neutron.conf")
    assert neutron["nova"]["region_name"] == ["RegionTwo"] and neutron["placement"]["region_name"] == ["RegionTwo"]
    cinder = parse_ini(tmp_path / "RegionTwo/etc/cinder/cinder.conf")
    assert cinder["nova"]["region_name"] == ["RegionTwo"]
    assert cinder["DEFAULT"]["glance_api_servers"] == ["http://192.168.40.23:9292"]
    assert "os_region_name" not in cinder["DEFAULT"]
    placement = parse_ini(tmp_path / "RegionTwo/etc/placement/placement.conf")
    assert placement["keystone_authtoken"]["region_name"] == ["RegionTwo"]


def test_genestack_ratio_per_region(cli, tmp_path: Path) -> None:
    rendered(cli, EXAMPLES / "genestack-sjc-dfw", tmp_path)
    assert parse_ini(tmp_path / "sjc/etc/nova/nova.conf")["DEFAULT"]["cpu_allocation_ratio"] == ["8.0"]
    assert parse_ini(tmp_path / "dfw/etc/nova/nova.conf")["DEFAULT"]["cpu_allocation_ratio"] == ["4.0"]


def test_user_overrides_and_null_removes_derived(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", files={"regions/Two/nova.yaml": (
        "conf:\n  nova:\n    glance:\n      valid_interfaces: public\n    service_user:\n      send_service_user_token: null\n"
        "  nova_compute:\n    libvirt:\n      virt_type: kvm\n")})
    rendered(cli, root, tmp_path / "o", "-r", "Two")
    nova = parse_ini(tmp_path / "o/Two/etc/nova/nova.conf")
    assert nova["glance"]["valid_interfaces"] == ["public"]
    assert "send_service_user_token" not in nova["service_user"]
    compute = parse_ini(tmp_path / "o/Two/etc/nova/nova-compute.conf")
    assert compute["libvirt"]["virt_type"] == ["kvm"] and "libvirt" not in nova
    assert not (tmp_path / "o/One").exists()


def test_compute_only_null_removes_from_compute_file(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", files={
        "values/nova.yaml": "conf:\n  nova:\n    DEFAULT:\n      cpu_allocation_ratio: 4.0\n",
        "regions/Two/nova.yaml": "conf:\n  nova_compute:\n    DEFAULT:\n      cpu_allocation_ratio: null\n"})
    rendered(cli, root, tmp_path / "o", "-r", "Two")
    assert parse_ini(tmp_path / "o/Two/etc/nova/nova.conf")["DEFAULT"]["cpu_allocation_ratio"] == ["4.0"]
    assert "cpu_allocation_ratio" not in parse_ini(tmp_path / "o/Two/etc/nova/nova-compute.conf")["DEFAULT"]
    r = cli("explain", "-s", str(root), "-r", "Two", "nova-compute.conf:DEFAULT.cpu_allocation_ratio")
    assert r.out.splitlines() == [
        "Two: nova-compute.conf [DEFAULT] cpu_allocation_ratio = (unset: deleted)",
        f"  {root}/values/nova.yaml:4       base    4.0",
        f"  {root}/regions/Two/nova.yaml:4  region  deleted (null)   <- final"]


def test_flags_are_not_secrets(cli, tmp_path: Path) -> None:
    """send_service_user_token: true ends in 'token' but hides nothing."""
    from regionctl.site.secrets import secret_path
    assert not secret_path(("conf", "nova", "service_user", "send_service_user_token"), True)
    assert secret_path(("conf", "nova", "service_user", "admin_token"), "abc")


def test_multistring_and_dollar_escaping(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", files={
        "values/nova.yaml": "conf:\n  nova:\n    DEFAULT:\n      instances_path: $state_path/instances\n"
                            "    pci:\n      alias:\n        type: multistring\n        values: ['{\"name\": \"a\"}', '{\"name\": \"b\"}']\n",
        "regions/Two/secrets.yaml": SECRETS.replace("nova: nova-pw", "nova: pa$word")})
    rendered(cli, root, tmp_path / "o", "-r", "Two")
    text = (tmp_path / "o/Two/etc/nova/nova.conf").read_text()
    assert "instances_path = $state_path/instances\n" in text
    assert text.count("alias = ") == 2
    assert "password = pa$$word\n" in text


def test_explain_derived_option(cli) -> None:
    site = EXAMPLES / "two-regions"
    r = cli("explain", "-s", str(site), "-r", "RegionTwo", "nova-compute.conf:cinder.os_region_name")
    assert r.out.splitlines() == [
        "RegionTwo: nova-compute.conf [cinder] os_region_name = RegionTwo",
        f"  {site}/site.yaml:29  derived RegionTwo   <- final"]


def test_missing_secret_refuses_region(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", files={"regions/Two/secrets.yaml": "passwords: {}\n"})
    r = cli("render", "-s", str(root), "-r", "Two", "-o", str(tmp_path / "o"))
    assert r.code == 1
    assert not (tmp_path / "o").exists()
    assert (f"{root}/regions/Two/secrets.yaml: error: passwords.service_users.nova is missing: "
            "nova.conf [keystone_authtoken], nova.conf [service_user] and neutron.conf [nova] authenticate as the "
            "nova user; add it to this file") in r.err.splitlines()
    assert (f"{root}/regions/Two/secrets.yaml: error: passwords.databases.glance is missing: "
            "glance-api.conf [database] connects as database user glance; add it to this file") in r.err.splitlines()
    assert r.err.splitlines()[-1] == "regionctl: error: region 'Two' has 9 error(s) (above): fix them, or write anyway with --force"
