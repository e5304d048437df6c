"""Carry a Plan out against Keystone, in the plan's order, one request per change.

The plan's order is the safe one: regions (parents first), services, endpoint creates and
updates, then deletes (endpoints, services, regions children first). Nothing is batched or
retried behind the operator's back: if Keystone goes away half-way, the error says how far it
got, and a re-run plans again from the live catalog, so it finishes the work without duplicates
(every create is preceded by a fresh read that would have found it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from regionctl.catalog.live import Keystone, KeystoneError
from regionctl.catalog.model import Endpoint, Region, Service
from regionctl.catalog.plan import Change, Plan

#: Called before each change with (change, index from 0, total), and once more with (None, total, total).
Progress = Callable[[Change | None, int, int], None]


@dataclass
class Applied:
    """What apply did, for the closing line."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    new_ids: dict[str, str] = field(default_factory=dict)  # "region type/name interface" -> endpoint ID

    @property
    def total(self) -> int:
        return self.created + self.updated + self.deleted

    def summary(self) -> str:
        return f"Apply complete: {self.created} created, {self.updated} updated in place, {self.deleted} deleted."


class ApplyError(KeystoneError):
    """A change failed: Keystone's one line, plus how far apply got and what to do next."""


def apply(plan: Plan, keystone: Keystone, progress: Progress | None = None) -> Applied:
    """Execute ``plan``; raise ApplyError (one line) on the first failure."""
    done = Applied()
    service_ids: dict[tuple[str, str], str] = {}
    total = len(plan.changes)
    for i, change in enumerate(plan.changes):
        if progress:
            progress(change, i, total)
        try:
            _one(change, keystone, service_ids, done)
        except KeystoneError as exc:
            raise ApplyError(f"{exc} [stopped after {i} of {total} changes: run 'regionctl catalog apply' "
                             "again to finish; it re-reads Keystone and creates nothing twice]") from None
    if progress:
        progress(None, total, total)
    return done


def _one(change: Change, ks: Keystone, service_ids: dict[tuple[str, str], str], done: Applied) -> None:
    new, old = change.new, change.old
    if change.op == "create":
        if isinstance(new, Region):
            ks.create_region(new)
        elif isinstance(new, Service):
            service_ids[new.key] = ks.create_service(new)
        elif isinstance(new, Endpoint):
            sid = new.service_id or service_ids.get((new.type, new.name))
            if sid is None:  # the plan always creates a missing service first; a bug if not
                raise KeystoneError(f"no service {new.type}/{new.name} to attach {new.label()} to")
            done.new_ids[new.label()] = ks.create_endpoint(new, sid)
        done.created += 1
    elif change.op == "update":
        if isinstance(new, Region):
            ks.update_region(new)
        elif isinstance(new, Service):
            ks.enable_service(new)
        elif isinstance(new, Endpoint):
            ks.update_endpoint(new)
        done.updated += 1
    else:
        if isinstance(old, Endpoint):
            ks.delete_endpoint(old)
        elif isinstance(old, Service):
            ks.delete_service(old)
        elif isinstance(old, Region):
            ks.delete_region(old)
        done.deleted += 1
