"""heat, added as data only (issue 8): its derived options, its catalog entries, and the proof
that no code outside ``regionctl/openstack/`` names it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from oslo_config import cfg

from conftest import EXAMPLES, ROOT, SECRETS, make_site
from regionctl.catalog.desired import desired_catalog
from regionctl.site.load import load

HEAT_SECRETS = SECRETS.replace("    cinder: cinder-pw\n", "    cinder: cinder-pw\n    heat: heat-pw\n").replace(
    "    cinder: cinder-db\n", "    cinder: cinder-db\n    heat: heat-db\n")

ALL = """\
      nova:
      placement:
      neutron:
      glance:
      cinder:
      heat:
"""

TWO_REGIONS = f"""\
format: 1
release: "2026.2"
regions:
  One:
    addresses:
      public: http://192.0.2.1
      internal: http://10.0.1.1
    services:
      keystone:
{ALL}  Two:
    parent: One
    addresses:
      public: http://192.0.2.2
      internal: http://10.0.2.1
    services:
{ALL}"""


def heat_site(root: Path, text: str = TWO_REGIONS, regions: tuple[str, ...] = ("One", "Two")) -> Path:
    return make_site(root, text, {f"regions/{r}/secrets.yaml": HEAT_SECRETS for r in regions})


def heat_confs(cli, site: Path, out: Path) -> dict[str, dict[str, dict[str, list[str]]]]:
    """Every region's rendered heat.conf, parsed by oslo.config as heat would."""
    r = cli("render", "-s", str(site), "-o", str(out))
    assert r.code == 0, r.err
    confs = {}
    for path in sorted(out.glob("*/etc/heat/heat.conf")):
        sections: dict[str, dict[str, list[str]]] = {}
        cfg.ConfigParser(str(path), sections).parse()
        confs[path.relative_to(out).parts[0]] = sections
    return confs


def test_two_regions_heat_names_its_own_region_and_the_shared_keystone(cli, tmp_path: Path) -> None:
    confs = heat_confs(cli, heat_site(tmp_path / "s"), tmp_path / "o")
    assert sorted(confs) == ["One", "Two"]
    for region, host in (("One", "10.0.1.1"), ("Two", "10.0.2.1")):
        conf = confs[region]
        assert conf["DEFAULT"]["region_name_for_services"] == [region]
        assert "region_name_for_shared_services" not in conf["DEFAULT"]  # it takes nothing from elsewhere
        assert "shared_services_types" not in conf["DEFAULT"]
        assert conf["DEFAULT"]["transport_url"] == [f"rabbit://openstack:rabbit-pw@{host}:5672//"]
        assert conf["keystone_authtoken"] == {
            "www_authenticate_uri": ["http://192.0.2.1:5000"], "auth_url": ["http://10.0.1.1:5000"],
            "auth_type": ["password"], "project_domain_name": ["Default"], "user_domain_name": ["Default"],
            "project_name": ["service"], "username": ["heat"], "password": ["heat-pw"],
            "region_name": [region], "memcached_servers": [f"{host}:11211"]}
        assert conf["trustee"] == {  # a trust scopes it: no project; keystoneauth options only: no region
            "auth_url": ["http://10.0.1.1:5000"], "auth_type": ["password"], "user_domain_name": ["Default"],
            "username": ["heat"], "password": ["heat-pw"]}
        assert conf["clients_keystone"] == {"auth_uri": ["http://10.0.1.1:5000"]}
        assert conf["clients"] == {"endpoint_type": ["internal"]}
        assert conf["ec2authtoken"] == {"auth_section": ["keystone_authtoken"], "region_name": [region],
                                        "valid_interfaces": ["internal"]}
        assert conf["database"] == {"connection": [f"mysql+pymysql://heat:heat-db@{host}:3306/heat"]}


SHARED = """\
format: 1
release: "2026.2"
regions:
  One:
    addresses:
      public: http://192.0.2.1
    services:
      keystone:
      glance:
      cinder:
  Two:
    parent: One
    addresses:
      public: http://192.0.2.2
    uses:
      glance: One
      cinder: {cinder}
    services:
      nova:
      placement:
      neutron:
      heat:
  Three:
    parent: One
    addresses:
      public: http://192.0.2.3
    services:
      cinder:
"""


def test_services_taken_from_another_region_are_heats_shared_services(cli, tmp_path: Path) -> None:
    site = heat_site(tmp_path / "s", SHARED.format(cinder="One"), ("One", "Two", "Three"))
    conf = heat_confs(cli, site, tmp_path / "o")["Two"]
    assert conf["DEFAULT"]["region_name_for_services"] == ["Two"]
    assert conf["DEFAULT"]["region_name_for_shared_services"] == ["One"]
    assert conf["DEFAULT"]["shared_services_types"] == ["image,volumev3"]


