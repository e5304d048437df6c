"""A region's resolved values per service and per file: derived wiring under the site's layers.

Render, explain and the option checks all read this, so they agree on what a file holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from regionctl.openstack import options
from regionctl.openstack.services import SERVICES, IniFile
from regionctl.openstack.wiring import NAMED_SECTION_REGION
from regionctl.resolve.derive import derive, serving_region
from regionctl.site.load import LoadedSite
from regionctl.site.merge import Merged, merge
from regionctl.site.problems import Problem, warning
from regionctl.site.provenance import Branch, Layer, Origin, Tree, Value, branch, lookup, walk


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
    site = loaded.site
    data = options.known(site.release)
    wiring = derive(loaded, region)
    out = RegionValues(region, problems=list(wiring.problems))
    origin = Origin(loaded.site_file, loaded.line("regions", region), Layer.DERIVED)
    for service in loaded.site.regions[region].services:
        merged = loaded.resolve(region, service, [wiring.trees.get(service, Branch())])
        out.services[service] = merged
        out.problems += merged.warnings + _deleted_sections(merged, wiring.trees.get(service, Branch()))
        svc = SERVICES.get(service)
        if svc is None:
            continue
        for f in svc.files:
            sections = _built_on(merged, f) if f.base else _sub(merged, "conf", f.key)
            conf = ConfFile(service, f.key, f.filename, sections)
            if data is not None:
                _named_section_regions(conf, data, lambda service: serving_region(site, region, service), origin)
            out.files[f.filename] = conf
    return out


def _deleted_sections(merged: Merged, derived: Tree) -> list[Problem]:
    """A null that deletes a whole file or section takes what regionctl derives there with it:
    Helm's rule, kept, but said (a region's nova.yaml with an empty ``DEFAULT:`` loses its
    transport_url)."""
    out = []
    for path, gone in merged.deleted.items():
        if path[0] != "conf" or not 2 <= len(path) <= 3:
            continue
        lost = sorted(".".join(p) for p, _ in walk(branch(lookup(derived, path))))
        if lost:
            what = "file" if len(path) == 2 else "section"
            out.append(warning(gone.origin.file, gone.origin.line,
                               f"{'.'.join(path)}: null deletes the whole {what}, and with it what regionctl derives "
                               f"there ({', '.join(lost)}): set only the options you mean to remove to null"))
    return out


def named_sections(conf: ConfFile, data: options.OptionData) -> dict[str, tuple[str, ...]]:
    """Sections named by the operator in this file -> the templates whose options they take."""
    tree = conf.merged.tree

    def value_of(section: str, option: str) -> object:
        node = branch(tree.get(section)).get(option)
        return node.value if isinstance(node, Value) else None

    return data.named_sections(conf.service, value_of) if data.has(conf.service) else {}


def _named_section_regions(conf: ConfFile, data: options.OptionData, serving: Callable[[str], str | None],
                           origin: Origin) -> None:
    """Each named store section that selects a region gets it, unless a layer set or removed it.

    Its section is named by the operator (``enabled_backends = fast:cinder``), so it is only
    known after the merge.
    """
    tree = conf.merged.tree
    for name, templates in named_sections(conf, data).items():
        option = next((o for t in templates if (o := NAMED_SECTION_REGION.get((conf.service, t)))), None)
        region = serving(option[1]) if option else None
        if option is None or region is None:
            continue
        key = option[0]
        section = tree.setdefault(name, Branch())
        if isinstance(section, dict) and key not in section and (name, key) not in conf.merged.deleted:
            section[key] = Value(region, origin)


def _built_on(merged: Merged, f: IniFile) -> Merged:
    """A file built on another (nova-compute.conf): the base's values minus ``drops``, then its own.

    A null under the file's own key removes the base's option from this file only.
    """
    assert f.base is not None
    base = _sub(merged, "conf", f.base)
    shared: Tree = Branch()
    for section, options in base.tree.items():
        if section not in f.drops:
            shared[section] = options
    overlay = _sub(merged, "conf", f.key)
    result = merge([shared, overlay.tree])
    kept = {k: v for k, v in base.deleted.items() if k[0] not in f.drops}
    for path, gone in overlay.deleted.items():
        options = branch(result.tree.get(path[0]))
        old = options.get(path[1]) if len(path) == 2 else None
        if isinstance(old, Value):
            del options[path[1]]
            gone = Value(None, gone.origin, old.history())
        kept[path] = gone
    result.deleted = {**kept, **result.deleted}
    return result
