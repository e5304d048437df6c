"""Live catalog(s) -> a site directory, so an existing deployment can be adopted (pure core).

Addresses are inferred where URLs follow a pattern the site can express (``http://HOST`` with
each service's default port and path, or a ``https://{name}.example.com`` template); every
other URL becomes a per-service override, so a plan right after import shows no changes for
anything the site model can describe. What it cannot describe (unknown service types, a service
registered under another name, identity endpoints that differ between regions, a second
Keystone when several clouds are merged) is reported as a warning, never silently dropped.

Secrets cannot be read from Keystone: each region gets a ``secrets.yaml`` with the keys it
needs and empty values, which ``validate`` accepts and ``render`` reports as missing.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml import YAML

from regionctl.catalog.model import INTERFACE_ORDER, Catalog, Endpoint, Region
from regionctl.errors import UserError
from regionctl.fileio import write_dir_atomic
from regionctl.openstack.services import IDENTITY_SERVICE, SERVICES, CatalogType
from regionctl.site import layout
from regionctl.resolve.endpoints import address_url

IDENTITY_TYPE = "identity"


@dataclass
class Imported:
    """The files of the new site, and everything the site could not say exactly."""

    files: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    regions: int = 0
    endpoints: int = 0


@dataclass
class _RegionData:
    region: Region
    # service -> catalog type -> interface -> url
    services: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)


def _known(e: Endpoint) -> tuple[str, CatalogType] | None:
    for sname, svc in SERVICES.items():
        for ct in svc.all_types():
            if ct.type == e.type and ct.name == e.name:
                return sname, ct
    return None


def _host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _identity_region(cat: Catalog) -> tuple[str | None, dict[str, str]]:
    """Which region hosts Keystone, and its identity URL per interface.

    The identity URLs registered in most regions are the shared Keystone's. Among the regions
    holding them: the one whose own services share the identity host (seed 001: RegionOne),
    then one running nothing else (seed 003: AR), then a root region, then the first listed.
    """
    ident = [e for e in cat.endpoints if e.type == IDENTITY_TYPE and e.region]
    if not ident:
        return None, {}
    regions = [r.id for r in cat.regions if any(e.region == r.id for e in ident)]
    regions += sorted({e.region for e in ident} - set(regions))

    def urls(rid: str) -> dict[str, str]:
        return {e.interface: e.url for e in ident if e.region == rid}

    shared = Counter(frozenset(urls(rid).items()) for rid in regions)

    def score(rid: str) -> tuple[int, int, int, int]:
        hosts = {_host_of(u) for u in urls(rid).values()}
        own = [e for e in cat.endpoints if e.region == rid and e.type != IDENTITY_TYPE]
        shares = any(_host_of(e.url) in hosts for e in own)
        region = cat.region(rid)
        root = region is not None and region.parent is None
        return (shared[frozenset(urls(rid).items())], 1 if shares else 0, 1 if not own else 0, 1 if root else 0)

    best = max(regions, key=lambda rid: (score(rid), -regions.index(rid)))
    return best, urls(best)


def _candidates(url: str, ct: CatalogType) -> list[str]:
    """Address strings that would generate ``url`` for ``ct``: a base URL, or a {name} template."""
    try:
        parts = urlsplit(url)
        parts.port
    except ValueError:
        return []
    if "{" in url or "}" in url or not parts.hostname or parts.query or parts.fragment:
        return []
    out = []
    host, _, port = parts.netloc.rpartition(":") if parts.port is not None else (parts.netloc, "", "")
    if parts.port == ct.port and parts.path == ct.path:
        out.append(f"{parts.scheme}://{host}")
    if ct.path and not url.endswith(ct.path):
        return out
    prefix = url[: len(url) - len(ct.path)]
    p = urlsplit(prefix)
    if p.path or prefix.endswith("/"):
        return out  # a template carries scheme, host and port only
    labels = host.split(".")
    if ct.name in labels:
        templated = ".".join("{name}" if label == ct.name else label for label in labels)
        out.append(f"{parts.scheme}://{templated}" + (f":{port}" if port else ""))
    return out


def _best_address(entries: list[tuple[str, CatalogType, str]], region: str) -> str | None:
    """The address explaining most of ``entries`` (service, type, url); base URLs win ties."""
    votes: Counter[str] = Counter()
    for sname, ct, url in entries:
        for cand in _candidates(url, ct):
            gen, _ = address_url(cand, ct, sname, region)
            if gen == url:
                votes[cand] += 1
    if not votes:
        return None
    return max(votes, key=lambda a: (votes[a], "{" not in a))


def site_from_catalogs(sources: list[tuple[str, Catalog]]) -> Imported:
    """Merge one or more live catalogs (label, catalog) into the files of one site.

    Catalogs of one Keystone merge into one cloud; catalogs of several Keystones (each with its
    own identity endpoints) become a site of several clouds, each named after its label
    (``cloud 'NAME'``: the clouds.yaml entry, which becomes the cloud's ``os_cloud``).
    """
    if not sources:
        raise UserError("nothing to import: give at least one cloud")
    warnings: list[str] = []
    groups: list[tuple[frozenset[str], list[tuple[str, Catalog]]]] = []
    for label, cat in sources:
        urls = frozenset(_identity_region(cat)[1].values())
        group = next((g for g in groups if urls and g[0] == urls), None) if urls else (groups[0] if groups else None)
        if group is None:
            groups.append((urls, [(label, cat)]))
        else:
            group[1].append((label, cat))
    if len(groups) == 1:
        regions: dict[str, _RegionData] = {}
        identity_region, n = _collect(sources, warnings, regions)
        return Imported(_files(regions, {identity_region} if identity_region else set(), warnings), warnings,
                        len(regions), n)
    every: dict[str, _RegionData] = {}
    identities: set[str] = set()
    clouds: dict[str, str] = {}  # cloud name -> its clouds.yaml entry
    cloud_of: dict[str, str] = {}
    total = 0
    for i, (_, members) in enumerate(groups, 1):
        entry = _entry_of(members[0][0])
        name = entry if entry and _NAME.match(entry) else f"cloud{i}"
        clouds[name] = entry or name
        mine: dict[str, _RegionData] = {}
        identity_region, n = _collect(members, warnings, mine)
        total += n
        for rid, data in mine.items():
            if rid in every:
                warnings.append(f"region '{rid}' is in the catalogs of clouds '{cloud_of[rid]}' and '{name}': a site "
                                f"declares a region once, so it stays in '{cloud_of[rid]}'")
                continue
            every[rid], cloud_of[rid] = data, name
        if identity_region:
            identities.add(identity_region)
    return Imported(_files(every, identities, warnings, clouds, cloud_of), warnings, len(every), total)


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _entry_of(label: str) -> str | None:
    """The clouds.yaml entry in a label such as ``cloud 'a'``."""
    m = re.fullmatch(r"cloud '(.+)'", label)
    return m.group(1) if m else None


def _collect(sources: list[tuple[str, Catalog]], warnings: list[str],
             regions: dict[str, _RegionData]) -> tuple[str | None, int]:
    """Merge the catalogs of one Keystone into ``regions``: (its identity region, endpoints imported)."""
    identity_region: str | None = None
    identity_urls: dict[str, str] = {}
    n_endpoints = 0
    for label, cat in sources:
        src_id_region, src_id_urls = _identity_region(cat)
        for r in cat.regions:
            have = regions.get(r.id)
            if have is None:
                regions[r.id] = _RegionData(Region(r.id, r.description, r.parent))
            elif (have.region.description, have.region.parent) != (r.description, r.parent):
                warnings.append(f"region '{r.id}' differs in {label} (description or parent): kept the first")
        if src_id_region is None:
            warnings.append(f"{label}: no identity endpoints in the catalog: its Keystone is not in the site")
        elif identity_region is None:
            identity_region, identity_urls = src_id_region, src_id_urls
        elif src_id_urls != identity_urls:
            warnings.append(f"{label} has its own Keystone ({', '.join(sorted(set(src_id_urls.values())))}, "
                            f"region '{src_id_region}'): a site shares one Keystone, so its regions get "
                            f"'{identity_region}''s identity endpoints")
        for e in cat.endpoints:
            if not e.region:
                warnings.append(f"{label}: endpoint {e.type}/{e.name} {e.interface} {e.url} has no region: skipped")
                continue
            if e.region not in regions:
                regions[e.region] = _RegionData(Region(e.region))
            if e.type == IDENTITY_TYPE:
                if e.region == src_id_region and src_id_region == identity_region:
                    pass  # recorded below as the identity region's keystone service
                else:
                    continue  # the site repeats the identity region's endpoints everywhere
            known = _known(e)
            if known is None:
                same_type = [s for s, svc in SERVICES.items() if any(c.type == e.type for c in svc.all_types())]
                why = (f"registered as '{e.name}', the site's {same_type[0]} uses "
                       f"'{next(c.name for c in SERVICES[same_type[0]].all_types() if c.type == e.type)}'"
                       if same_type else "a service type regionctl does not know")
                warnings.append(f"region '{e.region}': {e.type}/{e.name} {e.interface} {e.url}: {why}: not imported")
                continue
            if not e.enabled:
                warnings.append(f"endpoint {e.label()} is disabled in Keystone: the site enables it")
            sname, ct = known
            ifaces = regions[e.region].services.setdefault(sname, {}).setdefault(ct.type, {})
            if e.interface in ifaces and ifaces[e.interface] != e.url:
                warnings.append(f"endpoint {e.label()} has several URLs ({ifaces[e.interface]}, {e.url}): "
                                "kept the first; 'catalog apply --prune' removes the others")
                continue
            if e.interface not in ifaces:
                ifaces[e.interface] = e.url
                n_endpoints += 1
        if identity_region is not None:
            for r in cat.regions:
                if r.id == identity_region:
                    continue
                there = {e.interface: e.url for e in cat.endpoints if e.region == r.id and e.type == IDENTITY_TYPE}
                if there and there != identity_urls and src_id_urls == identity_urls:
                    warnings.append(f"region '{r.id}': identity endpoints differ from '{identity_region}''s: "
                                    "the site repeats the identity region's, so plan will update them")
                elif not there and src_id_urls == identity_urls:
                    warnings.append(f"region '{r.id}' has no identity endpoints: the site registers them in "
                                    "every region, so plan will create them")
    return identity_region, n_endpoints


def _generated(addresses: dict[str, str], ct: CatalogType, service: str, region: str) -> dict[str, str]:
    """The URLs the site derives from a region's addresses (internal defaults to public)."""
    effective = dict(addresses)
    if "public" in effective:
        effective.setdefault("internal", effective["public"])
    out = {}
    for iface, addr in effective.items():
        url, _ = address_url(addr, ct, service, region)
        if url:
            out[iface] = url
    return out


def _region_yaml(data: _RegionData, identity: bool, warnings: list[str]) -> dict[str, Any]:
    rid = data.region.id
    out: dict[str, Any] = {}
    if data.region.description:
        out["description"] = data.region.description
    if data.region.parent:
        out["parent"] = data.region.parent
    entries = {iface: [(s, SERVICES[s].catalog_type(t), url)
                       for s, types in data.services.items() for t, by in types.items()
                       for i, url in by.items() if i == iface]
               for iface in INTERFACE_ORDER}
    all_types = [(s, t) for s, types in data.services.items() for t in types]
    addresses: dict[str, str] = {}
    regular = bool(all_types) and all({"public", "internal"} <= set(data.services[s][t]) for s, t in all_types)
    if regular:
        public = _best_address([(s, c, u) for s, c, u in entries["public"] if c], rid)
        if public:
            addresses["public"] = public
            internal = _best_address([(s, c, u) for s, c, u in entries["internal"] if c], rid)
            if internal and internal != public:
                addresses["internal"] = internal  # otherwise internal defaults to public
            if all("admin" in data.services[s][t] for s, t in all_types):
                admin = _best_address([(s, c, u) for s, c, u in entries["admin"] if c], rid)
                if admin:
                    addresses["admin"] = admin
    if addresses:
        out["addresses"] = addresses
    services: dict[str, Any] = {}
    if identity:
        services[IDENTITY_SERVICE] = None
    for sname in SERVICES:
        types = data.services.get(sname)
        if not types:
            continue
        spec: dict[str, Any] = {}
        default = [c.type for c in SERVICES[sname].catalog]
        chosen = [c.type for c in SERVICES[sname].all_types() if c.type in types]
        if chosen != default:
            spec["catalog"] = chosen
        urls: dict[str, Any] = {}
        for ct_type in chosen:
            ct = SERVICES[sname].catalog_type(ct_type)
            assert ct is not None
            want = types[ct_type]
            generated = _generated(addresses, ct, sname, rid)
            diff = {i: u for i, u in want.items() if generated.get(i) != u}
            missing = [i for i in generated if i not in want]
            for i in missing:
                warnings.append(f"region '{rid}': {ct.type} has no {i} endpoint: the site's address gives it one")
            if not diff:
                continue
            ordered = {i: diff[i] for i in INTERFACE_ORDER if i in diff}
            if addresses and set(ordered) == set(generated) and len(set(ordered.values())) == 1:
                urls[ct_type] = next(iter(ordered.values()))
            else:
                urls[ct_type] = ordered
        if urls:
            spec["urls"] = urls
        services[sname] = spec or None
    out["services"] = services
    return out


def _files(regions: dict[str, _RegionData], identities: set[str], warnings: list[str],
           clouds: dict[str, str] | None = None, cloud_of: dict[str, str] | None = None) -> dict[str, str]:
    from regionctl.check.site import valid_region_name

    site: dict[str, Any] = {"format": 1, "service_users": "shared", "regions": {}}
    if clouds:
        site = {"format": 1, "service_users": "shared",
                "clouds": {name: {"os_cloud": entry} for name, entry in clouds.items()}, "regions": {}}
    ordered = _parents_first(list(regions.values()))
    for data in ordered:
        rid = data.region.id
        if not valid_region_name(rid):
            warnings.append(f"region '{rid}' is not a name the site accepts (letters, digits, '.', '_', '-'): "
                            "validate will report it")
        site["regions"][rid] = _region_yaml(data, rid in identities, warnings)
        if cloud_of:
            site["regions"][rid] = {"cloud": cloud_of[rid], **site["regions"][rid]}
    header = ("# Imported from the live Keystone catalog by 'regionctl catalog import'.\n"
              "# Not in any catalog, so not imported: horizon, infra (database, messaging, memcached), release.\n"
              "# Check it with 'regionctl validate', compare it with 'regionctl catalog plan'.\n")
    files = {layout.SITE_FILE: header + _dump(site)}
    for data in ordered:
        rid = data.region.id
        if not valid_region_name(rid):
            continue
        secrets = _secrets(data, rid in identities)
        if secrets:
            files[layout.secrets_file(rid).rel] = secrets
    return files


def _parents_first(items: list[_RegionData]) -> list[_RegionData]:
    by_id = {d.region.id: d for d in items}
    out: list[_RegionData] = []
    placed: set[str] = set()

    def place(d: _RegionData, path: frozenset[str]) -> None:
        if d.region.id in placed or d.region.id in path:
            return
        parent = d.region.parent
        if parent in by_id:
            place(by_id[parent], path | {d.region.id})
        if d.region.id not in placed:
            placed.add(d.region.id)
            out.append(d)

    for d in items:
        place(d, frozenset())
    return out


def _secrets(data: _RegionData, identity: bool) -> str | None:
    runs = [s for s in SERVICES if s in data.services or (identity and s == IDENTITY_SERVICE)]
    users = [SERVICES[s].user for s in runs if SERVICES[s].user]
    dbs = [SERVICES[s].database for s in runs if SERVICES[s].database]
    if not users and not dbs:
        return None
    lines = [f"# {data.region.id}'s secrets: Keystone does not give them out, so fill them in here.",
             "# Empty values pass 'validate'; 'render' reports each one still missing.",
             "passwords:"]
    if identity:
        lines.append("  keystone_admin:")
    if users:
        lines.append("  service_users:          # shared users: the same password in every region")
        lines += [f"    {u}:" for u in users]
    if dbs:
        lines.append("  databases:")
        lines += [f"    {d}:" for d in dbs]
    if users:
        lines.append("  messaging:")
    return "\n".join(lines) + "\n"


def _dump(data: dict[str, Any]) -> str:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def write_site(target: Path, files: dict[str, str]) -> None:
    """Write the site whole or not at all."""
    write_dir_atomic(target, files, "import", "choose a new directory with -o")
