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
    """The key paths of one chart's values.yaml (``conf.nova.DEFAULT`` stops at ``conf.nova``)."""

    chart: str
    paths: frozenset[str]

    @property
    def top(self) -> frozenset[str]:
        return frozenset(p.split(".", 1)[0] for p in self.paths)

    @property
    def conf(self) -> frozenset[str]:
        return frozenset(p.split(".")[1] for p in self.paths if p.startswith("conf.") and p.count(".") >= 1)

    def has(self, path: tuple[str, ...]) -> bool:
        return ".".join(path) in self.paths


@functools.cache
def _data() -> dict[str, object]:
    text = resources.files(__package__).joinpath("keys.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def chart_keys(chart: str) -> ChartKeys | None:
    charts = _data()["charts"]
    assert isinstance(charts, dict)
    found = charts.get(chart)
    return ChartKeys(chart, frozenset(found["paths"])) if found else None


def source() -> str:
    """Which openstack-helm commit the data was read from."""
    return str(_data()["source"])
