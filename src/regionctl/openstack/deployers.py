"""What the deployers expect, as data: kolla-ansible's variables and files, openstack-helm's charts.

A new kolla-ansible or openstack-helm release is a change to these tables. Sources, read by hand:

* kolla-ansible 22.2.0 (the PyPI wheel; tests/test_kolla.py reads the same package):
  ``ansible/group_vars/all/*.yml`` (variables), ``etc_examples/kolla/passwords.yml`` (password
  names), ``ansible/roles/<role>/tasks/config.yml`` (the ``merge_configs`` sources under
  ``node_custom_config``), ``ansible/roles/<role>/templates/*.conf.j2`` (which option kolla's own
  template fills from which password), ``doc/source/user/multi-regions.rst``.
* openstack-helm at 0ee5adef (2026-08-20): ``<chart>/values.yaml`` (``endpoints.identity.auth``
  blocks, ``labels``, ``pod.tolerations``), ``<chart>/templates/job-ks-user.yaml`` (the users a
  chart creates), ``nova/templates/configmap-etc.yaml`` (``nova_compute_redactions``),
  ``helm-toolkit/templates/endpoints/*`` (how an endpoint URL is built from ``host_fqdn_override``,
  ``scheme``, ``port`` and ``path``), ``helm-toolkit/templates/utils/_daemonset_overrides.tpl``.
* Genestack at ef5c6ef8: ``bin/install-<service>.sh`` (the ``-f`` order: base-helm-configs,
  global_overrides, then every file in ``/etc/genestack/helm-configs/<service>/``),
  ``docs/k8s-labels.md`` (the node labels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

# --------------------------------------------------------------------------------------------
# kolla-ansible
# --------------------------------------------------------------------------------------------

#: regionctl service -> the kolla-ansible variable that turns it on or off (group_vars/all).
KOLLA_ENABLE: dict[str, str] = {
    "keystone": "enable_keystone",
    "horizon": "enable_horizon",
    "nova": "enable_nova",
    "placement": "enable_placement",
    "neutron": "enable_neutron",
    "glance": "enable_glance",
    "cinder": "enable_cinder",
    "heat": "enable_heat",  # kolla turns heat on by default (enable_openstack_core): regionctl says no where it is not run
}

#: catalog type -> kolla's prefix of ``<prefix>_internal_fqdn`` / ``<prefix>_external_fqdn``,
#: for sites whose address is a per-service host name template (heat's two APIs have two).
KOLLA_FQDN_PREFIX: dict[str, str] = {
    "identity": "keystone",
    "compute": "nova",
    "placement": "placement",
    "network": "neutron",
    "image": "glance",
    "volumev3": "cinder",
    "volumev2": "cinder",
    "block-storage": "cinder",
    "orchestration": "heat",
    "cloudformation": "heat_cfn",
}


@dataclass(frozen=True)
class KollaTemplate:
    """The kolla role and template that write one of regionctl's INI files on a host."""

    role: str
    template: str


#: regionctl conf key -> the kolla template producing that file (nova-compute runs in nova-cell).
KOLLA_TEMPLATES: dict[str, KollaTemplate] = {
    "nova": KollaTemplate("nova", "nova.conf.j2"),
    "nova_compute": KollaTemplate("nova-cell", "nova.conf.j2"),
    "placement": KollaTemplate("placement", "placement.conf.j2"),
    "neutron": KollaTemplate("neutron", "neutron.conf.j2"),
    "glance": KollaTemplate("glance", "glance-api.conf.j2"),
    "cinder": KollaTemplate("cinder", "cinder.conf.j2"),
    "keystone": KollaTemplate("keystone", "keystone.conf.j2"),
    "heat": KollaTemplate("heat", "heat.conf.j2"),
}


@dataclass(frozen=True)
class KollaPath:
    """A file under ``node_custom_config`` and who merges it.

    ``role``'s ``tasks/config.yml`` lists ``{{ node_custom_config }}/<rel>`` among its
    ``merge_configs`` sources; with ``container`` set, ``rel`` is the per-container form
    ``<service>/{{ item.key }}.conf`` and ``container`` one of the role's services.
    """

    rel: str
    role: str
    container: str | None = None


#: Merged into every service's file, first (kolla's multi-region guide puts its overrides here).
KOLLA_GLOBAL = KollaPath("global.conf", "nova")

