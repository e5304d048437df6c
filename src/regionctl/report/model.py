"""What the report shows, as plain values: gathered once from the site, drawn by the page builder.

Everything here is already safe to show: secrets are replaced by ``(secret)`` while gathering, so
the page builder cannot leak one however it lays the data out. A section that needs more data
(patch sets, scope routes, the last diff) adds a field with a default to :class:`ReportData`,
fills it in ``gather``, and appends its section function to ``report.page.SECTIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from regionctl.site.problems import Problem

#: How a secret is shown in the report: never its value, not even masked characters.
SECRET = "(secret)"


@dataclass(frozen=True)
class Source:
    """Where something was written: a file as the user named it, and a 1-based line (0: none)."""

    file: str
    line: int = 0
    layer: str = ""  # base, region, secret, derived, default (for values)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class ServiceView:
    name: str
    types: tuple[str, ...]  # catalog types it registers here (type/name)


@dataclass(frozen=True)
class RegionView:
    """One region as the tree draws it."""

    name: str
    description: str
    parent: str | None
    children: tuple[str, ...]
    identity: bool
    addresses: tuple[tuple[str, str], ...]  # (interface, address as written)
    services: tuple[ServiceView, ...]
    infra: tuple[tuple[str, str], ...]  # (database|messaging|memcached, hosts)
    nodes: int
    files: tuple[Source, ...]  # its values files (regions/<name>/*.yaml)
    source: Source  # its block in site.yaml
    errors: int = 0
    warnings: int = 0


@dataclass(frozen=True)
class Cloud:
    """One Keystone and the regions it serves, roots first.

    Today a site has one Keystone, so there is one cloud with no name; the clouds feature fills in
    several (each its own identity region) and the tree draws one box per cloud.
    """

    name: str | None
    identity_region: str | None
    roots: tuple[str, ...]
    identity_url: str | None = None  # its public identity endpoint


@dataclass(frozen=True)
class Setting:
    """One region's (or the base's) value of an option, as shown."""

    text: str  # the value as text, SECRET when secret, "" when unset or deleted
    source: Source | None
    state: str  # override | same (set to the base value again) | deleted | inherited | unset | absent


@dataclass(frozen=True)
class OverrideRow:
    """An option that at least one region sets differently from the base."""

    option: str  # nova.conf [DEFAULT] cpu_allocation_ratio, or nova: endpoints.x.y
    service: str
    path: tuple[str, ...]
    secret: bool
    base: Setting
    regions: dict[str, Setting]


@dataclass(frozen=True)
class CatalogEntry:
    """One (region, type) cell: the interfaces there, each with its state and URLs."""

    interface: str
    name: str
    state: str  # site: "site"; live: ok, changed, missing, extra, duplicate, unmanaged, live
    url: str | None
    site_url: str | None = None


@dataclass(frozen=True)
class CatalogMatrix:
    """Regions x service types; each cell lists its interfaces."""

    types: tuple[str, ...]
    regions: tuple[str, ...]
    cells: dict[tuple[str, str], tuple[CatalogEntry, ...]]


@dataclass(frozen=True)
class LiveCatalog:
    """The live catalog beside the site's: there (matrix) or not, and why not (one line)."""

    where: str | None = None  # the Keystone auth URL it was read from
    matrix: CatalogMatrix | None = None
    drift: tuple[tuple[str, str, CatalogEntry], ...] = ()  # (region, type, entry) of every drifted endpoint
    error: str | None = None


@dataclass(frozen=True)
class ProblemView:
    problem: Problem
    message: str  # the message with any secret of the site scrubbed
    region: str | None  # the region it concerns, when one does


@dataclass
class ReportData:
    """Everything the page shows, in the order it shows it."""

    site: str  # the site directory as the user named it
    release: str | None
    version: str  # regionctl's
    problems: list[ProblemView] = field(default_factory=list)
    site_usable: bool = True  # site.yaml could be read into the model
    clouds: list[Cloud] = field(default_factory=list)
    regions: dict[str, RegionView] = field(default_factory=dict)  # parents first
    overrides: list[OverrideRow] = field(default_factory=list)
    catalog: CatalogMatrix | None = None
    live: LiveCatalog | None = None  # None: --catalog not asked for

    @property
    def errors(self) -> int:
        return sum(p.problem.is_error for p in self.problems)

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors
