"""Clouds: groups of regions sharing one Keystone (site.yaml ``clouds:``, seed 004).

A scope value names a region or a cloud. Naming a cloud picks that cloud's Keystone for
``identity`` and, for any other service type, the cloud's first region that runs it. A site
without ``clouds:`` is one unnamed cloud holding every region: no scope value can name it, and
every region's identity is the one Keystone. The routing (:mod:`regionctl.scope.routing`)
resolves names only through :func:`clouds`.
"""

from __future__ import annotations

from dataclasses import dataclass

from regionctl.site.model import Site


@dataclass(frozen=True)
class Cloud:
    """Regions sharing one Keystone, hosted in ``identity_region``."""

    name: str | None  # the name a scope may give; None: the site's single, unnamed cloud
    regions: tuple[str, ...]
    identity_region: str


def clouds(site: Site) -> tuple[Cloud, ...]:
    """Every cloud of the site, with its regions and the region hosting its Keystone."""
    if not site.clouds:
        return (Cloud(None, tuple(site.regions), site.identity_region()),)
    out = []
    for name in site.cloud_names():
        regions = tuple(site.regions_of(name))
        if regions:
            out.append(Cloud(name, regions, site.identity_region(regions[0])))
    return tuple(out) or (Cloud(None, tuple(site.regions), site.identity_region()),)


def named(all_clouds: tuple[Cloud, ...]) -> dict[str, Cloud]:
    """The clouds a scope value can name."""
    return {c.name: c for c in all_clouds if c.name is not None}