#: regionctl service -> the file kolla merges into every container of that service.
KOLLA_SERVICE_FILE: dict[str, KollaPath] = {
    "nova": KollaPath("nova.conf", "nova"),
    "placement": KollaPath("placement.conf", "placement"),
    "neutron": KollaPath("neutron.conf", "neutron"),
    "glance": KollaPath("glance.conf", "glance"),
    "cinder": KollaPath("cinder.conf", "cinder"),
    "keystone": KollaPath("keystone.conf", "keystone"),
    "heat": KollaPath("heat.conf", "heat"),
}

#: The nova containers that read the controller's nova.conf (sections nova-compute must not get).
KOLLA_NOVA_CONTROLLERS: tuple[KollaPath, ...] = (
    KollaPath("nova/nova-api.conf", "nova", "nova-api"),
    KollaPath("nova/nova-metadata.conf", "nova", "nova-metadata"),
    KollaPath("nova/nova-scheduler.conf", "nova", "nova-scheduler"),
    KollaPath("nova/nova-super-conductor.conf", "nova", "nova-super-conductor"),
    KollaPath("nova/nova-conductor.conf", "nova-cell", "nova-conductor"),
)

#: nova-compute's own file: what nova-compute.conf holds beyond the shared nova.conf.
KOLLA_NOVA_COMPUTE = KollaPath("nova/nova-compute.conf", "nova-cell", "nova-compute")


@dataclass(frozen=True)
class KollaSplit:
    """A service whose files kolla merges per container: what all share, the controllers' own,
    and the file built on the shared one (regionctl's ``conf_key``) for ``compute``."""

    conf_key: str
    controllers: tuple[KollaPath, ...]
    compute: KollaPath


#: regionctl service -> how kolla splits its files between containers.
KOLLA_SPLITS: dict[str, KollaSplit] = {
    "nova": KollaSplit("nova_compute", KOLLA_NOVA_CONTROLLERS, KOLLA_NOVA_COMPUTE),
}

#: Where the identity region's secrets keep the Keystone admin password. Every region needs it,
#: whatever the deployer: each region registers its own endpoints in the shared Keystone as admin.
ADMIN_SECRET: tuple[str, ...] = ("passwords", "keystone_admin")

#: kolla's name for it.
KOLLA_ADMIN_PASSWORD: tuple[str, tuple[str, ...]] = ("keystone_admin_password", ADMIN_SECRET)

#: kolla password variable -> where a region's secrets.yaml keeps it.
KOLLA_PASSWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("keystone_database_password", ("passwords", "databases", "keystone")),
    ("nova_keystone_password", ("passwords", "service_users", "nova")),
    ("nova_database_password", ("passwords", "databases", "nova")),
    ("nova_api_database_password", ("passwords", "databases", "nova")),  # regionctl: nova's covers nova_api
    ("placement_keystone_password", ("passwords", "service_users", "placement")),
    ("placement_database_password", ("passwords", "databases", "placement")),
    ("neutron_keystone_password", ("passwords", "service_users", "neutron")),
    ("neutron_database_password", ("passwords", "databases", "neutron")),
    ("glance_keystone_password", ("passwords", "service_users", "glance")),
    ("glance_database_password", ("passwords", "databases", "glance")),
    ("cinder_keystone_password", ("passwords", "service_users", "cinder")),
    ("cinder_database_password", ("passwords", "databases", "cinder")),
    ("heat_keystone_password", ("passwords", "service_users", "heat")),
    ("heat_database_password", ("passwords", "databases", "heat")),
    ("rabbitmq_password", ("passwords", "messaging")),
)

#: Any section of a file (a cinder backend's section is named by the site's enabled_backends).
ANY_SECTION = "*"

