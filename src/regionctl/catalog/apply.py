"""Carry a Plan out against Keystone: independent writes side by side, every ordering Keystone needs kept.

The plan's order is a safe serial order (regions parents first, services, endpoint creates
and updates, then deletes). :func:`dependencies` keeps only the orderings that matter, so up
to ``parallel`` writes can be in flight: a region after its parent, an endpoint after its
region and service (when the plan creates them), every create and update before any delete,
a service after its endpoints' deletes, a region after its endpoints' and children's deletes.
With ``parallel=1`` the writes go in exactly the plan's order.

One failure stops new writes; those in flight finish; the error says how many changes were
done (and the caller lists them). A write whose answer was lost (connection dropped after
sending) is never repeated blindly: the object is read back first, and sent again only if
it is not there. A re-run plans again from the live catalog, so it finishes the work without
duplicates.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from regionctl.catalog.live import Keystone, KeystoneError, OutcomeUnknown
from regionctl.catalog.model import Catalog, Endpoint, Region, Service, normalize_url
from regionctl.catalog.plan import Change, Plan

#: Called after each change is done with (change, changes done so far, total), and once more with (None, total, total).
Progress = Callable[[Change | None, int, int], None]

DEFAULT_PARALLEL = 10
#: How often one write is read back and sent again after its answer was lost.
RECOVERY_ROUNDS = 3


@dataclass
class Applied:
    """What apply did, for the closing line."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    new_ids: dict[str, str] = field(default_factory=dict)  # "region type/name interface" -> endpoint ID
    done: list[Change] = field(default_factory=list)  # in the order they completed
    recovered: int = 0  # writes whose lost answer was settled by reading Keystone back

    @property
    def total(self) -> int:
        return self.created + self.updated + self.deleted

    def summary(self) -> str:
        return f"Apply complete: {self.created} created, {self.updated} updated in place, {self.deleted} deleted."


class ApplyError(KeystoneError):
    """A change failed: Keystone's one line, plus how far apply got and what to do next."""

    def __init__(self, message: str, done: Applied, failed: list[tuple[Change, KeystoneError]],
                 status: int | None = None, transient: bool = False) -> None:
        super().__init__(message, status, transient)
        self.done = done
        self.failed = failed


def dependencies(changes: tuple[Change, ...] | list[Change]) -> list[frozenset[int]]:
    """For each change, the indexes of the changes that must be done before it (pure)."""
    region_change: dict[str, int] = {}
    service_create: dict[tuple[str, str], int] = {}
    phase1: list[int] = []
    endpoint_deletes: list[int] = []
    eps_delete_in_region: dict[str, list[int]] = {}
    eps_delete_of_service: dict[str | None, list[int]] = {}
    region_delete: dict[str, int] = {}
    for i, c in enumerate(changes):
        if c.op != "delete":
            phase1.append(i)
            if isinstance(c.new, Region):
                region_change.setdefault(c.new.id, i)
            elif isinstance(c.new, Service) and c.op == "create":
                service_create.setdefault(c.new.key, i)
        elif isinstance(c.old, Endpoint):
            endpoint_deletes.append(i)
            eps_delete_in_region.setdefault(c.old.region, []).append(i)
            eps_delete_of_service.setdefault(c.old.service_id, []).append(i)
        elif isinstance(c.old, Region):
            region_delete[c.old.id] = i
    before_deletes = frozenset(phase1)
    out: list[frozenset[int]] = []
    for i, c in enumerate(changes):
        deps: set[int] = set()
        if c.op != "delete":
            if isinstance(c.new, Region) and c.new.parent in region_change:
                deps.add(region_change[c.new.parent])
            elif isinstance(c.new, Endpoint) and c.op == "create":
                if c.new.region in region_change:
                    deps.add(region_change[c.new.region])
                if c.new.service_id is None and (c.new.type, c.new.name) in service_create:
                    deps.add(service_create[(c.new.type, c.new.name)])
        else:
            deps |= before_deletes
            if isinstance(c.old, Service):
                deps |= set(eps_delete_of_service.get(c.old.id, ()))
            elif isinstance(c.old, Region):
                deps |= set(eps_delete_in_region.get(c.old.id, ()))
                deps |= {j for rid, j in region_delete.items()
                         if isinstance(changes[j].old, Region) and changes[j].old.parent == c.old.id}  # type: ignore[union-attr]
        deps.discard(i)
        out.append(frozenset(d for d in deps if d < i or c.op == "delete"))
    return out


