"""helm-args, link, k8s-nodes; and what every format must agree on (ratio per region, secrets apart)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml
from oslo_config import cfg

from conftest import COMPUTE, EXAMPLES, make_site, region_yaml, site_text
from regionctl.cli import deploy
from regionctl.cli import main as cli_main
from regionctl.site.load import load
from regionctl.site.provenance import walk

# Registered by regionctl.cli.main; until then, register them here so the tests run the real
# entry point (its one-line errors and exit codes) either way.
for _cmd in (deploy.helm_args, deploy.link, deploy.k8s_nodes):
    if _cmd.name not in cli_main.cli.commands:
        cli_main.cli.add_command(_cmd)

FORMATS = ("plain", "kolla", "helm")
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "site.yaml").is_file())


def render(cli, site: Path, out: Path, fmt: str) -> dict[str, str]:
    r = cli("render", "--format", fmt, "-s", str(site), "-o", str(out))
    assert r.code == 0, r.err
    return {str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}


def one_error(r) -> str:
    assert r.code == 1, r
    assert "Traceback" not in r.err
    [line] = r.err.splitlines()
    assert line.startswith("regionctl: error: ")
    return line.removeprefix("regionctl: error: ")


# -- helm-args ---------------------------------------------------------------------------------

@pytest.fixture
def helm_out(cli, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    render(cli, EXAMPLES / "genestack-sjc-dfw", out, "helm")
    return out


def test_helm_args_order(cli, tmp_path: Path, helm_out: Path) -> None:
    base = tmp_path / "base" / "nova" / "nova-helm-overrides.yaml"
    base.parent.mkdir(parents=True)
    base.write_text("conf: {}\n")
    site = str(EXAMPLES / "genestack-sjc-dfw")
    r = cli("helm-args", "-s", site, "-r", "sjc", "nova", "-o", str(helm_out), "--base-dir", str(tmp_path / "base"))
    assert r.code == 0, r.err
    d = helm_out / "sjc" / "helm-configs" / "nova"
    assert r.out == (f"-f {base} -f {d}/sjc-nova-helm-overrides.yaml -f {d}/sjc-nova-helm-secrets.yaml\n")
    r = cli("helm-args", "-s", site, "-r", "dfw", "cinder", "-o", str(helm_out), "--no-base")
    d = helm_out / "dfw" / "helm-configs" / "cinder"
    assert r.out == f"-f {d}/dfw-cinder-helm-overrides.yaml -f {d}/dfw-cinder-helm-secrets.yaml\n"


def test_helm_args_paths_are_absolute(cli, tmp_path: Path, helm_out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(helm_out.parent)
    r = cli("helm-args", "-s", str(EXAMPLES / "genestack-sjc-dfw"), "-r", "sjc", "glance", "-o", "out", "--no-base")
    assert r.code == 0, r.err
    assert all(os.path.isabs(a) for a in r.out.split() if a != "-f")


@pytest.mark.parametrize("args, message", [
    (["-r", "lax", "nova"], "unknown region 'lax': the site declares sjc, dfw"),
    (["-r", "dfw", "keystone"], "region 'dfw' does not run keystone: add it under regions.dfw.services in {site}/site.yaml"),
    (["-r", "sjc", "swift"], "no openstack-helm chart for 'swift': regionctl renders keystone, horizon, nova, placement, "
                             "neutron, glance, cinder, heat"),
    (["-r", "sjc", "nova", "--base-dir", "{tmp}/nowhere"],
     "{tmp}/nowhere/nova/nova-helm-overrides.yaml: no such file: pass --base-dir (the directory of the charts' base "
     "values), or --no-base"),
    (["-r", "sjc", "nova", "--no-base", "-o", "{tmp}/empty"],
     "{tmp}/empty/sjc/helm-configs/nova/sjc-nova-helm-overrides.yaml: not rendered: run 'regionctl render --format "
     "helm -s {site} -r sjc -o {tmp}/empty'"),
])
def test_helm_args_errors(cli, tmp_path: Path, args: list[str], message: str) -> None:
    site = str(EXAMPLES / "genestack-sjc-dfw")
    args = [a.format(tmp=tmp_path) for a in args]
    r = cli("helm-args", "-s", site, *args)
    assert one_error(r) == message.format(site=site, tmp=tmp_path)


# -- link --------------------------------------------------------------------------------------

def test_link_creates_and_replaces_symlink(cli, tmp_path: Path, helm_out: Path) -> None:
    to = tmp_path / "etc" / "genestack"
    to.parent.mkdir()
    r = cli("link", "-r", "sjc", "-o", str(helm_out), "--to", str(to))
    assert r.code == 0, r.err
    assert to.is_symlink() and Path(os.readlink(to)) == helm_out / "sjc"
    assert (to / "helm-configs" / "nova" / "sjc-nova-helm-overrides.yaml").is_file()
    r = cli("link", "-r", "dfw", "-o", str(helm_out), "--to", str(to))
    assert r.code == 0, r.err
    assert r.out == f"{to} -> {helm_out / 'dfw'}\n"
    assert Path(os.readlink(to)) == helm_out / "dfw"
    assert sorted(p.name for p in to.parent.iterdir()) == ["genestack"], "temp link left behind"


def test_link_replaces_a_dangling_symlink(cli, tmp_path: Path, helm_out: Path) -> None:
    to = tmp_path / "genestack"
    to.symlink_to(tmp_path / "gone")
    assert cli("link", "-r", "sjc", "-o", str(helm_out), "--to", str(to)).code == 0
    assert Path(os.readlink(to)) == helm_out / "sjc"


def test_link_refuses_to_clobber(cli, tmp_path: Path, helm_out: Path) -> None:
    real = tmp_path / "genestack"
    real.mkdir()
    (real / "inventory.yaml").write_text("keep me\n")
    line = one_error(cli("link", "-r", "sjc", "-o", str(helm_out), "--to", str(real)))
    assert line == (f"{real}: is a directory, not a symlink: regionctl replaces only symlinks; move it away "
                    f"(mv {real} {real}.orig) and run again")
    assert (real / "inventory.yaml").read_text() == "keep me\n" and not real.is_symlink()
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert one_error(cli("link", "-r", "sjc", "-o", str(helm_out), "--to", str(afile))).startswith(
        f"{afile}: is a file, not a symlink")
    assert afile.read_text() == "x"


def test_link_needs_the_rendered_region(cli, tmp_path: Path, helm_out: Path) -> None:
    line = one_error(cli("link", "-r", "lax", "-o", str(helm_out), "--to", str(tmp_path / "g")))
    assert line == f"{helm_out / 'lax'}: no such directory: render the region first (regionctl render -r lax -o {helm_out})"
    assert not (tmp_path / "g").exists()


# -- k8s-nodes ---------------------------------------------------------------------------------

NODES = site_text(
    region_yaml("One", ("keystone",) + COMPUTE, public="http://192.0.2.1", extra="""\
        nodes:
          - name: ctl-1
            roles: [control]
          - name: cmp-1
            roles: [hypervisor]
          - name: net-1
            roles: [network, hypervisor]
          - name: hci-1
            roles: [control, hypervisor]
        """),
    region_yaml("Two", COMPUTE, public="http://192.0.2.2"))


def test_k8s_nodes_commands(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", NODES)
    r = cli("k8s-nodes", "-s", str(root), "-r", "One")
    assert r.code == 0, r.err
    assert r.out.splitlines() == [
        "kubectl label node ctl-1 openstack-control-plane=enabled --overwrite",
        "kubectl label node cmp-1 openstack-compute-node=enabled openvswitch=enabled --overwrite",
        "kubectl taint node cmp-1 openstack-compute-node=enabled:NoSchedule --overwrite",
        "kubectl label node net-1 openstack-compute-node=enabled openstack-network-node=enabled openvswitch=enabled "
        "--overwrite",
        "kubectl taint node net-1 openstack-compute-node=enabled:NoSchedule --overwrite",
        "kubectl taint node net-1 openstack-network-node=enabled:NoSchedule --overwrite",
        "kubectl label node hci-1 openstack-compute-node=enabled openstack-control-plane=enabled openvswitch=enabled "
        "--overwrite",
    ]


def test_k8s_nodes_manifests(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", NODES)
    r = cli("k8s-nodes", "-s", str(root), "-r", "One", "-f", "yaml")
    assert r.code == 0, r.err
    docs = list(yaml.safe_load_all(r.out))
    assert [d["metadata"]["name"] for d in docs] == ["ctl-1", "cmp-1", "net-1", "hci-1"]
    assert all(d["apiVersion"] == "v1" and d["kind"] == "Node" for d in docs)
    assert docs[1]["metadata"]["labels"] == {"openstack-compute-node": "enabled", "openvswitch": "enabled"}
    assert docs[1]["spec"]["taints"] == [{"key": "openstack-compute-node", "value": "enabled", "effect": "NoSchedule"}]
    assert "spec" not in docs[0] and "spec" not in docs[3]
    j = cli("k8s-nodes", "-s", str(root), "-r", "One", "-f", "json")
    assert yaml.safe_load(j.out)["items"] == docs


def test_k8s_nodes_without_nodes(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", NODES)
    assert one_error(cli("k8s-nodes", "-s", str(root), "-r", "Two")) == (
        f"{root}/site.yaml:21: region 'Two' declares no nodes: add "
        "'nodes: [{name: NODE, roles: [control|network|hypervisor]}]' under it")


def test_k8s_nodes_bad_site(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", NODES.replace("roles: [control]", "roles: [controller]"))
    line = one_error(cli("k8s-nodes", "-s", str(root), "-r", "One"))
    assert line.startswith(f"{root}/site.yaml:14: error: regions.One.nodes.0.roles.0:")


# -- every format -----------------------------------------------------------------------------

def _ratio(fmt: str, out: Path, region: str) -> str:
    if fmt == "helm":
        over = yaml.safe_load((out / region / "helm-configs/nova" / f"{region}-nova-helm-overrides.yaml").read_text())
        return str(over["conf"]["nova"]["DEFAULT"]["cpu_allocation_ratio"])
    path = out / region / ("etc/nova/nova.conf" if fmt == "plain" else "config/nova.conf")
    sections: dict[str, dict[str, list[str]]] = {}
    cfg.ConfigParser(str(path), sections).parse()
    return sections["DEFAULT"]["cpu_allocation_ratio"][0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_genestack_ratio_per_region_in_every_format(cli, tmp_path: Path, fmt: str) -> None:
    render(cli, EXAMPLES / "genestack-sjc-dfw", tmp_path, fmt)
    assert _ratio(fmt, tmp_path, "sjc") == "8.0"
    assert _ratio(fmt, tmp_path, "dfw") == "4.0"


def site_secrets(site: Path) -> set[str]:
    """Every value of every region's secrets file."""
    loaded = load(site)
    found = set()
    for rel, tree in loaded.layers.items():
        if rel.endswith("/secrets.yaml"):
            found |= {str(v.value) for _, v in walk(tree) if v.value not in (None, "")}
    return found


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_secrets_only_in_secret_files(cli, tmp_path: Path, fmt: str, example: str) -> None:
    files = render(cli, EXAMPLES / example, tmp_path, fmt)
    secrets = site_secrets(EXAMPLES / example)
    assert secrets
    public = [rel for rel in files if stat.S_IMODE((tmp_path / rel).stat().st_mode) == 0o644]
    private = [rel for rel in files if stat.S_IMODE((tmp_path / rel).stat().st_mode) == 0o600]
    assert sorted(public + private) == sorted(files), "every file is 0644 or 0600"
    for rel in public:
        leaked = sorted(s for s in secrets if s in files[rel])
        assert not leaked, f"{rel} (0644) holds secrets {leaked}"
    if fmt != "plain":
        assert public, "the deployer formats keep their public files apart"
        assert all(s in "".join(files[rel] for rel in private) for s in secrets)
