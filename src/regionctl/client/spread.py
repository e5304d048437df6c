"""Failover (``|``: the first region that answers) and fan-out (``&``: every region) for reads.

OpenStackoid's later branch let a scope name several regions. Only what is safe is built:

* failover for reads only (GET, HEAD), moving on after a connection error or a 5xx and never
  after a 4xx (a 404 or 403 is an answer, and retrying a write could apply it twice);
* fan-out only for list calls, every item tagged with the region (or cloud) that returned it.

A target is a name and a keystoneauth Session (or Adapter) with its endpoint filter: a session
per cloud, or one session with a ``region_name`` per region of one catalog. The scope grammar
itself stays single-valued (the routers match exactly it); these are client-side helpers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

READS = ("GET", "HEAD")


class SpreadError(RuntimeError):
    """No target answered: each one's failure, in order."""


@dataclass(frozen=True)
class Target:
    name: str  # the region or cloud, as results are tagged
    session: Any  # keystoneauth1 Session or Adapter
    endpoint_filter: dict[str, Any] = field(default_factory=dict)  # service_type, region_name, interface
    endpoint_override: str | None = None  # a fixed URL instead of the catalog's


def _get(target: Target, method: str, path: str, **kwargs: Any) -> Any:
    from keystoneauth1 import exceptions as ksa_exc

    filt: dict[str, Any] = {"endpoint_filter": target.endpoint_filter} if target.endpoint_filter else {}
    if target.endpoint_override:
        filt["endpoint_override"] = target.endpoint_override
    try:
        return target.session.request(path, method, raise_exc=False, **filt, **kwargs)
    except (ksa_exc.ConnectFailure, ksa_exc.ConnectTimeout, ksa_exc.EndpointNotFound) as exc:
        return exc


def first_that_answers(targets: Sequence[Target], path: str, method: str = "GET", **kwargs: Any) -> tuple[str, Any]:
    """(name, response) of the first target that answers a read with anything but 5xx."""
    if method.upper() not in READS:
        raise ValueError(f"failover is for reads only ({', '.join(READS)}), not {method}")
    failures = []
    for t in targets:
        r = _get(t, method.upper(), path, **kwargs)
        if isinstance(r, Exception):
            failures.append(f"{t.name}: {type(r).__name__}")
            continue
        if r.status_code >= 500:
            failures.append(f"{t.name}: HTTP {r.status_code}")
            continue
        return t.name, r  # 2xx, 3xx and 4xx are answers
    raise SpreadError("no region answered: " + "; ".join(failures))


def fan_out_list(targets: Sequence[Target], path: str, key: str, tag: str = "region",
                 **kwargs: Any) -> list[dict[str, Any]]:
    """Every target's ``key`` list, each item with ``tag`` set to the target's name. A target that
    fails (connection, 4xx or 5xx) makes the whole call fail: a partial list would look whole."""
    out: list[dict[str, Any]] = []
    for t in targets:
        r = _get(t, "GET", path, **kwargs)
        if isinstance(r, Exception) or r.status_code >= 300:
            what = type(r).__name__ if isinstance(r, Exception) else f"HTTP {r.status_code}"
            raise SpreadError(f"{t.name}: {what} listing {path}")
        out += [{**item, tag: t.name} for item in r.json().get(key, [])]
    return out