#: Secret options a site writes into ``conf:`` that kolla keeps in passwords.yml under its own
#: name: (conf key, section or ANY_SECTION, option) -> kolla password variable. The first
#: found wins. The rbd secret uuids name the libvirt secret of the Ceph client: kolla's cinder
#: template writes ``cinder_rbd_secret_uuid`` into its own rbd backend section ([rbd-1]) and
#: nova-cell's libvirt.conf.j2 writes ``rbd_secret_uuid`` into [libvirt] (nova_backend_ceph).
KOLLA_CONF_PASSWORDS: dict[tuple[str, str, str], str] = {
    ("nova", "neutron", "metadata_proxy_shared_secret"): "metadata_secret",
    ("nova_compute", "neutron", "metadata_proxy_shared_secret"): "metadata_secret",
    ("cinder", ANY_SECTION, "rbd_secret_uuid"): "cinder_rbd_secret_uuid",
    ("nova_compute", "libvirt", "rbd_secret_uuid"): "rbd_secret_uuid",
    ("heat", "DEFAULT", "stack_domain_admin_password"): "heat_domain_admin_password",
}

#: The memcached wiring regionctl derives from the region's internal address and kolla's own
#: templates write from its inventory instead: (section, option) of any file -> (the site.yaml
#: ``infra`` key that, when set, makes regionctl write them after all; whether the option is
#: kolla's per-host list). kolla's memcached listens on every controller's api interface and is
#: not behind HAProxy, so the VIP would be wrong; kolla's nova-compute has no [cache] at all.
KOLLA_INVENTORY_OPTIONS: dict[tuple[str, str], tuple[str, bool]] = {
    ("keystone_authtoken", "memcached_servers"): ("memcached", True),
    ("cache", "memcache_servers"): ("memcached", True),
    ("cache", "backend"): ("memcached", False),
    ("cache", "enabled"): ("memcached", False),
}

#: regionctl conf key -> the per-host lists of KOLLA_INVENTORY_OPTIONS its kolla template writes
#: (KOLLA_TEMPLATES). Where the site names the hosts, regionctl sets each of them, also where its
#: own file has none (kolla's placement.conf has a [cache] the plain file has not).
KOLLA_TEMPLATE_LISTS: dict[str, tuple[tuple[str, str], ...]] = {
    "nova": (("keystone_authtoken", "memcached_servers"), ("cache", "memcache_servers")),
    "nova_compute": (),
    "placement": (("keystone_authtoken", "memcached_servers"), ("cache", "memcache_servers")),
    "neutron": (("keystone_authtoken", "memcached_servers"),),
    "glance": (("keystone_authtoken", "memcached_servers"),),
    "cinder": (("keystone_authtoken", "memcached_servers"),),
    "keystone": (("cache", "memcache_servers"),),
    "heat": (("keystone_authtoken", "memcached_servers"), ("cache", "memcache_servers")),
}

#: The inventory group kolla builds each ``infra`` list from (for the comment that says so).
KOLLA_INVENTORY_GROUPS: dict[str, str] = {"memcached": "memcached", "messaging": "rabbitmq", "database": "mariadb"}


@dataclass(frozen=True)
class KollaWhen:
    """A kolla variable turned on by what a service's file says.

    ``var`` is set to ``yes`` when ``[section] option`` of the ``conf`` file (any section for
    ANY_SECTION) holds ``value``: as the whole value, as one item of a comma list, or as the
    type of a ``name:type`` item (glance's ``enabled_backends = ceph:rbd``).
    """

    var: str
    conf: str
    section: str
    option: str
    value: str


#: kolla's backend switches, from the site's own backend configuration. kolla-ansible then
#: expects the Ceph client files under config/ (its external Ceph guide), which the site supplies.
KOLLA_WHEN: tuple[KollaWhen, ...] = (
    KollaWhen("glance_backend_ceph", "glance", "DEFAULT", "enabled_backends", "rbd"),
    KollaWhen("glance_backend_ceph", "glance", "glance_store", "default_store", "rbd"),
    KollaWhen("glance_backend_ceph", "glance", "glance_store", "stores", "rbd"),
    KollaWhen("cinder_backend_ceph", "cinder", ANY_SECTION, "volume_driver", "cinder.volume.drivers.rbd.RBDDriver"),
    KollaWhen("nova_backend_ceph", "nova_compute", "libvirt", "images_type", "rbd"),
    KollaWhen("nova_backend_ceph", "nova", "libvirt", "images_type", "rbd"),
)


def when_matches(value: object, wanted: str) -> bool:
    """``wanted`` is the value, an item of its comma list, or an item's ``:type``."""
    items = value if isinstance(value, list) else str(value).split(",")
    return any(str(i).strip() == wanted or str(i).strip().rpartition(":")[2] == wanted for i in items)


