"""The region's database, RabbitMQ and memcached where openstack-helm's charts take them (pure).

A chart builds ``[database] connection``, ``[DEFAULT] transport_url`` and the memcached lists
itself, from ``endpoints.oslo_db`` / ``oslo_messaging`` / ``oslo_cache`` (helm-toolkit's endpoint
lookups), and only when the conf option is empty. Setting the options in ``conf`` instead (as the
plain renderer writes them) would override those blocks: the chart's db-init and rabbit-init jobs
would create one user while the service logged in as another, and Genestack's per-service
RabbitMQ users and vhosts, and the passwords its install scripts ``--set`` on the endpoint blocks,
would be bypassed. So what regionctl derives goes into the blocks, and leaves ``conf``:

* a database: host (``host_fqdn_override.default``, a name or an address), ``port.mysql.default``, ``path`` = ``/<database name>``,
  ``auth.<service>.username/password``;
* RabbitMQ: the chart's own user and vhost for the service (``auth.<service>`` with username
  ``<service>``, ``path`` ``/<service>``), one host, ``statefulset: null`` (else helm-toolkit
  writes ``<statefulset>-<n>.<host>`` names). Several hosts cannot be said in the block: the
  first goes there (for the chart's rabbit-init job) and ``transport_url`` stays in ``conf``,
  listing every host with the same user and vhost;
* memcached: one host goes to ``endpoints.oslo_cache`` (``statefulset: null`` too); a list of
  several stays in ``conf``, which the chart takes verbatim.

A value the site set itself (its own ``connection``, say) is the site's: it stays in ``conf``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import quote, urlsplit

from regionctl.openstack.deployers import (
    HELM_CACHE_PORT,
    HELM_DB_PORT,
    HELM_ENDPOINTS,
    HELM_MESSAGING_PORT,
    HelmEndpoints,
)
from regionctl.openstack.services import INFRA_PORTS, SERVICES
from regionctl.resolve.derive import infra_hosts
from regionctl.resolve.values import ConfFile
from regionctl.site import layout
from regionctl.site.load import LoadedSite
from regionctl.site.merge import Merged
from regionctl.site.provenance import Branch, Layer, Origin, Tree, Value, lookup, put

#: (section, option) of one conf file
Option = tuple[str, str]
#: (conf key, section, option, the origin regionctl derives it from) -> the value, if no layer set it
Derived = Callable[[str, str, str, Origin], Value | None]


@dataclass
class OsloEndpoints:
    """What a chart gets: the endpoint blocks, and per conf key what leaves (or changes in) conf."""

    tree: Tree = field(default_factory=Branch)
    drops: dict[str, set[Option]] = field(default_factory=dict)
    replaced: dict[str, dict[Option, Value]] = field(default_factory=dict)

    def drop(self, conf: str, section: str, option: str) -> None:
        self.drops.setdefault(conf, set()).add((section, option))


def oslo_endpoints(loaded: LoadedSite, region: str, service: str, files: dict[str, ConfFile]) -> OsloEndpoints:
    out = OsloEndpoints()
    spec = HELM_ENDPOINTS.get(service)
    if spec is None:
        return out

    def derived(conf: str, section: str, option: str, origin: Origin) -> Value | None:
        """The value there if regionctl derived it from ``origin`` and no layer set it (pure: no re-derivation)."""
        have = lookup(files[conf].merged.tree, (section, option)) if conf in files else None
        if isinstance(have, Value) and not have.overridden and have.origin == origin:
            return have
        return None

    _databases(out, loaded, region, service, spec, derived)
    _messaging(out, loaded, region, service, spec, derived)
    _cache(out, loaded, region, spec, derived)
    return out


def _secret(loaded: LoadedSite, region: str, *path: str) -> Value | None:
    node = lookup(loaded.layers.get(layout.secrets_file(region).rel, Branch()), path)
    if not isinstance(node, Value) or node.value in (None, ""):
        return None
    return Value(str(node.value), Origin(node.origin.file, node.origin.line, Layer.SECRET))


def _host_port(entry: str, what: str) -> tuple[str, int]:
    parts = urlsplit("//" + entry)
    host = parts.hostname or entry
    return (f"[{host}]" if ":" in host else host), parts.port or INFRA_PORTS[what]


def _put_host(out: OsloEndpoints, endpoint: str, entry: str, what: str, port_name: str, origin: Origin) -> None:
    host, port = _host_port(entry, what)
    where = ("endpoints", endpoint)
    # An address too: in hosts.default helm-toolkit's dependency lookup would then need a
    # ``service.name`` the block lacks (service_name_endpoint_with_namespace_lookup fails).
    put(out.tree, where + ("host_fqdn_override", "default"), Value(host, origin))
    put(out.tree, where + ("port", port_name, "default"), Value(port, origin))


def _databases(out: OsloEndpoints, loaded: LoadedSite, region: str, service: str, spec: HelmEndpoints,
               derived: Derived) -> None:
    svc = SERVICES[service]
    conf = svc.files[0].key
    hosts, origin = infra_hosts(loaded, region, "database")
    ro = Origin(loaded.site_file, loaded.line("regions", region), Layer.DERIVED)
    moved = None
    for db in svc.databases:
        block = next((b for b in spec.databases if b.section == db.section), None)
        password = _secret(loaded, region, "passwords", "databases", db.user)
        if block is None or password is None or derived(conf, db.section, "connection", password.origin) is None:
            continue
        moved = (db.user, password)
        _put_host(out, block.endpoint, hosts[0], "database", HELM_DB_PORT, origin)
        put(out.tree, ("endpoints", block.endpoint, "path"), Value(f"/{db.name}", ro))
        put(out.tree, ("endpoints", block.endpoint, "auth", service, "username"), Value(db.user, ro))
        put(out.tree, ("endpoints", block.endpoint, "auth", service, "password"), password)
        out.drop(conf, db.section, "connection")
    if moved is None:
        return
    for block in spec.databases:
        if block.section is None:  # the chart's own database beyond regionctl's: same host and user
            _put_host(out, block.endpoint, hosts[0], "database", HELM_DB_PORT, origin)
            put(out.tree, ("endpoints", block.endpoint, "auth", service, "username"), Value(moved[0], ro))
            put(out.tree, ("endpoints", block.endpoint, "auth", service, "password"), moved[1])


def _messaging(out: OsloEndpoints, loaded: LoadedSite, region: str, service: str, spec: HelmEndpoints,
               derived: Derived) -> None:
    conf = spec.messaging
    password = _secret(loaded, region, "passwords", "messaging")
    if conf is None or password is None or derived(conf, "DEFAULT", "transport_url", password.origin) is None:
        return
    hosts, origin = infra_hosts(loaded, region, "messaging")
    ro = Origin(loaded.site_file, loaded.line("regions", region), Layer.DERIVED)
    where = ("endpoints", "oslo_messaging")
    _put_host(out, "oslo_messaging", hosts[0], "messaging", HELM_MESSAGING_PORT, origin)
    put(out.tree, where + ("statefulset",), Value(None, origin))
    put(out.tree, where + ("path",), Value(f"/{service}", ro))
    put(out.tree, where + ("auth", service, "username"), Value(service, ro))
    put(out.tree, where + ("auth", service, "password"), password)
    if len(hosts) == 1:
        out.drop(conf, "DEFAULT", "transport_url")
        return
    creds = f"{service}:{quote(str(password.value), safe='')}"
    url = "rabbit://" + ",".join(f"{creds}@{h}:{p}" for h, p in (_host_port(e, "messaging") for e in hosts)) + f"/{service}"
    out.replaced.setdefault(conf, {})[("DEFAULT", "transport_url")] = Value(url, password.origin)


def _cache(out: OsloEndpoints, loaded: LoadedSite, region: str, spec: HelmEndpoints, derived: Derived) -> None:
    hosts, origin = infra_hosts(loaded, region, "memcached")
    found = [(c, s, o) for c, s, o in spec.cache if derived(c, s, o, origin) is not None]
    if len(hosts) != 1 or not found:
        return  # several hosts: helm-toolkit cannot list them; conf keeps them, the chart takes them as they are
    _put_host(out, "oslo_cache", hosts[0], "memcached", HELM_CACHE_PORT, origin)
    put(out.tree, ("endpoints", "oslo_cache", "statefulset"), Value(None, origin))
    for c, s, o in found:
        out.drop(c, s, o)


def without(conf: ConfFile, drops: set[Option], replaced: dict[Option, Value]) -> ConfFile:
    """``conf`` with the options the chart builds itself left out (and the replaced ones swapped)."""
    if not drops and not replaced:
        return conf
    tree: Tree = Branch()
    for section, options in conf.merged.tree.items():
        if not isinstance(options, dict):
            tree[section] = options
            continue
        sec: Tree = Branch.at(options.origin if isinstance(options, Branch) else None)
        for option, node in options.items():
            if (section, option) in drops:
                continue
            sec[option] = replaced.get((section, option), node)
        if sec or not any((section, o) in drops for o in options):
            tree[section] = sec
    return ConfFile(conf.service, conf.conf_key, conf.filename,
                    Merged(tree, conf.merged.deleted, conf.merged.warnings))


