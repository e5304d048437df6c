"""``explain``: which layer set a value, and what it replaced (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from regionctl.errors import UserError
from regionctl.openstack.services import SERVICES, service_for_file
from regionctl.site.merge import Merged
from regionctl.site.provenance import Value, lookup
from regionctl.site.secrets import is_secret, mask_text


@dataclass(frozen=True)
class Query:
    """A parsed PATH: the service whose values hold it, and the values path inside them."""

    service: str
    path: tuple[str, ...]
    label: str


def parse_path(text: str) -> Query:
    """``nova.conf:DEFAULT.cpu_allocation_ratio``, ``conf.nova.DEFAULT.cpu_allocation_ratio``,
    or ``SERVICE:values.path`` (``nova:endpoints.identity.auth.nova.region_name``)."""
    if ":" in text:
        head, _, rest = text.partition(":")
        found = service_for_file(head)
        if found and "." in head and "." in rest:
            svc, key = found
            section, _, option = rest.rpartition(".")
            return Query(svc.name, ("conf", key, section, option), f"{head} [{section}] {option}")
        if head in SERVICES and rest:
            return Query(head, tuple(rest.split(".")), f"{head}: {rest}")
        if found and "." in head:
            raise UserError(f"'{text}' names a section, not an option: use {head}:{rest or 'SECTION'}.OPTION")
        raise UserError(f"'{text}': unknown file or service '{head}': use FILE.conf:SECTION.KEY, "
                        "conf.FILE.SECTION.KEY or SERVICE:values.path")
    parts = text.split(".")
    if len(parts) >= 4 and parts[0] == "conf":
        found = service_for_file(parts[1])
        if found:
            svc, key = found
            fname = dict(svc.conf_files)[key]
            section = ".".join(parts[2:-1])
            return Query(svc.name, ("conf", key, section, parts[-1]), f"{fname} [{section}] {parts[-1]}")
    raise UserError(f"'{text}': cannot tell which service holds it: use nova.conf:DEFAULT.debug, "
                    "conf.nova.DEFAULT.debug or nova:values.path")


@dataclass(frozen=True)
class Step:
    value: Any  # masked where secret; None for a deletion
    where: str
    layer: str
    deleted: bool


@dataclass(frozen=True)
class Explanation:
    region: str
    label: str
    present: bool
    value: Any
    steps: tuple[Step, ...]

    def records(self) -> list[dict[str, Any]]:
        return [
            {"region": self.region, "option": self.label, "value": s.value, "set_at": s.where,
             "layer": s.layer, "deleted": s.deleted}
            for s in self.steps
        ]


def explain(merged: Merged, path: tuple[str, ...], region: str, query: Query) -> Explanation:
    """``path`` is where ``query`` lives inside ``merged`` (a file's sections, or a service's values)."""
    node = lookup(merged.tree, path)
    if isinstance(node, dict):
        raise UserError(f"{query.label} is a map, not a value: name one of its keys ({', '.join(sorted(node)[:5])}...)")
    present = isinstance(node, Value)
    final = node if isinstance(node, Value) else merged.deleted.get(path)
    if final is None:
        return Explanation(region, query.label, False, None, ())
    secret = any(is_secret(query.path, h) for h in final.history())
    steps = tuple(
        Step(None if h.value is None else (mask_text(h.value) if secret else h.value), str(h.origin),
             h.origin.layer.value, h.value is None)
        for h in final.history()
    )
    value = steps[-1].value if present else None
    return Explanation(region, query.label, present, value, steps)
