"""Validation checks: pure functions from a loaded site to problems.

Each check says what is wrong, where (FILE:LINE) and what to do. ``validate`` runs them all;
checks that need a usable model are skipped when site.yaml itself is broken.
"""

from __future__ import annotations

import difflib
import re
from typing import Callable, Iterable

from regionctl.check.deployers import check_genestack_dirs, check_helm_placement, check_kolla
from regionctl.openstack.deployers import KOLLA_KEY
from regionctl.check.router import check_routers
from regionctl.openstack.charts import chart_keys
from regionctl.openstack.options import release_key
from regionctl.openstack.services import IDENTITY_SERVICE, INFRA_PORTS, SERVICES, conf_keys
from regionctl.openstack.wiring import infra_needed
from regionctl.patches.validate import check_patches
from regionctl.site import layout
from regionctl.resolve.endpoints import own_endpoints, site_endpoints
from regionctl.site.load import LoadedSite
from regionctl.site.problems import Problem, error, sort_problems, warning
from regionctl.site.provenance import Branch, Tree, Value, branch, multistring, origin_of, walk
from regionctl.site.secrets import mask_text, secret_path, url_has_password

#: Keystone takes 1..255 characters; the name also becomes a directory and a URL path segment.
REGION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
REGION_NAME_MAX = 255


def check_all(loaded: LoadedSite, render: bool = False) -> list[Problem]:
    """The site checks; ``render=True`` adds what only rendering needs (secrets, dependencies,
    infrastructure hosts), which the catalog commands do without."""
    problems = list(loaded.problems)
    problems += check_values_files(loaded)
    if loaded.site is not None:
        for check in SITE_CHECKS + (RENDER_CHECKS if render else []):
            problems += check(loaded)
    return sort_problems(problems)


