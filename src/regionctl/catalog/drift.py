"""The live catalog next to the site's, endpoint by endpoint (pure): what ``catalog show`` prints.

Each (region, type, name, interface) gets one state: ``ok``, ``changed`` (another URL, or
disabled), ``missing`` (the site wants it, Keystone lacks it), ``extra`` (in a region the site
manages, not in the site), ``duplicate`` (several endpoints with one identity), ``unmanaged``
(a region the site does not manage), or ``live`` when there is no site to compare with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from regionctl.catalog.model import INTERFACE_ORDER, Catalog, Endpoint, EndpointKey
from regionctl.catalog.plan import managed_regions

MARK = {"ok": "", "live": "", "unmanaged": "", "changed": "~", "missing": "+", "extra": "-", "duplicate": "!"}
LEGEND = "+ missing from Keystone   - in Keystone, not in the site   ~ other URL or disabled   ! duplicates"
SHORT = {"public": "pub", "internal": "int", "admin": "adm"}


@dataclass(frozen=True)
class Cell:
    region: str
    type: str
    name: str
    interface: str
    state: str
    url: str | None  # live URL (the first, for duplicates)
    site_url: str | None
    count: int  # live endpoints with this identity

    def to_dict(self) -> dict[str, Any]:
        return {"region": self.region, "type": self.type, "name": self.name, "interface": self.interface,
                "state": self.state, "url": self.url, "site_url": self.site_url, "count": self.count}


def compare(live: Catalog, desired: Catalog | None) -> list[Cell]:
    """One cell per endpoint identity in either catalog, in region (parents first) order."""
    groups: dict[EndpointKey, list[Endpoint]] = {}
    for e in live.endpoints:
        groups.setdefault(e.key, []).append(e)
    want = {e.key: e for e in desired.endpoints} if desired else {}
    managed = managed_regions(desired, live) if desired else frozenset()
    cells = []
    for key in list(want) + [k for k in groups if k not in want]:
        have = groups.get(key, [])
        site = want.get(key)
        if desired is None:
            state = "duplicate" if len(have) > 1 else "live"
        elif site is None:
            state = "extra" if key[3] in managed else "unmanaged"
            if state == "unmanaged" and len(have) > 1:
                state = "duplicate"
        elif not have:
            state = "missing"
        elif len(have) > 1:
            state = "duplicate"
        elif have[0].url != site.url or not have[0].enabled:
            state = "changed"
        else:
            state = "ok"
        cells.append(Cell(key[3], key[0], key[1], key[2], state, have[0].url if have else None,
                          site.url if site else None, len(have)))
    order = [r.id for r in (desired.regions if desired else ())] + [r.id for r in live.regions]
    rank = {rid: i for i, rid in reversed(list(enumerate(order)))}
    iface = {name: i for i, name in enumerate(INTERFACE_ORDER)}
    return sorted(cells, key=lambda c: (rank.get(c.region, len(rank)), c.region, c.type, c.name,
                                        iface.get(c.interface, 9), c.interface))


def matrix(cells: list[Cell]) -> tuple[list[str], list[list[str]]]:
    """Rows of regions, columns of service types; each cell lists interfaces with drift marks."""
    names: dict[str, set[str]] = {}
    for c in cells:
        names.setdefault(c.type, set()).add(c.name)
    columns = sorted(names, key=lambda t: (t != "identity", t))
    col_of = {t: t for t in columns}
    regions: list[str] = []
    for c in cells:
        if c.region not in regions:
            regions.append(c.region)
    table: dict[tuple[str, str], list[str]] = {}
    for c in cells:
        text = SHORT.get(c.interface, c.interface) + MARK[c.state]
        if len(names[c.type]) > 1:
            text = f"{c.name}:{text}"
        table.setdefault((c.region, col_of[c.type]), []).append(text)
    rows = [[r] + [" ".join(table.get((r, t), [])) for t in columns] for r in regions]
    return ["region"] + columns, rows


def drifted(cells: list[Cell]) -> bool:
    return any(MARK[c.state] for c in cells)
