"""Region wiring: the options every service in a region needs, derived from site.yaml.

This is where multi-region deployments go wrong (REFERENCE section 2), so the rules are data:
``REGION_OPTIONS`` lists every option that selects a region; ``SECTIONS`` says which sections
each file gets and how each is filled. The values carry the site.yaml (or secrets) line they
come from, so ``explain`` can say "derived from site.yaml:12".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote, urlsplit, urlunsplit

from regionctl.openstack.services import SERVICES
from regionctl.site import layout
from regionctl.site.endpoints import Endpoint
from regionctl.site.load import LoadedSite
from regionctl.site.model import Site
from regionctl.site.problems import Problem, error
from regionctl.site.provenance import Branch, Layer, Origin, Tree, Value, branch, lookup

#: (service, conf key, section, option): each must name the service's own region. A missing one
#: lets the service pick any region's endpoint; validate and render fail on it.
REGION_OPTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("nova", "nova", "keystone_authtoken", "region_name"),
    ("nova", "nova", "placement", "region_name"),
    ("nova", "nova", "neutron", "region_name"),
    ("nova", "nova", "glance", "region_name"),
    ("nova", "nova", "cinder", "os_region_name"),
    ("nova", "nova_compute", "placement", "region_name"),
    ("nova", "nova_compute", "neutron", "region_name"),
    ("nova", "nova_compute", "glance", "region_name"),
    ("nova", "nova_compute", "cinder", "os_region_name"),
    ("placement", "placement", "keystone_authtoken", "region_name"),
    ("neutron", "neutron", "keystone_authtoken", "region_name"),
    ("neutron", "neutron", "nova", "region_name"),
    ("neutron", "neutron", "placement", "region_name"),
    ("glance", "glance", "keystone_authtoken", "region_name"),
    ("glance", "glance", "glance_store", "cinder_os_region_name"),
    ("cinder", "cinder", "keystone_authtoken", "region_name"),
    ("cinder", "cinder", "nova", "region_name"),
)

#: Options that look right and do nothing (REFERENCE section 2): (conf key, section, option) -> why.
INEFFECTIVE: dict[tuple[str, str, str], str] = {
    ("nova", "cinder", "region_name"): "nova ignores [cinder] region_name; it reads [cinder] os_region_name",
    ("nova_compute", "cinder", "region_name"): "nova ignores [cinder] region_name; it reads [cinder] os_region_name",
    ("nova", "service_user", "region_name"): "nova ignores [service_user] region_name",
    ("cinder", "DEFAULT", "os_region_name"): "cinder removed [DEFAULT] os_region_name; it reads [nova] region_name",
}

#: nova sections only the controller reads; nova-compute.conf gets the rest of nova's values.
NOVA_CONTROLLER_ONLY = frozenset({"api", "api_database", "database", "keystone_authtoken", "scheduler",
                                  "filter_scheduler", "conductor", "cells", "wsgi", "oslo_policy", "upgrade_levels"})

MESSAGING_USER = "openstack"
DB_NAMES: dict[str, tuple[tuple[str, str, str], ...]] = {
    # service -> (conf section, database user, database name)
    "keystone": (("database", "keystone", "keystone"),),
    "nova": (("database", "nova", "nova"), ("api_database", "nova", "nova_api")),
    "placement": (("placement_database", "placement", "placement"),),
    "neutron": (("database", "neutron", "neutron"),),
    "glance": (("database", "glance", "glance"),),
    "cinder": (("database", "cinder", "cinder"),),
}


@dataclass
class Wiring:
    """Derived values of one region: one tree per service, and what was missing."""

    trees: dict[str, Tree]
    problems: list[Problem]


class _Ctx:
    """What the rules read: the site, one region, its secrets, its endpoints."""

    def __init__(self, loaded: LoadedSite, region: str) -> None:
        assert loaded.site is not None
        self.loaded = loaded
        self.site: Site = loaded.site
        self.region = region
        self.r = self.site.regions[region]
        self.problems: list[Problem] = []
        self.endpoints: list[Endpoint] = [e for e in loaded.endpoints if e.region == region]
        self.secrets_rel = layout.secrets_file(region).rel
        self.secrets: Tree = loaded.layers.get(self.secrets_rel, Branch())

    def at(self, *loc: str) -> Origin:
        return Origin(self.loaded.site_file, self.loaded.line(*loc), Layer.DERIVED)

    def region_origin(self) -> Origin:
        return self.at("regions", self.region)

    def url(self, type_: str, interface: str) -> tuple[str, Origin] | None:
        e = next((e for e in self.endpoints if e.type == type_ and e.interface == interface), None)
        if e is None and interface != "public":
            return self.url(type_, "public")
        return (e.url, self.at(*e.loc)) if e else None

    def internal_host(self) -> tuple[str, Origin]:
        a = self.r.addresses
        if a is None:
            return "localhost", self.region_origin()
        addr = a.internal or a.public
        loc = ("regions", self.region, "addresses", "internal" if a.internal else "public")
        base = addr if "://" in addr else "http://" + addr
        host = urlsplit(base.replace("{", "").replace("}", "")).hostname or "localhost"
        return host, self.at(*loc)

    def infra(self, what: str, port: int) -> tuple[list[str], Origin]:
        infra = self.r.infra
        value = getattr(infra, what) if infra else None
        if value:
            return ([value] if isinstance(value, str) else list(value)), self.at("regions", self.region, "infra", what)
        host, origin = self.internal_host()
        return [f"{host}:{port}"], origin

    def secret(self, *path: str, why: str) -> tuple[str, Origin] | None:
        node = lookup(self.secrets, path)
        if isinstance(node, Value) and node.value not in (None, ""):
            return str(node.value), node.origin
        shown = self.loaded.shown(self.secrets_rel)
        self.problems.append(error(shown, 0, f"{'.'.join(path)} is missing: {why}; add it to this file"))
        return None


def _strip_version(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path
    for suffix in ("/v3", "/v3/"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class _Builder:
    def __init__(self) -> None:
        self.tree: Tree = Branch()

    def section(self, conf: str, section: str) -> Tree:
        node = self.tree
        for key in ("conf", conf, section):
            node = branch(node.setdefault(key, Branch()))
        return node

    def set(self, conf: str, section: str, option: str, value: object, origin: Origin) -> None:
        self.section(conf, section)[option] = Value(value, origin)


def _secret_origin(origin: Origin) -> Origin:
    return Origin(origin.file, origin.line, Layer.SECRET)


def _auth(b: _Builder, ctx: _Ctx, conf: str, section: str, user: str, region_option: str = "region_name",
          interface: str | None = "internal") -> None:
    """A keystoneauth password section acting as ``user``, bound to this region."""
    ident = ctx.url("identity", "internal")
    if ident:
        b.set(conf, section, "auth_url", _strip_version(ident[0]), ident[1])
    ro = ctx.region_origin()
    b.set(conf, section, "auth_type", "password", ro)
    b.set(conf, section, "project_domain_name", "Default", ro)
    b.set(conf, section, "user_domain_name", "Default", ro)
    b.set(conf, section, "project_name", "service", ro)
    b.set(conf, section, "username", user, ro)
    pw = ctx.secret("passwords", "service_users", user, why=f"[{section}] authenticates as the {user} user")
    if pw:
        b.set(conf, section, "password", pw[0], _secret_origin(pw[1]))
    b.set(conf, section, region_option, ctx.region, ro)
    if interface:
        key = "valid_interfaces" if section != "keystone_authtoken" else None
        if key:
            b.set(conf, section, key, interface, ro)


def _authtoken(b: _Builder, ctx: _Ctx, conf: str, user: str) -> None:
    public = ctx.url("identity", "public")
    if public:
        b.set(conf, "keystone_authtoken", "www_authenticate_uri", _strip_version(public[0]), public[1])
    _auth(b, ctx, conf, "keystone_authtoken", user, interface=None)
    mc, mo = ctx.infra("memcached", 11211)
    b.set(conf, "keystone_authtoken", "memcached_servers", ",".join(mc), mo)


def _database(b: _Builder, ctx: _Ctx, conf: str, service: str) -> None:
    hosts, origin = ctx.infra("database", 3306)
    for section, user, name in DB_NAMES.get(service, ()):
        pw = ctx.secret("passwords", "databases", user, why=f"[{section}] connection logs in as database user {user}")
        if pw:
            url = f"mysql+pymysql://{user}:{quote(pw[0], safe='')}@{hosts[0]}/{name}"
            b.set(conf, section, "connection", url, _secret_origin(pw[1]))


def _transport(b: _Builder, ctx: _Ctx, conf: str) -> None:
    hosts, _ = ctx.infra("messaging", 5672)
    pw = ctx.secret("passwords", "messaging", why="[DEFAULT] transport_url logs in to the region's RabbitMQ")
    if pw:
        creds = f"{MESSAGING_USER}:{quote(pw[0], safe='')}"
        url = "rabbit://" + ",".join(f"{creds}@{h}" for h in hosts) + "//"
        b.set(conf, "DEFAULT", "transport_url", url, _secret_origin(pw[1]))


def _cache(b: _Builder, ctx: _Ctx, conf: str) -> None:
    mc, mo = ctx.infra("memcached", 11211)
    b.set(conf, "cache", "backend", "oslo_cache.memcache_pool", mo)
    b.set(conf, "cache", "enabled", True, mo)
    b.set(conf, "cache", "memcache_servers", ",".join(mc), mo)


def _volume_type(ctx: _Ctx) -> str | None:
    """The region's own v3 block-storage type, for nova's [cinder] catalog_info."""
    for t in ("volumev3", "block-storage"):
        if any(e.type == t for e in ctx.endpoints):
            return t
    return None


def _nova_region_options(b: _Builder, ctx: _Ctx, conf: str) -> None:
    ro = ctx.region_origin()
    _auth(b, ctx, conf, "placement", "placement")
    _auth(b, ctx, conf, "neutron", "neutron")
    b.set(conf, "glance", "region_name", ctx.region, ro)
    b.set(conf, "glance", "valid_interfaces", "internal", ro)
    b.set(conf, "cinder", "os_region_name", ctx.region, ro)
    vt = _volume_type(ctx)
    if vt:
        b.set(conf, "cinder", "catalog_info", f"{vt}::internalURL", ro)
    _auth(b, ctx, conf, "service_user", "nova", region_option="region_name", interface=None)
    b.set(conf, "service_user", "send_service_user_token", True, ro)
    # nova ignores [service_user] region_name; keep the section honest.
    del b.section(conf, "service_user")["region_name"]
    _transport(b, ctx, conf)


def _nova(b: _Builder, ctx: _Ctx) -> None:
    _authtoken(b, ctx, "nova", "nova")
    _database(b, ctx, "nova", "nova")
    _cache(b, ctx, "nova")
    _nova_region_options(b, ctx, "nova")


def _placement(b: _Builder, ctx: _Ctx) -> None:
    _authtoken(b, ctx, "placement", "placement")
    _database(b, ctx, "placement", "placement")


def _neutron(b: _Builder, ctx: _Ctx) -> None:
    _authtoken(b, ctx, "neutron", "neutron")
    _database(b, ctx, "neutron", "neutron")
    _transport(b, ctx, "neutron")
    ro = ctx.region_origin()
    for section, user in (("nova", "nova"), ("placement", "placement")):
        _auth(b, ctx, "neutron", section, user, interface=None)
        b.set("neutron", section, "endpoint_type", "internal", ro)


def _glance(b: _Builder, ctx: _Ctx) -> None:
    _authtoken(b, ctx, "glance", "glance")
    _database(b, ctx, "glance", "glance")
    b.set("glance", "glance_store", "cinder_os_region_name", ctx.region, ctx.region_origin())


def _cinder(b: _Builder, ctx: _Ctx) -> None:
    _authtoken(b, ctx, "cinder", "cinder")
    _database(b, ctx, "cinder", "cinder")
    _transport(b, ctx, "cinder")
    _auth(b, ctx, "cinder", "nova", "nova", interface=None)
    ro = ctx.region_origin()
    b.set("cinder", "nova", "interface", "internal", ro)
    glance = ctx.url("image", "internal")
    if glance:
        b.set("cinder", "DEFAULT", "glance_api_servers", glance[0], glance[1])


def _keystone(b: _Builder, ctx: _Ctx) -> None:
    _database(b, ctx, "keystone", "keystone")
    _cache(b, ctx, "keystone")
    b.set("keystone", "token", "provider", "fernet", ctx.region_origin())


RULES: dict[str, Callable[[_Builder, _Ctx], None]] = {
    "nova": _nova,
    "placement": _placement,
    "neutron": _neutron,
    "glance": _glance,
    "cinder": _cinder,
    "keystone": _keystone,
}


def derive(loaded: LoadedSite, region: str) -> Wiring:
    """The derived values of every service ``region`` runs (pure: reads the loaded site only)."""
    ctx = _Ctx(loaded, region)
    trees: dict[str, Tree] = {}
    for service in ctx.r.services:
        rule = RULES.get(service)
        b = _Builder()
        if rule:
            rule(b, ctx)
        trees[service] = b.tree
    return Wiring(trees, ctx.problems)


def identity_urls(loaded: LoadedSite) -> dict[str, str]:
    """The shared Keystone's URLs per interface."""
    assert loaded.site is not None
    home = loaded.site.identity_region()
    return {e.interface: e.url for e in loaded.endpoints if e.type == "identity" and e.region == home}


__all__ = ["derive", "REGION_OPTIONS", "INEFFECTIVE", "NOVA_CONTROLLER_ONLY", "SERVICES", "identity_urls"]