def _hint(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# ---- site.yaml ---------------------------------------------------------------------------------


def valid_region_name(name: str) -> bool:
    return len(name) <= REGION_NAME_MAX and REGION_NAME.match(name) is not None


def check_region_names(loaded: LoadedSite) -> list[Problem]:
    out = []
    assert loaded.site is not None
    for name in loaded.site.regions:
        line = loaded.line("regions", name)
        if len(name) > REGION_NAME_MAX:
            out.append(error(loaded.site_file, line, f"region name is {len(name)} characters: Keystone accepts at most {REGION_NAME_MAX}"))
        elif not REGION_NAME.match(name):
            out.append(error(loaded.site_file, line,
                             f"region name '{name}' is not a usable Keystone region ID: use letters, digits, '.', '_' and '-' "
                             "(it becomes a URL path segment and a directory name)"))
    if not loaded.site.regions:
        out.append(error(loaded.site_file, loaded.line("regions"), "no regions declared: add at least one under 'regions:'"))
    return out


def check_parents(loaded: LoadedSite) -> list[Problem]:
    site = loaded.site
    assert site is not None
    out = []
    for name, region in site.regions.items():
        if region.parent is None:
            continue
        line = loaded.line("regions", name, "parent")
        if region.parent == name:
            out.append(error(loaded.site_file, line, f"region '{name}' is its own parent: remove 'parent'"))
        elif region.parent not in site.regions:
            out.append(error(loaded.site_file, line,
                             f"parent region '{region.parent}' of '{name}' is not declared{_hint(region.parent, site.regions)}: "
                             "declare it under 'regions:' or fix the name"))
    reported: set[frozenset[str]] = set()
    for start in site.regions:
        seen: list[str] = []
        node: str | None = start
        while node is not None and node in site.regions and node not in seen:
            seen.append(node)
            node = site.regions[node].parent
        if node is not None and node in seen and node != site.regions[node].parent:
            cycle = seen[seen.index(node):]
            key = frozenset(cycle)
            if key in reported:
                continue
            reported.add(key)
            first = min(cycle, key=lambda r: loaded.line("regions", r, "parent"))
            path = " -> ".join(cycle[cycle.index(first):] + cycle[: cycle.index(first)] + [first])
            out.append(error(loaded.site_file, loaded.line("regions", first, "parent"),
                             f"parent regions form a cycle: {path}: break it by removing one 'parent'"))
    return out


def check_services(loaded: LoadedSite) -> list[Problem]:
    site = loaded.site
    assert site is not None
    out = []
    for rname, region in site.regions.items():
        for sname, spec in region.services.items():
            line = loaded.line("regions", rname, "services", sname)
            svc = SERVICES.get(sname)
            if svc is None:
                out.append(error(loaded.site_file, line,
                                 f"unknown service '{sname}'{_hint(sname, SERVICES)}: known services are {', '.join(SERVICES)}"))
                continue
            if spec is None:
                continue
            known = [c.type for c in svc.all_types()]
            for t in spec.catalog or []:
                if t not in known:
                    out.append(error(loaded.site_file, loaded.line("regions", rname, "services", sname, "catalog"),
                                     f"{sname} registers no catalog type '{t}'{_hint(t, known)}: choose from {', '.join(known)}"))
            for t in spec.urls:
                if t not in known:
                    out.append(error(loaded.site_file, loaded.line("regions", rname, "services", sname, "urls", t),
                                     f"{sname} has no catalog type '{t}'{_hint(t, known)}: urls are keyed by {', '.join(known)}"))
    return out


def check_identity(loaded: LoadedSite) -> list[Problem]:
    """Exactly one region runs keystone in each cloud (the site is one cloud where it declares none)."""
    site = loaded.site
    assert site is not None
    if not site.regions:
        return []
    out = []
    for cloud in site.cloud_names():
        members = site.regions_of(cloud)
        hosts = site.identity_regions(cloud)
        if not site.clouds and not hosts:
            out.append(error(loaded.site_file, loaded.line("regions"), "no region runs keystone: add 'keystone:' to "
                             "the services of the region hosting the shared Keystone"))
        elif not hosts and members:
            out.append(error(loaded.site_file, loaded.line("clouds", cloud),
                             f"no region of cloud '{cloud}' runs keystone: add 'keystone:' to the services of the "
                             f"region hosting its Keystone ({', '.join(members)})"))
        elif not hosts:
            out.append(error(loaded.site_file, loaded.line("clouds", cloud),
                             f"cloud '{cloud}' has no region: name it in a region's 'cloud:', or remove it"))
        shared = "every region" if not site.clouds else f"every region of cloud '{cloud}'"
        for extra in hosts[1:]:
            out.append(error(loaded.site_file, loaded.line("regions", extra, "services", IDENTITY_SERVICE),
                             f"keystone runs in both '{hosts[0]}' and '{extra}': one Keystone is shared by {shared}; "
                             "remove it from all but one"))
    return out


def check_clouds(loaded: LoadedSite) -> list[Problem]:
    """Every region names a declared cloud where the site declares clouds, and a parent in its own."""
    site = loaded.site
    assert site is not None
    out = []
    for rname, region in site.regions.items():
        line = loaded.line("regions", rname, "cloud") or loaded.line("regions", rname)
        if region.cloud is None and site.clouds:
            out.append(error(loaded.site_file, line, f"region '{rname}' names no cloud: add 'cloud:' with one of "
                             f"{', '.join(site.clouds)}"))
        elif region.cloud is not None and region.cloud not in site.clouds:
            where = ("the site declares no clouds: declare it under 'clouds:'" if not site.clouds
                     else f"declare it under 'clouds:' or use one of {', '.join(site.clouds)}")
            out.append(error(loaded.site_file, line, f"cloud '{region.cloud}' of region '{rname}' is not declared"
                             f"{_hint(region.cloud, site.clouds)}: {where}"))
        elif region.parent in site.regions and site.cloud_of(region.parent) != site.cloud_of(rname):
            out.append(error(loaded.site_file, loaded.line("regions", rname, "parent"),
                             f"parent region '{region.parent}' of '{rname}' is in cloud '{site.cloud_of(region.parent)}', "
                             f"'{rname}' in '{site.cloud_of(rname)}': a parent lives in its child's Keystone; "
                             "choose a parent of the same cloud"))
    return out


def check_addresses(loaded: LoadedSite) -> list[Problem]:
    site = loaded.site
    assert site is not None
    own, url_problems = own_endpoints(site)
    out = [error(loaded.site_file, loaded.line(*p.loc), f"{'.'.join(p.loc)}: {p.message}: fix the URL") for p in url_problems]
    broken = {p.loc[:2] for p in url_problems}
    have = {(e.region, e.service) for e in own}
    for rname, region in site.regions.items():
        for sname in region.services:
            svc = SERVICES.get(sname)
            if svc is None or not svc.catalog or (rname, sname) in have or ("regions", rname) in broken:
                continue
            chosen = region.spec(sname).catalog
            if chosen is not None and not any(svc.catalog_type(t) for t in chosen):
                continue  # no catalog type it knows: reported by check_services
            out.append(error(loaded.site_file, loaded.line("regions", rname, "services", sname),
                             f"region '{rname}' runs {sname} but has no address for it: "
                             f"add regions.{rname}.addresses.public, or services.{sname}.urls"))
    return out


def check_duplicate_urls(loaded: LoadedSite) -> list[Problem]:
    site = loaded.site
    assert site is not None
    claimed: dict[str, object] = {}
    out = []
    for e in site_endpoints(loaded):
        if e.shared:
            continue
        first = claimed.get(e.url)
        if first is None:
            claimed[e.url] = e
            continue
        f = first  # type: ignore[assignment]
        if f.region == e.region and f.service == e.service:  # type: ignore[attr-defined]
            continue  # one service at one URL on several interfaces, or types (volumev3, block-storage)
        who = f"region '{f.region}' ({f.type} {f.interface})"  # type: ignore[attr-defined]
        out.append(error(loaded.site_file, loaded.line(*e.loc),
                         f"{e.url} is claimed by {who} and by region '{e.region}' ({e.type} {e.interface}): "
                         "every endpoint needs its own URL; fix the address"))
    return out


def check_region_dirs(loaded: LoadedSite) -> list[Problem]:
    site = loaded.site
    assert site is not None
    out = []
    for d in loaded.region_dirs:
        if d not in site.regions:
            out.append(error(loaded.shown(f"{layout.REGIONS_DIR}/{d}"), 0,
                             f"directory of region '{d}', which site.yaml does not declare{_hint(d, site.regions)}: "
                             "declare the region or remove the directory"))
    return out


def check_secrets_files(loaded: LoadedSite) -> list[Problem]:
    """Each region running a service with a user or a database has its secrets file."""
    site = loaded.site
    assert site is not None
    out = []
    for rname, region in site.regions.items():
        if not valid_region_name(rname):
            continue  # reported by check_region_names; not usable as a directory name
        needs = [s for s in region.services if (svc := SERVICES.get(s)) and (svc.user or svc.database)]
        if not needs:
            continue
        secrets = layout.secrets_file(rname).rel
        if secrets not in loaded.layers and not loaded.paths.path(secrets).exists():
            out.append(error(loaded.site_file, loaded.line("regions", rname),
                             f"region '{rname}' runs {', '.join(needs)} but has no {secrets}: "
                             "its passwords and credentials live there; create it"))
    return out


def check_service_files(loaded: LoadedSite) -> list[Problem]:
    """Values files named for a service nobody runs, or no service at all."""
    site = loaded.site
    assert site is not None
    out = []
    names = set(SERVICES) | {layout.GLOBAL, layout.SECRETS}
    for rel in loaded.layers:
        parts = rel.split("/")
        stem = parts[-1][: -len(layout.EXT)]
        if stem not in names:
            out.append(warning(loaded.shown(rel), 0,
                               f"'{parts[-1]}' is not a service's values file{_hint(stem, SERVICES)}; it is ignored: "
                               f"name it global.yaml or one of {', '.join(s + '.yaml' for s in SERVICES)}"))
            continue
        if parts[0] == layout.REGIONS_DIR and stem in SERVICES:
            region = site.regions.get(parts[1])
            if region is not None and not region.runs(stem):
                out.append(warning(loaded.shown(rel), 0,
                                   f"region '{parts[1]}' does not run {stem}; this file is ignored: "
                                   "add the service to the region or remove the file"))
        if parts[0] == layout.VALUES_DIR and stem == layout.SECRETS:
            out.append(error(loaded.shown(rel), 0,
                             "secrets belong to a region: move this file to regions/<region>/secrets.yaml"))
    return out


def check_shared_service_users(loaded: LoadedSite) -> list[Problem]:
    """Shared users have one password: a region with another one resets it for all the others."""
    site = loaded.site
    assert site is not None
    if site.service_users != "shared":
        return []
    out = []
    first: dict[tuple[str, str], tuple[str, Value]] = {}
    for rname in site.regions:
        tree = branch(loaded.layers.get(layout.secrets_file(rname).rel))
        users = branch(branch(tree.get("passwords")).get("service_users"))
        for user, value in users.items():
            if not isinstance(value, Value) or value.value in (None, ""):
                continue
            seen = first.setdefault((site.cloud_of(rname), user), (rname, value))  # one Keystone, one user
            if seen[0] != rname and str(seen[1].value) != str(value.value):
                who = "all regions" if not site.clouds else f"all regions of cloud '{site.cloud_of(rname)}'"
                out.append(warning(value.origin.file, value.origin.line,
                                   f"service user {user} has another password than in region '{seen[0]}' "
                                   f"({seen[1].origin}): users are shared by {who} (service_users: shared), "
                                   "so deploying this region resets the other's; use one password everywhere"))
    return out


def check_dependencies(loaded: LoadedSite) -> list[Problem]:
    """Each service's dependencies are served: by the region itself, or the region its ``uses:`` names."""
    site = loaded.site
    assert site is not None
    out = []
    for rname, region in site.regions.items():
        for dep, other in region.uses.items():
            line = loaded.line("regions", rname, "uses", dep)
            if dep not in SERVICES:
                out.append(error(loaded.site_file, line, f"regions.{rname}.uses: unknown service '{dep}'"
                                 f"{_hint(dep, SERVICES)}: known services are {', '.join(SERVICES)}"))
            elif other not in site.regions:
                out.append(error(loaded.site_file, line, f"regions.{rname}.uses.{dep}: no region '{other}'"
                                 f"{_hint(other, site.regions)}: name a region the site declares"))
            elif region.runs(dep):
                out.append(error(loaded.site_file, line, f"region '{rname}' runs {dep} itself and also uses "
                                 f"region '{other}''s: remove uses.{dep} or the service"))
            elif not site.regions[other].runs(dep):
                out.append(error(loaded.site_file, line, f"regions.{rname}.uses.{dep}: region '{other}' does not run "
                                 f"{dep}: name a region that runs it"))
        for sname in region.services:
            svc = SERVICES.get(sname)
            missing = [d for d in (svc.needs if svc else ()) if not region.runs(d) and d not in region.uses]
            if missing:
                them = " and ".join(missing)
                uses = ", ".join(f"{d}: REGION" for d in missing)
                out.append(error(loaded.site_file, loaded.line("regions", rname, "services", sname),
                                 f"region '{rname}' runs {sname}, which needs {them}, but neither runs "
                                 f"{'it' if len(missing) == 1 else 'them'} nor says which region serves "
                                 f"{'it' if len(missing) == 1 else 'them'}: add {'it' if len(missing) == 1 else 'them'} "
                                 f"to its services, or 'uses: {{{uses}}}'"))
    return out


def check_infra(loaded: LoadedSite) -> list[Problem]:
    """Infra entries are host[:port]; a region whose address is a template must name its infra."""
    site = loaded.site
    assert site is not None
    out = []
    for rname, region in site.regions.items():
        infra = region.infra
        for what in INFRA_PORTS:
            value = getattr(infra, what) if infra else None
            entries = [value] if isinstance(value, str) else list(value or [])
            for i, entry in enumerate(entries):
                loc = ("regions", rname, "infra", what) + ((i,) if not isinstance(value, str) else ())
                why = _host_port_problem(entry)
                if why:
                    out.append(error(loaded.site_file, loaded.line(*loc),
                                     f"regions.{rname}.infra.{what}: {why}: write host or host:port "
                                     f"(e.g. 192.0.2.10:{INFRA_PORTS[what]})"))
        a = region.addresses
        templated = a is not None and "{" in (a.internal or a.public)
        if not templated:
            continue
        needed = sorted({w for s in region.services if s in SERVICES for w in infra_needed(s)}
                        - {w for w in INFRA_PORTS if infra and getattr(infra, w)})
        if needed:
            out.append(error(loaded.site_file, loaded.line("regions", rname, "addresses"),
                             f"region '{rname}' has a template address, so its {' and '.join(needed)} host(s) can't be "
                             f"derived from it: set {', '.join(f'regions.{rname}.infra.{w}' for w in needed)}"))
    return out


_HOST_PORT = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.\-]*)(:[0-9]{1,5})?$")


