"""The secrets each service needs, and how strong random ones are made for it (data).

Every generated secret is letters and digits only: no ``$`` (oslo.config interpolates it), no
``%``/``@``/``:``/``/`` (they would need escaping inside database and RabbitMQ URLs), nothing YAML
or a shell quotes. 32 characters of 62 give 190 bits, inside every limit below.
"""

from __future__ import annotations

import secrets as _random
import string
from dataclasses import dataclass
from typing import Iterable

from regionctl.openstack.services import SERVICES
from regionctl.openstack.wiring import RULES, Kind

ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Policy:
    """How one kind of secret is generated: the service's limit and why."""

    length: int
    alphabet: str
    why: str

    def generate(self) -> str:
        return "".join(_random.choice(self.alphabet) for _ in range(self.length))


#: The secrets file's key (the map under ``passwords:``) -> how its values are made.
POLICIES: dict[str, Policy] = {
    "keystone_admin": Policy(32, ALNUM, "Keystone stores a hash of any length; clients pass it in JSON"),
    "service_users": Policy(32, ALNUM, "Keystone user passwords; written into [keystone_authtoken] and auth sections"),
    "databases": Policy(32, ALNUM, "MySQL/MariaDB accept up to 80 characters; written inside connection URLs"),
    "messaging": Policy(32, ALNUM, "RabbitMQ passwords, written inside transport_url"),
}

def needed(services: Iterable[str], identity: bool) -> list[tuple[str, ...]]:
    """The secrets-file paths a region running ``services`` needs, in file order.

    Read off the wiring rows, so generate fills exactly what the wiring reads: every user an
    AUTHTOKEN or AUTH rule logs in as, every database user of ``Service.databases``, and the
    RabbitMQ password where a TRANSPORT rule writes ``transport_url``.
    """
    run = [s for s in services if s in SERVICES]
    rules = [r for s in run for r in RULES.get(s, ())]
    out: list[tuple[str, ...]] = []
    if identity:
        out.append(("passwords", "keystone_admin"))
    users = sorted({r.user for r in rules if r.kind in (Kind.AUTHTOKEN, Kind.AUTH) and r.user})
    out += [("passwords", "service_users", u) for u in users]
    dbs = sorted({d.user for s in run for d in SERVICES[s].databases})
    out += [("passwords", "databases", d) for d in dbs]
    if any(r.kind is Kind.TRANSPORT for r in rules):
        out.append(("passwords", "messaging"))
    return out


def policy_for(path: tuple[str, ...]) -> Policy:
    key = path[1] if len(path) > 1 and path[0] == "passwords" else path[-1]
    return POLICIES.get(key, Policy(32, ALNUM, "a secret option"))


def shared(path: tuple[str, ...]) -> bool:
    """Service users are one Keystone user for every region (service_users: shared)."""
    return len(path) == 3 and path[:2] == ("passwords", "service_users")
