"""Outputs a real deployment accepts (issue 9): each case a site that used to render something
broken without a word, and the exact problems validate now reports for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import COMPUTE, SECRETS, SITE, make_site, region_yaml, site_text

TEMPLATED = site_text(region_yaml("One", ("keystone",) + COMPUTE, public="https://{name}.api.one.example.com"))
NO_TWO = {"regions/Two/secrets.yaml": None}

CASES = [
    # (id, site.yaml, other files, every problem validate prints, after "<root>/")
    ("template address without infra", TEMPLATED, NO_TWO,
     ["site.yaml:4: error: region 'One' has a template address, so its database and memcached and messaging host(s) "
      "can't be derived from it: set regions.One.infra.database, regions.One.infra.memcached, "
      "regions.One.infra.messaging"]),
    ("template address with infra", TEMPLATED.replace("  One:\n", "  One:\n    infra:\n      database: db.one\n"
                                                      "      messaging: [mq.one:5672]\n      memcached: [mc.one:11211]\n"),
     NO_TWO, []),
    ("misspelt conf file", SITE, {"regions/Two/global.yaml": "conf:\n  neutorn:\n    DEFAULT:\n      dhcp_agents_per_network: 3\n"},
     ["regions/Two/global.yaml:2: error: unknown conf file 'conf.neutorn' (did you mean 'neutron'?): no chart or "
      "service reads it, so it would be ignored; fix its name or remove it"]),
    ("another service's conf file", SITE, {"values/nova.yaml": "conf:\n  glance:\n    DEFAULT:\n      debug: true\n"},
     ["values/nova.yaml:2: error: conf.glance is glance's, but this file holds nova's values, so it would be ignored: "
      "move it to values/glance.yaml (or a region's glance.yaml)"]),
    ("unknown top-level key", SITE, {"values/nova.yaml": "endpionts:\n  identity: {}\n"},
     ["values/nova.yaml:1: error: unknown top-level key 'endpionts' (did you mean 'endpoints'?): the nova chart's "
      "values have no such key, so Helm and regionctl would ignore it; fix its spelling or remove it"]),
    ("infra database as a URL", SITE.replace("  One:\n", "  One:\n    infra:\n      database: mysql://192.0.2.9\n"), {},
     ["site.yaml:5: error: regions.One.infra.database: 'mysql://192.0.2.9' is a URL, not a host: write host or "
      "host:port (e.g. 192.0.2.10:3306)"]),
    ("infra with credentials", SITE.replace("  One:\n", "  One:\n    infra:\n      messaging: [u:pw@mq:5672]\n"), {},
     ["site.yaml:5: error: regions.One.infra.messaging: credentials do not belong here (they come from the "
      "region's secrets): write host or host:port (e.g. 192.0.2.10:5672)"]),
    ("null deletes a section with derived values", SITE, {"regions/Two/nova.yaml": "conf:\n  nova:\n    DEFAULT:\n"},
     ["regions/Two/nova.yaml:3: warning: conf.nova.DEFAULT: null deletes the whole section, and with it what "
      "regionctl derives there (transport_url): set only the options you mean to remove to null"]),
    ("nova without neutron", SITE.replace("      neutron:\n", "", 2), {},
     ["site.yaml:8: error: region 'One' runs nova, which needs neutron, but neither runs it nor says which region "
      "serves it: add it to its services, or 'uses: {neutron: REGION}'",
      "site.yaml:16: error: region 'Two' runs nova, which needs neutron, but neither runs it nor says which region "
      "serves it: add it to its services, or 'uses: {neutron: REGION}'"]),
    ("uses names a region without the service", SITE.replace("      neutron:\n", "", 2).replace(
        "  Two:\n", "  Two:\n    uses: {neutron: One}\n").replace("  One:\n", "  One:\n    uses: {neutron: Two}\n"), {},
     ["site.yaml:4: error: regions.One.uses.neutron: region 'Two' does not run neutron: name a region that runs it",
      "site.yaml:13: error: regions.Two.uses.neutron: region 'One' does not run neutron: name a region that runs it"]),
    ("uses a service it runs", SITE.replace("  Two:\n", "  Two:\n    uses: {glance: One}\n"), {},
     ["site.yaml:13: error: region 'Two' runs glance itself and also uses region 'One''s: remove uses.glance or "
      "the service"]),
    ("nova mdev sections", SITE, {"values/nova.yaml": "conf:\n  nova:\n    devices:\n      enabled_mdev_types: nvidia-35\n"
                                  "    mdev_nvidia-35:\n      device_addresses: 0000:84:00.0\n"}, []),
    ("volumev2 for 2026.2", SITE.replace("format: 1\n", "format: 1\nrelease: '2026.2'\n").replace(
        "  Two:\n", "  Two:\n    parent: One\n", 0).replace("      glance:\n  Two:", "      glance:\n      cinder:\n"
                                                             "        catalog: [volumev2, volumev3]\n  Two:"), {},
     ["site.yaml:14: warning: cinder 2026.2 serves no volumev2 API (removed in 2021.2): remove volumev2 from "
      "regions.One.services.cinder.catalog"]),
]


@pytest.mark.parametrize("text,files,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_validate_reports(cli, tmp_path: Path, text: str, files: dict[str, str], expected: list[str]) -> None:
    root = make_site(tmp_path / "s", text, files)
    r = cli("validate", "-s", str(root))
    assert [line.replace(f"{root}/", "") for line in r.out.splitlines()] == expected
    assert r.code == (1 if any(": error: " in e for e in expected) else 0)


def test_region_using_another_regions_service_names_it(cli, tmp_path: Path) -> None:
    """Seed 004's cross-region case: Two runs no cinder, and its nova and glance use One's."""
    text = SITE.replace("      glance:\n  Two:", "      glance:\n      cinder:\n  Two:").replace(
        "  Two:\n", "  Two:\n    uses: {cinder: One}\n")
    root = make_site(tmp_path / "s", text)
    r = cli("render", "-s", str(root), "-r", "Two", "-o", str(tmp_path / "o"))
    assert r.code == 0, r.err
    from oslo_config import cfg
    sections: dict = {}
    cfg.ConfigParser(str(tmp_path / "o/Two/etc/nova/nova.conf"), sections).parse()
    assert sections["cinder"]["os_region_name"] == ["One"]
    assert sections["cinder"]["catalog_info"] == ["volumev3::internalURL"]
    assert sections["neutron"]["region_name"] == ["Two"]


def test_region_without_an_optional_service_gets_no_option_for_it(cli, tmp_path: Path) -> None:
    """A region running nova and no cinder gets no [cinder] os_region_name pointing at itself."""
    root = make_site(tmp_path / "s")
    r = cli("render", "-s", str(root), "-r", "Two", "-o", str(tmp_path / "o"))
    assert r.code == 0, r.err
    text = (tmp_path / "o/Two/etc/nova/nova.conf").read_text()
    assert "[cinder]" not in text and "os_region_name" not in text
    assert "cinder_os_region_name" not in (tmp_path / "o/Two/etc/glance/glance-api.conf").read_text()


def test_catalog_needs_no_secrets(tmp_path: Path) -> None:
    """docs/deploy.md applies the catalog first, before anyone holds the regions' secrets."""
    from regionctl.check.validate import load_checked
    root = make_site(tmp_path / "s", files={"regions/One/secrets.yaml": None, "regions/Two/secrets.yaml": None})
    loaded = load_checked(str(root), full=False)
    assert loaded.site is not None and list(loaded.site.regions) == ["One", "Two"]


