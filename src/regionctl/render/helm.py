"""The openstack-helm renderer: per region and chart, a values override in Genestack's layout (pure).

``OUT/<region>/helm-configs/<service>/<region>-<service>-helm-overrides.yaml`` holds everything
that is not sensitive; ``<region>-<service>-helm-secrets.yaml`` beside it holds the rest at the
same paths (seed 002: a region's sensitive values live with the region, secured apart). Passed
as ``-f overrides -f secrets`` they merge back into one tree.

What a chart gets, lowest precedence first (the site's own values win, as everywhere):

* derived: ``endpoints.identity`` pointing at the shared Keystone, ``region_name`` in every
  ``endpoints.identity.auth.<user>`` block the chart has (the users regionctl's wiring logs in
  as also get that user's name, project, domains and password), node selectors and tolerations
  from the region's nodes, the region wherever else the chart takes one;
* the site's values for the service (``endpoints``, ``pod``, ``manifests``, non-INI ``conf``
  keys, ...), with ``null`` kept so Helm deletes the chart default too;
* ``conf.<file>``: exactly the trees the plain renderer writes as INI, derived wiring included.
  Secrets are pre-escaped (``$`` -> ``$$``) because the chart writes them into INI verbatim.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from regionctl.errors import UserError
from regionctl.openstack.deployers import (
    ADMIN_SECRET,
    HELM_AUTH_FIELDS,
    HELM_CHARTS,
    KOLLA_KEY,
    HELM_DEFAULT_TOLERATIONS,
    HELM_DIR,
    PLACEMENT_LABELS,
    ROLE_PLACEMENTS,
    chosen_placement,
    roles_providing,
    HelmChart,
    HelmCompute,
    Taint,
    node_taints,
)
from regionctl.openstack.services import SERVICES, IniFile, conf_keys
from regionctl.resolve.endpoints import identity_urls
from regionctl.render.files import RenderedFile, header
from regionctl.render.sources import tree_sources
from regionctl.render.yaml import sorted_keys, to_yaml
from regionctl.resolve.values import ConfFile, RegionValues
from regionctl.render import patches as patch_sets
from regionctl.render.helm_endpoints import oslo_endpoints, without
from regionctl.site import layout
from regionctl.site.carried import carried, genestack_rel
from regionctl.site.load import LoadedSite
from regionctl.site.merge import merge
from regionctl.site.provenance import Branch, Layer, Origin, Tree, Value, bare, branch, lookup, plain, put, walk
from regionctl.site.secrets import is_secret

#: Every INI file's conf key: a chart gets its own from the rendered files, never another's.
INI_KEYS = conf_keys()


def overrides_rel(region: str, service: str) -> str:
    """Genestack's name for a region's override file of a chart."""
    return f"{region}/{HELM_DIR}/{service}/{region}-{service}-helm-overrides.yaml"


def secrets_rel(region: str, service: str) -> str:
    return f"{region}/{HELM_DIR}/{service}/{region}-{service}-helm-secrets.yaml"


def render_region(loaded: LoadedSite, values: RegionValues) -> list[RenderedFile]:
    assert loaded.site is not None
    region = values.region
    out: list[RenderedFile] = []
    for service in loaded.site.regions[region].services:
        chart = HELM_CHARTS.get(service)
        if chart is None:
            continue
        public, secret = split_secrets(chart_values(loaded, values, service))
        head = header(loaded.site_file, f"openstack-helm values of the {chart.chart} chart in region {region}.")
        out.append(RenderedFile(overrides_rel(region, service), head + (
            f"# Sensitive values are in {region}-{service}-helm-secrets.yaml beside it; pass both, this one\n"
            f"# first: regionctl helm-args -r {region} {service}\n") + to_yaml(sorted_keys(plain(public))), False,
            tree_sources(public, is_secret)))
        out.append(RenderedFile(secrets_rel(region, service), head + (
            "# Sensitive values only (mode 0600): keep this file out of version control.\n") + to_yaml(sorted_keys(plain(secret))),
            True, tree_sources(secret, lambda p, v: True)))
    out += patch_sets.helm_files(loaded, region)
    out += _carried_files(loaded, region, {f.rel for f in out})
    return sorted(out, key=lambda f: f.rel)


def _carried_files(loaded: LoadedSite, region: str, rendered: set[str]) -> list[RenderedFile]:
    """The rest of the region's /etc/genestack: ``regions/<r>/genestack/``, byte for byte (site/carried.py)."""
    out = []
    for f in carried(loaded, region).files:
        rel = f"{region}/{f.rel}"
        if rel in rendered:
            raise UserError(f"{loaded.shown(genestack_rel(region) + '/' + f.rel)}: regionctl renders {rel} itself: "
                            "remove this file, or move its values into the site's values files")
        out.append(RenderedFile(rel, f.data.decode("utf-8", "replace"), f.secret, data=f.data, executable=f.executable))
    return out


