"""The kolla-ansible renderer: one kolla configuration directory per region (pure).

``OUT/<region>/`` is what ``kolla-ansible --configdir`` reads (seed 003: kolla runs once per
region with ``openstack_region_name`` set):

* ``globals.yml``: the region's name, every region's name on the identity region (kolla's
  Keystone creates them), which services run, the shared Keystone's URLs, the region's VIPs or
  host names, its database. Only variables kolla-ansible defines (tests check the package).
* ``config/``: ``node_custom_config``, merged by kolla over its own templates. Each service's
  options go in ``config/<service>.conf``; nova's are split the way kolla merges them: what
  every nova container shares in ``config/nova.conf``, the controller-only sections in
  ``config/nova/<container>.conf``, what only compute nodes get in ``config/nova/nova-compute.conf``.
  A secret option kolla's own template writes from passwords.yml is left out (kolla writes the
  same value); any other secret stays and makes that file 0600.
* ``passwords.yml``: the region's secrets under kolla's names (0600). It is partial: merge it
  into a full one with ``kolla-mergepwd`` (docs/deploy.md).
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

from regionctl.openstack.deployers import (
    ANY_SECTION,
    KOLLA_ADMIN_PASSWORD,
    KOLLA_CONF_PASSWORDS,
    KOLLA_ENABLE,
    KOLLA_FQDN_PREFIX,
    KOLLA_GLOBAL,
    KOLLA_INVENTORY_GROUPS,
    KOLLA_INVENTORY_OPTIONS,
    KOLLA_KEY,
    KOLLA_PASSWORDS,
    KOLLA_SERVICE_FILE,
    KOLLA_SPLITS,
    KOLLA_TEMPLATE_LISTS,
    KOLLA_TEMPLATE_SECRETS,
    KOLLA_WHEN,
    when_matches,
)
from regionctl.openstack.services import SERVICES
from regionctl.render.paste import scope_paste
from regionctl.render.files import RenderedFile, header
from regionctl.render.ini import render_ini
from regionctl.render.sources import Source, ini_sources
from regionctl.render.yaml import to_yaml
from regionctl.resolve.values import ConfFile, RegionValues
from regionctl.render import patches as patch_sets
from regionctl.site import layout
from regionctl.resolve.endpoints import identity_urls, site_endpoints, unversioned
from regionctl.resolve.kolla import global_files, kolla_values, site_gives_vip
from regionctl.site.load import LoadedSite
from regionctl.site.secrets import is_secret
from regionctl.site.provenance import Branch, Layer, Origin, Tree, Value, bare, branch, lookup, plain, walk

CONFIG_DIR = "config"
PASTE_DIR = "scope-paste"
KOLLA_PASTE_NOTE = ("# kolla-ansible does not copy this file into the containers (its roles template no paste file\n"
                    "# but keystone's): merge it into the image's file when building the image.\n")
Passwords = dict[str, Value]


def render_region(loaded: LoadedSite, values: RegionValues) -> list[RenderedFile]:
    assert loaded.site is not None
    name = values.region
    passwords = kolla_passwords(loaded, values)
    out = [
        RenderedFile(f"{name}/globals.yml", globals_yml(loaded, name, values), False),
        RenderedFile(f"{name}/passwords.yml", passwords_yml(loaded, name, passwords), True,
                     {(var,): Source(v.origin, True) for var, v in passwords.items()}),
    ]
    out += config_files(loaded, values, passwords)
    out += patch_sets.kolla_files(loaded, name, CONFIG_DIR)
    # kolla-ansible's nova, neutron, glance and cinder roles copy no paste file from node_custom_config
    # (its keystone role alone does): the fragments go beside config/, to be built into the images.
    out += [RenderedFile(f"{name}/{PASTE_DIR}/{etc}/{file}", text + KOLLA_PASTE_NOTE, False)
            for etc, file, text in scope_paste(loaded, name)]
    return sorted(out, key=lambda f: f.rel)


# -- passwords.yml ----------------------------------------------------------------------------

def kolla_passwords(loaded: LoadedSite, values: RegionValues) -> Passwords:
    """kolla password variable -> the secret, from the region's secrets (admin: the identity region's)."""
    assert loaded.site is not None
    secrets = loaded.layers.get(layout.secrets_file(values.region).rel, Branch())
    home = loaded.layers.get(layout.secrets_file(loaded.site.identity_region(values.region)).rel, Branch())
    found: Passwords = {}
    for var, path, tree in [(KOLLA_ADMIN_PASSWORD[0], KOLLA_ADMIN_PASSWORD[1], home)] + \
            [(v, p, secrets) for v, p in KOLLA_PASSWORDS]:
        node = lookup(tree, path)
        if isinstance(node, Value) and node.value not in (None, ""):
            found[var] = node
    files = {c.conf_key: c for c in values.files.values()}
    for (key, section, option), var in KOLLA_CONF_PASSWORDS.items():
        tree = files[key].merged.tree if key in files else Branch()
        sections = sorted(tree) if section == ANY_SECTION else [section]
        for s in sections:
            node = lookup(tree, (s, option))
            if isinstance(node, Value) and node.value not in (None, "") and var not in found \
                    and is_secret(("conf", key, s, option), node):
                found[var] = node
    return found


def passwords_yml(loaded: LoadedSite, region: str, passwords: Passwords) -> str:
    head = header(loaded.site_file) + (
        f"# kolla-ansible passwords of region {region}, from its secrets file (keystone_admin_password\n"
        "# from the identity region's). Partial on purpose: merge it over a full kolla-genpwd file with\n"
        "# kolla-mergepwd --old THIS --new FULL --final FULL (docs/deploy.md).\n")
    return head + to_yaml({var: str(passwords[var].value) for var in sorted(passwords)})


# -- globals.yml --------------------------------------------------------------------------------

def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _var(lines: list[str], name: str, value: Any) -> None:
    lines.append(to_yaml({name: value}).rstrip("\n"))


def globals_yml(loaded: LoadedSite, name: str, values: RegionValues | None = None) -> str:
    assert loaded.site is not None
    site = loaded.site
    region = site.regions[name]
    home = site.identity_region(name)
    lines = [header(loaded.site_file).rstrip("\n"),
             f"# kolla-ansible variables of region {name}: kolla-ansible deploy --configdir <this directory>.",
             ""]
    _var(lines, "openstack_region_name", name)
    if name == home:
        lines.append("# Every region of this cloud: this region's Keystone creates each one and its identity")
        lines.append("# endpoints. After adding a region, run this region again (or: regionctl catalog apply).")
        _var(lines, "multiple_regions_names", [home] + [r for r in site.regions_of(site.cloud_of(name)) if r != home])
    lines += ["", "# What this region runs (site.yaml regions." + name + ".services)."]
    for service, var in KOLLA_ENABLE.items():
        _var(lines, var, region.runs(service))
    urls = identity_urls(loaded, name)
    lines += ["", f"# The shared Keystone, in region {home}: every service of every region uses it."]
    for iface, var in (("internal", "keystone_internal_url"), ("public", "keystone_public_url")):
        url = urls.get(iface) or urls.get("public")
        if url:
            _var(lines, var, unversioned(url))  # kolla's templates add no /v3
    own = kolla_values(loaded, name).tree
    lines += ["", f"# Addresses (site.yaml regions.{name}.addresses)."]
    lines += _address_lines(loaded, name, own)
    lines += _infra_lines(loaded, name)
    if values is not None:
        lines += _when_lines(values)
    lines += _site_lines(loaded, name, own)
    return "\n".join(lines) + "\n"


def _when_lines(values: RegionValues) -> list[str]:
    """kolla's backend switches the site's own service configuration turns on (KOLLA_WHEN)."""
    files = {c.conf_key: c for c in values.files.values()}
    found: dict[str, str] = {}
    for row in KOLLA_WHEN:
        tree = files[row.conf].merged.tree if row.conf in files else Branch()
        for section in (sorted(tree) if row.section == ANY_SECTION else [row.section]):
            node = lookup(tree, (section, row.option))
            if row.var not in found and isinstance(node, Value) and when_matches(node.value, row.value):
                found[row.var] = f"[{section}] {row.option} = {node.value} ({node.origin})"
    lines: list[str] = []
    if found:
        lines += ["", "# Backends the site's service files use (kolla then expects the Ceph client's ceph.conf",
                  "# and keyrings under config/<service>/, as its external Ceph guide says)."]
    for var in sorted(found):
        lines.append(f"# {found[var]}")
        _var(lines, var, True)
    return lines


def _site_lines(loaded: LoadedSite, name: str, own: Tree) -> list[str]:
    """The site's ``kolla:`` variables (values/global.yaml, then the region's global.yaml)."""
    rest = {k: v for k, v in own.items() if k not in ("kolla_internal_vip_address", "kolla_external_vip_address")
            or not site_gives_vip(loaded, name, k)}  # validate refuses those; render --force keeps the site's
    if not rest:
        return []
    lines = ["", f"# The site's {KOLLA_KEY}: values ({' then '.join(loaded.shown(r) for r in global_files(name))})."]
    for var, node in rest.items():
        origin = node.origin if isinstance(node, Value) else getattr(node, "origin", None)
        if origin is not None:
            lines.append(f"# {origin}")
        _var(lines, var, node.value if isinstance(node, Value) else plain(node))
    return lines


def _address_lines(loaded: LoadedSite, name: str, own: Tree) -> list[str]:
    assert loaded.site is not None
    region = loaded.site.regions[name]
    a = region.addresses
    if a is None:
        if "kolla_internal_vip_address" in own:
            return [f"# none in site.yaml: kolla_internal_vip_address is the site's {KOLLA_KEY}: value below."]
        return [f"# none in site.yaml: set {KOLLA_KEY}.kolla_internal_vip_address in {global_files(name)[1]}."]
    lines: list[str] = []
    for iface, address, prefix, tls in (("internal", a.internal or a.public, "kolla_internal", "kolla_enable_tls_internal"),
                                        ("public", a.public, "kolla_external", "kolla_enable_tls_external")):
        if "{" in address:
            lines += _template_lines(loaded, name, iface, address, prefix)
            _var(lines, tls, address.split("://", 1)[0] == "https" if "://" in address else False)
            continue
        parts = _split(address if "://" in address else "http://" + address)
        host = (parts.hostname if parts else None) or address
        if _is_ip(host):
            _var(lines, f"{prefix}_vip_address", host)
        else:
            if f"{prefix}_vip_address" in own:
                lines.append(f"# {prefix}_vip_address: the site's {KOLLA_KEY}: value below (site.yaml names only the host).")
            else:
                lines.append(f"# {prefix}_vip_address: the address {host} resolves to (site.yaml names only the host):")
                lines.append(f"# set {KOLLA_KEY}.{prefix}_vip_address in {global_files(name)[1]}.")
            _var(lines, f"{prefix}_fqdn", host)
        _var(lines, tls, parts is not None and parts.scheme == "https")
    return lines


def _split(url: str) -> SplitResult | None:
    """``url`` split, or None where it cannot be (render --force of a site with a broken address)."""
    try:
        parts = urlsplit(url)
        parts.port
    except ValueError:
        return None
    return parts


def _template_lines(loaded: LoadedSite, name: str, iface: str, template: str, prefix: str) -> list[str]:
    """Per-service host names (``https://{name}.api.example.com``): kolla's ``<service>_*_fqdn``."""
    assert loaded.site is not None
    side = "internal" if iface == "internal" else "external"
    lines = [f"# {prefix}_vip_address: {KOLLA_KEY}.{prefix}_vip_address in {global_files(name)[1]}; each service "
             f"has its own host name ({template})."]
    endpoints = [e for e in site_endpoints(loaded) if e.region == name and e.interface == iface and not e.shared]
    done: set[str] = set()
    for service in loaded.site.regions[name].services:
        for e in (e for e in endpoints if e.service == service):
            fqdn_prefix = KOLLA_FQDN_PREFIX.get(e.type)
            if fqdn_prefix and fqdn_prefix not in done:
                done.add(fqdn_prefix)
                _var(lines, f"{fqdn_prefix}_{side}_fqdn", urlsplit(e.url).hostname)
    if iface == "public":
        parts = _split(template.replace("{", "").replace("}", "") if "://" in template else "http://" + template)
        if parts is not None and parts.port is None:
            lines.append("# One public frontend on the default port, routed by host name, as the site's URLs are.")
            _var(lines, "haproxy_single_external_frontend", True)
    else:
        lines.append("# kolla's internal endpoints keep the services' own ports; the site's have none: register")
        lines.append("# the site's with 'regionctl catalog apply'.")
    return lines


def _infra_lines(loaded: LoadedSite, name: str) -> list[str]:
    assert loaded.site is not None
    infra = loaded.site.regions[name].infra
    if infra is None:
        return []
    lines: list[str] = []
    if infra.database:
        host, port = infra.database, None
        if infra.database.count(":") == 1 and infra.database.rsplit(":", 1)[1].isdigit():
            host, port = infra.database.rsplit(":", 1)
        lines += ["", f"# The region's database (site.yaml regions.{name}.infra.database)."]
        _var(lines, "database_address", host)
        if port:
            _var(lines, "database_port", port)
    if infra.messaging:
        lines += ["", f"# kolla takes RabbitMQ from the inventory's [rabbitmq] group; the site says: "
                      f"{', '.join(infra.messaging)}."]
    if infra.memcached:
        lines += ["", f"# memcached: the site lists {', '.join(infra.memcached)} (regions.{name}.infra.memcached);",
                  "# config/ sets them, replacing kolla's list of its [memcached] hosts."]
    return lines


# -- config/ (node_custom_config) ---------------------------------------------------------------

def _password_in(value: str, password: str) -> bool:
    """``value`` is ``password``, or a URL whose every ``user:password@`` is that password."""
    if value == password:
        return True
    if "://" not in value:
        return False
    netloc = value.split("://", 1)[1].split("/", 1)[0]
    found = [item.rpartition("@")[0].partition(":")[2] for item in netloc.split(",") if "@" in item]
    return bool(found) and all(unquote(p) == password for p in found)


def kolla_tree(conf: ConfFile, passwords: Passwords, named: frozenset[str] = frozenset()) -> Tree:
    """A file's sections minus the secrets kolla's template writes itself from passwords.yml, and
    minus the per-host lists kolla builds from its inventory (memcached) that regionctl only
    derived from the region's address: kept where the site's ``infra`` names the hosts (``named``)."""
    out: Tree = Branch()
    for section, options in conf.merged.tree.items():
        if not isinstance(options, dict):
            continue
        kept: Tree = Branch()
        for option, node in options.items():
            var = KOLLA_TEMPLATE_SECRETS.get((conf.conf_key, section, option))
            if var in passwords and isinstance(node, Value) and isinstance(node.value, str) \
                    and _password_in(node.value, str(passwords[var].value)):
                continue
            infra, _ = KOLLA_INVENTORY_OPTIONS.get((section, option), (None, False))
            if infra and infra not in named and isinstance(node, Value) and node.origin.layer is Layer.DERIVED:
                continue
            kept[option] = node
        if kept or not options:
            out[section] = kept
    return out


def _common(a: Tree, b: Tree) -> Tree:
    """The options set to the same value in both files."""
    out: Tree = Branch()
    for section, options in a.items():
        other = b.get(section)
        if not isinstance(options, dict) or not isinstance(other, dict):
            continue
        same = Branch({k: v for k, v in options.items() if k in other and bare(other[k]) == bare(v)})
        if same:
            out[section] = same
    return out


def _minus(a: Tree, b: Tree) -> Tree:
    """``a`` without what ``b`` already sets to the same value."""
    out: Tree = Branch()
    for section, options in a.items():
        if not isinstance(options, dict):
            continue
        other = branch(b.get(section))
        rest = Branch({k: v for k, v in options.items() if k not in other or bare(other[k]) != bare(v)})
        if rest:
            out[section] = rest
    return out


def _site_lists(loaded: LoadedSite, region: str, key: str, tree: Tree, named: frozenset[str]) -> Tree:
    """``tree`` plus each per-host list kolla's template for ``key`` writes and the site names
    hosts for, where ``tree`` lacks it: else kolla's own list would stay in that section."""
    assert loaded.site is not None
    infra = loaded.site.regions[region].infra
    for section, option in KOLLA_TEMPLATE_LISTS.get(key, ()):
        kind, _ = KOLLA_INVENTORY_OPTIONS[(section, option)]
        hosts = getattr(infra, kind, None) if infra is not None else None
        if kind not in named or not hosts or isinstance(lookup(tree, (section, option)), Value):
            continue
        origin = Origin(loaded.site_file, loaded.line("regions", region, "infra", kind), Layer.DERIVED)
        target = tree.setdefault(section, Branch())
        assert isinstance(target, dict)
        target[option] = Value(",".join(hosts), origin)
    return tree


def named_infra(loaded: LoadedSite, region: str) -> frozenset[str]:
    """The ``infra`` lists site.yaml gives for ``region`` (kolla otherwise builds them per host)."""
    assert loaded.site is not None
    infra = loaded.site.regions[region].infra
    return frozenset(k for k in KOLLA_INVENTORY_GROUPS if infra is not None and getattr(infra, k))


def _overrides(loaded: LoadedSite, region: str, tree: Tree) -> str:
    """Say which of kolla's per-host lists the file replaces, and from where."""
    lines = []
    for (section, option), (infra, is_list) in sorted(KOLLA_INVENTORY_OPTIONS.items()):
        if is_list and isinstance(lookup(tree, (section, option)), Value):
            line = loaded.line("regions", region, "infra", infra)
            lines.append(f"# [{section}] {option} replaces kolla's list of its [{KOLLA_INVENTORY_GROUPS[infra]}] "
                         f"hosts: site.yaml regions.{region}.infra.{infra} ({loaded.site_file}:{line}).\n")
    return "".join(lines)


def _file(loaded: LoadedSite, region: str, rel: str, key: str, tree: Tree, what: str,
          deleted: dict[tuple[str, ...], Value] | None = None) -> RenderedFile:
    head = header(loaded.site_file) + f"# node_custom_config: kolla-ansible merges this into {what}.\n"
    head += _overrides(loaded, region, tree)
    secret = any(is_secret(("conf", key) + path, v) for path, v in walk(tree))
    sources = ini_sources(tree, deleted or {}, lambda p, v: is_secret(("conf", key) + p, v))
    return RenderedFile(f"{region}/{CONFIG_DIR}/{rel}", render_ini(tree, head), secret, sources)


def config_files(loaded: LoadedSite, values: RegionValues, passwords: Passwords) -> list[RenderedFile]:
    assert loaded.site is not None
    name = values.region
    files = {c.conf_key: c for c in values.files.values()}
    named = named_infra(loaded, name)
    out = [RenderedFile(f"{name}/{CONFIG_DIR}/{KOLLA_GLOBAL.rel}", header(loaded.site_file) + (
        "# node_custom_config: kolla-ansible merges this into every service's file, first.\n"
        "# Empty on purpose: kolla's templates take the shared Keystone from keystone_internal_url and\n"
        "# keystone_public_url (globals.yml), and regionctl writes each service's options into that\n"
        "# service's own file.\n"), False)]
    for service in loaded.site.regions[name].services:
        path = KOLLA_SERVICE_FILE.get(service)
        svc = SERVICES.get(service)
        if path is None or svc is None:
            continue
        split = KOLLA_SPLITS.get(service)
        base = next((f.base for f in svc.files if split and f.key == split.conf_key and f.base), None)
        if split is not None and base in files and split.conf_key in files:
            assert base is not None
            main = files[base]
            ctl = _site_lists(loaded, name, base, kolla_tree(main, passwords, named), named)
            cmp = _site_lists(loaded, name, split.conf_key, kolla_tree(files[split.conf_key], passwords, named), named)
            shared = _common(ctl, cmp)
            out.append(_file(loaded, name, path.rel, base, shared, f"every {service} container's {main.filename}",
                             main.merged.deleted))
            only_ctl = _minus(ctl, shared)
            for c in split.controllers:
                out.append(_file(loaded, name, c.rel, base, only_ctl, f"{c.container}'s {main.filename}"))
            out.append(_file(loaded, name, split.compute.rel, split.conf_key, _minus(cmp, shared),
                             f"{split.compute.container}'s {main.filename}", files[split.conf_key].merged.deleted))
            continue
        for key, _ in svc.conf_files:
            if key in files:
                tree = _site_lists(loaded, name, key, kolla_tree(files[key], passwords, named), named)
                out.append(_file(loaded, name, path.rel, key, tree,
                                 f"every {service} container's {files[key].filename}", files[key].merged.deleted))
    return out
