"""A site's render as one side of a diff: checked first, as ``render`` would check it."""

from __future__ import annotations

from regionctl.diff.mask import Secrets
from regionctl.diff.model import FileSide, Files
from regionctl.errors import UserError
from regionctl.openstack.deployers import MERGED_FILES
from regionctl.render import formats
from regionctl.site.load import LoadedSite
from regionctl.site.provenance import walk
from regionctl.check.validate import validate


def render_side(loaded: LoadedSite, regions: list[str], fmt: str, label: str) -> Files:
    """Every file ``render`` would write for ``regions``; a site with errors is refused.

    ``label`` names this side in messages ("the working tree", "the site at HEAD~1").
    """
    report = validate(loaded, regions if loaded.site is not None else None)
    if report.errors:
        first, n = report.errors[0], len(report.errors)
        more = f" (and {n - 1} more: run 'regionctl validate')" if n > 1 else ""
        raise UserError(f"{first} ({label} has errors, so it renders nothing to compare){more}")
    assert loaded.site is not None
    render = formats.renderer(fmt)
    out: Files = {}
    for name in regions:
        for f in render(loaded, report.regions[name]):
            merged = f.rel.rsplit("/", 1)[-1] in MERGED_FILES
            out[f.rel] = FileSide(f.text, f"{f.rel} ({label})", f.sources, managed=True, secret_file=f.secret,
                                  merged=merged)
    return out


def site_secrets(loaded: LoadedSite, into: Secrets) -> Secrets:
    """Every value the site holds as a secret (its secrets files, decrypted or not)."""
    for tree in loaded.layers.values():
        for _, value in walk(tree):
            if value.origin.is_secret:
                into.add(value.value)
    return into


def fallback_origins(loaded: LoadedSite) -> dict[str, str]:
    """region -> its line in site.yaml: the origin of what is derived from the inventory alone."""
    assert loaded.site is not None
    return {r: f"{loaded.site_file}:{loaded.line('regions', r)}" for r in loaded.site.regions}