def _host_port_problem(entry: str) -> str | None:
    if "://" in entry:
        return f"'{mask_text(entry) if url_has_password(entry) else entry}' is a URL, not a host"
    if "@" in entry:
        return "credentials do not belong here (they come from the region's secrets)"
    if not _HOST_PORT.match(entry):
        return f"'{entry}' is not a host or host:port"
    port = entry.rsplit(":", 1)[1] if entry.count(":") == 1 or entry.startswith("[") and "]:" in entry else None
    if port is not None and not 0 < int(port) < 65536:
        return f"'{entry}' has an invalid port"
    return None


def check_catalog_release(loaded: LoadedSite) -> list[Problem]:
    """A catalog type the targeted release no longer serves (cinder's volumev2)."""
    site = loaded.site
    assert site is not None
    if site.release is None:
        return []
    out = []
    for rname, region in site.regions.items():
        for sname in region.services:
            svc = SERVICES.get(sname)
            spec = region.spec(sname)
            for t in spec.catalog or ():
                ct = svc.catalog_type(t) if svc else None
                if ct and ct.removed_in and release_key(site.release) >= release_key(ct.removed_in):
                    out.append(warning(loaded.site_file, loaded.line("regions", rname, "services", sname, "catalog"),
                                       f"{sname} {site.release} serves no {t} API (removed in {ct.removed_in}): "
                                       f"remove {t} from regions.{rname}.services.{sname}.catalog"))
    return out


