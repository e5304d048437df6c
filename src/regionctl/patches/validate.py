"""Every patch of a site, parsed and checked without any package at hand (what ``validate`` runs).

One problem per thing wrong, ``FILE:LINE`` of the patch file: a file that is not a usable diff
(diff.py), a path outside the service's Python packages (openstack/pypackages.py), two patches
of one region's set that conflict (conflicts.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from regionctl.openstack.pypackages import package_of, tops
from regionctl.patches import conflicts, diff, sets
from regionctl.patches.sets import PatchFile
from regionctl.site.load import LoadedSite
from regionctl.site.problems import Problem, error


@dataclass
class SitePatches:
    """The site's patch files, parsed, and each region's sets; ``problems`` say what is unusable."""

    files: list[PatchFile]
    parsed: dict[str, diff.Patch] = field(default_factory=dict)  # rel -> patch (usable ones only)
    sets: dict[tuple[str, str], list[PatchFile]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def region_set(self, region: str, service: str) -> list[tuple[PatchFile, diff.Patch]]:
        """(file, parsed patch) in the order ``region`` applies them to ``service``."""
        return [(f, self.parsed[f.rel]) for f in self.sets.get((region, service), []) if f.rel in self.parsed]

    def services(self, region: str) -> list[str]:
        return [s for (r, s) in self.sets if r == region]


def load_patches(loaded: LoadedSite, regions: list[str] | None = None) -> SitePatches:
    files, problems = sets.find(loaded, regions)
    out = SitePatches(files, problems=problems)
    for f in files:
        if f.empty:
            continue
        patch, found = diff.parse(loaded.shown(f.rel), loaded.paths.path(f.rel).read_bytes())
        out.problems += found
        if patch is None:
            continue
        bad = _outside(patch, f.service)
        out.problems += bad
        if not bad:
            out.parsed[f.rel] = patch
    out.sets = sets.region_sets(loaded, files, regions)
    for (region, service), chosen in out.sets.items():
        usable = [f for f in chosen if f.rel in out.parsed]
        # Named once for base patches (every region has the same conflict), per region otherwise.
        where = f" in region '{region}'" if any(f.region for f in usable) else ""
        for c in conflicts.conflicts([out.parsed[f.rel] for f in usable]):
            out.problems.append(error(c.later.file, c.hunk.line,
                                      f"hunk #{c.hunk.number} changes lines of {c.path} that {_name(c.earlier)} "
                                      f"(applied before it{where}) changes too, and expects them as "
                                      f"they were before it: conflicting patches: make this patch on top of "
                                      f"{_name(c.earlier)}, or merge the two"))
    return out


def _name(patch: diff.Patch) -> str:
    return patch.file.rsplit("/", 1)[-1]


def _outside(patch: diff.Patch, service: str) -> list[Problem]:
    out = []
    for fp in patch.files:
        for path in dict.fromkeys(p for p in (fp.old, fp.new) if p is not None):
            if package_of(service, path) is None:
                out.append(error(patch.file, fp.line,
                                 f"touches {path}, which is outside {service}'s packages ({', '.join(tops(service))}): "
                                 f"paths are relative to site-packages (a/{tops(service)[0]}/...); a fix of another "
                                 "service goes under its own patches/<service>/"))
    return out


def check_patches(loaded: LoadedSite) -> list[Problem]:
    """The ``validate`` check: every problem of every patch file of the site."""
    return load_patches(loaded).problems
