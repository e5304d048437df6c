"""The scope middleware in each service's paste pipelines (issue 15): for a region whose site
gives it a scope router, the sections and keys to merge into the service's stock paste file.

Applied generically from :data:`regionctl.openstack.propagation.PASTE`: the filter section
(with the names and service types the site declares, so a service accepts exactly what the
routers accept) and each pipeline with the filter inserted.
"""

from __future__ import annotations

from regionctl.openstack.propagation import FACTORY, FILTER, PASTE, with_filter
from regionctl.openstack.services import SERVICES
from regionctl.render.files import header
from regionctl.scope import clouds, routing
from regionctl.scope.grammar import MAX_BYTES
from regionctl.site.load import LoadedSite


def scope_paste(loaded: LoadedSite, region: str) -> list[tuple[str, str, str]]:
    """(its /etc directory, paste file name, fragment text) for each service of ``region``
    that has pipelines to change; nothing unless the region's router asks (``router.scope_filter``)."""
    assert loaded.site is not None
    site = loaded.site
    spec = site.regions[region]
    if spec.router is None or not spec.router.scope_filter:
        return []
    names = list(site.regions) + [c for c in clouds.named(clouds.clouds(site)) if c not in site.regions]
    types = sorted({e.type for e in routing.catalog(site)})
    out = []
    for service in spec.services:
        paste = PASTE.get(service)
        if paste is None:
            continue
        lines = [header(loaded.site_file, f"Merge into the stock {paste.file} (e.g. crudini --merge): the scope "
                                          "filter in the pipelines that serve the API.").rstrip("\n"),
                 "", f"[filter:{FILTER}]", f"paste.filter_factory = {FACTORY}", f"names = {','.join(names)}",
                 f"types = {','.join(types)}", f"max_bytes = {MAX_BYTES}"]
        sections: dict[str, list[str]] = {}
        for p in paste.pipelines:
            sections.setdefault(p.section, []).append(f"{p.key} = {with_filter(p.stock)}")
        for section, keys in sections.items():
            lines += ["", f"[{section}]", *keys]
        out.append((SERVICES[service].etc, paste.file, "\n".join(lines) + "\n"))
    return out
