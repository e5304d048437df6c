"""Clouds: groups of regions sharing one Keystone. The seam for several Keystones (issue 13).

A scope value names a region or a cloud. Naming a cloud picks that cloud's Keystone for
``identity`` and, for any other service type, the cloud's first region that runs it. Today a
site has one Keystone, so :func:`clouds` returns one unnamed cloud holding every region: no
scope value can name it, and every region's identity is the one Keystone. When the site model
learns ``clouds:``, only :func:`clouds` changes; the routing (:mod:`regionctl.scope.routing`)
already resolves names through it.
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
    """Every cloud of the site. One Keystone today: one unnamed cloud of every region."""
    return (Cloud(None, tuple(site.regions), site.identity_region()),)


def named(all_clouds: tuple[Cloud, ...]) -> dict[str, Cloud]:
    """The clouds a scope value can name."""
    return {c.name: c for c in all_clouds if c.name is not None}
