"""The inventory, ``site.yaml``: every region once, what it runs and where its endpoints live.

Strict on purpose: an unknown key is an error (a typo silently ignored is how a region ends up
without its ``region_name``). Line numbers are mapped back from pydantic's error locations.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from regionctl.openstack.services import IDENTITY_SERVICE, SERVICES

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


class Cloud(_Strict):
    """An independent OpenStack with its own Keystone (seed 004: OpenStacks made to collaborate)."""

    description: str | None = Field(None, description="What this cloud is.")
    os_cloud: str | None = Field(None, description="The clouds.yaml entry the catalog commands use to reach "
                                                   "its Keystone (default: the cloud's name).")


#: the one cloud of a site that declares none
DEFAULT_CLOUD = "default"


class Router(_Strict):
    """The region's scope router (``render --format haproxy``), which listens where the region's
    endpoints point (the catalog's URLs are the router's); other regions reach it there too."""

    servers: list[str] = Field(
        description="The region's API servers (IP or host name) behind the router; each service on its own port.")
    listen: str | None = Field(
        None, description="IP address the router binds; default: each endpoint URL's host when it is an IP, "
        "else all addresses.")
    tls_crt: str | None = Field(
        None, description="PEM file (certificate and key) for endpoints the site gives as https.")
    scope_from: dict[Interface, list[str]] = Field(
        default_factory=dict,
        description="Per interface, the networks (CIDR) whose scope headers are honoured; others' are dropped "
        "and their requests stay local. An interface not listed honours every client.")
    ports: dict[str, int] = Field(
        default_factory=dict,
        description="Per catalog type, the port the API servers listen on where it is not the service's "
        "usual one (identity 5000, compute 8774, ...).")
    max_hops: int = Field(2, ge=1, le=16, description="Router-to-router hops a request may take before 508.")
    scope_filter: bool = Field(
        False, description="Render the scope filter (regionctl.client.propagate) into the paste pipelines of the "
        "region's nova, neutron, glance and cinder, so they refuse scopes the site does not name and forward "
        "the caller's scope on their own calls.")


class Region(_Strict):
    description: str | None = Field(None, description="Shown in Keystone's region list.")
    cloud: str | None = Field(None, description="The cloud (site.yaml clouds:) whose Keystone this region uses.")
    parent: str | None = Field(None, description="Parent region (Keystone parent_region_id).")
    addresses: Addresses | None = None
    services: dict[str, ServiceSpec | None] = Field(
        default_factory=dict,
        description="Services this region runs: keystone (the shared one), "
        f"{', '.join(s for s in SERVICES if s != IDENTITY_SERVICE)}.",
    )
    infra: Infra | None = None
    uses: dict[str, str] = Field(
        default_factory=dict,
        description="Services this region uses from another region (service -> region), e.g. "
        "{cinder: RegionOne}: its services' region options then name that region.",
    )
    nodes: list[Node] = Field(default_factory=list, description="Nodes and their roles (helm node placement).")
    router: Router | None = Field(None, description="The scope router in front of the region's APIs (haproxy format).")

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
    clouds: dict[str, Cloud] = Field(
        default_factory=dict,
        description="Independent clouds, each with its own Keystone; every region names its cloud. "
        "Without clouds, the site is one cloud and every region shares its one Keystone.")
    regions: dict[str, Region] = Field(description="Every region, once, by its Keystone region ID.")

    def cloud_of(self, region: str) -> str:
        """The cloud a region belongs to (the implicit one where the site declares none)."""
        return (self.regions[region].cloud or DEFAULT_CLOUD) if self.clouds else DEFAULT_CLOUD

    def cloud_names(self) -> list[str]:
        return list(self.clouds) if self.clouds else [DEFAULT_CLOUD]

    def regions_of(self, cloud: str) -> list[str]:
        return [r for r in self.regions if self.cloud_of(r) == cloud]

    def identity_regions(self, cloud: str | None = None) -> list[str]:
        """Regions running keystone (of one cloud, or of the whole site)."""
        return [name for name, r in self.regions.items()
                if r.runs("keystone") and (cloud is None or self.cloud_of(name) == cloud)]

    def identity_region(self, region: str | None = None) -> str:
        """The region hosting the Keystone that ``region`` uses (validate guarantees exactly one
        per cloud); without ``region``, the first cloud's."""
        cloud = self.cloud_of(region) if region is not None else self.cloud_names()[0]
        found = self.identity_regions(cloud)
        return found[0] if found else next(iter(self.regions_of(cloud) or self.regions))


def json_schema() -> dict[str, Any]:
    schema = Site.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "regionctl site.yaml"
    return schema
