"""Region wiring: each service's derived values in one region, from site.yaml and the rules.

The rules are data (``regionctl.openstack.wiring.RULES``); this module is the one function that
applies them. Every value carries the site.yaml (or secrets) line it comes from, so ``explain``
can say "derived from site.yaml:12" and masking knows a secret by its origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from regionctl.openstack.services import INFRA_PORTS, SERVICES, Service
from regionctl.openstack.wiring import MESSAGING_USER, RULES, Kind, Rule
from regionctl.resolve.endpoints import Endpoint, endpoints_by_region, site_endpoints, unversioned
from regionctl.site import layout
from regionctl.site.load import LoadedSite
from regionctl.site.model import Site
from regionctl.site.problems import Problem, error
from regionctl.site.provenance import Branch, Layer, Origin, Tree, Value, branch, lookup


#: secret path -> what it is for -> the "file [section]"s that need it
Missing = dict[tuple[str, ...], dict[str, list[str]]]


def _and(items: list[str]) -> str:
    items = list(dict.fromkeys(items))
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@dataclass
class Wiring:
    """Derived values of one region: one tree per service, and what was missing."""

    trees: dict[str, Tree]
    problems: list[Problem]


def serving_region(site: Site, region: str, service: str | None) -> str | None:
    """The region whose ``service`` ``region`` uses: itself, the one its ``uses:`` names, or None
    where neither (``validate`` reports a missing dependency; an optional one gets no options)."""
    r = site.regions[region]
    if service is None or r.runs(service):
        return region
    other = r.uses.get(service)
    return other if other in site.regions and site.regions[other].runs(service) else None


class _Ctx:
    """What the rules read: the site, one region, its secrets, the site's endpoints."""

    def __init__(self, loaded: LoadedSite, region: str, missing: Missing) -> None:
        assert loaded.site is not None
        self.loaded = loaded
        self.site: Site = loaded.site
        self.region = region
        self.r = self.site.regions[region]
        self.endpoints: list[Endpoint] = site_endpoints(loaded)
        self.by_region = endpoints_by_region(loaded)
        self.secrets_rel = layout.secrets_file(region).rel
        self.secrets: Tree = loaded.layers.get(self.secrets_rel, Branch())
        self.tree: Tree = Branch()
        self.missing = missing  # secret path -> what needs it, shared by the region's services
        self._at: dict[tuple[str, ...], Origin] = {}
        self.problems: list[Problem] = []  # what the rules cannot derive from this site

    def at(self, *loc: str) -> Origin:
        found = self._at.get(loc)
        if found is None:
            found = self._at[loc] = Origin(self.loaded.site_file, self.loaded.line(*loc), Layer.DERIVED)
        return found

    def region_origin(self) -> Origin:
        return self.at("regions", self.region)

    def url(self, type_: str, interface: str, region: str | None = None) -> tuple[str, Origin] | None:
        """An endpoint's URL in ``region`` (default: this one); internal falls back to public."""
        where = region or self.region
        e = next((e for e in self.by_region.get(where, ()) if e.type == type_ and e.interface == interface), None)
        if e is None and interface != "public":
            return self.url(type_, "public", region)
        return (e.url, self.at(*e.loc)) if e else None

    def internal_host(self) -> tuple[str, Origin]:
        a = self.r.addresses
        if a is None:
            return "localhost", self.region_origin()
        addr = a.internal or a.public
        loc = ("regions", self.region, "addresses", "internal" if a.internal else "public")
        base = addr if "://" in addr else "http://" + addr
        try:
            host = urlsplit(base.replace("{", "").replace("}", "")).hostname or "localhost"
        except ValueError:  # "http://[::1": reported by the site checks
            host = "localhost"
        return host, self.at(*loc)

    def infra(self, what: str) -> tuple[list[str], Origin]:
        infra = self.r.infra
        value = getattr(infra, what) if infra else None
        if value:
            return ([value] if isinstance(value, str) else list(value)), self.at("regions", self.region, "infra", what)
        host, origin = self.internal_host()
        return [f"{host}:{INFRA_PORTS[what]}"], origin

    def secret(self, *path: str, conf: str, section: str, why: str) -> tuple[str, Origin] | None:
        """The secret at ``path``; where it is missing, ``conf [section] why`` is remembered."""
        node = lookup(self.secrets, path)
        if isinstance(node, Value) and node.value not in (None, ""):
            return str(node.value), Origin(node.origin.file, node.origin.line, Layer.SECRET)
        filename = next((f.filename for s in SERVICES.values() for f in s.files if f.key == conf), conf)
        self.missing.setdefault(path, {}).setdefault(why, []).append(f"{filename} [{section}]")
        return None

    def set(self, conf: str, section: str, option: str, value: object, origin: Origin) -> None:
        node = self.tree
        for key in ("conf", conf, section):
            node = branch(node.setdefault(key, Branch.at(self.region_origin())))
        node[option] = Value(value, origin)


