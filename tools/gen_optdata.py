#!/usr/bin/env python3
"""Generate regionctl's option data from the OpenStack services' own option definitions.

Run it with the services venv's python (``make optdata``, or
``"$(tools/services-env.sh | tail -n1)/bin/python" tools/gen_optdata.py``).  For each
service it lists the options of that service's ``oslo.config.opts`` namespaces -- the
same lists the service's own ``oslo-config-generator`` config uses -- and writes one
deterministic JSON file ``src/regionctl/openstack/optdata/<release>.json``:

    {
     "format": 1,
     "header": {"release": "2026.2", "packages": {<dist>: <version>, ...}, ...},
     "services": {
      "nova": {
       "files": ["nova.conf", "nova-compute.conf"],
       "namespaces": [...],
       "keystoneauth": {"neutron": ["adapter", "auth", "session"], ...},
       "sections": {"DEFAULT": {"host": {<option info>}, ...}, ...},
       "templates": {"mdev_<type>": {<option>: {<option info>}}},   # when it has any
       "dynamic": [{"named_by": ["devices", "enabled_mdev_types"], ...}]
      }, ...
     },
     "groups": {"keystoneauth.password": {...}, "keystoneauth.session": {...}, ...}
    }

"keystoneauth" says which sections the service gives keystoneauth options: "auth"
(register_auth_conf_options: auth_type, auth_section, and the options of the plugin
auth_type names -- groups "keystoneauth.<plugin>"), "session"
(register_session_conf_options, group "keystoneauth.session") and "adapter"
(register_adapter_conf_options, group "keystoneauth.adapter").  It is what the
service registers at run time (recorded) or what its listing shows.

"templates"/"dynamic" describe sections whose names the operator chooses (cinder's
enabled_backends sections, glance's multi-store backends, nova's [mdev_<type>],
keystone's federation protocol sections): "named_by" is the [section] option whose
value names them, "template" (or "templates" by backend type) the option set that
applies, looked up in "templates" first, then in "sections" (cinder: backend_defaults).

Option info keys (false/empty ones are left out to keep the file small): ``type``
(string, integer, float, boolean, list, dict, port, ipaddress, hostaddress, hostdomain,
hostname, uri, range, multistring, ...), ``default``, ``default_is_sample`` (the default
is the documentation placeholder, e.g. "<current_hostname>"), ``secret``, ``choices``,
``min``, ``max``, ``item`` (item type of list/dict options), ``regex``, ``max_length``,
``ignore_case``, ``schemes``, ``version``, ``multi``, ``required``, ``advanced``,
``mutable``, ``deprecated_names`` ([[section, name], ...]), ``deprecated_for_removal``,
``deprecated_reason``, ``deprecated_since``, ``namespace``, ``cli_name`` (only when the
option's registered name differs from the key used in files, e.g. keystoneauth's
``auth-url``).

Each service is listed in its own subprocess: the namespaces' "defaults" hooks change
library defaults process-wide (nova's differ from cinder's), so services must not share
an interpreter.

The generator needs no network, database or message bus: it only imports the packages.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import importlib.metadata as md
import json
import math
import os
import re
import socket
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

FORMAT = 1
REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "src" / "regionctl" / "openstack" / "optdata"

# service -> the config files it checks and its oslo.config.opts namespaces.
# The namespace lists are the services' own oslo-config-generator configs as shipped
# in their sdists (nova: etc/nova/nova-config-generator.conf, placement:
# etc/placement/config-generator.conf, glance: etc/oslo-config-generator/glance-api.conf,
# neutron: etc/oslo-config-generator/neutron.conf, cinder:
# tools/config/cinder-config-generator.conf, keystone: config-generator/keystone.conf,
# heat: etc/heat/heat-config-generator.conf),
# plus, for nova, oslo.db and oslo.cache, which nova registers ([database],
# [api_database], [cache]); nova's own namespace lists their options too, all but
# [database] use_db_reconnect.
SERVICES: dict[str, dict[str, list[str]]] = {
    "nova": {
        "files": ["nova.conf", "nova-compute.conf"],
        "namespaces": [
            "nova.conf", "oslo.limit", "oslo.log", "oslo.messaging", "oslo.policy",
            "oslo.privsep", "oslo.service.periodic_task", "oslo.service.service",
            "oslo.middleware", "oslo.concurrency", "oslo.reports",
            "oslo.versionedobjects", "keystonemiddleware.auth_token", "osprofiler",
            "os_vif", "os_brick", "oslo.db", "oslo.cache",
        ],
    },
    "placement": {
        "files": ["placement.conf"],
        "namespaces": [
            "placement.conf", "keystonemiddleware.auth_token", "oslo.log",
            "oslo.middleware.cors", "oslo.middleware.http_proxy_to_wsgi",
            "oslo.policy", "osprofiler",
        ],
    },
    "glance": {
        "files": ["glance-api.conf"],
        "namespaces": [
            "castellan.config", "glance.api", "glance.store", "os_brick",
            "glance.multi_store", "oslo.concurrency", "oslo.messaging", "oslo.db",
            "oslo.policy", "keystonemiddleware.auth_token", "oslo.limit", "oslo.log",
            "oslo.middleware.cors", "oslo.middleware.healthcheck",
            "oslo.middleware.http_proxy_to_wsgi", "oslo.reports",
        ],
    },
    "neutron": {
        "files": ["neutron.conf"],
        "namespaces": [
            "neutron", "neutron.agent", "neutron.db", "neutron.experimental",
            "neutron.extensions", "nova.auth", "ironic.auth", "placement.auth",
            "designate.auth", "oslo.log", "oslo.cache", "oslo.db", "oslo.policy",
            "oslo.privsep", "oslo.concurrency", "oslo.messaging",
            "oslo.middleware.cors", "oslo.middleware.healthcheck",
            "oslo.middleware.http_proxy_to_wsgi", "oslo.reports",
            "oslo.service.periodic_task", "oslo.service.service",
            "oslo.versionedobjects", "keystonemiddleware.auth_token", "osprofiler",
        ],
    },
    "cinder": {
        "files": ["cinder.conf"],
        "namespaces": [
            "castellan.config", "cinder", "keystonemiddleware.auth_token",
            "osprofiler", "oslo.config", "oslo.concurrency", "oslo.db", "oslo.log",
            "oslo.messaging", "oslo.middleware", "oslo.policy", "oslo.privsep",
            "oslo.reports", "oslo.service.periodic_task", "oslo.service.service",
            "oslo.service.sslutils", "oslo.service.wsgi", "oslo.versionedobjects",
            "os_brick",
        ],
    },
    "keystone": {
        "files": ["keystone.conf"],
        "namespaces": [
            "keystone", "oslo.cache", "oslo.log", "oslo.messaging", "oslo.policy",
            "oslo.db", "oslo.middleware", "osprofiler",
        ],
    },
    "heat": {
        "files": ["heat.conf"],
        "namespaces": [
            "cotyledon", "heat.common.cache", "heat.common.config", "heat.common.context",
            "heat.common.crypt", "heat.engine.clients.os.keystone.heat_keystoneclient",
            "heat.engine.hot.functions", "heat.common.wsgi", "heat.engine.clients",
            "heat.engine.notification", "heat.engine.resources", "heat.api.aws.ec2token",
            "keystonemiddleware.auth_token", "oslo.cache", "oslo.messaging", "oslo.middleware",
            "oslo.log", "oslo.policy", "oslo.reports", "oslo.versionedobjects", "osprofiler",
        ],
    },
}

# Distributions whose versions go into the header (besides the namespaces' owners).
HEADER_DISTS = ["nova", "openstack-placement", "glance", "neutron", "cinder", "keystone",
                "openstack-heat", "keystoneauth1", "keystonemiddleware", "oslo.config"]

# keystoneauth plugins whose options are recorded as groups "keystoneauth.<plugin>".
KSA_PLUGINS = ["password", "v3password", "v3applicationcredential", "token", "v3token"]

# Release names by the services' major versions (nova 31 = 2025.1 ... one a half-year).
RELEASE_BASE = {"nova": 31, "keystone": 27, "cinder": 26, "glance": 30, "neutron": 26,
                "openstack-placement": 13, "openstack-heat": 24}


def release_of(versions: dict[str, str]) -> str:
    """The OpenStack release name ("2026.2") that the installed services belong to."""
    names = set()
    for dist, base in RELEASE_BASE.items():
        n = int(versions[dist].split(".")[0]) - base
        names.add(f"{2025 + n // 2}.{1 + n % 2}")
    if len(names) != 1:
        raise SystemExit(f"gen_optdata: the services are from different releases: "
                         f"{sorted(names)} ({versions})")
    return names.pop()


# --------------------------------------------------------------------------------------
# worker side: runs in a subprocess per service, prints JSON on stdout


def _type_name(t: Any) -> str:
    from oslo_config import types

    if t in (str,):
        return "string"
    if t in (int,):
        return "integer"
    if t in (float,):
        return "float"
    if t in (bool,):
        return "boolean"
    names = {
        types.MultiString: "multistring", types.String: "string",
        types.Boolean: "boolean", types.Port: "port", types.Integer: "integer",
        types.Float: "float", types.List: "list", types.Range: "range",
        types.Dict: "dict", types.IPAddress: "ipaddress", types.HostDomain: "hostdomain",
        types.HostAddress: "hostaddress", types.Hostname: "hostname", types.URI: "uri",
    }
    for klass in type(t).__mro__:
        if klass in names:
            return names[klass]
    return "unknown"


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        items = [_jsonable(x) for x in v]
        return sorted(items, key=repr) if isinstance(v, (set, frozenset)) else items
    return str(v)  # oslo_i18n Message, enum members, paths ...


def _type_info(t: Any) -> dict[str, Any]:
    """The checkable facts of an oslo.config type object (or plain callable)."""
    from oslo_config import types

    info: dict[str, Any] = {"type": _type_name(t)}
    choices = getattr(t, "choices", None)
    if choices:
        info["choices"] = _jsonable(list(choices))
    for attr in ("min", "max"):
        val = getattr(t, attr, None)
        if val is not None:
            info[attr] = _jsonable(val)
    if isinstance(t, types.String):
        if t.regex is not None:
            info["regex"] = t.regex.pattern
        if t.max_length:
            info["max_length"] = t.max_length
        if t.ignore_case:
            info["ignore_case"] = True
    if isinstance(t, types.URI):
        if t.max_length:
            info["max_length"] = t.max_length
        if t.schemes:
            info["schemes"] = _jsonable(list(t.schemes))
    if isinstance(t, (types.IPAddress, types.HostAddress)):
        checker = t.version_checker if isinstance(t, types.IPAddress) else \
            t.ip_address.version_checker
        version = {"_check_ipv4": 4, "_check_ipv6": 6}.get(checker.__name__)
        if version:
            info["version"] = version
    if isinstance(t, types.Range) and not t.inclusive:
        info["inclusive"] = False
    if isinstance(t, types.List):
        info["item"] = _type_info(t.item_type)
        if t.bounds:
            info["bounds"] = True
    if isinstance(t, types.Dict):
        info["item"] = _type_info(t.value_type)
        if t.bounds:
            info["bounds"] = True
    if isinstance(t, types.Boolean):
        info.pop("choices", None)
    return info


def opt_info(opt: Any, group: str | None, namespace: str | None) -> dict[str, Any]:
    """One option as a small JSON-able dict (false/empty values left out).

    ``group`` None (the keystoneauth groups, which have no section of their own):
    deprecated names in the same section are recorded as [null, name].
    """
    info = _type_info(opt.type)
    if opt.name != opt.dest:
        info["cli_name"] = opt.name
    if opt.sample_default is not None:
        info["default"] = _jsonable(opt.sample_default)
        info["default_is_sample"] = True
    else:
        info["default"] = _jsonable(opt.default)
    flags = ("secret", "multi", "required", "advanced", "mutable", "positional",
             "deprecated_for_removal")
    for flag in flags:
        if getattr(opt, flag, False):
            info[flag] = True
    for attr in ("deprecated_reason", "deprecated_since"):
        val = getattr(opt, attr, None)
        if val:
            info[attr] = _jsonable(val)
    deprecated = set()
    for d in opt.deprecated_opts:
        # as oslo.config looks them up (and as the generator lists them): a name
        # with "-" can't be written in a file; a missing group/name means "same".
        if d.name and "-" in d.name:
            continue
        if not d.name and not d.group:
            continue
        dgroup = getattr(d.group, "name", d.group) or group
        deprecated.add((None if dgroup is None else str(dgroup), d.name or opt.dest))
    deprecated.discard((group, opt.dest))
    if deprecated:
        info["deprecated_names"] = sorted([list(x) for x in deprecated],
                                          key=lambda x: (x[0] or "", x[1]))
    if namespace:
        info["namespace"] = namespace
    return info


def _group_name(group: Any) -> str:
    return "DEFAULT" if group is None else str(getattr(group, "name", group))


def _registered(conf: Any, group: str) -> list[Any]:
    """The option objects registered in `group` of a ConfigOpts."""
    return [info["opt"] for info in conf._groups[group]._opts.values()]


def _dynamic_nova(sections: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    # [mdev_<type>] sections, one per [devices] enabled_mdev_types entry
    from nova.conf import devices
    from oslo_config import cfg

    conf = cfg.ConfigOpts()
    devices.register_opts(conf)
    conf([], project="regionctl-gen")
    conf.set_override("enabled_mdev_types", ["TYPE"], group="devices")
    devices.register_dynamic_opts(conf)
    tmpl = {o.dest: opt_info(o, "mdev_TYPE", "nova.conf") for o in
            _registered(conf, "mdev_TYPE")}
    for info in tmpl.values():  # deprecated [vgpu_<type>] names
        if "deprecated_names" in info:
            info["deprecated_names"] = [[g.replace("TYPE", "<type>"), n]
                                        for g, n in info["deprecated_names"]]
    dyn = [{"named_by": ["devices", "enabled_mdev_types"], "section": "mdev_<type>",
            "template": "mdev_<type>"}]
    return dyn, {"mdev_<type>": tmpl}


def _dynamic_glance(sections: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    # multi-store: [DEFAULT] enabled_backends = name:type,... gives one section per
    # name with that store type's options; glance always adds the reserved file stores.
    # The generator lists the type templates as sections named after a driver entry
    # point ([cinder], [file], [glance.store.rbd.store] ...): drop those.
    from glance.common import wsgi_app
    from glance_store import multi_backend
    from oslo_config import cfg

    kinds = sorted({ep.name for ep in md.entry_points(group="glance_store.drivers")
                    if "." not in ep.name and ep.name != "no_conf"})
    conf = cfg.ConfigOpts()
    conf.register_opt(cfg.DictOpt("enabled_backends"))
    conf([], project="regionctl-gen")
    conf.set_override("enabled_backends", {f"t_{k}": k for k in kinds})
    multi_backend.register_store_opts(conf, reserved_stores=dict(wsgi_app.RESERVED_STORES))
    templates = {}
    for k in kinds:
        opts = _registered(conf, f"t_{k}")
        templates[f"store:{k}"] = {o.dest: opt_info(o, f"t_{k}", "glance.multi_store")
                                   for o in opts}
    for name in sorted(wsgi_app.RESERVED_STORES):
        sections[name] = {o.dest: opt_info(o, name, "glance.multi_store")
                          for o in _registered(conf, name)}
    driver_groups = {ep.name.lower() for ep in
                     md.entry_points(group="glance_store.drivers")}
    for sec in list(sections):
        if sec in driver_groups:
            del sections[sec]
    dyn = [{"named_by": ["DEFAULT", "enabled_backends"], "value": "name:type",
            "templates": {k: f"store:{k}" for k in kinds}},
           {"reserved": sorted(wsgi_app.RESERVED_STORES)}]
    return dyn, templates


def _dynamic_cinder(sections: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    # one section per [DEFAULT] enabled_backends name, with the volume driver options
    # the generator lists in [backend_defaults] (which is itself a real section: the
    # fall-back values for every backend section).  The fc zone manager's fabric
    # sections are examples of sections named by [fc-zone-manager] fc_fabric_names.
    templates: dict[str, Any] = {}
    for sec in ("brcd_fabric_example", "cisco_fabric_example"):
        if sec in sections:
            templates[sec] = sections.pop(sec)
    dyn: list[Any] = [
        {"named_by": ["DEFAULT", "enabled_backends"], "value": "list",
         "template": "backend_defaults"},
        {"named_by": ["fc-zone-manager", "fc_fabric_names"], "value": "list",
         "templates": {"brocade": "brcd_fabric_example", "cisco": "cisco_fabric_example"}},
    ]
    return dyn, templates


def _dynamic_keystone(sections: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    # keystone.federation.utils.get_remote_id_parameter registers
    # [<protocol id>] remote_id_attribute (a StrOpt) on first use; and
    # keystone.conf.auth.setup_authentication registers an [auth] <method> StrOpt for
    # each non-default name in [auth] methods.
    from oslo_config import cfg

    tmpl = {"remote_id_attribute": opt_info(cfg.StrOpt("remote_id_attribute"),
                                            "<protocol>", "keystone")}
    dyn = [{"named_by": "a federation protocol id (e.g. openid, saml2, mapped)",
            "section": "<protocol>", "template": "<protocol>"},
           {"option_named_by": ["auth", "methods"], "section": "auth",
            "type": "string"}]
    return dyn, {"<protocol>": tmpl}


# Modules (or "module:function") that register each service's configuration at run
# time, touched after the listing so that keystoneauth registrations which the
# generator's listing leaves out (e.g. neutron [ironic]'s adapter options) are seen.
REGISTER_HOOKS = {
    "nova": ["nova.conf", "oslo_limit.opts:register_opts(CONF)"],
    "placement": ["placement.conf"],
    "glance": ["glance.common.config", "glance.common.trust_auth",
               "oslo_limit.opts:register_opts(CONF)"],
    "neutron": ["neutron.common.config:register_common_config_options"],
    "cinder": ["cinder.common.config", "cinder.service_auth", "cinder.compute.nova",
               "cinder.image.glance"],
    "keystone": ["keystone.conf"],
    # [trustee] (heat.common.context) and [ec2authtoken] register keystoneauth options on import
    "heat": ["heat.common.config", "heat.common.context", "heat.api.aws.ec2token"],
}

KSA_REGISTER = {"auth": "register_auth_conf_options",
                "session": "register_session_conf_options",
                "adapter": "register_adapter_conf_options"}


def _record_ksa_registrations() -> dict[str, set[str]]:
    """Wrap keystoneauth1.loading.register_*_conf_options to record their groups."""
    from keystoneauth1 import loading

    seen: dict[str, set[str]] = {k: set() for k in KSA_REGISTER}

    def wrap(kind: str, fn: Any) -> Any:
        def recorder(conf: Any, group: Any, *a: Any, **kw: Any) -> Any:
            seen[kind].add(str(getattr(group, "name", group)))
            return fn(conf, group, *a, **kw)
        return recorder

    mods = [loading]
    for modname in ("keystoneauth1.loading.conf", "keystoneauth1.loading.session",
                    "keystoneauth1.loading.adapter"):
        try:
            mods.append(importlib.import_module(modname))
        except ImportError:
            pass
    for kind, fname in KSA_REGISTER.items():
        orig = getattr(loading, fname)
        for mod in mods:
            if getattr(mod, fname, None) is orig:
                setattr(mod, fname, wrap(kind, orig))
    return seen


def _run_hooks(service: str) -> list[str]:
    failed = []
    for hook in REGISTER_HOOKS.get(service, []):
        modname, _, func = hook.partition(":")
        try:
            mod = importlib.import_module(modname)
            if func.endswith("(CONF)"):
                from oslo_config import cfg
                getattr(mod, func[:-6])(cfg.CONF)
            elif func:
                getattr(mod, func)()
        except Exception as exc:  # noqa: BLE001 - reported, the listing still stands
            failed.append(f"{hook}: {type(exc).__name__}: {exc}")
    return failed


DYNAMIC = {"nova": _dynamic_nova, "glance": _dynamic_glance, "cinder": _dynamic_cinder,
           "keystone": _dynamic_keystone}


def worker(service: str) -> dict[str, Any]:
    from oslo_config import generator

    namespaces = SERVICES[service]["namespaces"]
    available = {ep.name for ep in md.entry_points(group="oslo.config.opts")}
    missing = [ns for ns in namespaces if ns not in available]
    if missing:
        raise SystemExit(f"gen_optdata: {service}: namespaces not installed: {missing}")
    registered = _record_ksa_registrations()
    # the generator's own listing: loads the namespaces, runs their defaults hooks,
    # adds driver options, drops duplicates within a namespace
    groups = generator._get_groups(generator._list_opts(namespaces))
    hook_failures = _run_hooks(service)
    sections: dict[str, dict[str, Any]] = {}
    meta: dict[str, Any] = {}
    conflicts: list[str] = []
    for gname, gdata in groups.items():
        opts: dict[str, Any] = {}
        for namespace, nopts in sorted(gdata["namespaces"], key=lambda x: x[0]):
            for opt in nopts:
                info = opt_info(opt, gname, namespace)
                old = opts.get(opt.dest)
                if old is not None:
                    a = {k: v for k, v in old.items() if k != "namespace"}
                    b = {k: v for k, v in info.items() if k != "namespace"}
                    if a != b:
                        conflicts.append(f"[{gname}] {opt.dest}: {old.get('namespace')}"
                                         f" vs {namespace}")
                    continue  # first namespace (sorted) wins, as in the sample file
                opts[opt.dest] = info
        if opts:
            sections[gname] = opts
        obj = gdata.get("object")
        if obj is not None:
            gm = {}
            if getattr(obj, "dynamic_group_owner", ""):
                gm["dynamic_group_owner"] = obj.dynamic_group_owner
            if getattr(obj, "driver_option", ""):
                gm["driver_option"] = obj.driver_option
                gm["driver_opts"] = {k: sorted(v) for k, v in
                                     sorted(getattr(obj, "_driver_opts", {}).items())}
            if gm:
                meta[gname] = gm
    dynamic: list[Any] = []
    templates: dict[str, Any] = {}
    # oslo.config's own dynamic groups (e.g. [DEFAULT] config_source examples)
    for gname, gm in sorted(meta.items()):
        if gm.get("dynamic_group_owner") and gname in sections:
            templates[gname] = sections.pop(gname)
            dynamic.append({"named_by": ["DEFAULT", gm["dynamic_group_owner"]],
                            "value": "list", "template": gname,
                            **({"driver_option": gm["driver_option"]}
                               if gm.get("driver_option") else {})})
    if service in DYNAMIC:
        dyn, tmpl = DYNAMIC[service](sections)
        dynamic.extend(dyn)
        templates.update(tmpl)
    dists = {}
    for ep in md.entry_points(group="oslo.config.opts"):
        if ep.name in namespaces and ep.dist is not None:
            dists[ep.dist.name] = ep.dist.version
    return {"sections": sections, "templates": templates, "dynamic": dynamic,
            "conflicts": conflicts, "dists": dists, "hook_failures": hook_failures,
            "ksa_registered": {k: sorted(v) for k, v in registered.items()}}


def ksa_worker() -> dict[str, Any]:
    from keystoneauth1 import loading

    def group(opts: list[Any]) -> dict[str, Any]:
        return {o.dest: opt_info(o, None, None) for o in opts}

    out = {
        # register_auth_conf_options: auth_type, auth_section
        "keystoneauth.auth": group(loading.get_auth_common_conf_options()),
        # register_session_conf_options: cafile, insecure, timeout, ...
        "keystoneauth.session": group(loading.get_session_conf_options()),
        # register_adapter_conf_options: region_name, valid_interfaces, ...
        "keystoneauth.adapter": group(loading.get_adapter_conf_options()),
    }
    for plugin in KSA_PLUGINS:  # what auth_type = <plugin> adds to the section
        out[f"keystoneauth.{plugin}"] = group(loading.get_auth_plugin_conf_options(plugin))
    return {"groups": out, "dists": {"keystoneauth1": md.version("keystoneauth1")}}


# --------------------------------------------------------------------------------------
# orchestrator side


def _run_worker(arg: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONWARNINGS="ignore", LC_ALL="C.UTF-8",
               TZ="UTC")
    proc = subprocess.run([sys.executable, __file__, "--worker", arg],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"gen_optdata: listing {arg} failed (exit {proc.returncode})")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


# Host facts that some defaults are computed from at import time (nova/neutron/cinder
# my_ip, hostnames): the workers see these stand-ins, recorded as placeholders.
FAKE_HOST = {"ipv4": "203.0.113.254", "ipv6": "2001:db8::254",
             "hostname": "regionctl-gen-host", "fqdn": "regionctl-gen-host.invalid"}
HOST_PLACEHOLDERS = {FAKE_HOST["ipv4"]: "<host_ipv4>", FAKE_HOST["ipv6"]: "<host_ipv6>",
                     FAKE_HOST["fqdn"]: "<hostname>", FAKE_HOST["hostname"]: "<hostname>"}


def _fake_host() -> None:
    from oslo_utils import netutils

    netutils.get_my_ipv4 = lambda: FAKE_HOST["ipv4"]
    netutils.get_my_ipv6 = lambda: FAKE_HOST["ipv6"]
    socket.gethostname = lambda: FAKE_HOST["hostname"]
    socket.getfqdn = lambda name="": FAKE_HOST["fqdn"]


def _scrubber() -> list[tuple[str, str]]:
    """Machine-specific strings that must not end up in the data file."""
    subs: list[tuple[str, str]] = sorted(HOST_PLACEHOLDERS.items(),
                                         key=lambda x: -len(x[0]))
    paths = {sysconfig.get_paths()["purelib"]: "<site-packages>",
             sysconfig.get_paths()["platlib"]: "<site-packages>",
             sys.prefix: "<venv>", str(Path.home()): "<home>"}
    for path, ph in sorted(paths.items(), key=lambda x: -len(x[0])):
        subs.append((path, ph))
    names = {socket.gethostname(), socket.getfqdn()} - {"", "localhost"}
    for name in sorted(names, key=len, reverse=True):
        subs.append((name, "<hostname>"))
    return subs


def _scrub(v: Any, subs: list[tuple[str, str]], hits: list[str], where: str) -> Any:
    if isinstance(v, str):
        new = v
        for old, ph in subs:  # whole names/paths only ("/root" not in "/rootwrap")
            new = re.sub(rf"(?<![A-Za-z0-9_.-]){re.escape(old)}(?![A-Za-z0-9_.-])",
                         ph, new)
        if new != v:
            hits.append(f"{where}: {v!r} -> {new!r}")
        return new
    if isinstance(v, list):
        return [_scrub(x, subs, hits, where) for x in v]
    if isinstance(v, dict):
        return {k: _scrub(x, subs, hits, where) for k, x in v.items()}
    return v


# A section has keystoneauth "auth" options (auth_type, auth_section and the chosen
# plugin's options), "session" options or "adapter" options when the service registers
# them there (recorded at run time) or when its listing shows them (any of these).
KSA_EVIDENCE = {
    "auth": {"auth_section"},
    "session": {"cafile", "certfile", "keyfile", "insecure", "timeout"},
    "adapter": {"valid_interfaces", "endpoint_override"},
}


def _ksa_features(sections: dict[str, Any], registered: dict[str, list[str]],
                  ) -> dict[str, list[str]]:
    feats: dict[str, set[str]] = {}
    for sec, opts in sections.items():
        for kind, names in KSA_EVIDENCE.items():
            if names <= set(opts):
                feats.setdefault(sec, set()).add(kind)
        # keystoneauth's auth_type with a plugin's options listed (neutron [nova]
        # lists no auth_section); castellan's [key_manager] has an auth_type of its
        # own, with choices
        auth_type = opts.get("auth_type")
        if auth_type and not auth_type.get("choices") and "auth_url" in opts:
            feats.setdefault(sec, set()).add("auth")
    for kind, groups in registered.items():
        for sec in groups:
            if sec in sections:  # registered in a section this file really has
                feats.setdefault(sec, set()).add(kind)
    return {sec: sorted(v) for sec, v in sorted(feats.items())}


def generate(services: list[str], release: str | None, verbose: bool) -> dict[str, Any]:
    versions = {d: md.version(d) for d in HEADER_DISTS}
    rel = release or release_of(versions)
    subs = _scrubber()
    hits: list[str] = []
    data: dict[str, Any] = {"format": FORMAT, "services": {}, "groups": {}}
    dists: dict[str, str] = dict(versions)
    for service in services:
        if verbose:
            print(f"gen_optdata: listing {service} ...", file=sys.stderr)
        out = _run_worker(service)
        for c in out["conflicts"]:
            print(f"gen_optdata: {service}: differing duplicate {c}", file=sys.stderr)
        for c in out["hook_failures"]:
            print(f"gen_optdata: {service}: registration hook failed: {c}",
                  file=sys.stderr)
        dists.update(out["dists"])
        sections = _scrub(out["sections"], subs, hits, service)
        ksa = _ksa_features(sections, out["ksa_registered"])
        entry: dict[str, Any] = {
            "files": SERVICES[service]["files"],
            "namespaces": SERVICES[service]["namespaces"],
            "keystoneauth": ksa,
            "sections": sections,
        }
        if out["templates"]:
            entry["templates"] = _scrub(out["templates"], subs, hits, service)
            entry["dynamic"] = out["dynamic"]
        data["services"][service] = entry
    ksa_out = _run_worker("keystoneauth")
    data["groups"] = _scrub(ksa_out["groups"], subs, hits, "keystoneauth")
    dists.update(ksa_out["dists"])
    for h in hits:
        print(f"gen_optdata: scrubbed {h}", file=sys.stderr)
    data["header"] = {
        "release": rel,
        "generated_by": "tools/gen_optdata.py",
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "packages": dict(sorted(dists.items(), key=lambda x: x[0].lower())),
    }
    return data


def dump(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--release", help="release name for the header/file name "
                    "(default: derived from the installed service versions)")
    ap.add_argument("--output", "-o", help="output file (default: "
                    "src/regionctl/openstack/optdata/<release>.json; '-' = stdout)")
    ap.add_argument("--service", action="append", choices=sorted(SERVICES),
                    help="only these services (for debugging; default all)")
    ap.add_argument("--print-release", action="store_true",
                    help="print the release name of the installed services and exit")
    ap.add_argument("--check", metavar="FILE",
                    help="regenerate and compare with FILE; exit 1 if they differ")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        _fake_host()
        res = ksa_worker() if args.worker == "keystoneauth" else worker(args.worker)
        sys.stdout.write(json.dumps(res, sort_keys=True))
        return 0

    if args.print_release:
        print(args.release or release_of({d: md.version(d) for d in HEADER_DISTS}))
        return 0

    services = args.service or list(SERVICES)
    data = generate(services, args.release, args.verbose)
    text = dump(data)
    if args.check:
        old = Path(args.check).read_text() if Path(args.check).exists() else ""
        if old == text:
            print(f"gen_optdata: {args.check} is up to date")
            return 0
        diff = difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                    args.check, "regenerated", n=2)
        sys.stdout.writelines(list(diff)[:400])
        print(f"gen_optdata: {args.check} differs from the regenerated data "
              f"(run `make optdata`)", file=sys.stderr)
        return 1
    out = args.output or str(OUT_DIR / f"{data['header']['release']}.json")
    if out == "-":
        sys.stdout.write(text)
    else:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=Path(out).parent, delete=False,
                                         suffix=".tmp", encoding="utf-8") as f:
            f.write(text)
        os.chmod(f.name, 0o644)
        os.replace(f.name, out)
        print(f"gen_optdata: wrote {out} ({len(text.encode())} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
