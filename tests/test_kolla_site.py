"""The site's side of render --format kolla: kolla: values, what validate warns about, memcached
lists left to kolla, backends turned on from the site's own service files (issue 9, item 9)."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from conftest import COMPUTE, EXAMPLES, SECRETS, SITE, make_site, region_yaml, site_text
from test_kolla import parse_ini, render


def problems(cli, site: Path, *cmd: str) -> tuple[int, list[str]]:
    r = cli(*(cmd or ("validate",)), "-s", str(site))
    text = r.out if not cmd else r.err
    return r.code, [line for line in text.splitlines() if line and not line.startswith("wrote ")]


KOLLA = "kolla:\n  network_interface: ens3\n"


def test_kolla_values_merge_into_globals(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", SITE, {
        "values/global.yaml": KOLLA + "  neutron_external_interface: ens4\n  kolla_base_distro: debian\n",
        "regions/Two/global.yaml": "kolla:\n  network_interface: bond0\n  kolla_base_distro: null\n"
                                   "  keepalived_virtual_router_id: '52'\n"})
    files = render(cli, root, tmp_path / "o")
    one, two = (yaml.safe_load(files[f"{r}/globals.yml"]) for r in ("One", "Two"))
    assert (one["network_interface"], one["neutron_external_interface"], one["kolla_base_distro"]) == \
        ("ens3", "ens4", "debian")
    assert (two["network_interface"], two["neutron_external_interface"]) == ("bond0", "ens4")
    assert "kolla_base_distro" not in two  # null deletes, as Helm's merge does
    assert two["keepalived_virtual_router_id"] == "52"
    assert f"# {tmp_path}/s/regions/Two/global.yaml:2\nnetwork_interface: \"bond0\"" in files["Two/globals.yml"]


def test_example_sets_network_interface_for_every_region(cli, tmp_path: Path) -> None:
    files = render(cli, EXAMPLES / "admin-region", tmp_path)
    for region in ("AR", "OSR1", "OSR2"):
        g = yaml.safe_load(files[f"{region}/globals.yml"])
        assert (g["network_interface"], g["neutron_external_interface"]) == ("bond0", "bond1")


def test_vip_from_kolla_values_where_the_site_names_a_host(cli, tmp_path: Path) -> None:
    text = site_text(region_yaml("One", ("keystone",) + COMPUTE, public="https://api.one.example.com"))
    root = make_site(tmp_path / "s", text, {
        "regions/One/global.yaml": KOLLA + "  kolla_external_vip_address: 203.0.113.5\n"})
    shutil.rmtree(root / "regions/Two")
    files = render(cli, root, tmp_path / "o")
    g = yaml.safe_load(files["One/globals.yml"])
    assert g["kolla_external_vip_address"] == "203.0.113.5" and g["kolla_external_fqdn"] == "api.one.example.com"


BAD = [
    ("unknown variable", {"values/global.yaml": "kolla:\n  network_interfac: ens3\n"},
     ["{d}/values/global.yaml:2: error: kolla.network_interfac: kolla-ansible (kolla-ansible 22.2.0) has no variable "
      "'network_interfac' (did you mean 'network_interface'?), so it would be ignored: fix its name or remove it"]),
    ("written by regionctl", {"values/global.yaml": KOLLA + "  openstack_region_name: X\n"},
     ["{d}/values/global.yaml:3: error: kolla.openstack_region_name: regionctl writes openstack_region_name from "
      "the region's name: set it there, not here"]),
    ("vip in values", {"values/global.yaml": KOLLA + "  kolla_internal_vip_address: 10.0.0.9\n"},
     ["{d}/values/global.yaml:3: error: kolla.kolla_internal_vip_address: a VIP is one region's: set it in "
      "regions/<region>/global.yaml"]),
    ("vip the site gives", {"values/global.yaml": KOLLA,
                            "regions/Two/global.yaml": "kolla:\n  kolla_internal_vip_address: 10.0.0.9\n"},
     ["{d}/regions/Two/global.yaml:2: error: kolla.kolla_internal_vip_address: site.yaml regions.Two.addresses "
      "already gives the internal address (http://192.0.2.2), and regionctl writes kolla_internal_vip_address "
      "from it: remove this one"]),
    ("in a service file", {"values/global.yaml": KOLLA, "values/nova.yaml": "kolla:\n  network_interface: x\n"},
     ["{d}/values/nova.yaml:1: error: kolla: is read from values/global.yaml and regions/<region>/global.yaml only, "
      "so it would be ignored here: move it to one of them"]),
    ("not a map", {"values/global.yaml": "kolla: ens3\n"},
     ["{d}/values/global.yaml:1: error: kolla: expected a map of kolla-ansible variables (kolla: network_interface: eth1)"]),
]


def test_bad_kolla_values(cli, tmp_path: Path) -> None:
    for i, (what, files, want) in enumerate(BAD):
        d = tmp_path / str(i)
        root = make_site(d, SITE, {**files, "regions/Two/global.yaml": files.get("regions/Two/global.yaml",
                                                                                 "kolla:\n  keepalived_virtual_router_id: '52'\n")})
        code, lines = problems(cli, root)
        errors = [line for line in lines if ": error: " in line]
        assert (code, errors) == (1, [w.format(d=d) for w in want]), what
        r = cli("render", "--format", "kolla", "-s", str(root), "-o", str(d / "out"))
        assert r.code == 1 and not (d / "out").exists(), what


def test_validate_warns_network_interface_and_keepalived(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", SITE, {"values/global.yaml": "kolla: {}\n"})
    code, lines = problems(cli, root)
    d = tmp_path / "s"
    assert (code, lines) == (0, [
        f"{d}/site.yaml:3: warning: region 'One' sets no kolla network_interface, so kolla-ansible uses its default "
        "'eth0' (kolla-ansible 22.2.0): set kolla.network_interface in regions/One/global.yaml (or values/global.yaml "
        "for every region)",
        f"{d}/site.yaml:12: warning: region 'Two' sets no kolla network_interface, so kolla-ansible uses its default "
        "'eth0' (kolla-ansible 22.2.0): set kolla.network_interface in regions/Two/global.yaml (or values/global.yaml "
        "for every region)",
        f"{d}/site.yaml:15: warning: regions 'One' and 'Two' have internal VIPs in one segment (192.0.2.1 and "
        "192.0.2.2, 192.0.2.0/24) and the same keepalived_virtual_router_id (kolla's default 51 in both): their "
        "keepalived instances would take each other's VIP on a shared network; set a distinct "
        "kolla.keepalived_virtual_router_id in regions/Two/global.yaml",
    ])


def test_same_router_id_set_twice_is_named_where_set(cli, tmp_path: Path) -> None:
    vrid = KOLLA + "  keepalived_virtual_router_id: '60'\n"
    root = make_site(tmp_path / "s", SITE, {"regions/One/global.yaml": vrid, "regions/Two/global.yaml": vrid})
    code, lines = problems(cli, root)
    assert code == 0 and lines == [
        f"{tmp_path}/s/regions/Two/global.yaml:3: warning: regions 'One' and 'Two' have internal VIPs in one segment "
        "(192.0.2.1 and 192.0.2.2, 192.0.2.0/24) and the same keepalived_virtual_router_id (set to 60 in both): "
        "their keepalived instances would take each other's VIP on a shared network; set a distinct "
        "kolla.keepalived_virtual_router_id in regions/Two/global.yaml"]


def test_distinct_router_ids_or_segments_are_clean(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "a", SITE, {"values/global.yaml": KOLLA,
                                            "regions/Two/global.yaml": "kolla:\n  keepalived_virtual_router_id: '52'\n"})
    assert problems(cli, root) == (0, [])
    other = SITE.replace("http://192.0.2.2", "http://198.51.100.2")
    assert problems(cli, make_site(tmp_path / "b", other, {"values/global.yaml": KOLLA})) == (0, [])


def test_render_kolla_warns_a_site_without_kolla_values(cli, tmp_path: Path) -> None:
    """validate stays quiet for a site that never says kolla; render --format kolla does not."""
    root = make_site(tmp_path / "s", SITE)
    assert problems(cli, root) == (0, [])
    code, lines = problems(cli, root, "render", "--format", "kolla", "-o", str(tmp_path / "o"))
    assert code == 0 and len(lines) == 3 and all(": warning: " in line for line in lines)
    assert "keepalived_virtual_router_id" in lines[2]


def test_memcached_left_to_kolla_without_infra(cli, tmp_path: Path) -> None:
    render(cli, EXAMPLES / "admin-region", tmp_path)
    for conf in tmp_path.rglob("*.conf"):
        sections = parse_ini(conf)
        assert "memcached_servers" not in sections.get("keystone_authtoken", {}), conf
        assert "cache" not in sections, conf  # kolla's templates write [cache]; its nova-compute has none


def test_memcached_kept_where_infra_names_hosts(cli, tmp_path: Path) -> None:
    render(cli, EXAMPLES / "two-regions", tmp_path)
    glance = tmp_path / "RegionTwo/config/glance.conf"
    assert parse_ini(glance)["keystone_authtoken"]["memcached_servers"] == ["192.168.40.23:11211"]
    head = glance.read_text().splitlines()[2]
    assert head.startswith("# [keystone_authtoken] memcached_servers replaces kolla's list of its [memcached] "
                           "hosts: site.yaml regions.RegionTwo.infra.memcached (") and head.endswith("site.yaml:38).")
    nova = parse_ini(tmp_path / "RegionTwo/config/nova.conf")
    assert nova["cache"] == {"backend": ["oslo_cache.memcache_pool"], "enabled": ["true"],
                             "memcache_servers": ["192.168.40.23:11211"]}


def test_rbd_backends_from_the_service_files(cli, tmp_path: Path) -> None:
    files = render(cli, EXAMPLES / "two-regions", tmp_path)
    two, one = (yaml.safe_load(files[f"{r}/globals.yml"]) for r in ("RegionTwo", "RegionOne"))
    assert (two.get("glance_backend_ceph"), two.get("cinder_backend_ceph"), two.get("nova_backend_ceph")) == \
        (True, True, None)
    assert not {"glance_backend_ceph", "cinder_backend_ceph", "nova_backend_ceph"} & set(one)
    pw = yaml.safe_load(files["RegionTwo/passwords.yml"])
    assert pw["cinder_rbd_secret_uuid"] == "a8b264e0-a34f-4dff-b8e4-0104221ba6a0"
    assert "cinder_rbd_secret_uuid" not in yaml.safe_load(files["RegionOne/passwords.yml"])


def test_older_store_options_and_nova_images(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", SITE, {
        "regions/Two/glance.yaml": "conf:\n  glance:\n    glance_store:\n      default_store: rbd\n",
        "regions/Two/nova.yaml": "conf:\n  nova_compute:\n    libvirt:\n      images_type: rbd\n",
        "regions/Two/secrets.yaml": SECRETS + "conf:\n  nova_compute:\n    libvirt:\n      rbd_secret_uuid: "
                                              "0f6f9c4e-4a3b-4c35-9a0b-9d1b7a0c2f11\n"})
    files = render(cli, root, tmp_path / "o")
    two = yaml.safe_load(files["Two/globals.yml"])
    assert (two.get("glance_backend_ceph"), two.get("nova_backend_ceph"), two.get("cinder_backend_ceph")) == \
        (True, True, None)
    assert "# [libvirt] images_type = rbd (" in files["Two/globals.yml"]
    assert yaml.safe_load(files["Two/passwords.yml"])["rbd_secret_uuid"] == "0f6f9c4e-4a3b-4c35-9a0b-9d1b7a0c2f11"


def test_site_lists_also_where_only_kollas_template_has_the_section(cli, tmp_path: Path) -> None:
    """kolla's placement.conf has a [cache] the plain file has not: the site's hosts go there too."""
    render(cli, EXAMPLES / "two-regions", tmp_path)
    placement = parse_ini(tmp_path / "RegionTwo/config/placement.conf")
    assert placement["cache"] == {"memcache_servers": ["192.168.40.23:11211"]}
    plain = render(cli, EXAMPLES / "two-regions", tmp_path / "plain", "plain")
    assert "[cache]" not in plain["RegionTwo/etc/placement/placement.conf"]
