"""Where things live in a site directory. The one place that knows the file names.

    site.yaml                      the inventory (model.Site)
    values/global.yaml             base values for every service in every region
    values/<service>.yaml          base values for one service (openstack-helm shape: conf: ...)
    regions/<region>/global.yaml   one region's overrides for every service
    regions/<region>/<service>.yaml  one region's overrides for one service
    regions/<region>/secrets.yaml  one region's secrets (passwords, credentials); masked in output

Precedence, lowest first: built-in defaults < derived wiring < values/global < values/<service>
< regions/<r>/global < regions/<r>/<service> < regions/<r>/secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from regionctl.site.provenance import Layer

SITE_FILE = "site.yaml"
VALUES_DIR = "values"
REGIONS_DIR = "regions"
GLOBAL = "global"
SECRETS = "secrets"
EXT = ".yaml"


@dataclass(frozen=True)
class LayerFile:
    rel: str
    layer: Layer


def layer_files(region: str, service: str) -> list[LayerFile]:
    """The value files of one service in one region, lowest precedence first."""
    return [
        LayerFile(f"{VALUES_DIR}/{GLOBAL}{EXT}", Layer.BASE),
        LayerFile(f"{VALUES_DIR}/{service}{EXT}", Layer.BASE),
        LayerFile(f"{REGIONS_DIR}/{region}/{GLOBAL}{EXT}", Layer.REGION),
        LayerFile(f"{REGIONS_DIR}/{region}/{service}{EXT}", Layer.REGION),
        secrets_file(region),
    ]


def secrets_file(region: str) -> LayerFile:
    return LayerFile(f"{REGIONS_DIR}/{region}/{SECRETS}{EXT}", Layer.SECRET)


@dataclass(frozen=True)
class SitePaths:
    """Turns site-relative names into paths, and into the names problems show.

    Problems name files the way the user named the site (``examples/x/site.yaml``), so an editor
    or a shell can open them from where the command ran.
    """

    root: Path
    shown_root: str

    @classmethod
    def of(cls, site: str | Path, shown_as: str | None = None) -> "SitePaths":
        """``shown_as`` names the site another way (``HEAD~1:examples/x``: the site at a git revision)."""
        shown = str(site) if shown_as is None else shown_as
        return cls(Path(site), "" if shown in (".", "") else shown.rstrip("/"))

    def path(self, rel: str) -> Path:
        return self.root / rel

    def shown(self, rel: str) -> str:
        if not self.shown_root:
            return rel
        return f"{self.shown_root}{rel}" if self.shown_root.endswith(":") else f"{self.shown_root}/{rel}"