# -- the values of one chart ------------------------------------------------------------------

def chart_values(loaded: LoadedSite, values: RegionValues, service: str) -> Tree:
    """The whole values tree of ``service``'s chart in ``values.region`` (with provenance)."""
    chart = HELM_CHARTS[service]
    files = {c.conf_key: c for c in values.files.values() if c.service == service}
    oslo = oslo_endpoints(loaded, values.region, service, files)
    files = {k: without(c, _moved(oslo.drops, k), oslo.replaced.get(_base_key(k), {})) for k, c in files.items()}
    derived: Tree = Branch()
    nulls = [p for p, v in walk(oslo.tree) if v.value is None]
    derived.update(merge([oslo.tree]).tree)
    _identity(derived, loaded, values.region, chart, files)
    _placement(derived, loaded, values.region, chart)
    ro = _region_origin(loaded, values.region)
    for path in chart.region_lists:
        put(derived, path, Value([{"service": "*", "region": values.region}], ro))
    compute = _compute_file(service, chart)
    if compute is not None:
        put(derived, ("conf", compute[0].redactions), Value(sorted(compute[1].drops), ro))
    merged_svc = values.services.get(service)
    site_tree: Tree = Branch()
    deleted: dict[tuple[str, ...], Value] = {}
    if merged_svc is not None:
        for key, node in merged_svc.tree.items():
            if key in ("passwords", KOLLA_KEY):
                continue  # regionctl's own secrets map (it feeds the auth blocks) and kolla's globals: not Helm's
            if key == "conf" and isinstance(node, dict):
                node = Branch({k: v for k, v in node.items() if k not in INI_KEYS})
            site_tree[key] = node
        deleted = {p: v for p, v in merged_svc.deleted.items() if not _handled_elsewhere(p)}
    tree = merge([derived, patch_sets.helm_values(loaded, values.region, service), site_tree]).tree
    for key, conf in sorted(files.items()):
        if compute is None or key != compute[0].conf_key:
            put(tree, ("conf", key), ini_ready(conf.merged.tree))
            deleted.update({("conf", key) + p: v for p, v in conf.merged.deleted.items()})
    for path, gone in sorted(deleted.items()):  # a null the site wrote: Helm deletes the chart's default too
        put(tree, path, Value(None, gone.origin))
    for path in nulls:  # a null regionctl derives (endpoints.oslo_messaging.statefulset), unless the site set one
        if lookup(tree, path) is None:
            put(tree, path, lookup(oslo.tree, path))  # type: ignore[arg-type]
    if compute is not None and compute[1].base in files and compute[0].conf_key in files:
        _compute_overrides(tree, compute[0], values.region, files[str(compute[1].base)], files[compute[0].conf_key])
    return tree


def _base_key(conf_key: str) -> str:
    """The conf key a file is built on (nova_compute: nova), else itself."""
    f = next((f for s in SERVICES.values() for f in s.files if f.key == conf_key), None)
    return f.base if f is not None and f.base else conf_key


def _moved(drops: dict[str, set[tuple[str, str]]], conf_key: str) -> set[tuple[str, str]]:
    """What leaves a conf file for the chart's endpoint blocks: its own, or the file's it is built on."""
    return drops.get(conf_key, set()) | drops.get(_base_key(conf_key), set())


