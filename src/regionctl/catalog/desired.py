"""The catalog the site asks for (pure): Site -> Catalog.

Regions come parents first (Keystone refuses a parent that does not exist yet), services once
each (they are global), endpoints for every region x service x interface, with the identity
region's Keystone endpoints repeated in every region (a client looks identity up in its own).
"""

from __future__ import annotations

from regionctl.catalog.model import Catalog, Endpoint, Region, Service, endpoint_sort_key
from regionctl.resolve.endpoints import all_endpoints
from regionctl.site.model import Site


def regions_parents_first(site: Site) -> list[str]:
    """Region names ordered so that every parent comes before its children (site order otherwise).

    Unknown parents and cycles are validate's business; here they simply end the walk.
    """
    order: list[str] = []
    placed: set[str] = set()

    def place(name: str, path: tuple[str, ...]) -> None:
        if name in placed or name in path:
            return
        parent = site.regions[name].parent
        if parent is not None and parent in site.regions:
            place(parent, path + (name,))
        if name not in placed:
            placed.add(name)
            order.append(name)

    for name in site.regions:
        place(name, ())
    return order


def desired_catalog(site: Site, cloud: str | None = None) -> Catalog:
    """What Keystone should hold for this site: for ``cloud``'s Keystone, its regions only
    (None: the first cloud, the only one of a site that declares no clouds)."""
    cloud = cloud or site.cloud_names()[0]
    order = [r for r in regions_parents_first(site) if site.cloud_of(r) == cloud]
    regions = tuple(
        Region(name, site.regions[name].description or "", site.regions[name].parent) for name in order
    )
    rank = {name: i for i, name in enumerate(order)}
    eps = [e for e in all_endpoints(site) if e.region in rank]
    endpoints = sorted(
        (Endpoint(e.type, e.name, e.interface, e.region, e.url) for e in eps),
        key=lambda e: (rank.get(e.region, len(rank)),) + endpoint_sort_key(e)[1:],
    )
    services: dict[tuple[str, str], Service] = {}
    for e in endpoints:
        services.setdefault((e.type, e.name), Service(e.type, e.name))
    return Catalog(regions, tuple(sorted(services.values(), key=lambda s: s.key)), tuple(endpoints))


def site_catalog(site: Site) -> Catalog:
    """Every cloud's desired catalog together (for pictures of the whole site; each Keystone gets
    only its own cloud's, from :func:`desired_catalog`)."""
    parts = [desired_catalog(site, c) for c in site.cloud_names()]
    services = {s.key: s for p in parts for s in p.services}
    return Catalog(tuple(r for p in parts for r in p.regions), tuple(sorted(services.values(), key=lambda s: s.key)),
                   tuple(e for p in parts for e in p.endpoints))
