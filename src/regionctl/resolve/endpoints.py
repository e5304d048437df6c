"""Every region's endpoint URLs, derived from site.yaml (pure).

Validation uses it to find malformed and doubly-claimed URLs; the catalog turns it into the
desired catalog. Identity endpoints are repeated in every region, all pointing at the one
Keystone, because a client looks identity up in its own region (REFERENCE 1).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from regionctl.openstack.services import INTERFACES, SERVICES, CatalogType, IDENTITY_SERVICE
from regionctl.site.load import LoadedSite
from regionctl.site.model import Region, Site

Loc = tuple[str, ...]
PLACEHOLDERS = {"name", "type", "port", "service", "region"}


@dataclass(frozen=True)
class Endpoint:
    region: str
    service: str  # regionctl's service name (nova)
    type: str  # catalog type (compute)
    name: str  # catalog service name (nova)
    interface: str
    url: str
    loc: Loc  # where in site.yaml the URL comes from
    shared: bool = False  # an identity endpoint repeated from the identity region

    @property
    def key(self) -> tuple[str, str, str, str]:
        """An endpoint's identity in the catalog: (type, name, interface, region)."""
        return (self.type, self.name, self.interface, self.region)


@dataclass(frozen=True)
class UrlProblem:
    loc: Loc
    message: str


def check_url(url: str) -> str | None:
    """None when ``url`` is a usable endpoint URL, else what is wrong with it."""
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[::1": an unclosed IPv6 literal
        return f"'{url}' is not a valid URL (an unclosed '[' of an IPv6 address?)"
    if parts.scheme not in ("http", "https"):
        return f"'{url}' is not an http(s) URL"
    try:
        parts.port
    except ValueError:
        return f"'{url}' has an invalid port"
    if not parts.hostname:
        return f"'{url}' has no host"
    if "@" in parts.netloc:
        return (f"'{url}' has credentials in it: a catalog URL is public to every user; "
                "remove the user:password@ part")
    if any(c.isspace() for c in url):
        return f"'{url}' contains whitespace"
    return None


def address_url(address: str, ct: CatalogType, service: str, region: str) -> tuple[str | None, str | None]:
    """The URL of ``ct`` at a region ``address`` (base URL, host/VIP, or template)."""
    if "{" in address:
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(address) if f is not None}
        except ValueError as exc:
            return None, f"'{address}' is not a valid template ({exc})"
        unknown = fields - PLACEHOLDERS
        if unknown:
            return None, (f"'{address}' uses unknown placeholder {{{sorted(unknown)[0]}}}: "
                          f"use {', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))}")
        try:
            base = address.format(name=ct.name, type=ct.type, port=ct.port, service=service, region=region)
        except (ValueError, AttributeError, IndexError, KeyError, TypeError):
            return None, f"'{address}' is not a valid template: use plain {{name}}-style placeholders"
        if "://" not in base:
            base = "http://" + base
        url = base.rstrip("/") + ct.path
    else:
        base = address if "://" in address else "http://" + address
        try:
            parts = urlsplit(base)
            has_port = parts.port is not None
        except ValueError:
            return None, check_url(base) or f"'{address}' has an invalid port"
        if has_port or parts.path not in ("", "/"):
            return None, (f"'{address}': a base address takes no port or path (each service adds its own); "
                          "use a template such as 'https://{name}.example.com' or per-service urls")
        url = f"{base.rstrip('/')}:{ct.port}{ct.path}"
    problem = check_url(url)
    return (None, problem) if problem else (url, None)


def _region_addresses(region: Region) -> dict[str, tuple[str, Loc]]:
    a = region.addresses
    if a is None:
        return {}
    out: dict[str, tuple[str, Loc]] = {"public": (a.public, ("addresses", "public"))}
    out["internal"] = (a.internal, ("addresses", "internal")) if a.internal else out["public"]
    if a.admin:
        out["admin"] = (a.admin, ("addresses", "admin"))
    return out


