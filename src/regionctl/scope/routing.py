"""A region's scope router as data (pure): site + derived endpoints -> frontends, backends, choices.

The router of a region listens where the region's endpoints point (the catalog's URLs are the
router's), one frontend per listening address and port, each serving the APIs (catalog type and
interface) registered there. A request's scope picks, per service type, the region or cloud
that serves it; the backend is OpenStackoid's ``<Region>_<ServiceType>_<Interface>``:

* local when the region named is this one, or when the service it names is hosted here (every
  region's identity endpoints are the one Keystone's): the region's own API servers
  (``router.servers``) on the service's port, health-checked;
* remote otherwise: the named region's router at that region's endpoint URL, with ``Host`` set
  to it and TLS when the site gives https, so the remote router routes it again (to its local
  servers, since the scope names it).

Every backend's address comes from ``site.yaml``; nothing a request carries can add one.
The emitter (:mod:`regionctl.render.haproxy`) turns this into configuration text.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from regionctl.openstack.router import HEALTH_DEFAULT, HEALTH_PATH
from regionctl.openstack.services import IDENTITY_SERVICE, INTERFACES, SERVICES, service_for_type
from regionctl.scope import clouds
from regionctl.scope.clouds import Cloud, named
from regionctl.resolve.endpoints import own_endpoints
from regionctl.site.model import Site


@dataclass(frozen=True)
class CatalogEntry:
    """One endpoint of the catalog, and the region whose servers answer it."""

    region: str
    type: str
    interface: str
    url: str
    owner: str  # the region hosting the service (the cloud's identity region for identity)


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    tls: bool = False

    @property
    def is_ip(self) -> bool:
        return _is_ip(self.host)


@dataclass(frozen=True)
class Backend:
    name: str  # <Region>_<ServiceType>_<Interface>
    region: str
    type: str
    interface: str
    local: bool
    servers: tuple[Server, ...]
    health_path: str
    host_header: str | None = None  # remote: the remote endpoint's host[:port]
    path_from: str | None = None  # remote with another path prefix: rewrite from ...
    path_to: str | None = None  # ... to this
    track: str | None = None  # "backend" whose health checks this one follows (same servers)


@dataclass(frozen=True)
class Route:
    """One API a frontend serves: its catalog type(s) (aliases at one URL) and interface."""

    types: tuple[str, ...]
    interface: str
    host: str
    port: int
    path: str  # the URL's path up to its first placeholder
    local_backend: str

    @property
    def type(self) -> str:
        return self.types[0]


@dataclass(frozen=True)
class Frontend:
    name: str
    bind_host: str | None  # None: every address
    port: int
    tls: bool
    routes: tuple[Route, ...]
    trusted: tuple[str, ...] | None  # networks whose scope is honoured; None: everyone
    by_host: bool = False  # several routes told apart by Host (else by path)

    @property
    def default_backend(self) -> str:
        """Where a path no route owns goes: the local backend of the first API (never an error)."""
        return self.routes[0].local_backend


@dataclass(frozen=True)
class RouterPlan:
    region: str
    frontends: tuple[Frontend, ...]
    backends: tuple[Backend, ...]
    choices: dict[str, str]  # "<interface>/<type>/<name>" -> backend name
    types: tuple[str, ...]  # service types a scope may name
    names: tuple[str, ...]  # regions and clouds a scope may name
    max_hops: int
    tls_crt: str | None
    problems: list[tuple[tuple[str, ...], str]] = field(default_factory=list)  # (site.yaml path, message)


def catalog(site: Site) -> list[CatalogEntry]:
    """Every region's endpoints, identity repeated in each region of its cloud (owned by the Keystone's)."""
    own, _ = own_endpoints(site)
    all_clouds = clouds.clouds(site)
    out = [CatalogEntry(e.region, e.type, e.interface, e.url, e.region) for e in own]
    for cloud in all_clouds:
        keystone = [e for e in out if e.region == cloud.identity_region and _is_identity(e.type)]
        for r in cloud.regions:
            if r != cloud.identity_region:
                out += [CatalogEntry(r, e.type, e.interface, e.url, e.owner) for e in keystone]
    return out


def _is_identity(type_: str) -> bool:
    svc = service_for_type(type_)
    return svc is not None and svc.name == IDENTITY_SERVICE


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def path_prefix(path: str) -> str:
    """The part of an endpoint path a request starts with: up to the first placeholder."""
    cut = path.split("%(", 1)[0].split("$(", 1)[0]
    return cut or "/"


def _url_parts(url: str) -> tuple[str, str, int, str, str]:
    """scheme, host, port, path prefix, host header (host[:port] as the URL writes it)."""
    p = urlsplit(url)
    scheme = p.scheme
    port = p.port or (443 if scheme == "https" else 80)
    host = p.hostname or ""
    return scheme, host, port, path_prefix(p.path), p.netloc.rsplit("@", 1)[-1]


def backend_name(region: str, type_: str, interface: str) -> str:
    return f"{region}_{type_}_{interface}"


def _service_port(type_: str) -> int | None:
    svc = service_for_type(type_)
    ct = svc.catalog_type(type_) if svc else None
    return ct.port if ct else None


def plan_router(site: Site, region: str) -> RouterPlan:
    """The router of ``region``: what it listens on and where each scope sends a request."""
    spec = site.regions[region].router
    problems: list[tuple[tuple[str, ...], str]] = []
    rloc = ("regions", region)
    if spec is None or not spec.servers:
        problems.append((rloc, f"region '{region}' has no router: add regions.{region}.router.servers "
                               "(its API servers) to render the haproxy format"))
        servers_hosts: list[str] = []
    else:
        servers_hosts = list(spec.servers)
    ports = dict(spec.ports) if spec else {}
    entries = catalog(site)
    all_clouds = clouds.clouds(site)
    by_key = {(e.region, e.type, e.interface): e for e in entries}
    own = [e for e in entries if e.region == region and e.owner == region]

    # Routes: one per (host, port, path) of this region's own endpoints; aliases share it.
    grouped: dict[tuple[str | None, int, bool], dict[tuple[str, str], list[CatalogEntry]]] = {}
    for iface in INTERFACES:
        for e in own:
            if e.interface != iface:
                continue
            scheme, host, port, prefix, _ = _url_parts(e.url)
            bind = spec.listen if spec and spec.listen else (host if _is_ip(host) else None)
            group = grouped.setdefault((bind, port, scheme == "https"), {})
            group.setdefault((host, prefix), []).append(e)
    # A bind serving http and https at once cannot be: the first scheme wins, the other is reported.
    seen_binds: dict[tuple[str | None, int], bool] = {}
    frontends: list[Frontend] = []
    needed: list[tuple[tuple[str, ...], str, str]] = []  # (types, interface, prefix) to build backends for
    local_prefix: dict[tuple[str, str], str] = {}
    for (bind, port, tls), at in grouped.items():
        if (bind, port) in seen_binds:
            problems.append((rloc + ("addresses",), f"port {port} of region '{region}' is given as both http and "
                                                    "https: the router can serve only one"))
            continue
        seen_binds[(bind, port)] = tls
        routes: list[Route] = []
        for (host, prefix), es in at.items():
            iface = es[0].interface  # public before internal before admin: one URL, one interface
            types = tuple(dict.fromkeys(e.type for e in es if e.interface == iface))
            routes.append(Route(types, iface, host, port, prefix, backend_name(region, types[0], iface)))
            needed.append((types, iface, prefix))
            for t in types:
                local_prefix.setdefault((t, iface), prefix)
        by_host = len({r.host for r in routes}) > 1
        trusted = spec.scope_from.get(routes[0].interface) if spec else None  # type: ignore[call-overload]
        first = routes[0]
        name = f"fe_{first.type}_{first.interface}" if len(routes) == 1 else f"fe_{port}"
        if any(f.name == name for f in frontends):
            name = f"{name}_{len(frontends)}"
        frontends.append(Frontend(name, bind, port, tls, tuple(routes),
                                  tuple(str(n) for n in trusted) if trusted is not None else None, by_host))

    # Names a scope may give, and the region each resolves to per service type.
    names = list(site.regions) + [c for c in named(all_clouds) if c not in site.regions]
    for c in named(all_clouds):
        if c in site.regions:
            problems.append((("regions", c), f"'{c}' names both a region and a cloud: a scope could mean either; "
                                             "rename one"))
    types = tuple(sorted({e.type for e in entries}))
    backends: dict[str, Backend] = {}
    choices: dict[str, str] = {}
    for rtypes, iface, prefix in needed:
        for name in names:
            target = _resolve(name, rtypes, iface, site, all_clouds, by_key)
            if target is None:
                continue
            e = by_key[target]
            bname = backend_name(e.region, e.type, iface)
            if bname not in backends:
                backends[bname] = _backend(bname, e, region, servers_hosts, local_prefix.get((rtypes[0], iface), prefix),
                                           ports)
            for t in rtypes:
                choices[f"{iface}/{t}/{name}"] = bname
    # Local default backends exist even when no name resolves to them.
    for f in frontends:
        for r in f.routes:
            if r.local_backend not in backends:
                e = by_key[(region, r.type, r.interface)]
                backends[r.local_backend] = _backend(r.local_backend, e, region, servers_hosts, r.path, ports)
    return RouterPlan(region, tuple(frontends), _tracked(list(backends.values())), choices, types,
                      tuple(names), spec.max_hops if spec else 2, spec.tls_crt if spec else None, problems)


def _resolve(name: str, types: tuple[str, ...], iface: str, site: Site, all_clouds: tuple[Cloud, ...],
             by_key: dict[tuple[str, str, str], CatalogEntry]) -> tuple[str, str, str] | None:
    """The (region, type, interface) endpoint a scope value reaches, or None when it has none."""
    if name in site.regions:
        candidates = [name]
    else:
        cloud = named(all_clouds)[name]
        first = [cloud.identity_region] if any(_is_identity(t) for t in types) else []
        candidates = first + [r for r in cloud.regions if r not in first]
    for r in candidates:
        for t in types:
            if (r, t, iface) in by_key:
                return (r, t, iface)
    return None


def _backend(name: str, e: CatalogEntry, here: str, servers: list[str], here_prefix: str,
             ports: dict[str, int]) -> Backend:
    health = HEALTH_PATH.get(e.type, HEALTH_DEFAULT)
    if e.owner == here:
        port = ports.get(e.type) or _service_port(e.type) or _url_parts(e.url)[2]
        return Backend(name, e.region, e.type, e.interface, True, tuple(Server(h, port) for h in servers), health)
    scheme, host, port, prefix, netloc = _url_parts(e.url)
    rewrite = prefix != here_prefix
    return Backend(name, e.region, e.type, e.interface, False, (Server(host, port, scheme == "https"),),
                   _join(prefix, health) if rewrite else health, netloc,
                   here_prefix if rewrite else None, prefix if rewrite else None)


def _join(prefix: str, path: str) -> str:
    return prefix.rstrip("/") + path if prefix != "/" else path


def _tracked(backends: list[Backend]) -> tuple[Backend, ...]:
    """Backends with the same servers and check share one health check (``track``)."""
    first: dict[tuple[object, ...], str] = {}
    out = []
    for b in backends:
        key = (b.servers, b.health_path, b.host_header)
        if key in first:
            b = Backend(b.name, b.region, b.type, b.interface, b.local, b.servers, b.health_path, b.host_header,
                        b.path_from, b.path_to, first[key])
        else:
            first[key] = b.name
        out.append(b)
    return tuple(out)
