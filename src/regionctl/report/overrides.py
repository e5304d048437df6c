"""The override map: every option a region sets differently from the base, from the merge's provenance.

Each resolved :class:`Value` knows the settings it replaced and the layer each came from, so the
base value is the last BASE setting in its history, and a region overrides the option when the
final setting (or the deletion) comes from one of its own files. Nothing is re-read from disk.
Credentials (``passwords:``) are per region by design and are not overrides of anything; they are
left out. Any row with a secret value anywhere shows ``(secret)`` in every cell.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from regionctl.openstack.services import SERVICES, service_for_file
from regionctl.report.model import SECRET, OverrideRow, Setting, Source
from regionctl.site.merge import Merged
from regionctl.site.provenance import Layer, Value, lookup, walk
from regionctl.site.secrets import is_secret

REGION_LAYERS = frozenset({Layer.REGION, Layer.SECRET})
CREDENTIALS = "passwords"

Key = tuple[str, tuple[str, ...]]  # (service, values path)


def option_label(service: str, path: tuple[str, ...]) -> str:
    """``nova.conf [DEFAULT] cpu_allocation_ratio`` for a conf option, ``nova: a.b.c`` for other values."""
    if len(path) >= 3 and path[0] == "conf":
        found = service_for_file(path[1])
        if found is not None:
            svc, key = found
            filename = dict(svc.conf_files)[key]
            if len(path) == 3:
                return f"{filename} [{path[2]}]"
            return f"{filename} [{path[2]}] {'.'.join(path[3:])}"
    return f"{service}: {'.'.join(path)}"


def _counted(service: str, path: tuple[str, ...]) -> bool:
    """Whether (service, path) is a row: credentials are not; a conf file counts under its own service."""
    if not path or path[0] == CREDENTIALS:
        return False
    if path[0] == "conf" and len(path) >= 2:
        found = service_for_file(path[1])
        if found is not None and found[0].name != service and path[1] in _conf_keys():
            return False  # conf.nova in glance's values: Helm passes it, glance never reads it
    return True


def _conf_keys() -> frozenset[str]:
    return frozenset(key for svc in SERVICES.values() for key, _ in svc.conf_files)


def value_text(value: Any) -> str:
    """A value as the report prints it: YAML's spelling of scalars, JSON for lists and maps."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _source(v: Value) -> Source:
    return Source(v.origin.file, v.origin.line, v.origin.layer.value)


def _find(merged: Merged, path: tuple[str, ...]) -> tuple[Value | None, bool]:
    """The final setting at ``path`` and whether it is a deletion (None, False: nothing there)."""
    node = lookup(merged.tree, path)
    if isinstance(node, Value):
        return node, False
    if isinstance(node, dict):
        return None, False
    gone = merged.deleted.get(path)
    return (gone, True) if gone is not None else (None, False)


def _base(v: Value | None) -> Value | None:
    if v is None:
        return None
    found = [h for h in v.history() if h.origin.layer is Layer.BASE]
    return found[-1] if found else None


Merges = Mapping[str, Mapping[str, Merged]]  # region -> service -> merge


def override_rows(regions: Sequence[str], site: Merges, final: Merges) -> list[OverrideRow]:
    """One row per (service, option) that some region's own files set or delete, sorted by option.

    ``site`` is each region's merge of the site's files alone (base, region, secrets layers): its
    provenance says who set what. ``final`` adds the derived wiring (what render writes), for the
    value a region that does not override the option ends up with. Derived values built from a
    region's secrets carry that secret's origin, which is why overrides are found in ``site``.
    """
    keys: set[Key] = set()
    for region in regions:
        for service, merged in site.get(region, {}).items():
            for path, v in walk(merged.tree):
                if v.origin.layer in REGION_LAYERS and _counted(service, path):
                    keys.add((service, path))
            for path, v in merged.deleted.items():
                if v.origin.layer in REGION_LAYERS and _counted(service, path):
                    keys.add((service, path))
    rows = [_row(service, path, regions, site, final) for service, path in keys]
    return sorted(rows, key=lambda r: (r.service, r.path))


def _row(service: str, path: tuple[str, ...], regions: Sequence[str], site: Merges, final: Merges) -> OverrideRow:
    own: dict[str, tuple[Value | None, bool]] = {}
    end: dict[str, tuple[Value | None, bool]] = {}
    for region in regions:
        merged = site.get(region, {}).get(service)
        if merged is not None:
            own[region] = _find(merged, path)
            done = final.get(region, {}).get(service)
            end[region] = _find(done, path) if done is not None else own[region]
    base = next((b for v, _ in own.values() if (b := _base(v)) is not None), None)
    secret = any(is_secret(path, h) for found in (own, end) for v, _ in found.values() if v is not None
                 for h in v.history())

    def shown(v: Value) -> str:
        return SECRET if secret else value_text(v.value)

    base_setting = Setting(shown(base), _source(base), "base") if base is not None else Setting("", None, "unset")
    cells: dict[str, Setting] = {}
    for region in regions:
        if region not in own:
            cells[region] = Setting("", None, "absent")
            continue
        v, deleted = own[region]
        if v is not None and v.origin.layer in REGION_LAYERS:
            if deleted:
                cells[region] = Setting("", _source(v), "deleted")
            else:
                same = base is not None and v.value == base.value and type(v.value) is type(base.value)
                cells[region] = Setting(shown(v), _source(v), "same" if same else "override")
            continue
        v, deleted = end[region]
        if v is None or deleted:
            cells[region] = Setting("", None, "unset")
        else:
            cells[region] = Setting(shown(v), _source(v), "inherited")
    return OverrideRow(option_label(service, path), service, path, secret, base_setting, cells)
