"""The inventory, ``site.yaml``: every region once, what it runs and where its endpoints live.

Strict on purpose: an unknown key is an error (a typo silently ignored is how a region ends up
without its ``region_name``). Line numbers are mapped back from pydantic's error locations.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Interface = Literal["public", "internal", "admin"]

SITE_FORMAT: Literal[1] = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Addresses(_Strict):
    """Where a region's APIs are reached, per interface.

    Each is a base URL without a port (``http://192.168.40.15``; each service adds its own port
    and path), a bare host or VIP (``192.168.40.15``, meaning http), or a template using
    ``{name}``, ``{type}``, ``{port}`` (``https://{name}.sjc.example.com``).
    """

    public: str = Field(description="Public address: base URL, host/VIP or template.")
    internal: str | None = Field(None, description="Internal address; defaults to public.")
    admin: str | None = Field(None, description="Admin address; admin endpoints only where set.")


class ServiceSpec(_Strict):
    """Per-service settings of one region; leave empty (``nova:``) for the defaults."""

    catalog: list[str] | None = Field(
        None, description="Catalog types to register instead of the default (cinder: volumev2, volumev3)."
    )
    urls: dict[str, str | dict[Interface, str]] = Field(
        default_factory=dict,
        description="Per catalog type, a URL for every interface or one per interface, "
        "where the default pattern doesn't fit (Keystone's admin port 35357).",
    )


class Infra(_Strict):
    """The region's own database, message queue and memcached (defaults: the internal host)."""

    database: str | None = Field(None, description="Database host[:port].")
    messaging: list[str] | None = Field(None, description="RabbitMQ host:port list.")
    memcached: list[str] | None = Field(None, description="memcached host:port list.")


NodeRole = Literal["control", "network", "hypervisor"]


class Node(_Strict):
    """A Kubernetes node of the region and what runs on it (openstack-helm node placement)."""

    name: str = Field(description="The Kubernetes node name.")
    roles: list[NodeRole] = Field(description="control, network and/or hypervisor.")


class Region(_Strict):
    description: str | None = Field(None, description="Shown in Keystone's region list.")
    parent: str | None = Field(None, description="Parent region (Keystone parent_region_id).")
    addresses: Addresses | None = None
    services: dict[str, ServiceSpec | None] = Field(
        default_factory=dict,
        description="Services this region runs: keystone (the shared one), horizon, nova, "
        "placement, neutron, glance, cinder.",
    )
    infra: Infra | None = None
    uses: dict[str, str] = Field(
        default_factory=dict,
        description="Services this region uses from another region (service -> region), e.g. "
        "{cinder: RegionOne}: its services' region options then name that region.",
    )
    nodes: list[Node] = Field(default_factory=list, description="Nodes and their roles (helm node placement).")

    def runs(self, service: str) -> bool:
        return service in self.services

    def spec(self, service: str) -> ServiceSpec:
        return self.services.get(service) or ServiceSpec(catalog=None)


class Site(_Strict):
    """site.yaml."""

    format: Literal[1] = Field(SITE_FORMAT, description="Site format version.")
    release: str | None = Field(None, description="OpenStack release the site targets, e.g. 2026.2.")
    service_users: Literal["shared", "per-region"] = Field(
        "shared", description="One service user per service for all regions (shared), or one per region."
    )
    regions: dict[str, Region] = Field(description="Every region, once, by its Keystone region ID.")

    def identity_regions(self) -> list[str]:
        return [name for name, r in self.regions.items() if r.runs("keystone")]

    def identity_region(self) -> str:
        """The one region hosting Keystone (validate guarantees exactly one)."""
        found = self.identity_regions()
        return found[0] if found else next(iter(self.regions))


def json_schema() -> dict[str, Any]:
    schema = Site.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "regionctl site.yaml"
    return schema
