"""Values checked against the services' real option definitions (2026.2 data, packaged).

One test per mistake well-known tools have shipped (REFERENCE section 2), then names, types,
ranges, deprecated names, dynamic sections and region options: exact message, file and line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import COMPUTE, make_site, region_yaml, site_text


def lines_of(cli, root: Path) -> tuple[int, list[str]]:
    r = cli("validate", "-s", str(root))
    return r.code, r.out.splitlines()


CASES = [
    # (id, file, yaml, every problem validate prints, after "<root>/")
    ("nova [cinder] region_name instead of os_region_name", "regions/Two/nova.yaml",
     "conf:\n  nova:\n    cinder:\n      region_name: Two\n",
     ['regions/Two/nova.yaml:4: error: nova.conf [cinder] region_name: nova ignores [cinder] region_name; it reads [cinder] os_region_name: remove it']),
    ("cinder [DEFAULT] os_region_name", "values/cinder.yaml",
     "conf:\n  cinder:\n    DEFAULT:\n      os_region_name: Two\n",
     ['values/cinder.yaml:4: error: cinder.conf [DEFAULT] os_region_name: cinder removed [DEFAULT] os_region_name; it reads [nova] region_name: remove it']),
    ("glance cinder store without cinder_os_region_name", "regions/Two/glance.yaml",
     "conf:\n  glance:\n    glance_store:\n      cinder_os_region_name: null\n",
     ["regions/Two/glance.yaml:4: error: glance-api.conf [glance_store] cinder_os_region_name is not set in region 'Two': glance would use any region's endpoint; don't remove it"]),
    ("glance cinder multi-store without cinder_os_region_name", "regions/Two/glance.yaml",
     "conf:\n  glance:\n    DEFAULT:\n      enabled_backends: fast:cinder\n    fast:\n      cinder_os_region_name: null\n",
     ["regions/Two/glance.yaml:6: error: glance-api.conf [fast] cinder_os_region_name is not set in region 'Two': glance would use any region's endpoint; don't remove it"]),
    ("nova [glance] with neither api_servers nor region_name", "regions/Two/nova.yaml",
     "conf:\n  nova:\n    glance:\n      region_name: ~\n",
     ["regions/Two/nova.yaml:4: error: nova.conf [glance] region_name is not set in region 'Two': nova would use any region's endpoint; don't remove it"]),
    ("nova [neutron] url (seed 001)", "values/nova.yaml",
     "conf:\n  nova:\n    neutron:\n      url: http://192.168.40.23:9696\n",
     ['values/nova.yaml:4: error: nova.conf [neutron] url: nova removed this option (2019.1 had it, 2026.2 has none): remove it']),
    ("an option nova removed (seed 001)", "values/nova.yaml",
     "conf:\n  nova:\n    DEFAULT:\n      use_neutron: true\n",
     ['values/nova.yaml:4: error: nova.conf [DEFAULT] use_neutron: nova removed this option (2019.1 had it, 2026.2 has none): remove it']),
    ("an option glance removed, no misleading hint", "values/glance.yaml",
     "conf:\n  glance:\n    DEFAULT:\n      bind_host: 192.0.2.1\n",
     ['values/glance.yaml:4: error: glance-api.conf [DEFAULT] bind_host: glance removed this option (2026.1 had it, 2026.2 has none): remove it']),
    ("region option naming an undeclared region", "regions/Two/neutron.yaml",
     "conf:\n  neutron:\n    nova:\n      region_name: RegionThree\n",
     ['regions/Two/neutron.yaml:4: error: neutron.conf [nova] region_name = RegionThree: no such region in the site: use one of One, Two']),
    ("unknown option with a hint", "values/nova.yaml",
     "conf:\n  nova:\n    DEFAULT:\n      cpu_allocation_ration: 8.0\n",
     ['values/nova.yaml:4: error: nova.conf [DEFAULT] cpu_allocation_ration: nova 2026.2 has no such option (did you mean [DEFAULT] cpu_allocation_ratio?): remove it or fix its name']),
    ("wrong type", "values/nova.yaml",
     "conf:\n  nova:\n    DEFAULT:\n      cpu_allocation_ratio: eight\n",
     ["values/nova.yaml:4: error: nova.conf [DEFAULT] cpu_allocation_ratio: expected a number, got 'eight'"]),
    ("below min", "values/neutron.yaml",
     "conf:\n  neutron:\n    DEFAULT:\n      dhcp_agents_per_network: 0\n",
     ['values/neutron.yaml:4: error: neutron.conf [DEFAULT] dhcp_agents_per_network: 0 is less than the minimum 1']),
    ("not in choices", "values/nova.yaml",
     "conf:\n  nova:\n    libvirt:\n      virt_type: vmware\n",
     ["values/nova.yaml:4: error: nova.conf [libvirt] virt_type: 'vmware' is not one of: kvm, lxc, qemu, parallels"]),
    ("deprecated name", "values/nova.yaml",
     "conf:\n  nova:\n    DEFAULT:\n      quota_cores: 20\n",
     ['values/nova.yaml:4: warning: nova.conf [DEFAULT] quota_cores is a deprecated name: use [quota] cores']),
    ("keystone_authtoken is checked too", "values/nova.yaml",
     "conf:\n  nova:\n    keystone_authtoken:\n      auth_uri: http://x:5000\n",
     ['values/nova.yaml:4: error: nova.conf [keystone_authtoken] auth_uri: nova 2026.2 has no such option (did you mean [keystone_authtoken] auth_url?): remove it or fix its name']),
    ("unknown section", "values/nova.yaml",
     "conf:\n  nova:\n    libvrt:\n      virt_type: kvm\n",
     ['values/nova.yaml:4: error: nova.conf [libvrt] virt_type: nova has no section [libvrt] (did you mean [libvirt]?): fix the section name']),
    ("cinder backend section checked against backend_defaults", "values/cinder.yaml",
     "conf:\n  cinder:\n    DEFAULT:\n      enabled_backends: ceph\n    ceph:\n      rbd_pool: volumes\n      rbd_pol: x\n",
     ['values/cinder.yaml:7: error: cinder.conf [ceph] rbd_pol: cinder 2026.2 has no such option (did you mean [backend_defaults] rbd_pool?): remove it or fix its name']),
    ("cinder section not named in enabled_backends", "values/cinder.yaml",
     "conf:\n  cinder:\n    lvm:\n      volume_driver: x\n",
     ['values/cinder.yaml:4: error: cinder.conf [lvm] volume_driver: cinder has no section [lvm]: fix the section name or name it in [DEFAULT] config_source or [DEFAULT] enabled_backends or [fc-zone-manager] fc_fabric_names']),
    ("glance store section checked against its store type", "values/glance.yaml",
     "conf:\n  glance:\n    DEFAULT:\n      enabled_backends: fast:rbd\n    fast:\n      rbd_store_pool: images\n      filesystem_store_datadir: /x\n",
     ['values/glance.yaml:7: error: glance-api.conf [fast] filesystem_store_datadir: glance 2026.2 has no such option (did you mean [glance_store] filesystem_store_datadir?): remove it or fix its name']),
]


@pytest.mark.parametrize("rel,text,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_option_checks(cli, tmp_path: Path, rel: str, text: str, expected: list[str]) -> None:
    site = site_text(region_yaml("One", ("keystone",) + COMPUTE, public="http://192.0.2.1"),
                     region_yaml("Two", "nova neutron glance cinder placement", public="http://192.0.2.2", parent="One"))
    root = make_site(tmp_path / "s", site, {rel: text})
    code, lines = lines_of(cli, root)
    assert [line.replace(f"{root}/", "") for line in lines] == expected
    assert code == (1 if any(": error: " in e for e in expected) else 0)


def test_glance_cinder_store_gets_region(cli, tmp_path: Path) -> None:
    from oslo_config import cfg
    text = site_text(region_yaml("One", "keystone glance cinder", public="http://192.0.2.1"))
    root = make_site(tmp_path / "s", text, {
        "values/glance.yaml": "conf:\n  glance:\n    DEFAULT:\n      enabled_backends: fast:cinder, slow:cinder\n"
                              "    glance_store:\n      default_backend: fast\n"})
    (root / "regions/Two").exists() and __import__("shutil").rmtree(root / "regions/Two")
    r = cli("render", "-s", str(root), "-o", str(tmp_path / "o"))
    assert r.code == 0, r.err
    sections: dict = {}
    cfg.ConfigParser(str(tmp_path / "o/One/etc/glance/glance-api.conf"), sections).parse()
    assert sections["fast"]["cinder_os_region_name"] == ["One"]
    assert sections["slow"]["cinder_os_region_name"] == ["One"]


def test_unknown_release(cli, tmp_path: Path) -> None:
    from conftest import SITE
    root = make_site(tmp_path / "s", SITE.replace("format: 1\n", "format: 1\nrelease: '2019.1'\n"))
    r = cli("validate", "-s", str(root))
    assert r.code == 1
    assert r.err.strip().startswith(f"regionctl: error: {root}/site.yaml:2: error: no option data for release '2019.1': "
                                    "this regionctl knows 2026.2")