def test_shared_services_from_two_regions_is_an_error(cli, tmp_path: Path) -> None:
    site = heat_site(tmp_path / "s", SHARED.format(cinder="Three"), ("One", "Two", "Three"))
    message = (f"{site}/site.yaml:15: error: region 'Two' uses glance from One; cinder from Three, but heat takes "
               "another region's services from one region only ([DEFAULT] region_name_for_shared_services): "
               "use one region for all of them")
    r = cli("render", "-s", str(site), "-r", "Two", "-o", str(tmp_path / "o"))
    assert r.code == 1
    assert message in r.err.splitlines()
    assert not (tmp_path / "o").exists()
    v = cli("validate", "-s", str(site))
    assert v.code == 1
    assert [line for line in (v.out + v.err).splitlines() if ": error: " in line] == [message]


def test_catalog_has_orchestration_and_cloudformation_in_every_region(tmp_path: Path) -> None:
    loaded = load(heat_site(tmp_path / "s"))
    assert loaded.site is not None
    heat = [(e.region, e.type, e.name, e.interface, e.url) for e in desired_catalog(loaded.site).endpoints
            if e.type in ("orchestration", "cloudformation")]
    assert sorted(heat) == sorted(
        (region, type_, name, iface, f"http://{host}{tail}")
        for region, hosts in (("One", ("192.0.2.1", "10.0.1.1")), ("Two", ("192.0.2.2", "10.0.2.1")))
        for type_, name, tail in (("orchestration", "heat", ":8004/v1/%(tenant_id)s"),
                                  ("cloudformation", "heat-cfn", ":8000/v1"))
        for iface, host in zip(("public", "internal"), hosts))


def test_no_code_outside_openstack_names_heat() -> None:
    """Adding heat was a change to openstack/'s tables: no string outside it names heat."""
    src = ROOT / "src" / "regionctl"
    found = []
    for path in sorted(src.rglob("*.py")):
        if path.relative_to(src).parts[0] == "openstack":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(r"\bheat\b", node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert found == []
    assert any("heat" in p.read_text() for p in (src / "openstack").glob("*.py"))  # the walk reads real files


def test_helm_auth_blocks_are_the_users_heat_conf_names(cli, tmp_path: Path) -> None:
    """The chart's ks-user jobs create the users heat.conf logs in as (and the stack domain admin)."""
    from test_helm import chart_values

    r = cli("render", "--format", "helm", "-s", str(EXAMPLES / "admin-region"), "-r", "OSR2", "-o", str(tmp_path))
    assert r.code == 0, r.err
    values = chart_values(tmp_path, "OSR2", "heat")
    auth, conf = values["endpoints"]["identity"]["auth"], values["conf"]["heat"]
    login = {"username": "heat", "password": "heat-example", "project_name": "service",
             "user_domain_name": "Default", "project_domain_name": "Default", "region_name": "OSR2"}
    assert auth["heat"] == auth["heat_trustee"] == login
    assert auth["heat_stack_user"] == {"username": "heat_domain_admin", "password": "heat-domain-admin-example",
                                       "domain_name": "heat_user_domain", "region_name": "OSR2"}
    assert (conf["DEFAULT"]["stack_domain_admin"], conf["DEFAULT"]["stack_user_domain_name"]) == \
        ("heat_domain_admin", "heat_user_domain")
    assert conf["trustee"]["username"] == "heat" and "project_name" not in conf["trustee"]
    assert set(auth) == {"admin", "heat", "heat_trustee", "heat_stack_user", "test"}


def test_kolla_gets_heat_passwords_and_no_secret_in_its_config(cli, tmp_path: Path) -> None:
    """kolla's heat.conf.j2 writes every heat secret from passwords.yml: config/heat.conf holds none."""
    import stat

    import yaml

    r = cli("render", "--format", "kolla", "-s", str(EXAMPLES / "admin-region"), "-o", str(tmp_path))
    assert r.code == 0, r.err
    assert yaml.safe_load((tmp_path / "AR/globals.yml").read_text())["enable_heat"] is False
    assert yaml.safe_load((tmp_path / "OSR1/globals.yml").read_text())["enable_heat"] is True
    passwords = yaml.safe_load((tmp_path / "OSR1/passwords.yml").read_text())
    assert {k: v for k, v in passwords.items() if k.startswith("heat_")} == {
        "heat_keystone_password": "heat-example", "heat_database_password": "osr1-heat-db-example",
        "heat_domain_admin_password": "heat-domain-admin-example"}
    config = tmp_path / "OSR1/config/heat.conf"
    text = config.read_text()
    for secret in ("password =", "stack_domain_admin_password", "connection =", "transport_url", "-example"):
        assert secret not in text, secret
    assert "region_name_for_services = OSR1\n" in text
    assert stat.S_IMODE(config.stat().st_mode) == 0o644