def test_nova_problem_reported_once(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", files={"values/nova.yaml": "conf:\n  nova:\n    DEFAULT:\n      cpu_allocation_ratio: x\n"})
    r = cli("validate", "-s", str(root))
    mine = [line for line in r.out.splitlines() if "cpu_allocation_ratio" in line]
    assert len(mine) == 1 and mine[0].startswith(f"{root}/values/nova.yaml:4: error: nova.conf [DEFAULT] "
                                                 "cpu_allocation_ratio:"), r.out


def test_link_takes_the_site(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s")
    (tmp_path / "out/Two").mkdir(parents=True)
    r = cli("link", "-s", str(root), "-r", "Two", "-o", str(tmp_path / "out"), "--to", str(tmp_path / "etc-genestack"))
    assert r.code == 0, r.err
    assert (tmp_path / "etc-genestack").resolve() == (tmp_path / "out/Two").resolve()
    r = cli("link", "-s", str(root), "-r", "Three", "-o", str(tmp_path / "out"), "--to", str(tmp_path / "x"))
    assert (r.code, r.err.strip()) == (1, "regionctl: error: unknown region 'Three': the site declares One, Two")


@pytest.mark.parametrize("fmt,stale", [("plain", "Two/etc/cinder/cinder.conf"),
                                       ("helm", "Two/helm-configs/cinder/Two-cinder-helm-overrides.yaml")])
def test_removed_service_leaves_no_stale_file(cli, tmp_path: Path, fmt: str, stale: str) -> None:
    """Removing cinder from a region removes its files at the next render (Genestack's glob would
    pick up a stale override)."""
    with_cinder = SITE.replace("      glance:\n", "      glance:\n      cinder:\n")
    root = make_site(tmp_path / "s", with_cinder)
    out = tmp_path / "o"
    assert cli("render", "--format", fmt, "-s", str(root), "-o", str(out)).code == 0
    assert (out / stale).is_file()
    (root / "site.yaml").write_text(SITE)
    r = cli("render", "--format", fmt, "-s", str(root), "-o", str(out))
    assert r.code == 0, r.err
    assert not (out / stale).exists()
    assert not [p for p in out.rglob("*") if ".regionctl" in p.name]


def test_malformed_bracketed_address_is_one_line_in_kolla_render(cli, tmp_path: Path) -> None:
    """Found by the fuzz: '[DEFAULT]' in an address made urlsplit raise inside kolla's checks."""
    root = make_site(tmp_path / "s", SITE.replace("http://192.0.2.2", "'&a][DEFAULT]x'"))
    r = cli("render", "--format", "kolla", "-s", str(root), "-o", str(tmp_path / "o"))
    assert r.code == 1 and "internal error" not in r.err
    assert (f"{root}/site.yaml:15: error: regions.Two.addresses.public: 'http://&a][DEFAULT]x' is not a valid URL "
            "(an unclosed '[' of an IPv6 address?): fix the URL") in r.err.splitlines()


def test_force_renders_a_region_whose_name_keystone_rejects(cli, tmp_path: Path) -> None:
    """Found by the fuzz: 'a b' can be a directory, so --force writes it (Keystone would refuse it)."""
    root = make_site(tmp_path / "s", SITE.replace("  Two:", "  a b:"), {"regions/a b/secrets.yaml": SECRETS})
    r = cli("render", "--force", "-s", str(root), "-o", str(tmp_path / "o"))
    assert r.code == 0 and "internal error" not in r.err, r.err
    assert (tmp_path / "o/a b/etc/nova/nova.conf").is_file()
