"""A region's resolved values per service and per file: derived wiring under the site's layers.

Render, explain and the option checks all read this, so they agree on what a file holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from regionctl.openstack.services import SERVICES
from regionctl.openstack.wiring import NOVA_CONTROLLER_ONLY, derive
from regionctl.site.load import LoadedSite
from regionctl.site.merge import Merged, merge
from regionctl.site.problems import Problem
from regionctl.site.provenance import Branch, Layer, Origin, Tree, Value, branch


@dataclass
class ConfFile:
    """One INI file: its name, the ``conf:`` key its values come from, and its sections."""

    service: str
    conf_key: str
    filename: str
    merged: Merged  # tree: section -> option -> Value


@dataclass
class RegionValues:
    region: str
    services: dict[str, Merged] = field(default_factory=dict)
    files: dict[str, ConfFile] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def _sub(merged: Merged, *path: str) -> Merged:
    """The part of a merge under ``path`` (deletions re-rooted too)."""
    node: object = merged.tree
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    n = len(path)
    deleted = {k[n:]: v for k, v in merged.deleted.items() if k[:n] == path and len(k) > n}
    return Merged(node if isinstance(node, dict) else Branch(), deleted, [])


def resolve_region(loaded: LoadedSite, region: str) -> RegionValues:
    assert loaded.site is not None
    wiring = derive(loaded, region)
    out = RegionValues(region, problems=list(wiring.problems))
    for service in loaded.site.regions[region].services:
        merged = loaded.resolve(region, service, [wiring.trees.get(service, Branch())])
        out.services[service] = merged
        svc = SERVICES.get(service)
        if svc is None:
            continue
        for key, filename in svc.conf_files:
            if service == "nova" and key == "nova_compute":
                out.files[filename] = ConfFile(service, key, filename, _compute(merged))
            else:
                out.files[filename] = ConfFile(service, key, filename, _sub(merged, "conf", key))
    glance = out.files.get("glance-api.conf")
    if glance is not None:
        _glance_cinder_stores(glance, region, Origin(loaded.site_file, loaded.line("regions", region), Layer.DERIVED))
    return out


def _glance_cinder_stores(conf: ConfFile, region: str, origin: Origin) -> None:
    """Each multi-store backend of type cinder must name the region's cinder too.

    Its section is named by the operator (``enabled_backends = fast:cinder``), so it is only
    known after the merge: the option is added there unless a layer set or removed it.
    """
    tree = conf.merged.tree
    backends = branch(tree.get("DEFAULT")).get("enabled_backends")
    if not isinstance(backends, Value) or backends.value is None:
        return
    items = backends.value if isinstance(backends.value, list) else str(backends.value).split(",")
    for item in items:
        name, _, kind = str(item).partition(":")
        name = name.strip()
        if kind.strip() != "cinder" or not name:
            continue
        section = tree.setdefault(name, Branch())
        if isinstance(section, dict) and "cinder_os_region_name" not in section \
                and (name, "cinder_os_region_name") not in conf.merged.deleted:
            section["cinder_os_region_name"] = Value(region, origin)


def _compute(merged: Merged) -> Merged:
    """nova-compute.conf: nova's values minus controller-only sections, then ``conf.nova_compute``.

    A null under ``conf.nova_compute`` removes nova's option from the compute file only.
    """
    nova = _sub(merged, "conf", "nova")
    shared: Tree = Branch()
    for section, options in nova.tree.items():
        if section not in NOVA_CONTROLLER_ONLY:
            shared[section] = options
    overlay = _sub(merged, "conf", "nova_compute")
    result = merge([shared, overlay.tree])
    kept = {k: v for k, v in nova.deleted.items() if k[0] not in NOVA_CONTROLLER_ONLY}
    for path, gone in overlay.deleted.items():
        options = branch(result.tree.get(path[0]))
        old = options.get(path[1]) if len(path) == 2 else None
        if isinstance(old, Value):
            del options[path[1]]
            gone = Value(None, gone.origin, old.history())
        kept[path] = gone
    result.deleted = {**kept, **result.deleted}
    return result
