"""Every validation check fed a broken site: exact message, file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import EXAMPLES, SECRETS, SITE, make_site


def problems(cli, site: Path) -> tuple[int, list[str]]:
    r = cli("validate", "-s", str(site))
    return r.code, [line for line in r.out.splitlines() if line]


def test_valid_site_is_clean(cli, site: Path) -> None:
    code, lines = problems(cli, site)
    assert (code, lines) == (0, [])


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir() if (p / "site.yaml").is_file()))
def test_examples_validate(cli, example: str) -> None:
    code, lines = problems(cli, EXAMPLES / example)
    assert (code, lines) == (0, [])


CASES = [
    ("yaml syntax", SITE.replace("  Two:\n", "  Two: [\n"),
     ["site.yaml:14: error: YAML syntax error: expected ',' or ']', but got ':'; fix the YAML"]),
    ("unknown key", SITE.replace("    parent: One\n", "    parnet: One\n"),
     ["site.yaml:13: error: unknown key 'parnet' in regions.Two: remove it or fix its spelling (see 'regionctl schema')"]),
    ("wrong type", SITE.replace("    parent: One\n", "    parent: [One]\n"),
     ['site.yaml:13: error: regions.Two.parent: input should be a valid string, got a list']),
    ("missing parent", SITE.replace("parent: One", "parent: Oen"),
     ["site.yaml:13: error: parent region 'Oen' of 'Two' is not declared (did you mean 'One'?): declare it under 'regions:' or fix the name"]),
    ("parent cycle", SITE.replace("  One:\n", "  One:\n    parent: Two\n"),
     ["site.yaml:4: error: parent regions form a cycle: One -> Two -> One: break it by removing one 'parent'"]),
    ("own parent", SITE.replace("parent: One", "parent: Two"),
     ["site.yaml:13: error: region 'Two' is its own parent: remove 'parent'"]),
    ("no identity region", SITE.replace("      keystone:\n", ""),
     ["site.yaml:2: error: no region runs keystone: add 'keystone:' to the services of the region hosting the shared Keystone"]),
    ("two identity regions", SITE.replace("    services:\n      nova:\n", "    services:\n      keystone:\n      nova:\n"),
     ["site.yaml:17: error: keystone runs in both 'One' and 'Two': one Keystone is shared by every region; remove it from all but one"]),
    ("unknown service", SITE.replace("      nova:\n", "      nvoa:\n", 1),
     ["site.yaml:8: error: unknown service 'nvoa' (did you mean 'nova'?): known services are keystone, nova, placement, neutron, glance, cinder, heat, horizon"]),
    ("no address", SITE.replace("    addresses:\n      public: http://192.0.2.2\n", ""),
     ["site.yaml:15: error: region 'Two' runs nova but has no address for it: add regions.Two.addresses.public, or services.nova.urls",
      "site.yaml:16: error: region 'Two' runs placement but has no address for it: add regions.Two.addresses.public, or services.placement.urls",
      "site.yaml:17: error: region 'Two' runs neutron but has no address for it: add regions.Two.addresses.public, or services.neutron.urls",
      "site.yaml:18: error: region 'Two' runs glance but has no address for it: add regions.Two.addresses.public, or services.glance.urls"]),
    ("malformed URL", SITE.replace("http://192.0.2.2", "htp://192.0.2.2"),
     ["site.yaml:15: error: regions.Two.addresses.public: 'htp://192.0.2.2:8774/v2.1' is not an http(s) URL: fix the URL",
      "site.yaml:15: error: regions.Two.addresses.public: 'htp://192.0.2.2:8778' is not an http(s) URL: fix the URL",
      "site.yaml:15: error: regions.Two.addresses.public: 'htp://192.0.2.2:9292' is not an http(s) URL: fix the URL",
      "site.yaml:15: error: regions.Two.addresses.public: 'htp://192.0.2.2:9696' is not an http(s) URL: fix the URL"]),
    ("base address with a port", SITE.replace("http://192.0.2.2", "http://192.0.2.2:80"),
     ["site.yaml:15: error: regions.Two.addresses.public: 'http://192.0.2.2:80': a base address takes no port or path (each service adds its own); use a template such as 'https://{name}.example.com' or per-service urls: fix the URL"]),
    ("bad override URL", SITE.replace("    services:\n      nova:\n", "    services:\n      nova:\n        urls:\n          compute: http://:8774\n", 1).replace("      keystone:\n      nova:\n        urls", "      keystone:\n      nova:\n        urls"),
     ["site.yaml:19: error: regions.Two.services.nova.urls.compute: 'http://:8774' has no host: fix the URL"]),
    ("same URL in two regions", SITE.replace("http://192.0.2.2", "http://192.0.2.1"),
     ["site.yaml:15: error: http://192.0.2.1:8774/v2.1 is claimed by region 'One' (compute public) and by region 'Two' (compute internal): every endpoint needs its own URL; fix the address",
      "site.yaml:15: error: http://192.0.2.1:8774/v2.1 is claimed by region 'One' (compute public) and by region 'Two' (compute public): every endpoint needs its own URL; fix the address",
      "site.yaml:15: error: http://192.0.2.1:8778 is claimed by region 'One' (placement public) and by region 'Two' (placement internal): every endpoint needs its own URL; fix the address",
      "site.yaml:15: error: http://192.0.2.1:8778 is claimed by region 'One' (placement public) and by region 'Two' (placement public): every endpoint needs its own URL; fix the address",
      "site.yaml:15: error: http://192.0.2.1:9292 is claimed by region 'One' (image public) and by region 'Two' (image internal): every endpoint needs its own URL; fix the address",
      "site.yaml:15: error: http://192.0.2.1:9292 is claimed by region 'One' (image public) and by region 'Two' (image public): every endpoint needs its own URL; fix the address",
      "site.yaml:15: error: http://192.0.2.1:9696 is claimed by region 'One' (network public) and by region 'Two' (network internal): every endpoint needs its own URL; fix the address",
      "site.yaml:15: error: http://192.0.2.1:9696 is claimed by region 'One' (network public) and by region 'Two' (network public): every endpoint needs its own URL; fix the address"]),
    ("region name Keystone rejects", SITE.replace("  Two:", "  Two/b:").replace("regions/Two", "x"),
     ["regions/Two: error: directory of region 'Two', which site.yaml does not declare (did you mean 'Two/b'?): declare the region or remove the directory",
      "site.yaml:12: error: region name 'Two/b' is not a usable Keystone region ID: use letters, digits, '.', '_' and '-' (it becomes a URL path segment and a directory name)"]),
    ("region name too long", SITE.replace("  Two:", "  " + "T" * 256 + ":"),
     ["regions/Two: error: directory of region 'Two', which site.yaml does not declare: declare the region or remove the directory",
      'site.yaml:12: error: region name is 256 characters: Keystone accepts at most 255']),
    ("unknown catalog type", SITE.replace("    services:\n      nova:\n", "    services:\n      nova:\n        catalog: [computer]\n"),
     ["site.yaml:18: error: nova registers no catalog type 'computer' (did you mean 'compute'?): choose from compute"]),
    ("empty site.yaml", "",
     ["site.yaml:1: error: is empty: declare the regions (see 'regionctl init')"]),
    ("site.yaml is a list", "- One\n- Two\n",
     ["site.yaml:1: error: expected a map with 'regions:', found a list"]),
    ("no regions key", "format: 1\n",
     ['site.yaml:1: error: regions: required key missing: add it']),
    ("duplicate region", SITE + "  One:\n    services: {}\n",
     ['site.yaml:21: error: duplicate key: One; keep one of them']),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_site_yaml_checks(cli, tmp_path: Path, text: str, expected: list[str]) -> None:
    """The whole problem list, in validate's order: nothing missing, nothing extra."""
    root = make_site(tmp_path / "s", text)
    code, lines = problems(cli, root)
    assert code == 1
    assert [line.replace(f"{root}/", "") for line in lines] == expected


