"""From a loaded, validated site (and optionally the live catalog) to :class:`ReportData` (pure).

Reading Keystone is the CLI's job; here the live catalog arrives as a value, or as the one line
saying why there is none. Every string that reaches the data is masked or scrubbed of the site's
secrets first, so the page cannot show one.
"""

from __future__ import annotations

from typing import Iterable

from regionctl import __version__
from regionctl.catalog.desired import desired_catalog, regions_parents_first, site_catalog
from regionctl.catalog.drift import compare
from regionctl.catalog.model import INTERFACE_ORDER, Catalog
from regionctl.openstack.services import IDENTITY_SERVICE
from regionctl.report.model import (
    SECRET,
    CatalogEntry,
    CatalogMatrix,
    Cloud,
    LiveCatalog,
    ProblemView,
    RegionView,
    ReportData,
    ServiceView,
    Source,
)
from regionctl.report.overrides import override_rows
from regionctl.site import layout
from regionctl.resolve.endpoints import catalog_types, identity_urls
from regionctl.site.load import LoadedSite
from regionctl.site.problems import Problem
from regionctl.site.provenance import walk
from regionctl.site.secrets import is_secret, mask_text, url_has_password
from regionctl.check.validate import Report

#: Secrets shorter than this are not scrubbed from messages (they would garble every word).
MIN_SCRUB = 4


def gather(loaded: LoadedSite, report: Report, live: Catalog | None = None, live_error: str | None = None,
           live_where: str | None = None, catalog_asked: bool = False) -> ReportData:
    """``catalog_asked``: --catalog was given, so the live column is shown or its absence explained."""
    site = loaded.site
    secrets = site_secrets(loaded)
    data = ReportData(loaded.paths.shown_root or ".", site.release if site else None, __version__,
                      site_usable=site is not None)
    order = regions_parents_first(site) if site is not None else []
    data.problems = [ProblemView(p, scrub(p.message, secrets), region_of(loaded, p)) for p in report.problems]
    if site is not None:
        data.regions = {name: _region(loaded, name, data.problems) for name in order}
        roots = tuple(n for n in order if site.regions[n].parent not in site.regions)
        data.clouds = clouds_of(loaded, roots)
        own = {r: {s: loaded.resolve(r, s) for s in site.regions[r].services} for r in order}
        final = {r: dict(v.services) for r, v in report.regions.items()}
        data.overrides = override_rows(order, own, final)
        data.catalog = site_matrix(site_catalog(site))
        if catalog_asked:  # one Keystone is read: its cloud's catalog is the one to compare
            data.live = live_view(live, desired_catalog(site), live_where, scrub(live_error, secrets) if live_error else None)
    elif catalog_asked:
        data.live = LiveCatalog(error="not compared: site.yaml is unusable, so the site's catalog is unknown")
    return data


def clouds_of(loaded: LoadedSite, roots: tuple[str, ...]) -> list[Cloud]:
    """The Keystones of the site and the regions each serves (one unnamed cloud where the site
    declares no clouds), each with its identity region and its own roots."""
    assert loaded.site is not None
    site = loaded.site
    out = []
    for cloud in site.cloud_names():
        ids = site.identity_regions(cloud)
        identity = ids[0] if len(ids) == 1 else None
        url = identity_urls(loaded, identity).get("public") if identity else None
        mine = tuple(r for r in roots if r in site.regions and site.cloud_of(r) == cloud)
        out.append(Cloud(cloud if site.clouds else None, identity, mine, _shown_address(url) if url else None))
    return out


# ---- regions ------------------------------------------------------------------------------------


def _shown_address(text: str) -> str:
    return mask_text(text) if url_has_password(text) else text


def _region(loaded: LoadedSite, name: str, problems: list[ProblemView]) -> RegionView:
    assert loaded.site is not None
    site = loaded.site
    r = site.regions[name]
    addresses: list[tuple[str, str]] = []
    if r.addresses is not None:
        for iface in INTERFACE_ORDER:
            text = getattr(r.addresses, iface)
            if text:
                addresses.append((iface, _shown_address(text)))
    services = []
    for sname in r.services:
        try:
            types = tuple(f"{ct.type}/{ct.name}" for ct in catalog_types(sname, r.spec(sname).catalog))
        except KeyError:
            types = ()  # an unknown service: validate says so
        services.append(ServiceView(sname, types))
    infra: list[tuple[str, str]] = []
    if r.infra is not None:
        if r.infra.database:
            infra.append(("database", _shown_address(r.infra.database)))
        for kind in ("messaging", "memcached"):
            hosts = getattr(r.infra, kind)
            if hosts:
                infra.append((kind, ", ".join(_shown_address(h) for h in hosts)))
    prefix = f"{layout.REGIONS_DIR}/{name}/"
    files = tuple(Source(loaded.shown(rel)) for rel in sorted(loaded.layers) if rel.startswith(prefix))
    mine = [p for p in problems if p.region == name]
    children = tuple(n for n, other in site.regions.items() if other.parent == name and n != name)
    return RegionView(
        name, r.description or "", r.parent, children, r.runs(IDENTITY_SERVICE), tuple(addresses),
        tuple(services), tuple(infra), len(r.nodes), files,
        Source(loaded.site_file, loaded.line("regions", name)),
        errors=sum(p.problem.is_error for p in mine), warnings=sum(not p.problem.is_error for p in mine))