#: The top-level key of values/global.yaml and regions/<r>/global.yaml whose map regionctl writes
#: into each region's globals.yml (merged with Helm's rules, a region's over the site's).
KOLLA_KEY = "kolla"

#: Variables kolla needs per host network that regionctl cannot know from site.yaml: a region
#: rendered without them gets kolla's default, which validate says.
KOLLA_REGION_NEEDS: tuple[str, ...] = ("network_interface",)

#: The variables regionctl writes itself, and where they come from; a site's ``kolla:`` may not set
#: them (the site.yaml key is the one place). The VIP addresses are allowed where the site's
#: address is a host name (kolla still needs the address it resolves to).
KOLLA_DERIVED: dict[str, str] = {
    "openstack_region_name": "the region's name",
    "multiple_regions_names": "site.yaml regions",
    **{var: f"site.yaml regions.<region>.services ({svc})" for svc, var in KOLLA_ENABLE.items()},
    "keystone_internal_url": "the identity region's addresses",
    "keystone_public_url": "the identity region's addresses",
    "kolla_enable_tls_internal": "the scheme of regions.<region>.addresses.internal",
    "kolla_enable_tls_external": "the scheme of regions.<region>.addresses.public",
    "database_address": "regions.<region>.infra.database",
    "database_port": "regions.<region>.infra.database",
}

#: keepalived: regions whose internal VIPs share a segment need distinct router ids. The site
#: cannot see L2; one IPv4 /24 (IPv6 /64) is taken as one segment.
KOLLA_VRID_VAR = "keepalived_virtual_router_id"
KOLLA_SEGMENT_PREFIX: dict[int, int] = {4: 24, 6: 64}


def _template_secrets() -> dict[tuple[str, str, str], str]:
    table: dict[tuple[str, str, str], str] = {}
    for svc in ("nova", "placement", "neutron", "glance", "cinder", "heat"):
        table[(svc, "keystone_authtoken", "password")] = f"{svc}_keystone_password"
    for key in ("nova", "nova_compute"):
        table[(key, "service_user", "password")] = "nova_keystone_password"
        table[(key, "neutron", "password")] = "neutron_keystone_password"
        table[(key, "placement", "password")] = "placement_keystone_password"
        table[(key, "neutron", "metadata_proxy_shared_secret")] = "metadata_secret"
        table[(key, "DEFAULT", "transport_url")] = "rabbitmq_password"
    table[("nova", "database", "connection")] = "nova_database_password"
    table[("nova", "api_database", "connection")] = "nova_api_database_password"
    table[("placement", "placement_database", "connection")] = "placement_database_password"
    for key in ("neutron", "glance", "cinder", "keystone", "heat"):
        table[(key, "database", "connection")] = f"{key}_database_password"
        table[(key, "DEFAULT", "transport_url")] = "rabbitmq_password"
    table[("heat", "trustee", "password")] = "heat_keystone_password"
    table[("heat", "DEFAULT", "stack_domain_admin_password")] = "heat_domain_admin_password"
    table[("neutron", "nova", "password")] = "nova_keystone_password"
    table[("neutron", "placement", "password")] = "placement_keystone_password"
    table[("cinder", "nova", "password")] = "nova_keystone_password"
    return table


#: (conf key, section, option) -> the password kolla's own template writes that option from,
#: directly or inside a URL. config/ leaves such an option out when its value is exactly what
#: kolla would write, so the password lives in passwords.yml only.
KOLLA_TEMPLATE_SECRETS: dict[tuple[str, str, str], str] = _template_secrets()

# --------------------------------------------------------------------------------------------
# openstack-helm (and Genestack)
# --------------------------------------------------------------------------------------------

#: The directory of /etc/genestack holding the per-chart override directories (install-<svc>.sh).
HELM_DIR = "helm-configs"

#: Where Genestack keeps the base values of each chart, and the base file's name.
GENESTACK_BASE_DIR = "/opt/genestack/base-helm-configs"


def genestack_base_file(service: str) -> str:
    return f"{service}/{service}-helm-overrides.yaml"