def _compute_file(service: str, chart: HelmChart) -> tuple[HelmCompute, IniFile] | None:
    """The chart's compute variant and regionctl's file it comes from, where the chart has one."""
    if chart.compute is None:
        return None
    f = next((f for f in SERVICES[service].files if f.key == chart.compute.conf_key and f.base), None)
    return (chart.compute, f) if f else None


def _handled_elsewhere(path: tuple[str, ...]) -> bool:
    """regionctl's passwords map, and the INI files (a chart's own are taken per file; the site's
    secrets file holds every service's, which other charts must not get)."""
    return path[0] in ("passwords", KOLLA_KEY) or (path[0] == "conf" and len(path) > 1 and path[1] in INI_KEYS)


def ini_ready(sections: Tree) -> Tree:
    """A conf tree as the chart must hold it: secret strings with ``$`` doubled, like render_ini."""
    out: Tree = Branch()
    for name, options in sections.items():
        if not isinstance(options, dict):
            out[name] = options
            continue
        sec: Tree = Branch()
        for key, node in options.items():
            if isinstance(node, Value) and node.origin.is_secret and isinstance(node.value, str):
                node = Value(node.value.replace("$", "$$"), node.origin, node.overridden)
            sec[key] = node
        out[name] = sec
    return out


def _identity(derived: Tree, loaded: LoadedSite, region: str, chart: HelmChart, files: dict[str, ConfFile]) -> None:
    """``endpoints.identity``: the shared Keystone's URLs in openstack-helm's endpoint schema."""
    assert loaded.site is not None
    site = loaded.site
    home = site.identity_region(region)
    ko = Origin(loaded.site_file, loaded.line("regions", home, "services", "keystone"), Layer.DERIVED)
    base = ("endpoints", "identity")
    for iface, url in sorted(identity_urls(loaded, region).items()):
        parts = urlsplit(url)
        hostport = parts.netloc.rsplit("@", 1)[-1]
        port = parts.port
        host = hostport[: hostport.rfind(":")] if port is not None else hostport
        put(derived, base + ("host_fqdn_override", iface, "host"), Value(host, ko))
        put(derived, base + ("scheme", iface), Value(parts.scheme, ko))
        put(derived, base + ("port", "api", iface), Value(port or (443 if parts.scheme == "https" else 80), ko))
        put(derived, base + ("path", iface), Value(parts.path or "/", ko))
    ro = _region_origin(loaded, region)
    admin = lookup(loaded.layers.get(layout.secrets_file(home).rel, Branch()), ADMIN_SECRET)
    for user in chart.users:
        block = base + ("auth", user.name)
        put(derived, block + ("region_name",), Value(region, ro))
        if user.name == "admin" and isinstance(admin, Value) and admin.value not in (None, ""):
            put(derived, block + ("password",), admin)
        if user.acts_as is None:
            continue
        conf = files.get(user.acts_as[0])
        section = conf.merged.tree.get(user.acts_as[1]) if conf else None
        if not isinstance(section, dict):
            continue
        for field, option in user.fields or tuple((f, f) for f in HELM_AUTH_FIELDS):
            node = section.get(option)
            if isinstance(node, Value) and node.value is not None:
                put(derived, block + (field,), node)


