"""Saved plans: the plan you reviewed is the plan that runs, or nothing runs (pure).

``catalog plan -o PLAN`` writes the document below; ``catalog apply PLAN`` reads it, reads
Keystone, and executes exactly its changes when the live catalog still has the fingerprint
the plan was made against; otherwise it refuses, naming what changed since. ``plan -f json``
prints the same document. Schema (``format: regionctl.catalog-plan/1``)::

    format      "regionctl.catalog-plan/1"
    keystone    "<auth URL> as <user>"            where it was planned
    auth_url    the auth URL
    site        {path, revision}                  revision: sha256 over the site's files
    live        {fingerprint, regions, services, endpoints}
                the catalog the plan was made against; fingerprint: sha256 over it
    prune       bool
    summary     {create, update, delete, unchanged, not_pruned}
    changes     [change]                          in a safe serial order
    not_pruned  [change]                          deletes held back for want of --prune
    notes       [str]

A change is ``{op: create|update|delete, kind: region|service|endpoint, ...}``: a region has
``id`` (+ ``description``, ``parent``, or ``old``/``new`` of both on update); a service
``type``, ``name``, ``id``; an endpoint ``region``, ``type``, ``name``, ``interface``, ``id``
and ``url`` (``old``/``new`` ``{url, enabled}`` on update); deletes may give a ``reason``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from regionctl.catalog.model import Catalog, Endpoint, Region, Service
from regionctl.catalog.plan import Change, Plan, primary_services
from regionctl.errors import UserError

FORMAT = "regionctl.catalog-plan/1"


def _rows(live: Catalog) -> dict[str, list[dict[str, Any]]]:
    return {
        "regions": sorted(({"id": r.id, "description": r.description, "parent": r.parent, "managed": r.managed}
                           for r in live.regions), key=lambda x: x["id"]),
        "services": sorted(({"id": s.id, "type": s.type, "name": s.name, "enabled": s.enabled}
                            for s in live.services), key=lambda x: str(x["id"])),
        "endpoints": sorted(({"id": e.id, "service_id": e.service_id, "region": e.region, "interface": e.interface,
                              "url": e.url, "enabled": e.enabled} for e in live.endpoints),
                            key=lambda x: str(x["id"])),
    }


def fingerprint(live: Catalog) -> str:
    """sha256 over every live region, service and endpoint with its ID (order-independent)."""
    text = json.dumps(_rows(live), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def site_revision(files: Iterable[tuple[str, bytes]]) -> str:
    """sha256 over the site's files (relative path and content), in path order."""
    h = hashlib.sha256()
    for rel, data in sorted(files):
        h.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    return "sha256:" + h.hexdigest()


def site_files(root: Path) -> list[tuple[str, bytes]]:
    """The files a site is made of (site.yaml, values/, regions/), for its revision."""
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and (rel == "site.yaml" or rel.startswith(("values/", "regions/"))):
            out.append((rel, p.read_bytes()))
    return out