@dataclass(frozen=True)
class HelmUser:
    """One ``endpoints.identity.auth.<name>`` block of a chart.

    ``acts_as`` is the (conf key, section) of regionctl's wiring that logs in as this user; the
    block then takes that section's username, project, domains and password, so the chart's
    ks-user job manages the very user the service's configuration uses. ``fields`` says which
    option of that section fills which field of the block, when they are not named alike (None:
    the keystoneauth options ``HELM_AUTH_FIELDS``). ``admin`` takes the shared Keystone's admin
    password. The others only get the region.
    """

    name: str
    acts_as: tuple[str, str] | None = None
    fields: tuple[tuple[str, str], ...] | None = None  # (block field, the section's option)


@dataclass(frozen=True)
class HelmChart:
    """An openstack-helm chart as regionctl fills it.

    ``components``: (path under ``labels``, placement) for each node selector the chart has;
    placement is a key of :data:`PLACEMENT_LABELS`. ``tolerations``: the key under
    ``pod.tolerations``.
    """

    chart: str
    users: tuple[HelmUser, ...]
    components: tuple[tuple[str, str], ...]
    tolerations: str
    region_lists: tuple[tuple[str, ...], ...] = ()
    compute: "HelmCompute | None" = None


@dataclass(frozen=True)
class HelmCompute:
    """A chart with one conf file whose compute-node variant is the file minus some sections.

    openstack-helm's nova chart writes nova-compute.conf as nova.conf minus the sections listed in
    ``conf.<redactions>``; what regionctl's ``conf.<conf_key>`` adds for compute nodes only goes
    into a label override of the compute DaemonSet, ``conf.overrides.<daemonset>`` (helm-toolkit's
    daemonset_overrides: chart name + "_" + daemonset name).
    """

    conf_key: str
    redactions: str
    daemonset: str


def _users(*names: str, acts: dict[str, tuple[str, str]] | None = None,
           fields: dict[str, tuple[tuple[str, str], ...]] | None = None) -> tuple[HelmUser, ...]:
    acts, fields = acts or {}, fields or {}
    return tuple(HelmUser(n, acts.get(n), fields.get(n)) for n in names)


def _ctl(*paths: str) -> tuple[tuple[str, str], ...]:
    return tuple((p, "control") for p in paths)


#: regionctl service -> its chart. Users and components are the charts' own, from values.yaml.
HELM_CHARTS: dict[str, HelmChart] = {
    "keystone": HelmChart("keystone", _users("admin", "test"), _ctl("api", "job", "test"), "keystone"),
    "horizon": HelmChart("horizon", _users("admin"), _ctl("dashboard", "job", "test"), "horizon",
                         region_lists=(("conf", "horizon", "local_settings", "config", "default_service_regions"),)),
    "nova": HelmChart(
        "nova",
        _users("admin", "nova", "service", "neutron", "ironic", "placement", "cinder", "test",
               acts={"nova": ("nova", "keystone_authtoken"), "service": ("nova", "service_user"),
                     "neutron": ("nova", "neutron"), "placement": ("nova", "placement")}),
        (("agent.compute", "hypervisor"), ("agent.compute_ironic", "hypervisor"))
        + _ctl("api_metadata", "conductor", "job", "novncproxy", "osapi", "scheduler", "serialproxy",
               "spiceproxy", "test"),
        "nova",
        compute=HelmCompute("nova_compute", "nova_compute_redactions", "nova_compute"),
    ),
    "placement": HelmChart("placement", _users("admin", "placement", acts={"placement": ("placement", "keystone_authtoken")}),
                           _ctl("api", "job"), "placement"),
    "neutron": HelmChart(
        "neutron",
        _users("admin", "neutron", "nova", "placement", "designate", "ironic", "test",
               acts={"neutron": ("neutron", "keystone_authtoken"), "nova": ("neutron", "nova"),
                     "placement": ("neutron", "placement")}),
        (("agent.dhcp", "network"), ("agent.l3", "network"), ("agent.metadata", "network"),
         ("agent.l2gw", "network"), ("agent.ovn_vpn", "network"), ("netns_cleanup_cron", "network"),
         ("ovs", "openvswitch"), ("bagpipe_bgp", "hypervisor"), ("bgp_dragent", "hypervisor"))
        + _ctl("job", "server", "rpc_server", "ironic_agent", "test"),
        "neutron",
    ),
    "glance": HelmChart("glance", _users("admin", "glance", "test", acts={"glance": ("glance", "keystone_authtoken")}),
                        _ctl("api", "job", "test"), "glance"),
    "cinder": HelmChart(
        "cinder",
        _users("admin", "cinder", "glance", "nova", "swift", "service", "test",
               acts={"cinder": ("cinder", "keystone_authtoken"), "nova": ("cinder", "nova")}),
        _ctl("api", "backup", "job", "scheduler", "test", "volume"),
        "cinder",
    ),
    # heat_trustee fills [trustee]; regionctl's [trustee] logs in as heat, but takes no project
    # (a trust scopes it) while the block's ks-user job needs one: it takes [keystone_authtoken]'s.
    # heat_stack_user is the admin of heat's stack domain: the chart's ks-user-domain job creates
    # the domain and user the block names, and fills [DEFAULT] stack_* from it where unset.
    "heat": HelmChart(
        "heat",
        _users("admin", "heat", "heat_trustee", "heat_stack_user", "test",
               acts={"heat": ("heat", "keystone_authtoken"), "heat_trustee": ("heat", "keystone_authtoken"),
                     "heat_stack_user": ("heat", "DEFAULT")},
               fields={"heat_stack_user": (("username", "stack_domain_admin"),
                                           ("password", "stack_domain_admin_password"),
                                           ("domain_name", "stack_user_domain_name"))}),
        _ctl("api", "cfn", "engine", "job", "test"),
        "heat",
    ),
}