FILE_CASES = [
    ("secret in plain values", {"values/nova.yaml": "conf:\n  nova:\n    neutron:\n      metadata_proxy_shared_secret: s3cret\n"},
     ["values/nova.yaml:4: error: conf.nova.neutron.metadata_proxy_shared_secret looks secret but is in a plain values file: move it to each region's regions/<region>/secrets.yaml"]),
    ("password URL in region values", {"regions/Two/nova.yaml": "conf:\n  nova:\n    database:\n      connection: mysql+pymysql://nova:pw@db/nova\n"},
     ['regions/Two/nova.yaml:4: error: conf.nova.database.connection looks secret but is in a plain values file: move it to regions/Two/secrets.yaml']),
    ("passwords map in plain values", {"values/global.yaml": "passwords:\n  service_users:\n    nova: x\n"},
     ["values/global.yaml:3: error: passwords.service_users.nova looks secret but is in a plain values file: move it to each region's regions/<region>/secrets.yaml"]),
    ("region dir without region", {"regions/Three/nova.yaml": "conf: {}\n"},
     ["regions/Three: error: directory of region 'Three', which site.yaml does not declare: declare the region or remove the directory"]),
    ("region without secrets", {"regions/Two/secrets.yaml": None},
     ["site.yaml:12: error: region 'Two' runs nova, placement, neutron, glance but has no regions/Two/secrets.yaml: its passwords and credentials live there; create it"]),
    ("map over scalar", {"values/nova.yaml": "endpoints: none\n",
                         "regions/Two/nova.yaml": "# c\nendpoints:\n  x: 1\n"},
     ['regions/Two/nova.yaml:2: warning: endpoints: a map here replaces the value set at values/nova.yaml:1; check the types match in both files']),
    ("scalar over map", {"values/global.yaml": "endpoints:\n  x: 1\n", "regions/Two/nova.yaml": "endpoints: 3\n"},
     ['regions/Two/nova.yaml:1: warning: endpoints: a value here replaces the map set at values/global.yaml:1; check the types match in both files']),
    ("section is a scalar", {"values/nova.yaml": "conf:\n  nova:\n    DEFAULT: 5\n"},
     ['values/nova.yaml:3: error: conf.nova.DEFAULT: expected a map of options, found a single value',
      'values/nova.yaml:3: warning: conf.nova.DEFAULT: a value here replaces the map set at site.yaml:12; check the types match in both files',
      'values/nova.yaml:3: warning: conf.nova.DEFAULT: a value here replaces the map set at site.yaml:3; check the types match in both files']),
    ("option is a map", {"values/nova.yaml": "conf:\n  nova:\n    DEFAULT:\n      debug:\n        a: 1\n"},
     ['values/nova.yaml:4: error: conf.nova.DEFAULT.debug: an option takes a value or a list, not a map (for several values use {type: multistring, values: [...]})']),
    ("unknown values file", {"values/nvoa.yaml": "conf: {}\n"},
     ["values/nvoa.yaml: warning: 'nvoa.yaml' is not a service's values file (did you mean 'nova'?); it is ignored: name it global.yaml or one of keystone.yaml, nova.yaml, placement.yaml, neutron.yaml, glance.yaml, cinder.yaml, heat.yaml, horizon.yaml"]),
    ("file for a service not run", {"regions/Two/cinder.yaml": "conf: {}\n"},
     ["regions/Two/cinder.yaml: warning: region 'Two' does not run cinder; this file is ignored: add the service to the region or remove the file"]),
    ("values file is a list", {"values/nova.yaml": "- a\n"},
     ["values/nova.yaml:1: error: expected a map of values (like 'conf: ...'), found a list"]),
    ("shared user, two passwords", {"regions/Two/secrets.yaml": SECRETS.replace("nova: nova-pw", "nova: nova-pw-2")},
     ["regions/Two/secrets.yaml:4: warning: service user nova has another password than in region 'One' (regions/One/secrets.yaml:4): users are shared by all regions (service_users: shared), so deploying this region resets the other's; use one password everywhere"]),
    ("values yaml error", {"values/nova.yaml": "conf:\n  nova: {\n"},
     ["values/nova.yaml:3: error: YAML syntax error: expected the node content, but found '<stream end>'; fix the YAML"]),
    ("binary values file", {"values/nova.yaml": "conf:\n\x00\x01"},
     ['values/nova.yaml:2: error: contains NUL bytes (binary file?): expected YAML']),
]