def _placement(derived: Tree, loaded: LoadedSite, region: str, chart: HelmChart) -> None:
    """Node selectors for every component, and the tolerations its nodes' taints ask for."""
    assert loaded.site is not None
    nodes = loaded.site.regions[region].nodes
    if not nodes:
        return
    line = loaded.line("regions", region, "nodes")
    origin = Origin(loaded.site_file, line, Layer.DERIVED)
    provides = {p for n in nodes for r in n.roles for p in ROLE_PLACEMENTS.get(r, ())}
    taints: set[Taint] = set()
    for path, placement in chart.components:
        chosen = chosen_placement(placement, provides)
        if chosen is None:  # validate reports it first (check/deployers.py)
            raise UserError(f"{loaded.site_file}:{line}: region '{region}' has no node with role "
                            f"{roles_providing(placement)}, so the {chart.chart} chart's labels.{path} pods could run "
                            "nowhere: give a node that role")
        key, value = PLACEMENT_LABELS[chosen]
        where = ("labels",) + tuple(path.split("."))
        put(derived, where + ("node_selector_key",), Value(key, origin))
        put(derived, where + ("node_selector_value",), Value(value, origin))
        for n in nodes:
            if any(chosen in ROLE_PLACEMENTS.get(r, ()) for r in n.roles):
                taints.update(node_taints(n.roles))
    if taints:
        tolerations = [dict(t) for t in HELM_DEFAULT_TOLERATIONS] + [t.toleration() for t in sorted(taints, key=str)]
        put(derived, ("pod", "tolerations", chart.tolerations, "enabled"), Value(True, origin))
        put(derived, ("pod", "tolerations", chart.tolerations, "tolerations"), Value(tolerations, origin))


def _compute_overrides(tree: Tree, spec: HelmCompute, region: str, nova: ConfFile,
                       compute: ConfFile) -> None:
    """What nova-compute.conf holds beyond the chart's nova.conf-minus-redactions.

    The nova chart has no compute-only conf; helm-toolkit's DaemonSet label overrides give every
    node with the compute label its own config, so that is where ``conf.nova_compute`` goes.
    """
    redactions = lookup(tree, ("conf", spec.redactions))
    omitted = set(redactions.value or []) if isinstance(redactions, Value) else set()
    shared: dict[str, Tree] = {s: o for s, o in ini_ready(nova.merged.tree).items()
                               if s not in omitted and isinstance(o, dict)}
    target = ini_ready(compute.merged.tree)
    diff: Tree = Branch()
    for section in target:
        for option, node in branch(target.get(section)).items():
            have = shared.get(section, {}).get(option)
            if have is None or bare(have) != bare(node):
                into = diff.setdefault(section, Branch())
                assert isinstance(into, dict)
                into[option] = node
    for section, options in shared.items():
        for option in options:
            if option not in branch(target.get(section)):
                gone = compute.merged.deleted.get((section, option))
                where = f"{gone.origin}: " if gone is not None else ""
                raise UserError(f"{where}conf.nova_compute removes [{section}] {option} for compute nodes only, which "
                                "openstack-helm's nova chart cannot do (its nova-compute.conf is nova.conf minus whole "
                                f"sections): remove it in conf.nova, or render region '{region}' with --format plain")
    if not diff:
        return
    key, value = PLACEMENT_LABELS["hypervisor"]
    sel = lookup(tree, ("labels", "agent", "compute"))
    if isinstance(sel, dict):
        k, v = sel.get("node_selector_key"), sel.get("node_selector_value")
        key = str(k.value) if isinstance(k, Value) else key
        value = str(v.value) if isinstance(v, Value) else value
    secret = any(is_secret(("conf", nova.conf_key) + p, v) for p, v in walk(diff))
    first = next(iter(v for _, v in walk(diff)))
    origin = Origin(first.origin.file, first.origin.line, Layer.SECRET if secret else first.origin.layer)
    entry = {"label": {"key": key, "values": [value]}, "conf": {nova.conf_key: plain(diff)}}
    put(tree, ("conf", "overrides", spec.daemonset, "labels"), Value([entry], origin))


def _region_origin(loaded: LoadedSite, region: str) -> Origin:
    return Origin(loaded.site_file, loaded.line("regions", region), Layer.DERIVED)


def split_secrets(tree: Tree, path: tuple[str, ...] = ()) -> tuple[Tree, Tree]:
    """(not sensitive, sensitive): every leaf goes to one side at its own path; nulls stay public."""
    public: Tree = Branch()
    secret: Tree = Branch()
    for key, node in tree.items():
        here = path + (key,)
        if isinstance(node, dict):
            a, b = split_secrets(node, here)
            if a or not b:
                public[key] = a
            if b:
                secret[key] = b
        elif node.value is not None and is_secret(here, node):
            secret[key] = node
        else:
            public[key] = node
    return public, secret