@dataclass(frozen=True)
class HelmDatabase:
    """One ``endpoints.<endpoint>`` database block a chart builds a connection from.

    helm-toolkit's ``authenticated_endpoint_uri_lookup`` writes
    ``scheme://auth.<user>.username:password@host:port/path`` into ``conf.<file>.<section>.connection``
    when that is empty. ``section`` None: a database the chart uses beyond regionctl's (nova's
    cell0) on the same host, as the same user, under the chart's own name.
    """

    endpoint: str
    section: str | None


@dataclass(frozen=True)
class HelmEndpoints:
    """Where a chart takes the region's database, RabbitMQ and memcached (``endpoints.oslo_*``).

    ``databases``: regionctl's database sections by the block each is built from (the user class
    is the chart's service user, ``auth.<service>``). ``messaging``: the conf key whose
    ``[DEFAULT] transport_url`` the chart builds from ``endpoints.oslo_messaging`` as its own
    RabbitMQ user (``auth.<service>``, username = the service) on its own vhost (``/<service>``),
    which is what Genestack's per-service RabbitMQ users and vhosts are. ``cache``: the (conf key,
    section, option)s the chart fills from ``endpoints.oslo_cache`` when empty.
    Source: each chart's ``templates/configmap-etc.yaml`` (openstack-helm 0ee5adef).
    """

    databases: tuple[HelmDatabase, ...] = ()
    messaging: str | None = None
    cache: tuple[tuple[str, str, str], ...] = ()


def _authtoken_cache(conf: str) -> tuple[str, str, str]:
    return (conf, "keystone_authtoken", "memcached_servers")


#: regionctl service -> the oslo endpoints of its chart (nova: [api_database] is ``oslo_db``,
#: [database] is cell1's ``oslo_db_cell1`` since openstack-helm 30a32ef6; Genestack's base files
#: of ef5c6ef8 still name the older ``oslo_db_api``).
HELM_ENDPOINTS: dict[str, HelmEndpoints] = {
    "keystone": HelmEndpoints((HelmDatabase("oslo_db", "database"),), "keystone",
                              (("keystone", "cache", "memcache_servers"),)),
    "nova": HelmEndpoints((HelmDatabase("oslo_db", "api_database"), HelmDatabase("oslo_db_cell1", "database"),
                           HelmDatabase("oslo_db_cell0", None)), "nova",
                          (_authtoken_cache("nova"), ("nova", "cache", "memcache_servers"))),
    "placement": HelmEndpoints((HelmDatabase("oslo_db", "placement_database"),), None, (_authtoken_cache("placement"),)),
    "neutron": HelmEndpoints((HelmDatabase("oslo_db", "database"),), "neutron",
                             (_authtoken_cache("neutron"), ("neutron", "cache", "memcache_servers"))),
    "glance": HelmEndpoints((HelmDatabase("oslo_db", "database"),), "glance", (_authtoken_cache("glance"),)),
    "cinder": HelmEndpoints((HelmDatabase("oslo_db", "database"),), "cinder", (_authtoken_cache("cinder"),)),
    "heat": HelmEndpoints((HelmDatabase("oslo_db", "database"),), "heat",
                          (_authtoken_cache("heat"), ("heat", "cache", "memcache_servers"))),
}

