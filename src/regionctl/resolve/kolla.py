"""A region's kolla-ansible variables from the site: the ``kolla:`` maps of its global files.

values/global.yaml's ``kolla:`` then regions/<r>/global.yaml's, merged with Helm's rules (a
region's value wins, ``null`` deletes), each value keeping its FILE:LINE. render --format kolla
writes them into globals.yml; check/deployers.py checks them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from regionctl.openstack.deployers import KOLLA_KEY
from regionctl.site import layout
from regionctl.site.load import LoadedSite
from regionctl.site.merge import Merged, merge
from regionctl.site.provenance import Branch, Tree, Value


def global_files(region: str) -> list[str]:
    """The files a region's ``kolla:`` comes from, lowest precedence first."""
    return [f"{layout.VALUES_DIR}/{layout.GLOBAL}{layout.EXT}",
            f"{layout.REGIONS_DIR}/{region}/{layout.GLOBAL}{layout.EXT}"]


def kolla_layers(loaded: LoadedSite, region: str) -> list[Tree]:
    out: list[Tree] = []
    for rel in global_files(region):
        node = loaded.layers.get(rel, Branch()).get(KOLLA_KEY)
        if isinstance(node, dict):
            out.append(node)
    return out


def kolla_values(loaded: LoadedSite, region: str) -> Merged:
    """variable -> Value (or a map of them, for a map variable)."""
    return merge(kolla_layers(loaded, region))


def targets_kolla(loaded: LoadedSite) -> bool:
    """The site says it deploys with kolla-ansible: a ``kolla:`` key (even ``kolla: {}``) in a global file."""
    regions = set(loaded.region_dirs) | set(loaded.site.regions if loaded.site else ())
    rels = [global_files(r)[1] for r in sorted(regions)] + [global_files("")[0]]
    return any(KOLLA_KEY in loaded.layers.get(rel, Branch()) for rel in rels)


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def address_host(address: str) -> str:
    """The host of a site.yaml address (``http://10.0.0.1``, ``10.0.0.1:5000``, a template)."""
    base = address if "://" in address else "http://" + address
    try:
        return urlsplit(base.replace("{", "").replace("}", "")).hostname or address
    except ValueError:  # a malformed address: validate reports it (check/site.py check_addresses)
        return address


def site_gives_vip(loaded: LoadedSite, region: str, var: str) -> str | None:
    """The site.yaml address regionctl writes ``var`` (kolla_internal/external_vip_address) from,
    when it is an IP; None where the site names a host (the VIP is then the site's ``kolla:``)."""
    assert loaded.site is not None
    a = loaded.site.regions[region].addresses
    if a is None:
        return None
    address = (a.internal or a.public) if var == "kolla_internal_vip_address" else a.public
    return address if address and "{" not in address and _ip(address_host(address)) is not None else None


@dataclass(frozen=True)
class Vip:
    """A region's internal VIP as the site gives it, and where (FILE, LINE)."""

    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    file: str
    line: int


def internal_vip(loaded: LoadedSite, region: str) -> Vip | None:
    """site.yaml's internal (else public) address when it is an IP, else ``kolla_internal_vip_address``."""
    assert loaded.site is not None
    a = loaded.site.regions[region].addresses
    if a is not None and (a.internal or a.public):
        which = "internal" if a.internal else "public"
        ip = _ip(address_host(a.internal or a.public))
        if ip is not None:
            return Vip(ip, loaded.site_file, loaded.line("regions", region, "addresses", which))
    node = kolla_values(loaded, region).tree.get("kolla_internal_vip_address")
    if isinstance(node, Value) and (ip := _ip(str(node.value))) is not None:
        return Vip(ip, node.origin.file, node.origin.line)
    return None