SITE_CHECKS: list[Callable[[LoadedSite], list[Problem]]] = [
    check_region_names,
    check_parents,
    check_services,
    check_identity,
    check_clouds,
    check_addresses,
    check_duplicate_urls,
    check_region_dirs,
    check_service_files,
    check_shared_service_users,
    check_catalog_release,
    check_routers,
]

#: what only rendering needs (validate and render run them; the catalog commands do not)
RENDER_CHECKS: list[Callable[[LoadedSite], list[Problem]]] = [
    check_secrets_files,
    check_dependencies,
    check_infra,
    check_helm_placement,
    check_kolla,
    check_genestack_dirs,
    check_patches,
]


# ---- values files ------------------------------------------------------------------------------

INI_KEYS = conf_keys()


def check_values_files(loaded: LoadedSite) -> list[Problem]:
    out = []
    for rel, tree in loaded.layers.items():
        secrets = rel.endswith("/" + layout.SECRETS + layout.EXT)
        out += _check_conf_shape(tree)
        out += _check_keys(loaded, rel, tree)
        if not secrets:
            out += _check_plain_secrets(loaded, rel, tree)
        else:
            out += _check_password_types(tree)
    return out


def _check_password_types(tree: Tree) -> list[Problem]:
    """Every password is a string (or a number): ``[1]`` or ``true`` would be rendered as is."""
    out = []
    passwords = tree.get("passwords")
    if isinstance(passwords, Value):
        if passwords.value is not None:
            o = passwords.origin
            out.append(error(o.file, o.line, "passwords: expected a map (passwords: {keystone_admin: ..., ...}), "
                                             "found a single value"))
        return out
    for path, value in walk(branch(passwords), ("passwords",)):
        v = value.value
        if isinstance(v, (list, dict, bool)):
            kind = "true/false" if isinstance(v, bool) else "a list" if isinstance(v, list) else "a map"
            out.append(error(value.origin.file, value.origin.line,
                             f"{'.'.join(path)}: expected a string, found {kind}: quote the password"))
    return out


