"""The catalog as values: regions, services and endpoints, desired or live (REFERENCE 3).

Both sides of a plan use these types, so the plan is a pure comparison of two values. Live
objects carry Keystone's IDs; desired ones have none until apply creates them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

INTERFACE_ORDER: tuple[str, ...] = ("public", "internal", "admin")

#: Extra attribute regionctl sets on the regions it creates or updates. Keystone stores unknown
#: region attributes as they are; it is how a later ``--prune`` knows a region that has since
#: left the site was regionctl's to remove (like a Terraform state entry, kept in Keystone).
MANAGED_KEY = "managed_by"
MANAGED_VALUE = "regionctl"

EndpointKey = tuple[str, str, str, str]


@dataclass(frozen=True)
class Region:
    """A Keystone region: its ID is its name."""

    id: str
    description: str = ""
    parent: str | None = None
    managed: bool = False  # live only: carries regionctl's marker

    def same_as(self, other: Region) -> bool:
        """Equal in what the site decides (description, parent); the marker is bookkeeping."""
        return self.description == other.description and self.parent == other.parent


@dataclass(frozen=True)
class Service:
    """A Keystone service: global (not per region), identified by type and name."""

    type: str
    name: str
    id: str | None = None
    enabled: bool = True

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.name)


@dataclass(frozen=True)
class Endpoint:
    """One URL of one service, for one interface, in one region."""

    type: str
    name: str
    interface: str
    region: str
    url: str
    enabled: bool = True
    id: str | None = None
    service_id: str | None = None

    @property
    def key(self) -> EndpointKey:
        """The identity of an endpoint: (service type, service name, interface, region).

        Matching on fewer fields is the seed-003 bug: a second region overwrites the first.
        """
        return (self.type, self.name, self.interface, self.region)

    def label(self) -> str:
        return f"{self.region} {self.type}/{self.name} {self.interface}"


@dataclass(frozen=True)
class Catalog:
    """Regions (parents before children), services, endpoints; live ones may hold duplicates."""

    regions: tuple[Region, ...] = ()
    services: tuple[Service, ...] = ()
    endpoints: tuple[Endpoint, ...] = ()
    #: live only: where regionctl authenticated, and the client's region. An identity endpoint
    #: that reaches this Keystone (auth URL or ``self_urls``, by address) is never pruned.
    auth_url: str | None = field(default=None, compare=False)
    auth_region: str | None = field(default=None, compare=False)
    self_urls: tuple[str, ...] = field(default=(), compare=False)
    #: live only: host name -> the addresses it resolved to when read (for the comparison above)
    resolved: Mapping[str, frozenset[str]] = field(default_factory=dict, compare=False)

    def region(self, rid: str) -> Region | None:
        return next((r for r in self.regions if r.id == rid), None)


def endpoint_sort_key(e: Endpoint) -> tuple[str, str, str, int, str]:
    """Region, type, name, then public/internal/admin: the order people read tables in."""
    iface = INTERFACE_ORDER.index(e.interface) if e.interface in INTERFACE_ORDER else len(INTERFACE_ORDER)
    return (e.region, e.type, e.name, iface, e.interface)


def normalize_url(url: str) -> str:
    """URLs compare without a trailing slash (``.../v3/`` is ``.../v3``)."""
    return url.rstrip("/")
