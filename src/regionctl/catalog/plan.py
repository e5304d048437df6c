"""What apply would do (pure): a Plan from the desired and the live catalog.

The plan is a value, printable and serializable, like Terraform's: apply only executes it.
Rules (REFERENCE 3, issue 4):

- An endpoint is matched on (service type, service name, interface, region), never less.
- A changed URL (or a disabled endpoint) is updated in place: the endpoint keeps its ID, so
  endpoint groups and project-endpoint associations survive.
- Deletes happen only with ``prune``, only in managed regions (those the site declares, or
  regionctl created and the site has since dropped), never to an identity endpoint that reaches
  the Keystone regionctl talks to (by address, in any region: ``address.py``); a service goes only when no endpoint is left for it anywhere; a region
  only when nothing is left in it and no region outside the plan hangs below it (Keystone would
  delete child regions with it).
- Duplicates (one identity, several endpoints) keep the one with the right URL, else the first
  listed; with ``prune`` the others are deleted. Without ``prune`` every such delete is listed
  as not done, so the plan still shows it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from regionctl.catalog.address import Address, address_of, same_keystone
from regionctl.catalog.model import Catalog, Endpoint, EndpointKey, Region, Service

Op = Literal["create", "update", "delete"]
Kind = Literal["region", "service", "endpoint"]
Obj = Region | Service | Endpoint


@dataclass(frozen=True)
class Change:
    """One write: create ``new``, update ``old`` to ``new`` (same ID), or delete ``old``."""

    op: Op
    kind: Kind
    old: Obj | None = None
    new: Obj | None = None
    reason: str = ""

    @property
    def subject(self) -> Obj:
        obj = self.new if self.new is not None else self.old
        assert obj is not None
        return obj

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op, "kind": self.kind}
        s = self.subject
        if isinstance(s, Region):
            out.update(id=s.id)
            if self.op == "update" and isinstance(self.old, Region) and isinstance(self.new, Region):
                out["old"] = {"description": self.old.description, "parent": self.old.parent}
                out["new"] = {"description": self.new.description, "parent": self.new.parent}
            else:
                out.update(description=s.description, parent=s.parent)
        elif isinstance(s, Service):
            out.update(type=s.type, name=s.name, id=s.id)
            if self.op == "update":
                out["new"] = {"enabled": True}
        else:
            out.update(region=s.region, type=s.type, name=s.name, interface=s.interface, id=s.id)
            if self.op == "update" and isinstance(self.old, Endpoint) and isinstance(self.new, Endpoint):
                out["old"] = {"url": self.old.url, "enabled": self.old.enabled}
                out["new"] = {"url": self.new.url, "enabled": self.new.enabled}
            else:
                out["url"] = s.url
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class Plan:
    """Changes in execution order, what stays, and deletes held back for want of ``--prune``."""

    changes: tuple[Change, ...] = ()
    unchanged: int = 0
    not_pruned: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()
    prune: bool = False

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def drifted(self) -> bool:
        """Keystone differs from the site: changes to make, or deletes held back for want of --prune."""
        return bool(self.changes or self.not_pruned)

    def count(self, op: Op) -> int:
        return sum(1 for c in self.changes if c.op == op)

    def summary(self) -> str:
        """``Plan: 3 to create, 1 to update in place, 0 to delete, 41 unchanged.``"""
        text = (f"Plan: {self.count('create')} to create, {self.count('update')} to update in place, "
                f"{self.count('delete')} to delete, {self.unchanged} unchanged")
        if self.not_pruned:
            text += f"; {len(self.not_pruned)} not deleted without --prune"
        return text + "."

    def to_dict(self) -> dict[str, Any]:
        return {
            "prune": self.prune,
            "summary": {
                "create": self.count("create"),
                "update": self.count("update"),
                "delete": self.count("delete"),
                "unchanged": self.unchanged,
                "not_pruned": len(self.not_pruned),
            },
            "changes": [c.to_dict() for c in self.changes],
            "not_pruned": [c.to_dict() for c in self.not_pruned],
            "notes": list(self.notes),
        }


def managed_regions(desired: Catalog, live: Catalog) -> frozenset[str]:
    """Regions whose contents the site owns: declared ones, and those regionctl marked."""
    return frozenset(r.id for r in desired.regions) | frozenset(r.id for r in live.regions if r.managed)


def self_addresses(live: Catalog, protected_url: str | None = None) -> tuple[Address, ...]:
    """The Keystone this command talks to: the auth URL (or ``protected_url``) and the v3 root found under it."""
    urls = (protected_url,) if protected_url is not None else (live.auth_url, *live.self_urls)
    found = (address_of(u, live.resolved) for u in urls if u)
    return tuple(a for a in found if a is not None)


def is_protected(e: Endpoint, selves: tuple[Address, ...], resolved: Mapping[str, frozenset[str]] | None = None) -> bool:
    """An identity endpoint that reaches the Keystone regionctl talks to, in any region, any interface.

    Compared by address (``localhost`` is ``127.0.0.1``, ``/v3`` or not, the default port
    written or not): deleting it would lock out every client configured like this one.
    """
    return e.type == "identity" and same_keystone(e.url, selves, resolved)


def primary_services(live: Catalog) -> dict[tuple[str, str], Service]:
    """Per (type, name), the live service new endpoints go under: the one holding most endpoints."""
    held = Counter(e.service_id for e in live.endpoints)
    out: dict[tuple[str, str], Service] = {}
    for s in live.services:
        best = out.get(s.key)
        if best is None or held[s.id] > held[best.id]:
            out[s.key] = s
    return out


@dataclass
class _Builder:
    desired: Catalog
    live: Catalog
    managed: frozenset[str]
    selves: tuple[Address, ...]
    region_changes: list[Change] = field(default_factory=list)
    service_changes: list[Change] = field(default_factory=list)
    endpoint_changes: list[Change] = field(default_factory=list)
    deletes: list[Change] = field(default_factory=list)  # endpoint deletes, then services, then regions
    notes: list[str] = field(default_factory=list)
    unchanged: int = 0

    def regions(self) -> None:
        for want in self.desired.regions:
            have = self.live.region(want.id)
            new = replace(want, managed=True)
            if have is None:
                self.region_changes.append(Change("create", "region", new=new))
            elif not have.same_as(want):
                self.region_changes.append(Change("update", "region", old=have, new=new))
            else:
                self.unchanged += 1

    def primary_services(self) -> dict[tuple[str, str], Service]:
        return primary_services(self.live)

    def services(self, primary: dict[tuple[str, str], Service]) -> None:
        for want in self.desired.services:
            have = primary.get(want.key)
            if have is None:
                self.service_changes.append(Change("create", "service", new=want))
            elif not have.enabled:
                self.service_changes.append(Change("update", "service", old=have, new=replace(have, enabled=True)))
            else:
                self.unchanged += 1

    def endpoints(self, primary: dict[tuple[str, str], Service]) -> None:
        groups: dict[EndpointKey, list[Endpoint]] = {}
        for e in self.live.endpoints:
            groups.setdefault(e.key, []).append(e)
        for want in self.desired.endpoints:
            group = groups.pop(want.key, [])
            if not group:
                svc = primary.get((want.type, want.name))
                self.endpoint_changes.append(
                    Change("create", "endpoint", new=replace(want, service_id=svc.id if svc else None)))
                continue
            keep = self._keeper(group, want.url, primary.get((want.type, want.name)))
            if keep.url != want.url or not keep.enabled:
                self.endpoint_changes.append(
                    Change("update", "endpoint", old=keep, new=replace(keep, url=want.url, enabled=True)))
            else:
                self.unchanged += 1
            for dup in group:
                if dup is not keep:
                    self._delete_endpoint(dup, f"duplicate of {keep.id}")
        for key, group in groups.items():
            region = key[3]
            if region not in self.managed:
                if len(group) > 1:
                    self.notes.append(f"{len(group)} duplicate endpoints {group[0].label()} in region '{region}', "
                                      "which the site does not manage: left alone")
                continue
            for e in group:
                self._delete_endpoint(e, "not in the site")

    def _keeper(self, group: list[Endpoint], url: str, primary: Service | None) -> Endpoint:
        """Of duplicates, keep: right URL and enabled, then the protected one, then the primary service's."""
        def rank(e: Endpoint) -> tuple[bool, bool, bool, bool]:
            return (e.url == url and e.enabled, e.url == url, is_protected(e, self.selves, self.live.resolved),
                    primary is not None and e.service_id == primary.id)
        best = group[0]
        for e in group[1:]:
            if rank(e) > rank(best):
                best = e
        return best

    def _delete_endpoint(self, e: Endpoint, reason: str) -> None:
        if is_protected(e, self.selves, self.live.resolved):
            self.notes.append(f"endpoint {e.label()} {e.url} ({reason}) is kept: "
                              "regionctl authenticated through it")
            return
        self.deletes.append(Change("delete", "endpoint", old=e, reason=reason))

    def service_deletes(self, primary: dict[tuple[str, str], Service]) -> None:
        """Services the site doesn't want (or duplicates) once their last endpoint is deleted."""
        wanted = {s.key for s in self.desired.services}
        gone = Counter(c.old.service_id for c in self.deletes if isinstance(c.old, Endpoint))
        held = Counter(e.service_id for e in self.live.endpoints)
        for s in self.live.services:
            duplicate = s.key in wanted and primary.get(s.key) is not s
            if s.key in wanted and not duplicate:
                continue
            if held[s.id] - gone[s.id] > 0:
                continue
            if gone[s.id] == 0 and not duplicate:
                continue  # an empty service the site never touched: not ours to judge
            reason = f"duplicate of service {primary[s.key].id}" if duplicate else "no endpoint left"
            self.deletes.append(Change("delete", "service", old=s, reason=reason))

    def region_deletes(self) -> None:
        """Managed regions that left the site, deepest first, when nothing would be left behind."""
        declared = {r.id for r in self.desired.regions}
        removed_eps = {c.old.id for c in self.deletes if isinstance(c.old, Endpoint)}
        live_parent = {r.id: r.parent for r in self.live.regions}
        new_parent = {r.id: r.parent for r in self.desired.regions}
        candidates = [r for r in self.live.regions if r.id in self.managed and r.id not in declared]
        deletable = {r.id for r in candidates}
        changed = True
        while changed:  # a region is deletable when its endpoints go and its children go or move away
            changed = False
            for r in candidates:
                if r.id not in deletable:
                    continue
                left = [e for e in self.live.endpoints if e.region == r.id and e.id not in removed_eps]
                children = [c for c, p in live_parent.items() if p == r.id and new_parent.get(c, p) == r.id]
                blocking = [c for c in children if c not in deletable]
                if left or blocking:
                    deletable.discard(r.id)
                    changed = True
                    why = (f"{len(left)} endpoint(s) stay in it" if left
                           else f"region(s) {', '.join(sorted(blocking))} below it stay")
                    self.notes.append(f"region '{r.id}' left the site but is kept: {why}")

        def depth(rid: str) -> int:
            d, node, seen = 0, live_parent.get(rid), {rid}
            while node is not None and node not in seen:
                seen.add(node)
                d, node = d + 1, live_parent.get(node)
            return d

        for r in sorted((r for r in candidates if r.id in deletable), key=lambda r: -depth(r.id)):
            self.deletes.append(Change("delete", "region", old=r, reason="not in the site"))

    def foreign_regions(self) -> None:
        declared = {r.id for r in self.desired.regions}
        foreign = [r for r in self.live.regions if r.id not in declared and r.id not in self.managed]
        if foreign:
            self.notes.append(f"region(s) in Keystone but not in the site, not created by regionctl, left alone: "
                              f"{', '.join(r.id for r in foreign)}")


def plan(desired: Catalog, live: Catalog, prune: bool = False, managed: Iterable[str] | None = None,
         protected_url: str | None = None) -> Plan:
    """Compare ``desired`` with ``live``; see the module docstring for the rules.

    ``managed`` defaults to :func:`managed_regions`; the protected Keystone defaults to the
    URLs the live catalog was read through.
    """
    b = _Builder(desired, live,
                 frozenset(managed) if managed is not None else managed_regions(desired, live),
                 self_addresses(live, protected_url))
    b.regions()
    primary = b.primary_services()
    b.services(primary)
    b.endpoints(primary)
    b.service_deletes(primary)
    b.region_deletes()
    b.foreign_regions()
    dups = sum(1 for c in b.deletes if c.reason.startswith("duplicate of") and c.kind == "endpoint")
    if dups and not prune:
        b.notes.append(f"{dups} duplicate endpoint(s) found: 'apply --prune' reduces each to one")
    changes = b.region_changes + b.service_changes + b.endpoint_changes
    if prune:
        return Plan(tuple(changes + b.deletes), b.unchanged, (), tuple(b.notes), True)
    return Plan(tuple(changes), b.unchanged, tuple(b.deletes), tuple(b.notes), False)