#: regionctl's own top-level keys of a values file (its secrets map)
OWN_KEYS = frozenset({"passwords", KOLLA_KEY})  # kolla: check/deployers.py


def _charts_of(stem: str) -> list[str]:
    """The charts a values file feeds: its service's, or every chart for global and secrets files."""
    if stem in SERVICES:
        return [stem] if chart_keys(stem) else []
    return [s for s in SERVICES if chart_keys(s)]


def _check_keys(loaded: LoadedSite, rel: str, tree: Tree) -> list[Problem]:
    """Top-level and ``conf:`` keys are the chart's (Helm drops a misspelt one without a word)."""
    stem = rel.rsplit("/", 1)[-1][: -len(layout.EXT)]
    if stem not in SERVICES and stem not in (layout.GLOBAL, layout.SECRETS):
        return []  # not a values file regionctl reads (reported by check_service_files)
    charts = [c for c in (chart_keys(n) for n in _charts_of(stem)) if c is not None]
    if not charts:
        return []
    top = OWN_KEYS | frozenset().union(*(c.top for c in charts))
    own_ini = {f.key for f in SERVICES[stem].files} if stem in SERVICES else set(INI_KEYS)
    conf_known = own_ini | frozenset().union(*(c.conf for c in charts))
    shown = loaded.shown(rel)
    whose = f"the {stem} chart's values" if stem in SERVICES else "no chart's values"
    out = []
    for key, node in tree.items():
        o = origin_of(node)
        line = o.line if o else 0
        if key not in top:
            out.append(error(shown, line, f"unknown top-level key '{key}'{_hint(key, top)}: {whose} have no such key, "
                                          "so Helm and regionctl would ignore it; fix its spelling or remove it"))
    conf = tree.get("conf")
    for fkey, node in (conf.items() if isinstance(conf, dict) else ()):
        o = origin_of(node)
        line = o.line if o else 0
        if fkey in own_ini or (fkey in conf_known and fkey not in INI_KEYS):
            continue
        owner = next((s for s, svc in SERVICES.items() if any(f.key == fkey for f in svc.files)), None)
        if owner is not None:
            out.append(error(shown, line, f"conf.{fkey} is {owner}'s, but this file holds {stem}'s values, so it "
                                          f"would be ignored: move it to {layout.VALUES_DIR}/{owner}{layout.EXT} "
                                          f"(or a region's {owner}{layout.EXT})"))
        else:
            out.append(error(shown, line, f"unknown conf file 'conf.{fkey}'{_hint(fkey, conf_known)}: no chart "
                                          "or service reads it, so it would be ignored; fix its name or remove it"))
    return out


