"""Sites with more than one Keystone (issue 13): clouds side by side, each region in one."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import COMPUTE, EXAMPLES, make_site, region_yaml, site_text

CLOUDS = "clouds:\n  A:\n    os_cloud: cloud-a\n  B: {}\n"
TWO = site_text(region_yaml("One", ("keystone",) + COMPUTE, public="http://192.0.2.1", extra="cloud: A\n"),
                region_yaml("Two", ("keystone",) + COMPUTE, public="http://192.0.2.2", extra="cloud: B\n"),
                head=CLOUDS)

CASES = [
    ("two clouds, one Keystone each", TWO, []),
    ("a region without a cloud", TWO.replace("    cloud: B\n", ""),
     ["site.yaml:5: error: cloud 'B' has no region: name it in a region's 'cloud:', or remove it",
      "site.yaml:17: error: region 'Two' names no cloud: add 'cloud:' with one of A, B"]),
    ("an undeclared cloud", TWO.replace("    cloud: B\n", "    cloud: C\n"),
     ["site.yaml:5: error: cloud 'B' has no region: name it in a region's 'cloud:', or remove it",
      "site.yaml:26: error: cloud 'C' of region 'Two' is not declared: declare it under 'clouds:' or use one of A, B"]),
    ("a cloud without Keystone", TWO.replace("      keystone:\n", "", 2).replace(
        "      nova:\n", "      keystone:\n      nova:\n", 1),
     ["site.yaml:5: error: no region of cloud 'B' runs keystone: add 'keystone:' to the services of the region "
      "hosting its Keystone (Two)"]),
    ("two Keystones in one cloud", TWO.replace("    cloud: B\n", "    cloud: A\n"),
     ["site.yaml:5: error: cloud 'B' has no region: name it in a region's 'cloud:', or remove it",
      "site.yaml:21: error: keystone runs in both 'One' and 'Two': one Keystone is shared by every region of cloud 'A'; "
      "remove it from all but one"]),
    ("a parent in another cloud", TWO.replace("  Two:\n", "  Two:\n    parent: One\n"),
     ["site.yaml:18: error: parent region 'One' of 'Two' is in cloud 'A', 'Two' in 'B': a parent lives in its child's "
      "Keystone; choose a parent of the same cloud"]),
    ("a cloud named without clouds", TWO.replace(CLOUDS, "").replace("    cloud: B\n", ""),
     ["site.yaml:12: error: cloud 'A' of region 'One' is not declared: the site declares no clouds: declare it under "
      "'clouds:'",
      "site.yaml:17: error: keystone runs in both 'One' and 'Two': one Keystone is shared by every region; remove it "
      "from all but one"]),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cloud_checks(cli, tmp_path: Path, text: str, expected: list[str]) -> None:
    root = make_site(tmp_path / "s", text)
    r = cli("validate", "-s", str(root))
    assert [line.replace(f"{root}/", "") for line in r.out.splitlines()] == expected
    assert r.code == (1 if expected else 0)


def test_each_region_uses_its_own_clouds_keystone(cli, tmp_path: Path) -> None:
    from oslo_config import cfg
    site = EXAMPLES / "two-clouds"
    r = cli("render", "-s", str(site), "-o", str(tmp_path / "o"))
    assert r.code == 0, r.err
    for region, host in (("RegionOne", "192.168.142.244"), ("RegionTwo", "192.168.144.244")):
        sections: dict = {}
        cfg.ConfigParser(str(tmp_path / f"o/{region}/etc/nova/nova.conf"), sections).parse()
        assert sections["keystone_authtoken"]["www_authenticate_uri"] == [f"http://{host}:5000"]
        assert sections["keystone_authtoken"]["region_name"] == [region]
        assert sections["neutron"]["auth_url"] == [f"http://{host}:5000"]
    horizon = (tmp_path / "o/RegionTwo/etc/openstack-dashboard/local_settings.py").read_text()
    assert "OPENSTACK_KEYSTONE_URL = 'http://192.168.144.244:5000/v3'" in horizon
    assert ("AVAILABLE_REGIONS = [('http://192.168.142.244:5000/v3', 'CloudOne'), "
            "('http://192.168.144.244:5000/v3', 'CloudTwo')]") in horizon


def test_each_clouds_catalog_holds_its_own_regions() -> None:
    from regionctl.catalog.desired import desired_catalog
    from regionctl.site.load import load
    site = load(EXAMPLES / "two-clouds").site
    assert site is not None
    for cloud, region, host in (("CloudOne", "RegionOne", "192.168.142.244"), ("CloudTwo", "RegionTwo", "192.168.144.244")):
        cat = desired_catalog(site, cloud)
        assert [r.id for r in cat.regions] == [region]
        assert {e.region for e in cat.endpoints} == {region}
        assert all(f"//{host}:" in e.url for e in cat.endpoints)


def test_kolla_names_each_clouds_regions(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", TWO.replace("  Two:\n", "  Three:\n    parent: One\n    addresses:\n      public: "
                                                 "http://192.0.2.3\n    cloud: A\n    services:\n      nova:\n"
                                                 "      placement:\n      neutron:\n      glance:\n  Two:\n"),
                     {"regions/Three/secrets.yaml": (EXAMPLES / "two-clouds/regions/RegionOne/secrets.yaml").read_text()})
    r = cli("render", "--format", "kolla", "-s", str(root), "-o", str(tmp_path / "o"))
    assert r.code == 0, r.err
    one = (tmp_path / "o/One/globals.yml").read_text()
    assert 'multiple_regions_names:\n  - "One"\n  - "Three"\n' in one
    two = (tmp_path / "o/Two/globals.yml").read_text()
    assert 'multiple_regions_names:\n  - "Two"\n' in two
    assert 'keystone_internal_url: "http://192.0.2.2:5000"' in two