#: helm-toolkit's endpoint port names (``endpoints.<endpoint>.port.<name>.default``) and schemes.
HELM_DB_PORT = "mysql"
HELM_DB_SCHEME = "mysql+pymysql"
HELM_MESSAGING_PORT = "amqp"
HELM_CACHE_PORT = "memcache"


#: The keystoneauth options of a wiring section an auth block takes (password goes to secrets).
HELM_AUTH_FIELDS: tuple[str, ...] = ("username", "password", "project_name", "user_domain_name", "project_domain_name")

#: The chart default tolerations (every chart's ``pod.tolerations.<chart>.tolerations``); Helm
#: replaces lists whole, so regionctl's list repeats them.
HELM_DEFAULT_TOLERATIONS: tuple[dict[str, str], ...] = (
    {"key": "node-role.kubernetes.io/master", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"},
)

# --------------------------------------------------------------------------------------------
# Node placement (seed 002): roles -> labels and taints
# --------------------------------------------------------------------------------------------

#: placement -> the node label (key, value) a chart component selects (openstack-helm/Genestack).
PLACEMENT_LABELS: dict[str, tuple[str, str]] = {
    "control": ("openstack-control-plane", "enabled"),
    "hypervisor": ("openstack-compute-node", "enabled"),
    "network": ("openstack-network-node", "enabled"),
    "openvswitch": ("openvswitch", "enabled"),
}

#: Where a placement goes when no node of the region has it (neutron's agents without network nodes).
PLACEMENT_FALLBACK: dict[str, str] = {"network": "control"}

#: node role -> the placements it provides (Open vSwitch runs wherever instances or routers do).
ROLE_PLACEMENTS: dict[str, tuple[str, ...]] = {
    "control": ("control",),
    "hypervisor": ("hypervisor", "openvswitch"),
    "network": ("network", "openvswitch"),
}

#: node role -> its NoSchedule taint (key, value). Seed 002: hypervisors and network nodes are
#: exclusive; only pods that tolerate the taint run there. A node that is also a control node
#: is not exclusive and gets no taint (else the database and message queue could not run on it).
ROLE_TAINTS: dict[str, tuple[str, str]] = {
    "hypervisor": ("openstack-compute-node", "enabled"),
    "network": ("openstack-network-node", "enabled"),
}
TAINT_EFFECT = "NoSchedule"


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str = TAINT_EFFECT

    def toleration(self) -> dict[str, str]:
        return {"key": self.key, "operator": "Equal", "value": self.value, "effect": self.effect}

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}"


def node_labels(roles: Iterable[str]) -> dict[str, str]:
    """The labels a node with ``roles`` carries, sorted by key."""
    labels = {}
    for role in roles:
        for placement in ROLE_PLACEMENTS.get(role, ()):
            key, value = PLACEMENT_LABELS[placement]
            labels[key] = value
    return dict(sorted(labels.items()))


def node_taints(roles: Iterable[str]) -> list[Taint]:
    """The taints of a node with ``roles``: none for a node that is also a control node."""
    roles = list(roles)
    if "control" in roles:
        return []
    taints = {ROLE_TAINTS[r] for r in roles if r in ROLE_TAINTS}
    return [Taint(k, v) for k, v in sorted(taints)]


def chosen_placement(placement: str, provides: set[str]) -> str | None:
    """Where a component with ``placement`` runs among nodes providing ``provides``, or None."""
    chosen = placement if placement in provides else PLACEMENT_FALLBACK.get(placement, placement)
    return chosen if chosen in provides else None


def roles_providing(placement: str) -> str:
    """The node roles that provide a placement, for a message: "hypervisor" or "control or network"."""
    return " or ".join(r for r, ps in ROLE_PLACEMENTS.items() if PLACEMENT_FALLBACK.get(placement, placement) in ps
                       or placement in ps)


#: Rendered files a deployer merges into its own copy rather than replacing it (kolla-mergepwd
#: over a full kolla-genpwd file): a key the site doesn't set is kept there, not removed.
MERGED_FILES: frozenset[str] = frozenset({"passwords.yml"})
