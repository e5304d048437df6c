"""Checks of each region's ``router:`` block (the haproxy format's scope router).

Its addresses end up in HAProxy's configuration, so anything that is not an IP address, a host
name or a network is refused here, with its line, before it could reach a rendered file.
"""

from __future__ import annotations

import ipaddress
import re

from regionctl.openstack.services import SERVICES
from regionctl.site.load import LoadedSite
from regionctl.site.problems import Problem, error

#: A DNS host name (RFC 1123 labels) or an IP address.
HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


CATALOG_TYPES = {ct.type for svc in SERVICES.values() for ct in svc.all_types()}


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def check_routers(loaded: LoadedSite) -> list[Problem]:
    assert loaded.site is not None
    out: list[Problem] = []
    f = loaded.site_file
    for rname, region in loaded.site.regions.items():
        router = region.router
        if router is None:
            continue
        loc = ("regions", rname, "router")
        if not router.servers:
            out.append(error(f, loaded.line(*loc, "servers"),
                             f"router of '{rname}' has no servers: list the region's API servers (IP or host name)"))
        for i, host in enumerate(router.servers):
            if not (_is_ip(host) or HOST_NAME.match(host)):
                out.append(error(f, loaded.line(*loc, "servers", i),
                                 f"router server '{host}' is not an IP address or host name: "
                                 "give the API server's address without port or scheme"))
        for type_, port in router.ports.items():
            if type_ not in CATALOG_TYPES:
                out.append(error(f, loaded.line(*loc, "ports", type_),
                                 f"router ports: '{type_}' is not a catalog type: use one of {', '.join(sorted(CATALOG_TYPES))}"))
            elif not 0 < port < 65536:
                out.append(error(f, loaded.line(*loc, "ports", type_),
                                 f"router port {port} for {type_} is not a TCP port: give 1..65535"))
        if router.listen is not None and not _is_ip(router.listen):
            out.append(error(f, loaded.line(*loc, "listen"),
                             f"router listen '{router.listen}' is not an IP address: give the address to bind"))
        for iface, nets in router.scope_from.items():
            for i, net in enumerate(nets):
                try:
                    ipaddress.ip_network(net, strict=False)
                except ValueError:
                    out.append(error(f, loaded.line(*loc, "scope_from", iface, i),
                                     f"'{net}' is not a network: write it as CIDR, e.g. 10.0.0.0/8"))
    return out