def infra_hosts(loaded: LoadedSite, region: str, what: str) -> tuple[list[str], Origin]:
    """The region's ``database``, ``messaging`` or ``memcached`` host[:port]s as the wiring uses them
    (site.yaml's ``infra``, else the internal host), with the line they come from."""
    return _Ctx(loaded, region, {}).infra(what)


def _auth(ctx: _Ctx, rule: Rule, region: str) -> None:
    """A keystoneauth password section acting as ``rule.user``, bound to ``region``."""
    conf, section = rule.conf, rule.section
    ident = ctx.url("identity", "internal")
    if ident:
        ctx.set(conf, section, "auth_url", unversioned(ident[0]), ident[1])
    ro = ctx.region_origin()
    for option, value in (("auth_type", "password"), ("project_domain_name", "Default"),
                          ("user_domain_name", "Default"), ("project_name", "service"), ("username", rule.user)):
        if rule.project or not option.startswith("project_"):
            ctx.set(conf, section, option, value, ro)
    pw = ctx.secret("passwords", "service_users", rule.user, conf=conf, section=section,
                    why=f"authenticate{{s}} as the {rule.user} user")
    if pw:
        ctx.set(conf, section, "password", *pw)
    if rule.region_key:
        ctx.set(conf, section, rule.region_key, region, ro)
    if rule.interfaces:
        ctx.set(conf, section, "valid_interfaces", rule.interfaces, ro)


def _authtoken(ctx: _Ctx, rule: Rule) -> None:
    public = ctx.url("identity", "public")
    if public:
        ctx.set(rule.conf, rule.section, "www_authenticate_uri", unversioned(public[0]), public[1])
    _auth(ctx, Rule(rule.conf, rule.section, Kind.AUTH, user=rule.user, interfaces=None), ctx.region)
    mc, mo = ctx.infra("memcached")
    ctx.set(rule.conf, rule.section, "memcached_servers", ",".join(mc), mo)


def _transport(ctx: _Ctx, rule: Rule) -> None:
    hosts, _ = ctx.infra("messaging")
    pw = ctx.secret("passwords", "messaging", conf=rule.conf, section=rule.section,
                    why="log{s} in to the region's RabbitMQ (transport_url)")
    if pw:
        creds = f"{MESSAGING_USER}:{quote(pw[0], safe='')}"
        ctx.set(rule.conf, rule.section, "transport_url", "rabbit://" + ",".join(f"{creds}@{h}" for h in hosts) + "//",
                pw[1])


def _cache(ctx: _Ctx, rule: Rule) -> None:
    mc, mo = ctx.infra("memcached")
    ctx.set(rule.conf, rule.section, "backend", "oslo_cache.memcache_pool", mo)
    ctx.set(rule.conf, rule.section, "enabled", True, mo)
    ctx.set(rule.conf, rule.section, "memcache_servers", ",".join(mc), mo)


def _catalog_info(ctx: _Ctx, rule: Rule, region: str) -> None:
    """nova's [cinder] catalog_info: the serving region's own v3 block-storage type."""
    service = SERVICES[rule.selects or "cinder"]
    registered = {e.type for e in ctx.by_region.get(region, ())}
    found = next((c.type for c in service.all_types() if c.type in registered and not c.type.endswith("v2")), None)
    if found:
        ctx.set(rule.conf, rule.section, rule.key, f"{found}::internalURL", ctx.region_origin())


