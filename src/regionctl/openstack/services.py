"""What OpenStack is, as data: the services a region can run, their catalog entries and files.

Adding a service or a release is a change to these tables, not to code elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

INTERFACES: tuple[str, ...] = ("public", "internal", "admin")


@dataclass(frozen=True)
class CatalogType:
    """A Keystone service (type + name) and where its API listens by default."""

    type: str
    name: str
    port: int
    path: str = ""


@dataclass(frozen=True)
class Service:
    """A deployable service.

    ``catalog`` lists the types it registers unless the site says otherwise; ``optional`` the
    other types a site may ask for (cinder's legacy ``volumev2``). ``conf_files`` maps the
    openstack-helm ``conf:`` key to the INI file on a host.
    """

    name: str
    catalog: tuple[CatalogType, ...]
    optional: tuple[CatalogType, ...] = ()
    conf_files: tuple[tuple[str, str], ...] = ()
    user: str | None = None
    database: str | None = None
    etc_dir: str = ""

    @property
    def etc(self) -> str:
        """The directory under /etc holding its files."""
        return self.etc_dir or self.name

    def all_types(self) -> tuple[CatalogType, ...]:
        return self.catalog + self.optional

    def catalog_type(self, type_: str) -> CatalogType | None:
        return next((c for c in self.all_types() if c.type == type_), None)


SERVICES: dict[str, Service] = {
    s.name: s
    for s in (
        Service("keystone", (CatalogType("identity", "keystone", 5000, "/v3"),),
                conf_files=(("keystone", "keystone.conf"),), database="keystone"),
        Service("nova", (CatalogType("compute", "nova", 8774, "/v2.1"),),
                conf_files=(("nova", "nova.conf"), ("nova_compute", "nova-compute.conf")),
                user="nova", database="nova"),
        Service("placement", (CatalogType("placement", "placement", 8778),),
                conf_files=(("placement", "placement.conf"),), user="placement", database="placement"),
        Service("neutron", (CatalogType("network", "neutron", 9696),),
                conf_files=(("neutron", "neutron.conf"),), user="neutron", database="neutron"),
        Service("glance", (CatalogType("image", "glance", 9292),),
                conf_files=(("glance", "glance-api.conf"),), user="glance", database="glance"),
        Service("cinder", (CatalogType("volumev3", "cinderv3", 8776, "/v3/%(project_id)s"),),
                optional=(CatalogType("volumev2", "cinderv2", 8776, "/v2/%(project_id)s"),
                          CatalogType("block-storage", "cinder", 8776, "/v3/%(project_id)s")),
                conf_files=(("cinder", "cinder.conf"),), user="cinder", database="cinder"),
        Service("horizon", (), etc_dir="openstack-dashboard"),
    )
}

#: The service whose region hosts the shared Keystone.
IDENTITY_SERVICE = "keystone"
#: The service whose regions serve the dashboard.
DASHBOARD_SERVICE = "horizon"


def service_for_type(type_: str) -> Service | None:
    return next((s for s in SERVICES.values() if s.catalog_type(type_)), None)


def service_for_file(filename: str) -> tuple[Service, str] | None:
    """``nova.conf`` -> (nova, "nova"): the service and its ``conf:`` key."""
    for svc in SERVICES.values():
        for key, fname in svc.conf_files:
            if fname == filename or key == filename:
                return svc, key
    return None