# ---- problems -----------------------------------------------------------------------------------


def region_of(loaded: LoadedSite, p: Problem) -> str | None:
    """The region a problem concerns: its file is the region's, or its line is in the region's block."""
    site = loaded.site
    if site is None:
        return None
    prefix = loaded.shown(layout.REGIONS_DIR) + "/"
    if p.file.startswith(prefix):
        name = p.file[len(prefix):].split("/", 1)[0]
        return name if name in site.regions else None
    if p.file != loaded.site_file or not p.line or loaded.doc is None:
        return None
    starts = sorted((loaded.line("regions", n), n) for n in site.regions)
    top = loaded.doc.data
    end = None
    regions_line = loaded.line("regions")
    if hasattr(top, "keys"):
        later = [loaded.line(k) for k in top.keys() if loaded.line(k) > regions_line]
        end = min(later) if later else None
    if end is not None and p.line >= end:
        return None
    found = None
    for line, name in starts:
        if line and line <= p.line:
            found = name
    return found


def site_secrets(loaded: LoadedSite) -> list[str]:
    """Every secret value the site holds (longest first), for scrubbing free text."""
    found: set[str] = set()
    for tree in loaded.layers.values():
        for path, v in walk(tree):
            if v.value in (None, "") or isinstance(v.value, bool) or not is_secret(path, v):
                continue
            items = v.value if isinstance(v.value, list) else [v.value]
            found |= {str(x) for x in items if len(str(x)) >= MIN_SCRUB}
    return sorted(found, key=lambda s: (-len(s), s))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret of the site replaced: messages may quote a value."""
    for s in secrets:
        if s in text:
            text = text.replace(s, SECRET)
    return text


# ---- catalog ------------------------------------------------------------------------------------


def _columns(types: Iterable[str]) -> tuple[str, ...]:
    """Service types, identity first (as ``catalog show`` orders them)."""
    return tuple(sorted(set(types), key=lambda t: (t != "identity", t)))


def _iface_rank(iface: str) -> int:
    return INTERFACE_ORDER.index(iface) if iface in INTERFACE_ORDER else len(INTERFACE_ORDER)


def site_matrix(desired: Catalog) -> CatalogMatrix:
    cells: dict[tuple[str, str], list[CatalogEntry]] = {}
    for e in desired.endpoints:
        cells.setdefault((e.region, e.type), []).append(CatalogEntry(e.interface, e.name, "site", e.url, e.url))
    return CatalogMatrix(
        _columns(e.type for e in desired.endpoints), tuple(r.id for r in desired.regions),
        {k: tuple(sorted(v, key=lambda c: (c.name, _iface_rank(c.interface)))) for k, v in cells.items()})


def live_view(live: Catalog | None, desired: Catalog, where: str | None, error: str | None) -> LiveCatalog:
    if live is None:
        return LiveCatalog(where=where, error=error or "the live catalog was not read")
    cells = compare(live, desired)
    table: dict[tuple[str, str], list[CatalogEntry]] = {}
    regions: list[str] = []
    drift: list[tuple[str, str, CatalogEntry]] = []
    for c in cells:
        if c.region not in regions:
            regions.append(c.region)
        entry = CatalogEntry(c.interface, c.name, c.state, _shown_url(c.url), _shown_url(c.site_url))
        table.setdefault((c.region, c.type), []).append(entry)
        if c.state in ("changed", "missing", "extra", "duplicate"):
            drift.append((c.region, c.type, entry))
    matrix = CatalogMatrix(_columns(c.type for c in cells), tuple(regions),
                           {k: tuple(v) for k, v in table.items()})
    return LiveCatalog(where=where, matrix=matrix, drift=tuple(drift))


def _shown_url(url: str | None) -> str | None:
    return _shown_address(url) if url else url


__all__ = ["gather"]