def own_endpoints(site: Site) -> tuple[list[Endpoint], list[UrlProblem]]:
    """Each region's endpoints for the services it runs (identity only in its own region)."""
    endpoints: list[Endpoint] = []
    problems: list[UrlProblem] = []
    for rname, region in site.regions.items():
        rloc: Loc = ("regions", rname)
        addrs = _region_addresses(region)
        for sname in region.services:
            svc = SERVICES.get(sname)
            if svc is None:
                continue
            spec = region.spec(sname)
            for ct in catalog_types(sname, spec.catalog):
                override = spec.urls.get(ct.type)
                oloc = rloc + ("services", sname, "urls", ct.type)
                per_iface: dict[str, tuple[str | None, str | None, Loc]] = {}
                for iface, (addr, aloc) in addrs.items():
                    url, why = address_url(addr, ct, sname, rname)
                    per_iface[iface] = (url, why, rloc + aloc)
                if isinstance(override, str):
                    ifaces = list(addrs) or ["public", "internal"]
                    for iface in ifaces:
                        per_iface[iface] = (override, check_url(override), oloc)
                elif isinstance(override, dict):
                    for iface, url in override.items():
                        per_iface[iface] = (url, check_url(url), oloc + (iface,))
                for iface in INTERFACES:
                    if iface not in per_iface:
                        continue
                    url, why, loc = per_iface[iface]
                    if why:
                        problems.append(UrlProblem(loc, why))
                    elif url:
                        endpoints.append(Endpoint(rname, sname, ct.type, ct.name, iface, url, loc))
    unique = {(p.loc, p.message): p for p in problems}
    return endpoints, list(unique.values())


def catalog_types(service: str, chosen: list[str] | None) -> list[CatalogType]:
    svc = SERVICES[service]
    if chosen is None:
        return list(svc.catalog)
    return [ct for t in chosen if (ct := svc.catalog_type(t)) is not None]


def all_endpoints(site: Site) -> list[Endpoint]:
    """Own endpoints plus each cloud's identity endpoints repeated in every other region of that cloud."""
    own, _ = own_endpoints(site)
    copies: list[Endpoint] = []
    for cloud in site.cloud_names():
        ids = site.identity_regions(cloud)
        if len(ids) != 1:
            continue
        identity = [e for e in own if e.region == ids[0] and e.service == IDENTITY_SERVICE]
        copies += [Endpoint(r, e.service, e.type, e.name, e.interface, e.url, e.loc, shared=True)
                   for r in site.regions_of(cloud) if r != ids[0] for e in identity]
    return own + copies


def site_endpoints(loaded: LoadedSite) -> list[Endpoint]:
    """Every region's endpoints (identity repeated in each), derived once per load."""
    found = loaded.memo.get("endpoints")
    if found is None:
        found = loaded.memo["endpoints"] = all_endpoints(loaded.site) if loaded.site is not None else []
    return found  # type: ignore[no-any-return]


def endpoints_by_region(loaded: LoadedSite) -> dict[str, list[Endpoint]]:
    """:func:`site_endpoints` by region, derived once per load."""
    found = loaded.memo.get("endpoints_by_region")
    if found is None:
        found = {}
        for e in site_endpoints(loaded):
            found.setdefault(e.region, []).append(e)
        loaded.memo["endpoints_by_region"] = found
    return found  # type: ignore[no-any-return]


def identity_urls(loaded: LoadedSite, region: str | None = None) -> dict[str, str]:
    """The URLs per interface of the Keystone ``region`` uses (default: the first cloud's), as
    registered in its identity region."""
    assert loaded.site is not None
    home = loaded.site.identity_region(region)
    return {e.interface: e.url for e in site_endpoints(loaded) if e.type == "identity" and e.region == home}


def unversioned(url: str) -> str:
    """A Keystone URL without its ``/v3``: what ``auth_url`` and kolla's ``keystone_*_url`` take."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith("/v3"):
        path = path[:-3]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