def _check_conf_shape(tree: Tree) -> list[Problem]:
    conf = tree.get("conf")
    out: list[Problem] = []
    if conf is None:
        return out
    if isinstance(conf, Value):
        if conf.value is not None:
            out.append(error(conf.origin.file, conf.origin.line, "conf: expected a map of files (conf: nova: DEFAULT: ...)"))
        return out
    for fkey, sections in conf.items():
        if fkey not in INI_KEYS:
            continue  # openstack-helm has non-INI conf entries (policy, paste, logging): passed through
        if isinstance(sections, Value):
            if sections.value is not None:
                o = sections.origin
                out.append(error(o.file, o.line, f"conf.{fkey}: expected a map of sections (conf.{fkey}.DEFAULT...)"))
            continue
        for sname, options in sections.items():
            if isinstance(options, Value):
                if options.value is not None:
                    out.append(error(options.origin.file, options.origin.line, f"conf.{fkey}.{sname}: expected a map of options, found a single value"))
                continue
            for oname, opt in options.items():
                if isinstance(opt, dict) and multistring(opt) is None:
                    where = origin_of(opt)
                    if where:
                        out.append(error(where.file, where.line,
                                         f"conf.{fkey}.{sname}.{oname}: an option takes a value or a list, not a map "
                                         "(for several values use {type: multistring, values: [...]})"))
    return out


def _check_plain_secrets(loaded: LoadedSite, rel: str, tree: Tree) -> list[Problem]:
    out = []
    parts = rel.split("/")
    target = (f"{layout.REGIONS_DIR}/{parts[1]}/{layout.SECRETS}{layout.EXT}" if parts[0] == layout.REGIONS_DIR
              else f"each region's {layout.REGIONS_DIR}/<region>/{layout.SECRETS}{layout.EXT}")
    for path, value in walk(tree):
        if secret_path(path, value.value):
            out.append(error(value.origin.file, value.origin.line,
                             f"{'.'.join(path)} looks secret but is in a plain values file: move it to {target}"))
    return out


__all__ = ["check_all", "Branch"]
