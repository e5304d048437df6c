"""`regionctl helm-args`, `link`, `k8s-nodes`: handing rendered regions to the deployers.

``render --format helm|kolla`` writes the files; these commands connect them to the tools that
consume them: the ``-f`` arguments of a Helm install (Genestack's ``install-<service>.sh ...``),
the ``/etc/genestack`` (or ``/etc/kolla``) symlink of the multi-region workflow, and the node
labels and taints the charts' selectors and tolerations expect.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

import click

from regionctl.cli.output import emit
from regionctl.errors import UserError
from regionctl.fileio import symlink_atomic
from regionctl.openstack.deployers import GENESTACK_BASE_DIR, HELM_CHARTS, genestack_base_file, node_labels, node_taints
from regionctl.render.helm import overrides_rel, secrets_rel
from regionctl.render.yaml import to_yaml
from regionctl.site.load import LoadedSite, load
from regionctl.site.model import Region

DEFAULT_HELM_OUT = "out/helm"


def _region(site: str, name: str) -> tuple[LoadedSite, Region]:
    """The site's model and one region of it, or a one-line error saying what to fix."""
    loaded = load(site, secrets=False)  # helm-args, link, k8s-nodes need no secrets
    if loaded.site is None:
        first = next((p for p in loaded.problems if p.is_error), None)
        raise UserError(f"{first}: fix site.yaml first (regionctl validate -s {site})" if first
                        else f"{loaded.site_file}: unusable: run regionctl validate -s {site}")
    region = loaded.site.regions.get(name)
    if region is None:
        raise UserError(f"unknown region '{name}': the site declares {', '.join(loaded.site.regions)}")
    return loaded, region


@click.command("helm-args")
@click.option("-s", "--site", default=".", show_default=True, help="The site directory.")
@click.option("-r", "--region", required=True, help="The region.")
@click.option("-o", "--out", default=DEFAULT_HELM_OUT, show_default=True,
              help="Where 'regionctl render --format helm -o OUT' wrote the region's files.")
@click.option("--base-dir", default=GENESTACK_BASE_DIR, show_default=True,
              help="Holds <service>/<service>-helm-overrides.yaml, the chart's base values (Genestack's base-helm-configs).")
@click.option("--no-base", is_flag=True,
              help="Leave the base file out: Genestack's install-<service>.sh passes it itself.")
@click.argument("service")
def helm_args(site: str, region: str, out: str, base_dir: str, no_base: bool, service: str) -> None:
    """Print the -f arguments for SERVICE's chart in REGION, lowest precedence first.

    The base values, the region's overrides, the region's secrets. Shell-quoted on one line:
    helm upgrade --install nova openstack-helm/nova $(regionctl helm-args -r sjc nova).
    """
    loaded, r = _region(site, region)
    if service not in HELM_CHARTS:
        raise UserError(f"no openstack-helm chart for '{service}': regionctl renders {', '.join(HELM_CHARTS)}")
    if not r.runs(service):
        raise UserError(f"region '{region}' does not run {service}: add it under regions.{region}.services in "
                        f"{loaded.site_file}")
    files: list[Path] = []
    if not no_base:
        base = Path(base_dir) / genestack_base_file(service)
        if not base.is_file():
            raise UserError(f"{base}: no such file: pass --base-dir (the directory of the charts' base values), "
                            "or --no-base")
        files.append(base)
    for rel in (overrides_rel(region, service), secrets_rel(region, service)):
        path = Path(out) / rel
        if not path.is_file():
            raise UserError(f"{path}: not rendered: run 'regionctl render --format helm -s {site} -r {region} -o {out}'")
        files.append(path)
    click.echo(" ".join(f"-f {shlex.quote(os.path.abspath(p))}" for p in files))


@click.command()
@click.option("-s", "--site", default=".", show_default=True,
              help="The site directory (where it has a site.yaml, REGION must be one of its regions).")