def document(p: Plan, live: Catalog, where: str, site_path: str | None, revision: str | None) -> dict[str, Any]:
    """The plan as the saved-plan document (also what ``plan -f json`` prints)."""
    return {
        "format": FORMAT,
        "keystone": where,
        "auth_url": live.auth_url,
        "site": {"path": site_path, "revision": revision},
        "live": {"fingerprint": fingerprint(live), **_rows(live)},
        **p.to_dict(),
    }


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def read(path: str) -> dict[str, Any]:
    """A saved plan's document; a file that is not one is an error naming it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise UserError(f"{path}: cannot read the saved plan ({why}): make one with 'regionctl catalog plan -o {path}'")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise UserError(f"{path}:{getattr(exc, 'lineno', 1)}: error: not a saved plan (invalid JSON): "
                        f"make one with 'regionctl catalog plan -o {path}'") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else None
        raise UserError(f"{path}: error: not a saved plan of this regionctl (format {got!r}, expected {FORMAT!r}): "
                        f"make one with 'regionctl catalog plan -o {path}'")
    for key, kind in (("changes", list), ("live", dict), ("prune", bool)):
        if not isinstance(doc.get(key), kind):
            raise UserError(f"{path}: error: saved plan has no valid '{key}': make a new one with "
                            f"'regionctl catalog plan -o {path}'")
    return doc


def stale_reason(doc: dict[str, Any], live: Catalog) -> str | None:
    """None when ``live`` is the catalog the plan was made against; else what changed, briefly."""
    if doc["live"].get("fingerprint") == fingerprint(live):
        return None
    then, now = doc["live"], _rows(live)
    said: list[str] = []
    for coll in ("regions", "services", "endpoints"):
        before = {str(x.get("id")): x for x in then.get(coll, []) if isinstance(x, dict)}
        after = {str(x["id"]): x for x in now[coll]}
        kind = coll[:-1]
        for oid in sorted(after.keys() - before.keys()):
            said.append(f"{kind} {_name(after[oid])} added")
        for oid in sorted(before.keys() - after.keys()):
            said.append(f"{kind} {_name(before[oid])} deleted")
        for oid in sorted(before.keys() & after.keys()):
            fields = [k for k in sorted(after[oid]) if before[oid].get(k) != after[oid][k]]
            if fields:
                said.append(f"{kind} {_name(after[oid])} {'/'.join(fields)} changed")
    if not said:
        return "the live catalog's fingerprint differs"
    shown = ", ".join(said[:3])
    return shown + (f" and {len(said) - 3} more change(s)" if len(said) > 3 else "")


def _name(row: dict[str, Any]) -> str:
    if "interface" in row:
        return f"{row.get('id')} ({row.get('region')} {row.get('interface')})"
    if "type" in row:
        return f"{row.get('type')}/{row.get('name')} ({row.get('id')})"
    return str(row.get("id"))


def plan_of(doc: dict[str, Any], live: Catalog, path: str) -> Plan:
    """The saved plan as a Plan to execute (``live`` matches its fingerprint: checked before)."""
    primary = primary_services(live)
    by_id = {e.id: e for e in live.endpoints}
    try:
        changes = tuple(_change(c, primary, by_id) for c in doc["changes"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{path}: error: saved plan has a malformed change ({exc}): make a new one with "
                        f"'regionctl catalog plan -o {path}'") from None
    return Plan(changes, int(doc.get("summary", {}).get("unchanged", 0)), (), tuple(doc.get("notes", [])),
                bool(doc["prune"]))


def _change(c: dict[str, Any], primary: dict[tuple[str, str], Service], by_id: dict[str | None, Endpoint]) -> Change:
    op, kind = c["op"], c["kind"]
    if op not in ("create", "update", "delete") or kind not in ("region", "service", "endpoint"):
        raise ValueError(f"op {op!r}, kind {kind!r}")
    reason = str(c.get("reason", ""))
    if kind == "region":
        if op == "update":
            old = Region(c["id"], c["old"]["description"] or "", c["old"]["parent"])
            return Change(op, kind, old=old, new=Region(c["id"], c["new"]["description"] or "", c["new"]["parent"], True))
        r = Region(c["id"], c.get("description") or "", c.get("parent"), op == "create")
        return Change(op, kind, new=r, reason=reason) if op == "create" else Change(op, kind, old=r, reason=reason)
    if kind == "service":
        s = Service(c["type"], c["name"], c.get("id"))
        if op == "create":
            return Change(op, kind, new=s)
        if op == "update":
            return Change(op, kind, old=Service(s.type, s.name, s.id, False), new=s)
        return Change(op, kind, old=s, reason=reason)
    if op == "update":
        have = by_id.get(c["id"])
        sid = have.service_id if have else None
        was = Endpoint(c["type"], c["name"], c["interface"], c["region"], c["old"]["url"], bool(c["old"]["enabled"]),
                       c["id"], sid)
        now = Endpoint(c["type"], c["name"], c["interface"], c["region"], c["new"]["url"], bool(c["new"]["enabled"]),
                       c["id"], sid)
        return Change(op, kind, old=was, new=now)
    if op == "delete" and c.get("id") in by_id:
        return Change(op, kind, old=by_id[c["id"]], reason=reason)
    e = Endpoint(c["type"], c["name"], c["interface"], c["region"], c["url"], True, c.get("id"))
    if op == "create":
        svc = primary.get((e.type, e.name))
        return Change(op, kind, new=Endpoint(e.type, e.name, e.interface, e.region, e.url,
                                             service_id=svc.id if svc else None))
    return Change(op, kind, old=e, reason=reason)