class _Run:
    """The shared state of one apply: what is done, IDs learnt, IDs known before."""

    def __init__(self, keystone: Keystone, live: Catalog | None) -> None:
        self.ks = keystone
        self.lock = threading.Lock()
        self.done = Applied()
        self.service_ids: dict[tuple[str, str], str] = {}
        self.known_services = {s.id for s in live.services} if live else set()
        self.known_endpoints = {e.id for e in live.endpoints} if live else set()

    def execute(self, change: Change) -> None:
        """One change, settling a lost answer by reading back (never a blind repeat)."""
        last: OutcomeUnknown | None = None
        for _ in range(RECOVERY_ROUNDS):
            try:
                self._write(change)
                return
            except OutcomeUnknown as exc:
                last = exc
                if self._already_done(change):
                    with self.lock:
                        self.done.recovered += 1
                    return
        assert last is not None
        raise last

    def _count(self, change: Change) -> None:
        with self.lock:
            if change.op == "create":
                self.done.created += 1
            elif change.op == "update":
                self.done.updated += 1
            else:
                self.done.deleted += 1
            self.done.done.append(change)

    def _service_id(self, e: Endpoint) -> str:
        sid = e.service_id or self.service_ids.get((e.type, e.name))
        if sid is None:  # the plan always creates a missing service first; a bug if not
            raise KeystoneError(f"no service {e.type}/{e.name} to attach {e.label()} to")
        return sid

    def _write(self, change: Change) -> None:
        ks, new, old = self.ks, change.new, change.old
        if change.op == "create":
            if isinstance(new, Region):
                ks.create_region(new)
            elif isinstance(new, Service):
                sid = ks.create_service(new)
                with self.lock:
                    self.service_ids[new.key] = sid
                    self.known_services.add(sid)
            elif isinstance(new, Endpoint):
                eid = ks.create_endpoint(new, self._service_id(new))
                with self.lock:
                    self.done.new_ids[new.label()] = eid
                    self.known_endpoints.add(eid)
        elif change.op == "update":
            if isinstance(new, Region):
                ks.update_region(new)
            elif isinstance(new, Service):
                ks.enable_service(new)
            elif isinstance(new, Endpoint):
                ks.update_endpoint(new)
        else:
            if isinstance(old, Endpoint):
                ks.delete_endpoint(old)
            elif isinstance(old, Service):
                ks.delete_service(old)
            elif isinstance(old, Region):
                ks.delete_region(old)
        self._count(change)

    def _already_done(self, change: Change) -> bool:
        """Read the object back: did the write whose answer was lost take effect?"""
        ks, new, old = self.ks, change.new, change.old
        if change.op == "delete":
            assert old is not None
            oid = old.id
            coll = {Region: "regions", Service: "services", Endpoint: "endpoints"}[type(old)]
            gone = oid is not None and ks.find(coll, oid) is None
            if gone:
                self._count(change)
            return gone
        if isinstance(new, Region):
            have = ks.find_region(new.id)
            ok = have is not None and (change.op == "create" or have.same_as(new))
        elif isinstance(new, Service):
            if change.op == "update":
                assert new.id is not None
                found = ks.find("services", new.id)
                ok = bool(found and found.get("enabled", True))
            else:
                fresh = [sid for sid in ks.find_service_ids(new) if sid not in self.known_services]
                ok = bool(fresh)
                if ok:
                    with self.lock:
                        self.service_ids[new.key] = fresh[0]
                        self.known_services.add(fresh[0])
        else:
            assert isinstance(new, Endpoint)
            if change.op == "update":
                assert new.id is not None
                found = ks.find("endpoints", new.id)
                ok = bool(found and normalize_url(str(found.get("url", ""))) == normalize_url(new.url)
                          and bool(found.get("enabled", True)) == new.enabled)
            else:
                mine = [x for x in ks.find_endpoints(self._service_id(new), new.interface, new.region)
                        if x.get("id") not in self.known_endpoints and x.get("url") == new.url]
                ok = bool(mine)
                if ok:
                    eid = str(mine[0]["id"])
                    with self.lock:
                        self.done.new_ids[new.label()] = eid
                        self.known_endpoints.add(eid)
        if ok:
            self._count(change)
        return ok


def apply(plan: Plan, keystone: Keystone, progress: Progress | None = None, parallel: int = DEFAULT_PARALLEL,
          live: Catalog | None = None) -> Applied:
    """Execute ``plan`` with up to ``parallel`` writes in flight; raise ApplyError (one line) on failure.

    ``live`` (the catalog the plan was made from) tells apart, when a create's answer was
    lost, an object this run made from one that was there before.
    """
    changes = plan.changes
    total = len(changes)
    deps = dependencies(changes)
    waiting = [set(d) for d in deps]
    dependents: list[list[int]] = [[] for _ in changes]
    for i, d in enumerate(deps):
        for j in d:
            dependents[j].append(i)
    ready = [i for i in range(total) if not waiting[i]]
    heapq.heapify(ready)  # lowest index first: with parallel=1 this is the plan's order
    run = _Run(keystone, live)
    keystone.set_parallel(parallel)
    failed: list[tuple[Change, KeystoneError]] = []
    bug: BaseException | None = None
    completed = 0
    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="apply") as pool:
        running: dict[Future[None], int] = {}
        while ready or running:
            while ready and not failed and bug is None and len(running) < max(1, parallel):
                i = heapq.heappop(ready)
                running[pool.submit(run.execute, changes[i])] = i
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for f in finished:
                i = running.pop(f)
                exc = f.exception()
                if exc is None:
                    completed += 1
                    if progress:
                        progress(changes[i], completed, total)
                    for j in dependents[i]:
                        waiting[j].discard(i)
                        if not waiting[j]:
                            heapq.heappush(ready, j)
                elif isinstance(exc, KeystoneError):
                    failed.append((changes[i], exc))
                else:
                    bug = exc
    if bug is not None:
        raise bug
    if failed:
        order = {id(c): i for i, c in enumerate(changes)}
        failed.sort(key=lambda f: order[id(f[0])])  # the first in plan order is the one reported
        raise _apply_error(run.done, failed, total)
    if progress:
        progress(None, total, total)
    return run.done


def _apply_error(done: Applied, failed: list[tuple[Change, KeystoneError]], total: int) -> ApplyError:
    first = failed[0][1]
    more = f"; {len(failed) - 1} more failed alongside it" if len(failed) > 1 else ""
    n = len(done.done)
    if first.transient:
        advice = ("run 'regionctl catalog apply' again to finish; it re-reads Keystone and creates nothing twice")
    elif first.status == 403:
        advice = "running apply again will not help until the user has that permission"
    elif first.status == 401:
        advice = "running apply again will not help until the credentials are fixed"
    else:
        advice = "running apply again will not help until that is fixed; 'regionctl catalog plan' shows what is left"
    return ApplyError(f"{first} [stopped after {n} of {total} changes{more}: {advice}]", done, failed,
                      first.status, first.transient)
