"""Is this URL the Keystone we are talking to? Compared by address, not by spelling (pure).

``http://localhost:5000/v3``, ``http://127.0.0.1:5000/`` and ``http://[::1]:5000/v3/`` are one
Keystone: the scheme, the host's addresses, the port (80/443 when not written) and the path
without its API version must match. Host names are resolved at the edge (``live.py``) and
handed in, so a plan stays a pure function of its inputs.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Names every resolver maps to loopback, so they need no lookup.
LOOPBACK_NAMES = {"localhost": frozenset({"127.0.0.1", "::1"}),
                  "localhost.localdomain": frozenset({"127.0.0.1", "::1"}),
                  "ip6-localhost": frozenset({"::1"}), "ip6-loopback": frozenset({"::1"})}
DEFAULT_PORTS = {"http": 80, "https": 443}
_VERSION = re.compile(r"/v\d+(\.\d+)?$")

Resolver = Callable[[str], frozenset[str]]


@dataclass(frozen=True)
class Address:
    """Where a URL goes: scheme, every address its host stands for, port, unversioned path."""

    scheme: str
    hosts: frozenset[str]
    port: int | None
    path: str

    def same_service(self, other: Address) -> bool:
        return (self.scheme == other.scheme and self.port == other.port and self.path == other.path
                and bool(self.hosts & other.hosts))


def literal_ip(host: str) -> str | None:
    """The canonical spelling of an IP literal (``0:0::1`` -> ``::1``, ``::ffff:127.0.0.1`` -> v4), else None."""
    try:
        ip = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def needs_lookup(host: str) -> bool:
    """A host name (not an IP literal, not a loopback name): the edge resolves it."""
    h = host.lower().rstrip(".")
    return bool(h) and literal_ip(h) is None and h not in LOOPBACK_NAMES


def host_addresses(host: str, resolved: Mapping[str, frozenset[str]] | None = None) -> frozenset[str]:
    """The addresses ``host`` stands for: itself (lower case) plus what it resolves to."""
    h = host.lower().rstrip(".")
    ip = literal_ip(h)
    if ip is not None:
        return frozenset({ip})
    if h in LOOPBACK_NAMES:
        return LOOPBACK_NAMES[h] | {h}
    return frozenset({h}) | frozenset(literal_ip(a) or a for a in (resolved or {}).get(h, frozenset()))


def address_of(url: str, resolved: Mapping[str, frozenset[str]] | None = None) -> Address | None:
    """``url`` as an Address; None when it is not an http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    path = _VERSION.sub("", parts.path.rstrip("/")).rstrip("/")
    return Address(scheme, host_addresses(parts.hostname, resolved), port or DEFAULT_PORTS[scheme], path)


def same_keystone(url: str, selves: tuple[Address, ...], resolved: Mapping[str, frozenset[str]] | None = None) -> bool:
    """Whether ``url`` reaches one of ``selves`` (the Keystone this command talks to)."""
    a = address_of(url, resolved)
    return a is not None and any(a.same_service(s) for s in selves)
