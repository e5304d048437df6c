"""Which Python code a service runs, as data: the distributions and top-level packages a hot-fix
patch may touch, and where openstack-helm's charts take extra volumes for the patch set.

A patch of ``nova`` is a unified diff relative to the site-packages directory of nova's image
(``a/nova/compute/manager.py``); the first path component must be one of the service's
top-level packages below. Besides the service itself, the libraries it alone (or mostly) runs
are listed (glance's stores, neutron's lib, the volume/VIF plumbing of nova and cinder): hot-fixes
land there too. Names are the wheels' own (``*.dist-info/top_level.txt`` of the 2026.2 services
environment, tools/services-requirements.txt).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PyPackage:
    """A distribution (its name on PyPI, for ``importlib.metadata``) and one top-level package it installs."""

    dist: str
    top: str


def _pkgs(*pairs: str) -> tuple[PyPackage, ...]:
    return tuple(PyPackage(*p.split(":")) if ":" in p else PyPackage(p, p) for p in pairs)


#: regionctl service -> its Python packages, the service's own first (its version is "the" version).
SERVICE_PACKAGES: dict[str, tuple[PyPackage, ...]] = {
    "keystone": _pkgs("keystone", "keystonemiddleware"),
    "nova": _pkgs("nova", "os_vif", "os_vif:vif_plug_ovs", "os_vif:vif_plug_noop", "os-brick:os_brick"),
    "placement": _pkgs("openstack-placement:placement"),
    "neutron": _pkgs("neutron", "neutron-lib:neutron_lib"),
    "glance": _pkgs("glance", "glance-store:glance_store"),
    "cinder": _pkgs("cinder", "os-brick:os_brick"),
    "heat": _pkgs("openstack-heat:heat"),
    "horizon": _pkgs("horizon", "horizon:openstack_dashboard"),
}


def package_of(service: str, path: str) -> PyPackage | None:
    """The package of ``service`` that holds ``path`` (relative to site-packages), if any."""
    top = path.split("/", 1)[0]
    return next((p for p in SERVICE_PACKAGES.get(service, ()) if p.top == top), None)


def tops(service: str) -> list[str]:
    """The top-level package names of a service, in order, once each."""
    return list(dict.fromkeys(p.top for p in SERVICE_PACKAGES.get(service, ())))


def dists(service: str) -> list[str]:
    """The distribution names of a service, its own first, once each."""
    return list(dict.fromkeys(p.dist for p in SERVICE_PACKAGES.get(service, ())))


#: regionctl service -> the ``pod.mounts`` components of its chart whose containers run the
#: service's Python code: each gets the ``<service>-patches`` ConfigMap. From openstack-helm at
#: 0ee5adef, ``<chart>/values.yaml`` ``pod.mounts.<component>.<container>.{volumes,volumeMounts}``
#: (helm-toolkit adds them to that container; in every chart the container is named as its
#: component); left out: tests, db_init, bootstrap (they run the heat/CLI image, not the service).
HELM_PATCH_MOUNTS: dict[str, tuple[str, ...]] = {
    "keystone": ("keystone_db_sync", "keystone_api", "keystone_fernet_setup", "keystone_fernet_rotate",
                 "keystone_credential_setup", "keystone_credential_rotate", "keystone_credential_cleanup",
                 "keystone_domain_manage"),
    "horizon": ("horizon_db_sync", "horizon"),
    "nova": ("nova_compute", "nova_compute_ironic", "nova_api_metadata", "nova_api_osapi", "nova_conductor",
             "nova_scheduler", "nova_novncproxy", "nova_serialproxy", "nova_spiceproxy", "nova_db_sync"),
    "placement": ("placement", "placement_db_sync"),
    "neutron": ("neutron_server", "neutron_rpc_server", "neutron_dhcp_agent", "neutron_l3_agent",
                "neutron_metadata_agent", "neutron_ovn_db_sync", "neutron_ovn_agent", "neutron_ovn_metadata_agent",
                "ovn_vpn_agent", "neutron_ovs_agent", "neutron_sriov_agent", "neutron_l2gw_agent", "bagpipe_bgp",
                "bgp_dragent", "neutron_ironic_agent", "neutron_netns_cleanup_cron", "neutron_db_sync"),
    "glance": ("glance_api", "glance_db_sync"),
    "cinder": ("cinder_api", "cinder_scheduler", "cinder_volume", "cinder_volume_usage_audit", "cinder_db_purge",
               "cinder_backup", "cinder_db_sync"),
    # heat_trusts runs the openstack-client image (ks_service), heat_bootstrap and heat_tests too
    "heat": ("heat_api", "heat_cfn", "heat_engine", "heat_engine_cleaner", "heat_purge_deleted", "heat_db_sync"),
}