@pytest.mark.parametrize("files,expected", [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_values_checks(cli, tmp_path: Path, files: dict, expected: list[str]) -> None:
    """The whole problem list, in validate's order: nothing missing, nothing extra."""
    root = make_site(tmp_path / "s", files=files)
    code, lines = problems(cli, root)
    assert [line.replace(f"{root}/", "") for line in lines] == expected
    assert code == (1 if any(": error: " in e for e in expected) else 0)


def test_one_service_two_types_one_url_is_fine(cli, tmp_path: Path) -> None:
    text = SITE.replace("    services:\n      nova:\n", "    services:\n      nova:\n      cinder:\n        catalog: [volumev3, block-storage]\n", 1)
    root = make_site(tmp_path / "s", text)
    assert problems(cli, root) == (0, [])


def test_problems_sorted_by_file_and_line(cli, tmp_path: Path) -> None:
    text = SITE.replace("parent: One", "parent: Oen").replace("  One:\n", "  One:\n    colour: red\n")
    root = make_site(tmp_path / "s", text, {"values/nova.yaml": "conf:\n  nova:\n    x:\n      password: p\n"})
    _, lines = problems(cli, root)
    keys = [(line.split(":")[0], int(line.split(":")[1])) for line in lines]
    assert keys == sorted(keys) and len(lines) >= 2


def test_validate_json(cli, tmp_path: Path) -> None:
    import json
    root = make_site(tmp_path / "s", SITE.replace("parent: One", "parent: Oen"))
    r = cli("validate", "-s", str(root), "-f", "json")
    assert r.code == 1
    [p] = json.loads(r.out)
    assert (p["file"], p["line"], p["severity"]) == (f"{root}/site.yaml", 13, "error")