def _shared_region(ctx: _Ctx, rule: Rule, service: Service) -> None:
    """The one other region serving the services ``service`` calls that this region takes from
    elsewhere (``uses:``), and their catalog types there; nothing when it takes none."""
    others: dict[str, list[str]] = {}
    for name in service.needs + service.uses:
        where = serving_region(ctx.site, ctx.region, name)
        if where is not None and where != ctx.region:
            others.setdefault(where, []).append(name)
    origin = ctx.at("regions", ctx.region, "uses")
    if len(others) > 1:
        took = "; ".join(f"{', '.join(names)} from {where}" for where, names in sorted(others.items()))
        ctx.problems.append(error(origin.file, origin.line,
                                  f"region '{ctx.region}' uses {took}, but {service.name} takes another region's "
                                  f"services from one region only ([{rule.section}] {rule.key}): "
                                  "use one region for all of them"))
        return
    for where, names in others.items():
        registered = {e.type for e in ctx.endpoints if e.region == where}
        types = [c.type for n in names if n in SERVICES for c in SERVICES[n].all_types() if c.type in registered]
        ctx.set(rule.conf, rule.section, rule.key, where, origin)
        ctx.set(rule.conf, rule.section, rule.types_key, types, origin)


def _databases(ctx: _Ctx, service: Service) -> None:
    hosts, _ = ctx.infra("database")
    for db in service.databases:
        pw = ctx.secret("passwords", "databases", db.user, conf=service.files[0].key, section=db.section,
                        why=f"connect{{s}} as database user {db.user}")
        if pw:
            url = f"mysql+pymysql://{db.user}:{quote(pw[0], safe='')}@{hosts[0]}/{db.name}"
            ctx.set(service.files[0].key, db.section, "connection", url, pw[1])


def _apply(ctx: _Ctx, rule: Rule, service: Service) -> None:
    region = serving_region(ctx.site, ctx.region, rule.selects)
    if region is None:
        return  # nothing serves it: check/ reports a missing dependency, the options stay unset
    ro = ctx.region_origin()
    if rule.kind is Kind.AUTHTOKEN:
        _authtoken(ctx, rule)
    elif rule.kind is Kind.AUTH:
        _auth(ctx, rule, region)
    elif rule.kind is Kind.REGION:
        ctx.set(rule.conf, rule.section, rule.key, region, ro)
    elif rule.kind is Kind.SHARED_REGION:
        _shared_region(ctx, rule, service)
    elif rule.kind is Kind.SET:
        ctx.set(rule.conf, rule.section, rule.key, rule.value, ro)
    elif rule.kind is Kind.URL:
        found = ctx.url(rule.type, "internal", region)
        if found:
            ctx.set(rule.conf, rule.section, rule.key, unversioned(found[0]) if rule.unversioned else found[0], found[1])
    elif rule.kind is Kind.CATALOG_INFO:
        _catalog_info(ctx, rule, region)
    elif rule.kind is Kind.TRANSPORT:
        _transport(ctx, rule)
    elif rule.kind is Kind.CACHE:
        _cache(ctx, rule)


def derive(loaded: LoadedSite, region: str) -> Wiring:
    """The derived values of every service ``region`` runs (pure: reads the loaded site only)."""
    trees: dict[str, Tree] = {}
    missing: Missing = {}
    ctx = _Ctx(loaded, region, missing)
    for service in list(loaded.site.regions[region].services) if loaded.site else []:
        ctx.tree = Branch()
        svc = SERVICES.get(service)
        if svc is not None:
            for rule in RULES.get(service, ()):
                _apply(ctx, rule, svc)
            _databases(ctx, svc)
        trees[service] = ctx.tree
    unmet = ctx.problems  # what the rules could not derive (secrets apart)
    rel = layout.secrets_file(region).rel
    if rel not in loaded.layers:
        return Wiring(trees, unmet)  # the missing file is the one secrets problem (check/site.py says so)
    shown = loaded.shown(rel)
    problems = [error(shown, 0, f"{'.'.join(path)} is missing: "
                                + "; ".join(f"{_and(wheres)} {why.format(s='s' if len(set(wheres)) == 1 else '')}"
                                            for why, wheres in whys.items())
                                + "; add it to this file")
                for path, whys in missing.items()]
    return Wiring(trees, problems + unmet)