@click.option("-r", "--region", required=True, help="The region to point at.")
@click.option("-o", "--out", required=True, help="The directory 'regionctl render' wrote (it holds <region>/).")
@click.option("--to", "to", required=True, help="The path that becomes the symlink, e.g. /etc/genestack.")
def link(site: str, region: str, out: str, to: str) -> None:
    """Point --to at OUT/REGION with a symlink (Genestack's multi-region workflow).

    An existing symlink is replaced atomically; a real directory or file is never touched.
    """
    if (Path(site) / "site.yaml").is_file():
        loaded = load(site)
        if loaded.site is not None and region not in loaded.site.regions:
            raise UserError(f"unknown region '{region}': the site declares {', '.join(loaded.site.regions)}")
    target = Path(os.path.abspath(Path(out) / region))
    if not target.is_dir():
        raise UserError(f"{target}: no such directory: render the region first (regionctl render -r {region} -o {out})")
    dest = Path(to)
    if dest.is_symlink():
        pass
    elif dest.exists():
        kind = "a directory" if dest.is_dir() else "a file"
        raise UserError(f"{dest}: is {kind}, not a symlink: regionctl replaces only symlinks; move it away "
                        f"(mv {shlex.quote(str(dest))} {shlex.quote(str(dest))}.orig) and run again")
    elif not dest.parent.is_dir():
        raise UserError(f"{dest.parent}: no such directory: create it, or choose another --to")
    symlink_atomic(target, dest)
    click.echo(f"{dest} -> {target}")


K8S_FORMATS = ("commands", "yaml", "json", "table")


def node_records(region: Region) -> list[dict[str, Any]]:
    return [{"node": n.name, "roles": list(n.roles), "labels": node_labels(n.roles),
             "taints": [str(t) for t in node_taints(n.roles)]} for n in region.nodes]


def node_manifest(record: dict[str, Any]) -> dict[str, Any]:
    """A Node patch for ``kubectl apply --server-side``: only the labels and taints regionctl owns."""
    doc: dict[str, Any] = {"apiVersion": "v1", "kind": "Node",
                           "metadata": {"name": record["node"], "labels": record["labels"]}}
    taints = []
    for t in record["taints"]:
        kv, effect = t.rsplit(":", 1)
        key, value = kv.split("=", 1)
        taints.append({"key": key, "value": value, "effect": effect})
    if taints:
        doc["spec"] = {"taints": taints}
    return doc


@click.command("k8s-nodes")
@click.option("-s", "--site", default=".", show_default=True, help="The site directory.")
@click.option("-r", "--region", required=True, help="The region whose nodes to label.")
@click.option("-f", "--format", "fmt", type=click.Choice(K8S_FORMATS), default="commands", show_default=True,
              help="commands: kubectl label/taint; yaml/json: Node manifests; table: one row per node.")
def k8s_nodes(site: str, region: str, fmt: str) -> None:
    """Print what gives REGION's nodes the labels and taints its charts select and tolerate."""
    loaded, r = _region(site, region)
    if not r.nodes:
        line = loaded.line("regions", region)
        raise UserError(f"{loaded.site_file}:{line}: region '{region}' declares no nodes: add "
                        "'nodes: [{name: NODE, roles: [control|network|hypervisor]}]' under it")
    records = node_records(r)
    if fmt == "commands":
        for rec in records:
            node = shlex.quote(rec["node"])
            if rec["labels"]:
                labels = " ".join(shlex.quote(f"{k}={v}") for k, v in rec["labels"].items())
                click.echo(f"kubectl label node {node} {labels} --overwrite")
            for taint in rec["taints"]:
                click.echo(f"kubectl taint node {node} {shlex.quote(taint)} --overwrite")
    elif fmt == "yaml":
        click.echo("# kubectl apply --server-side --field-manager=regionctl -f -")
        click.echo("---\n".join(to_yaml(node_manifest(rec)) for rec in records), nl=False)
    elif fmt == "json":
        click.echo(json.dumps({"apiVersion": "v1", "kind": "List", "items": [node_manifest(rec) for rec in records]},
                              indent=2))
    else:
        emit(records, "table", ["node", "roles", "labels", "taints"], title=f"{region} nodes")
