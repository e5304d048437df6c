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
    removed_in: str | None = None  # the first release whose service no longer serves this API


@dataclass(frozen=True)
class IniFile:
    """An INI file a service reads, named by its openstack-helm ``conf:`` key.

    ``base`` names another file of the same service whose values this one starts from, minus the
    sections in ``drops`` (nova-compute.conf is nova.conf without the controller-only sections,
    then ``conf.nova_compute``).
    """

    key: str
    filename: str
    base: str | None = None
    drops: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Database:
    """A database a service connects to: the section holding ``connection``, login and name."""

    section: str
    user: str
    name: str


#: nova sections only the controller reads; nova-compute.conf gets the rest of nova's values.
NOVA_CONTROLLER_ONLY = frozenset({"api", "api_database", "database", "keystone_authtoken", "scheduler",
                                  "filter_scheduler", "conductor", "cells", "wsgi", "oslo_policy", "upgrade_levels"})


@dataclass(frozen=True)
class Service:
    """A deployable service.

    ``catalog`` lists the types it registers unless the site says otherwise; ``optional`` the
    other types a site may ask for (cinder's legacy ``volumev2``). ``files`` are its INI files.
    ``needs`` are the services it cannot work without, ``uses`` those it calls when present:
    the region options that select them name the region serving them.
    """

    name: str
    catalog: tuple[CatalogType, ...]
    optional: tuple[CatalogType, ...] = ()
    files: tuple[IniFile, ...] = ()
    user: str | None = None
    databases: tuple[Database, ...] = ()
    etc_dir: str = ""
    needs: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()

    @property
    def etc(self) -> str:
        """The directory under /etc holding its files."""
        return self.etc_dir or self.name

    @property
    def conf_files(self) -> tuple[tuple[str, str], ...]:
        """(``conf:`` key, file name) of every INI file."""
        return tuple((f.key, f.filename) for f in self.files)

    @property
    def database(self) -> str | None:
        """The database user its secrets name (nova's one user covers nova, nova_api, nova_cell0)."""
        return self.databases[0].user if self.databases else None

    def all_types(self) -> tuple[CatalogType, ...]:
        return self.catalog + self.optional

    def catalog_type(self, type_: str) -> CatalogType | None:
        return next((c for c in self.all_types() if c.type == type_), None)


def _db(service: str, section: str = "database", name: str = "") -> Database:
    return Database(section, service, name or service)


SERVICES: dict[str, Service] = {
    s.name: s
    for s in (
        Service("keystone", (CatalogType("identity", "keystone", 5000, "/v3"),),
                files=(IniFile("keystone", "keystone.conf"),), databases=(_db("keystone"),)),
        Service("nova", (CatalogType("compute", "nova", 8774, "/v2.1"),),
                files=(IniFile("nova", "nova.conf"),
                       IniFile("nova_compute", "nova-compute.conf", base="nova", drops=NOVA_CONTROLLER_ONLY)),
                user="nova", databases=(_db("nova"), _db("nova", "api_database", "nova_api")),
                needs=("placement", "neutron", "glance"), uses=("cinder",)),
        Service("placement", (CatalogType("placement", "placement", 8778),),
                files=(IniFile("placement", "placement.conf"),), user="placement",
                databases=(_db("placement", "placement_database"),)),
        Service("neutron", (CatalogType("network", "neutron", 9696),),
                files=(IniFile("neutron", "neutron.conf"),), user="neutron", databases=(_db("neutron"),),
                uses=("nova", "placement")),
        Service("glance", (CatalogType("image", "glance", 9292),),
                files=(IniFile("glance", "glance-api.conf"),), user="glance", databases=(_db("glance"),),
                uses=("cinder",)),
        Service("cinder", (CatalogType("volumev3", "cinderv3", 8776, "/v3/%(project_id)s"),),
                optional=(CatalogType("volumev2", "cinderv2", 8776, "/v2/%(project_id)s", removed_in="2021.2"),
                          CatalogType("block-storage", "cinder", 8776, "/v3/%(project_id)s")),
                files=(IniFile("cinder", "cinder.conf"),), user="cinder", databases=(_db("cinder"),),
                uses=("nova", "glance")),
        # heat's install guide and kolla register orchestration as /v1/%(tenant_id)s (devstack's
        # uwsgi paths add /heat-api); the CloudFormation-compatible API is heat-cfn.
        Service("heat", (CatalogType("orchestration", "heat", 8004, "/v1/%(tenant_id)s"),
                         CatalogType("cloudformation", "heat-cfn", 8000, "/v1")),
                files=(IniFile("heat", "heat.conf"),), user="heat", databases=(_db("heat"),),
                uses=("nova", "neutron", "glance", "cinder")),
        Service("horizon", (), etc_dir="openstack-dashboard"),
    )
}

#: Ports of a region's shared infrastructure, where site.yaml names a host without one.
INFRA_PORTS: dict[str, int] = {"database": 3306, "messaging": 5672, "memcached": 11211}

#: The service whose region hosts the shared Keystone.
IDENTITY_SERVICE = "keystone"
#: The service whose regions serve the dashboard.
DASHBOARD_SERVICE = "horizon"


def service_for_type(type_: str) -> Service | None:
    return next((s for s in SERVICES.values() if s.catalog_type(type_)), None)


def service_for_file(filename: str) -> tuple[Service, str] | None:
    """``nova.conf`` -> (nova, "nova"): the service and its ``conf:`` key."""
    for svc in SERVICES.values():
        for f in svc.files:
            if filename in (f.filename, f.key):
                return svc, f.key
    return None


def conf_keys() -> frozenset[str]:
    """Every INI file's ``conf:`` key, of every service."""
    return frozenset(f.key for svc in SERVICES.values() for f in svc.files)


def service_users() -> tuple[str, ...]:
    """The service users, in service order."""
    return tuple(s.user for s in SERVICES.values() if s.user)


def database_users() -> tuple[str, ...]:
    """The database users (one per service, whatever its number of databases)."""
    return tuple(dict.fromkeys(d.user for s in SERVICES.values() for d in s.databases))
