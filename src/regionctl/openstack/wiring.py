"""What every service's files need in a region, as rows: the wiring rules (REFERENCE section 2).

Multi-region deployments go wrong in these options, so they are data that one generic function
(``regionctl.resolve.derive``) applies: each :class:`Rule` fills one section (or one option) of
one file. An option that names a region says which service it looks up (``selects``): it names
the region serving that service for this region, which is the region itself unless the site says
another region serves it. The region-selecting options that ``validate`` requires are read off
the same rows (:func:`region_options`), so the two can never disagree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from regionctl.openstack.services import SERVICES


class Kind(str, enum.Enum):
    """How a rule fills its section."""

    AUTHTOKEN = "authtoken"  # keystonemiddleware: www_authenticate_uri, the service's own login, memcached
    AUTH = "auth"  # a keystoneauth password section logging in as ``user``
    REGION = "region"  # ``key`` = the name of the region serving ``selects``
    SHARED_REGION = "shared_region"  # ``key`` = the one other region serving what this one takes from elsewhere
    SET = "set"  # ``key`` = ``value``
    URL = "url"  # ``key`` = the URL of catalog ``type`` at ``interface`` in the serving region
    CATALOG_INFO = "catalog_info"  # nova's ``<volume type>::internalURL`` of the serving region's cinder
    TRANSPORT = "transport"  # ``transport_url`` to the region's RabbitMQ
    CACHE = "cache"  # oslo.cache on the region's memcached


@dataclass(frozen=True)
class Rule:
    """One derived section or option of one file (``conf`` is the openstack-helm ``conf:`` key)."""

    conf: str
    section: str
    kind: Kind
    key: str = ""
    user: str = ""
    value: object = None
    selects: str | None = None  # the service whose region the option names (None: this region)
    region_key: str | None = "region_name"  # AUTH: the option naming the region (None: none)
    interfaces: str | None = "internal"  # AUTH: valid_interfaces (None: not set)
    project: bool = True  # AUTH: scoped to the service project (False: the caller scopes it, e.g. to a trust)
    types_key: str = ""  # SHARED_REGION: the list option naming the catalog types that region serves
    type: str = ""  # URL: catalog type
    unversioned: bool = False  # URL: without Keystone's /v3


def _authtoken(conf: str, user: str) -> Rule:
    return Rule(conf, "keystone_authtoken", Kind.AUTHTOKEN, user=user)


def _auth(conf: str, section: str, user: str, selects: str | None = None, *, region_key: str | None = "region_name",
          interfaces: str | None = "internal", project: bool = True) -> Rule:
    return Rule(conf, section, Kind.AUTH, user=user, selects=selects, region_key=region_key, interfaces=interfaces,
                project=project)


def _set(conf: str, section: str, key: str, value: object) -> Rule:
    return Rule(conf, section, Kind.SET, key=key, value=value)


def _region(conf: str, section: str, key: str, selects: str | None) -> Rule:
    return Rule(conf, section, Kind.REGION, key=key, selects=selects)


#: service -> its rules. Databases come from ``Service.databases`` (every service gets them).
RULES: dict[str, tuple[Rule, ...]] = {
    "nova": (
        _authtoken("nova", "nova"),
        Rule("nova", "cache", Kind.CACHE),
        _auth("nova", "placement", "placement", "placement"),
        _auth("nova", "neutron", "neutron", "neutron"),
        _region("nova", "glance", "region_name", "glance"),
        Rule("nova", "glance", Kind.SET, key="valid_interfaces", value="internal", selects="glance"),
        _region("nova", "cinder", "os_region_name", "cinder"),
        Rule("nova", "cinder", Kind.CATALOG_INFO, key="catalog_info", selects="cinder"),
        # nova ignores [service_user] region_name (INEFFECTIVE): none is written.
        _auth("nova", "service_user", "nova", region_key=None, interfaces=None),
        _set("nova", "service_user", "send_service_user_token", True),
        Rule("nova", "DEFAULT", Kind.TRANSPORT),
    ),
    "placement": (
        _authtoken("placement", "placement"),
    ),
    "neutron": (
        _authtoken("neutron", "neutron"),
        Rule("neutron", "DEFAULT", Kind.TRANSPORT),
        _auth("neutron", "nova", "nova", "nova", interfaces=None),
        Rule("neutron", "nova", Kind.SET, key="endpoint_type", value="internal", selects="nova"),
        _auth("neutron", "placement", "placement", "placement", interfaces=None),
        Rule("neutron", "placement", Kind.SET, key="endpoint_type", value="internal", selects="placement"),
    ),
    "glance": (
        _authtoken("glance", "glance"),
        _region("glance", "glance_store", "cinder_os_region_name", "cinder"),
    ),
    "cinder": (
        _authtoken("cinder", "cinder"),
        Rule("cinder", "DEFAULT", Kind.TRANSPORT),
        _auth("cinder", "nova", "nova", "nova", interfaces=None),
        Rule("cinder", "nova", Kind.SET, key="interface", value="internal", selects="nova"),
        Rule("cinder", "DEFAULT", Kind.URL, key="glance_api_servers", type="image", selects="glance"),
    ),
    "heat": (
        _authtoken("heat", "heat"),
        Rule("heat", "cache", Kind.CACHE),
        Rule("heat", "DEFAULT", Kind.TRANSPORT),
        # Every client heat makes (nova, neutron, glance, cinder, ...) looks its endpoint up in
        # region_name_for_services; heat has no [clients_<service>] region_name.
        _region("heat", "DEFAULT", "region_name_for_services", None),
        # ... except the catalog types listed in shared_services_types, looked up in
        # region_name_for_shared_services: where this region takes services from another region.
        Rule("heat", "DEFAULT", Kind.SHARED_REGION, key="region_name_for_shared_services",
             types_key="shared_services_types"),
        _set("heat", "clients", "endpoint_type", "internal"),
        # [trustee] is keystoneauth's auth options only (no session or adapter options, so no
        # region_name); heat loads it with a trust_id, and a trust-scoped login takes no project.
        _auth("heat", "trustee", "heat", region_key=None, interfaces=None, project=False),
        # The Keystone heat's own keystone client and trusts talk to: the unversioned shared one.
        Rule("heat", "clients_keystone", Kind.URL, key="auth_uri", type="identity", unversioned=True),
        # heat-api-cfn checks EC2 signatures with Keystone through a keystoneauth adapter. It logs
        # in as [keystone_authtoken] does (auth_section: the password stays in one place, the one
        # kolla writes) and finds identity in this region's catalog.
        _set("heat", "ec2authtoken", "auth_section", "keystone_authtoken"),
        _region("heat", "ec2authtoken", "region_name", None),
        _set("heat", "ec2authtoken", "valid_interfaces", "internal"),
    ),
    "keystone": (
        Rule("keystone", "cache", Kind.CACHE),
        _set("keystone", "token", "provider", "fernet"),
    ),
}

#: The user every ``conf:`` file's messaging logs in as.
MESSAGING_USER = "openstack"

#: Options that look right and do nothing (REFERENCE section 2): (conf key, section, option) -> why.
#: A file built on another (nova-compute.conf on nova.conf) inherits its base's entries.
INEFFECTIVE: dict[tuple[str, str, str], str] = {
    ("nova", "cinder", "region_name"): "nova ignores [cinder] region_name; it reads [cinder] os_region_name",
    ("nova", "service_user", "region_name"): "nova ignores [service_user] region_name",
    ("cinder", "DEFAULT", "os_region_name"): "cinder removed [DEFAULT] os_region_name; it reads [nova] region_name",
}

#: Region-selecting options of the sections the operator names (glance's ``enabled_backends =
#: fast:cinder``): (service, template of the section) -> (option, the service it selects).
NAMED_SECTION_REGION: dict[tuple[str, str], tuple[str, str]] = {
    ("glance", "store:cinder"): ("cinder_os_region_name", "cinder"),
}


@dataclass(frozen=True)
class RegionOption:
    """An option that must name a region: which file, and which service it looks up."""

    service: str
    conf: str
    section: str
    key: str
    selects: str | None


def _base_files(service: str) -> dict[str, tuple[str, frozenset[str]]]:
    """conf key -> (its base's key, dropped sections) for the files built on another."""
    return {f.key: (f.base, f.drops) for f in SERVICES[service].files if f.base}


def _rule_options(service: str, rule: Rule) -> list[RegionOption]:
    if rule.kind is Kind.AUTHTOKEN:
        return [RegionOption(service, rule.conf, rule.section, "region_name", None)]
    if rule.kind is Kind.AUTH and rule.region_key:
        return [RegionOption(service, rule.conf, rule.section, rule.region_key, rule.selects)]
    if rule.kind is Kind.REGION:
        return [RegionOption(service, rule.conf, rule.section, rule.key, rule.selects)]
    return []


def region_options() -> tuple[RegionOption, ...]:
    """Every region-selecting option of every file, files built on another included."""
    out: list[RegionOption] = []
    for service, rules in RULES.items():
        own = [o for r in rules for o in _rule_options(service, r)]
        out += own
        for key, (base, drops) in _base_files(service).items():
            out += [RegionOption(service, key, o.section, o.key, o.selects)
                    for o in own if o.conf == base and o.section not in drops]
    return tuple(out)


REGION_OPTIONS: tuple[RegionOption, ...] = region_options()


def infra_needed(service: str) -> frozenset[str]:
    """The region infrastructure (keys of ``INFRA_PORTS``) a service's derived values point at."""
    kinds = {r.kind for r in RULES.get(service, ())}
    out = set()
    if SERVICES[service].databases:
        out.add("database")
    if Kind.TRANSPORT in kinds:
        out.add("messaging")
    if kinds & {Kind.AUTHTOKEN, Kind.CACHE}:
        out.add("memcached")
    return frozenset(out)


def ineffective(service: str, conf: str, section: str, option: str) -> str | None:
    """Why ``[section] option`` of file ``conf`` does nothing, or None."""
    why = INEFFECTIVE.get((conf, section, option))
    if why is None and service in SERVICES:
        base = _base_files(service).get(conf)
        if base is not None:
            why = INEFFECTIVE.get((base[0], section, option))
    return why
