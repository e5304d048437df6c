"""render --format helm: openstack-helm values in Genestack's layout, secrets apart, nodes placed."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import COMPUTE, EXAMPLES, SECRETS, make_site, region_yaml, site_text
from regionctl.openstack.deployers import HELM_CHARTS, HELM_DEFAULT_TOLERATIONS, HELM_ENDPOINTS
from regionctl.openstack.services import service_for_file
from regionctl.render.yaml import to_yaml
from regionctl.render.ini import render_ini
from regionctl.site.provenance import BUILTIN, Branch, Tree, Value

EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "site.yaml").is_file())


def render(cli, site: Path, out: Path, fmt: str = "helm", *extra: str) -> dict[str, str]:
    r = cli("render", "--format", fmt, "-s", str(site), "-o", str(out), *extra)
    assert r.code == 0, r.err
    return {str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}


def helm_merge(base: Any, over: Any) -> Any:
    """``helm -f base -f over``: maps merge, null deletes, the rest replaces."""
    if not isinstance(base, dict) or not isinstance(over, dict):
        return over
    out = dict(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = helm_merge(out.get(k), v)
    return out


def chart_values(out: Path, region: str, service: str) -> dict[str, Any]:
    d = out / region / "helm-configs" / service
    over = yaml.safe_load((d / f"{region}-{service}-helm-overrides.yaml").read_text())
    sec = yaml.safe_load((d / f"{region}-{service}-helm-secrets.yaml").read_text())
    return helm_merge(helm_merge({}, over), sec)


def as_tree(d: dict[str, Any]) -> Tree:
    """YAML back into a values tree (as the chart sees it: secrets already escaped)."""
    t: Tree = Branch()
    for k, v in d.items():
        if isinstance(v, dict) and v.get("type") != "multistring":
            t[k] = as_tree(v)
        elif isinstance(v, dict):
            t[k] = Branch({"type": Value(v["type"], BUILTIN), "values": Value(v["values"], BUILTIN)})
        else:
            t[k] = Value(v, BUILTIN)
    return t


def body(ini: str) -> str:
    """An INI file without its leading comment lines."""
    lines = ini.splitlines()
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines)


def chart_built(service: str, conf_key: str) -> set[tuple[str, str]]:
    """The options the chart builds from its endpoint blocks (test_endpoints_* check their values)."""
    spec = HELM_ENDPOINTS.get(service)
    if spec is None:
        return set()
    key = "nova" if conf_key == "nova_compute" else conf_key
    out = {(b.section, "connection") for b in spec.databases if b.section}
    if spec.messaging == key:
        out.add(("DEFAULT", "transport_url"))
    return out | {(s, o) for c, s, o in spec.cache if c == key}


def ini_without(text: str, moved: set[tuple[str, str]]) -> str:
    """An INI text without the ``moved`` options, and without sections left empty."""
    out: list[list[str]] = []
    section = ""
    for line in text.splitlines():
        if line.startswith("["):
            section = line.strip("[]")
            out.append([line])
            continue
        option = line.split("=", 1)[0].strip()
        if "=" in line and (section, option) in moved:
            continue
        (out[-1] if out else out.append([]) or out[-1]).append(line)
    kept = [b for b in out if not b[0].startswith("[") or any(x.strip() for x in b[1:])]
    return "\n".join(x for b in kept for x in b).replace("\n\n\n", "\n\n").strip("\n")


def chart_ini(values: dict[str, Any], conf_key: str) -> str:
    """The INI the chart writes for ``conf_key`` from its conf tree; nova-compute.conf the way the nova
    chart builds it."""
    conf = values["conf"]
    if conf_key != "nova_compute":
        return render_ini(as_tree(conf[conf_key]))
    tree = {s: o for s, o in conf["nova"].items() if s not in conf.get("nova_compute_redactions", [])}
    for entry in conf.get("overrides", {}).get("nova_compute", {}).get("labels", []):
        tree = helm_merge(tree, entry["conf"]["nova"])
    return render_ini(as_tree(tree))


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_conf_tree_renders_to_the_plain_ini(cli, tmp_path: Path, example: str) -> None:
    plain = render(cli, EXAMPLES / example, tmp_path / "plain", "plain")
    render(cli, EXAMPLES / example, tmp_path / "helm")
    checked = 0
    for rel, text in plain.items():
        region, _, _, filename = rel.split("/")
        found = service_for_file(filename)
        if found is None:
            continue  # local_settings.py: horizon's chart builds its own
        svc, key = found
        values = chart_values(tmp_path / "helm", region, svc.name)
        moved = chart_built(svc.name, key)
        assert ini_without(body(chart_ini(values, key)), moved) == ini_without(body(text), moved), rel
        checked += 1
    assert checked


def test_layout_modes_and_determinism(cli, tmp_path: Path) -> None:
    a = render(cli, EXAMPLES / "two-regions", tmp_path / "a")
    b = render(cli, EXAMPLES / "two-regions", tmp_path / "b")
    assert a == b
    assert "RegionTwo/helm-configs/nova/RegionTwo-nova-helm-overrides.yaml" in a
    assert "RegionTwo/helm-configs/nova/RegionTwo-nova-helm-secrets.yaml" in a
    assert not [f for f in a if f.startswith("RegionTwo/helm-configs/keystone/")]
    for rel in a:
        mode = stat.S_IMODE((tmp_path / "a" / rel).stat().st_mode)
        assert mode == (0o600 if rel.endswith("-helm-secrets.yaml") else 0o644), rel
    assert not [p for p in tmp_path.rglob(".*")], "temp files left behind"


def test_identity_endpoint_and_every_auth_block(cli, tmp_path: Path) -> None:
    render(cli, EXAMPLES / "admin-region", tmp_path)
    for service, chart in HELM_CHARTS.items():
        region = "AR" if service in ("keystone", "horizon") else "OSR2"
        identity = chart_values(tmp_path, region, service)["endpoints"]["identity"]
        assert set(identity["auth"]) == {u.name for u in chart.users}, service
        assert {b["region_name"] for b in identity["auth"].values()} == {region}, service
        assert identity["host_fqdn_override"]["internal"] == {"host": "10.24.63.248"}
        assert identity["scheme"]["public"] == "http"
        assert identity["port"]["api"]["internal"] == 5000 and identity["port"]["api"]["admin"] == 35357
        assert identity["path"]["internal"] == "/v3"
        assert identity["auth"]["admin"]["password"] == "ar-admin-example"


def test_auth_blocks_are_the_users_the_conf_logs_in_as(cli, tmp_path: Path) -> None:
    render(cli, EXAMPLES / "two-regions", tmp_path)
    nova = chart_values(tmp_path, "RegionTwo", "nova")
    auth, conf = nova["endpoints"]["identity"]["auth"], nova["conf"]["nova"]
    for block, section in (("nova", "keystone_authtoken"), ("service", "service_user"), ("neutron", "neutron"),
                           ("placement", "placement")):
        for field in ("username", "password", "project_name", "user_domain_name", "project_domain_name"):
            assert auth[block][field] == conf[section][field], (block, field)
    assert auth["neutron"]["username"] == "neutron"  # not the chart's nova_neutron: one shared user
    assert set(auth["ironic"]) == {"region_name"}


def test_horizon_and_glance_regions(cli, tmp_path: Path) -> None:
    render(cli, EXAMPLES / "genestack-sjc-dfw", tmp_path)
    horizon = chart_values(tmp_path, "sjc", "horizon")
    assert horizon["conf"]["horizon"]["local_settings"]["config"]["default_service_regions"] == [
        {"service": "*", "region": "sjc"}]
    glance = chart_values(tmp_path, "dfw", "glance")
    assert glance["conf"]["glance"]["glance_store"]["cinder_os_region_name"] == "dfw"
    identity = glance["endpoints"]["identity"]
    assert identity["host_fqdn_override"]["public"]["host"] == "keystone.api.sjc.example.com"
    assert identity["scheme"]["public"] == "https" and identity["port"]["api"]["public"] == 443


def test_secrets_only_in_the_secrets_file(cli, tmp_path: Path) -> None:
    files = render(cli, EXAMPLES / "two-regions", tmp_path)
    over = yaml.safe_load(files["RegionTwo/helm-configs/nova/RegionTwo-nova-helm-overrides.yaml"])
    sec = yaml.safe_load(files["RegionTwo/helm-configs/nova/RegionTwo-nova-helm-secrets.yaml"])
    assert "password" not in over["conf"]["nova"]["keystone_authtoken"]
    assert sec["conf"]["nova"]["keystone_authtoken"] == {"password": "meditech2019"}
    assert sec["endpoints"]["oslo_db_cell1"]["auth"]["nova"] == {"password": "meditech2019"}
    assert over["endpoints"]["oslo_db_cell1"]["auth"]["nova"] == {"username": "nova"}
    assert "database" not in sec["conf"]["nova"] and "database" not in over["conf"]["nova"]
    assert over["conf"]["nova"]["service_user"]["send_service_user_token"] is True  # a flag, not a secret
    assert "cinder" not in sec["conf"]  # another chart's secrets stay with that chart
    cinder = yaml.safe_load(files["RegionTwo/helm-configs/cinder/RegionTwo-cinder-helm-secrets.yaml"])
    assert cinder["conf"]["cinder"]["ceph"]["rbd_secret_uuid"] == "a8b264e0-a34f-4dff-b8e4-0104221ba6a0"


def test_dollar_in_secret_is_escaped_for_ini_but_not_for_keystone(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", files={"regions/Two/secrets.yaml": SECRETS.replace("nova: nova-pw", "nova: pa$word")})
    render(cli, root, tmp_path / "o")
    nova = chart_values(tmp_path / "o", "Two", "nova")
    assert nova["conf"]["nova"]["keystone_authtoken"]["password"] == "pa$$word"
    assert nova["endpoints"]["identity"]["auth"]["nova"]["password"] == "pa$word"


def test_site_values_pass_through_and_nulls_delete(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", files={
        "values/nova.yaml": ("pod:\n  replicas:\n    osapi: 3\nconf:\n  policy:\n    os_compute_api:servers:index: ''\n"
                             "  nova:\n    DEFAULT:\n      debug: null\n"),
        "regions/Two/nova.yaml": "endpoints:\n  identity:\n    auth:\n      test: null\n"})
    files = render(cli, root, tmp_path / "o")
    over = yaml.safe_load(files["Two/helm-configs/nova/Two-nova-helm-overrides.yaml"])
    assert over["pod"]["replicas"]["osapi"] == 3
    assert over["conf"]["policy"] == {"os_compute_api:servers:index": ""}
    assert over["conf"]["nova"]["DEFAULT"]["debug"] is None  # Helm deletes the chart's default too
    assert over["endpoints"]["identity"]["auth"]["test"] is None
    assert "passwords" not in over and "passwords" not in yaml.safe_load(
        files["Two/helm-configs/nova/Two-nova-helm-secrets.yaml"])


def test_compute_only_options_go_to_a_label_override(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", files={"regions/Two/nova.yaml": (
        "conf:\n  nova_compute:\n    libvirt:\n      virt_type: kvm\n    DEFAULT:\n      cpu_allocation_ratio: 2.0\n")})
    plain = render(cli, root, tmp_path / "p", "plain")
    render(cli, root, tmp_path / "h")
    values = chart_values(tmp_path / "h", "Two", "nova")
    [entry] = values["conf"]["overrides"]["nova_compute"]["labels"]
    assert entry["label"] == {"key": "openstack-compute-node", "values": ["enabled"]}
    assert entry["conf"]["nova"] == {"libvirt": {"virt_type": "kvm"}, "DEFAULT": {"cpu_allocation_ratio": 2.0}}
    assert "libvirt" not in values["conf"]["nova"]
    moved = chart_built("nova", "nova_compute")
    assert ini_without(body(chart_ini(values, "nova_compute")), moved) == ini_without(
        body(plain["Two/etc/nova/nova-compute.conf"]), moved)


NODES = site_text(
    region_yaml("One", ("keystone",) + COMPUTE, public="http://192.0.2.1", extra="""\
        nodes:
          - name: ctl-1
            roles: [control]
          - name: cmp-1
            roles: [hypervisor]
          - name: net-1
            roles: [network]
          - name: hci-1
            roles: [control, hypervisor]
        """),
    region_yaml("Two", COMPUTE, public="http://192.0.2.2", parent="One", extra="""\
        nodes:
          - name: two-ctl
            roles: [control]
          - name: two-cmp
            roles: [hypervisor]
        """))

COMPUTE_TAINT = {"key": "openstack-compute-node", "operator": "Equal", "value": "enabled", "effect": "NoSchedule"}
NETWORK_TAINT = {"key": "openstack-network-node", "operator": "Equal", "value": "enabled", "effect": "NoSchedule"}


def _selector(values: dict[str, Any], path: str) -> str:
    node = values["labels"]
    for p in path.split("."):
        node = node[p]
    return f"{node['node_selector_key']}={node['node_selector_value']}"


def test_node_selectors_and_tolerations(cli, tmp_path: Path) -> None:
    render(cli, make_site(tmp_path / "s", NODES), tmp_path / "o")
    nova = chart_values(tmp_path / "o", "One", "nova")
    assert _selector(nova, "agent.compute") == "openstack-compute-node=enabled"
    assert _selector(nova, "osapi") == "openstack-control-plane=enabled"
    assert nova["pod"]["tolerations"]["nova"] == {
        "enabled": True, "tolerations": list(HELM_DEFAULT_TOLERATIONS) + [COMPUTE_TAINT]}
    neutron = chart_values(tmp_path / "o", "One", "neutron")
    assert _selector(neutron, "agent.l3") == "openstack-network-node=enabled"
    assert _selector(neutron, "ovs") == "openvswitch=enabled"
    assert _selector(neutron, "server") == "openstack-control-plane=enabled"
    assert neutron["pod"]["tolerations"]["neutron"]["tolerations"][2:] == [COMPUTE_TAINT, NETWORK_TAINT]
    glance = chart_values(tmp_path / "o", "One", "glance")
    assert _selector(glance, "api") == "openstack-control-plane=enabled"
    assert "pod" not in glance  # its nodes carry no taint (hci-1 is also a control node)
    two = chart_values(tmp_path / "o", "Two", "neutron")
    assert _selector(two, "agent.dhcp") == "openstack-control-plane=enabled"  # no network nodes in Two


def test_no_placement_without_nodes(cli, tmp_path: Path) -> None:
    files = render(cli, EXAMPLES / "two-regions", tmp_path)
    over = yaml.safe_load(files["RegionTwo/helm-configs/nova/RegionTwo-nova-helm-overrides.yaml"])
    assert "labels" not in over and "pod" not in over


def test_component_without_a_node_is_an_error(cli, tmp_path: Path) -> None:
    site = NODES.replace("      - name: two-cmp\n        roles: [hypervisor]\n", "")
    root = make_site(tmp_path / "s", site)
    problems = [
        f"{root}/site.yaml:30: error: region 'Two' has no node with role hypervisor or network, so the neutron "
        "chart's labels.ovs pods could run nowhere: give a node that role (render --format helm needs it)",
        f"{root}/site.yaml:30: error: region 'Two' has no node with role hypervisor, so the nova chart's "
        "labels.agent.compute pods could run nowhere: give a node that role (render --format helm needs it)"]
    r = cli("validate", "-s", str(root))  # validate says what render --format helm would refuse
    assert (r.code, r.out.splitlines()) == (1, problems)
    r = cli("render", "--format", "helm", "-s", str(root), "-r", "Two", "-o", str(tmp_path / "o"))
    assert r.code == 1
    assert r.err.splitlines() == problems + [
        "regionctl: error: the site has 2 error(s) (above): fix them, or write anyway with --force"]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("text", ["yes", "no", "on", "off", "y", "N", "null", "~", "0755", "1e3", "", "a: b",
                                  "#x", "- x", "multi\nline", "tab\there", "'q'", '"dq"', "ünï", "{x}", "[1]"])
def test_yaml_strings_read_back_as_strings(text: str) -> None:
    doc = {"k": text, text or "empty": [text, {"n": 1.0, "b": False, "z": None}], "list": []}
    assert yaml.safe_load(to_yaml(doc)) == doc
