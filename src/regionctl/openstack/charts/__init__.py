"""openstack-helm's charts as data: every key path of each chart's values.yaml (tools/gen_chart_keys.py).

A values file is the chart's values (seed 000: Genestack's override files drop in unchanged), so
its top-level keys and its ``conf:`` keys must be the chart's own; a typo is dropped by Helm
without a word.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class ChartKeys:
    """The key paths of one chart's values.yaml (``conf.nova.DEFAULT`` stops at ``conf.nova``),
    its top-level keys and its ``conf:`` keys."""

    chart: str
    paths: frozenset[str]
    top: frozenset[str]
    conf: frozenset[str]

    def has(self, path: tuple[str, ...]) -> bool:
        return ".".join(path) in self.paths


@functools.cache
def _data() -> dict[str, object]:
    text = resources.files(__package__).joinpath("keys.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


@functools.cache
def chart_keys(chart: str) -> ChartKeys | None:
    charts = _data()["charts"]
    assert isinstance(charts, dict)
    found = charts.get(chart)
    if not found:
        return None
    paths = frozenset(found["paths"])
    return ChartKeys(chart, paths, frozenset(p.split(".", 1)[0] for p in paths),
                     frozenset(p.split(".")[1] for p in paths if p.startswith("conf.")))


def source() -> str:
    """Which openstack-helm commit the data was read from."""
    return str(_data()["source"])
