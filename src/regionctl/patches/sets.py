"""Where patch sets live in a site, and which patches each region runs.

    patches/<service>/NAME.patch                 for every region that runs the service
    regions/<region>/patches/<service>/NAME.patch  for that region only: the same NAME replaces
                                                 the base patch; an empty file removes it there

A region's set for a service is applied in the order of the names (``0001-...``, ``0002-...``),
as quilt and ``git format-patch`` number them. NAME is also a ConfigMap key and a file name in
the start-up script, hence the strict spelling.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from regionctl.openstack.services import SERVICES
from regionctl.site import layout
from regionctl.site.load import LoadedSite
from regionctl.site.problems import Problem, error, warning

PATCHES_DIR = "patches"
EXT = ".patch"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.patch$")


@dataclass(frozen=True)
class PatchFile:
    """One ``.patch`` file of the site; ``region`` None for a base patch."""

    rel: str
    service: str
    name: str
    region: str | None
    empty: bool


def region_dir(region: str) -> str:
    return f"{layout.REGIONS_DIR}/{region}/{PATCHES_DIR}"


def find(loaded: LoadedSite, regions: list[str] | None = None) -> tuple[list[PatchFile], list[Problem]]:
    """Every patch file of the site (the base ones and those of ``regions``; None: every region's),
    and what is misplaced (never raises for bad input)."""
    found: list[PatchFile] = []
    problems: list[Problem] = []
    roots: list[tuple[str, str | None]] = [(PATCHES_DIR, None)]
    roots += [(region_dir(r), r) for r in (loaded.region_dirs if regions is None else regions)]
    for root, region in roots:
        top = loaded.paths.path(root)
        if not top.is_dir():
            continue
        for entry in sorted(top.iterdir()):
            if entry.name.startswith("."):
                continue
            rel = f"{root}/{entry.name}"
            if not entry.is_dir():
                problems.append(error(loaded.shown(rel), 0, f"a patch belongs to a service: move it to "
                                                            f"{root}/<service>/{entry.name}"))
                continue
            service = entry.name
            if service not in SERVICES:
                close = difflib.get_close_matches(service, list(SERVICES), n=1, cutoff=0.6)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                problems.append(error(loaded.shown(rel), 0, f"patches for unknown service '{service}'{hint}: "
                                                            f"name the directory for one of {', '.join(SERVICES)}"))
                continue
            for f in sorted(entry.iterdir()):
                frel = f"{rel}/{f.name}"
                if f.name.startswith("."):
                    continue
                if not f.is_file() or not f.name.endswith(EXT):
                    problems.append(warning(loaded.shown(frel), 0, f"not a '{EXT}' file; it is ignored: name "
                                                                   f"patches NAME{EXT}"))
                    continue
                if not NAME.match(f.name):
                    problems.append(error(loaded.shown(frel), 0, "patch name must be letters, digits, '.', '_' and "
                                                                 "'-' (it becomes a ConfigMap key and a file name): "
                                                                 "rename it"))
                    continue
                empty = f.read_bytes().strip() == b""
                found.append(PatchFile(frel, service, f.name, region, empty))
    return found, problems + _placement_problems(loaded, found)


def _placement_problems(loaded: LoadedSite, files: list[PatchFile]) -> list[Problem]:
    site = loaded.site
    out: list[Problem] = []
    base = {(f.service, f.name) for f in files if f.region is None}
    for f in files:
        if f.region is None and f.empty:
            out.append(warning(loaded.shown(f.rel), 0, "is empty: it patches nothing (an empty file removes a base "
                                                       "patch only in regions/<region>/patches/): remove it"))
        elif f.region is not None and f.empty and (f.service, f.name) not in base:
            out.append(warning(loaded.shown(f.rel), 0, f"is empty but no base patch {PATCHES_DIR}/{f.service}/{f.name} "
                                                       "exists for it to remove: remove it or fix its name"))
        if site is not None and f.region is not None and f.region in site.regions \
                and not site.regions[f.region].runs(f.service):
            out.append(warning(loaded.shown(f.rel), 0, f"region '{f.region}' does not run {f.service}; this patch is "
                                                       "ignored: add the service to the region or remove it"))
    return out


def region_set(files: list[PatchFile], region: str, service: str) -> list[PatchFile]:
    """The patches ``region`` applies to ``service``, in order: base ones, replaced or removed by the region's."""
    chosen = {f.name: f for f in files if f.region is None and f.service == service}
    chosen.update({f.name: f for f in files if f.region == region and f.service == service})
    return [chosen[name] for name in sorted(chosen) if not chosen[name].empty]


def region_sets(loaded: LoadedSite, files: list[PatchFile], regions: list[str] | None = None) \
        -> dict[tuple[str, str], list[PatchFile]]:
    """(region, service) -> its patch set, for every service a region runs that has patches."""
    out: dict[tuple[str, str], list[PatchFile]] = {}
    if loaded.site is None:
        return out
    for rname in regions or list(loaded.site.regions):
        for service in loaded.site.regions[rname].services:
            chosen = region_set(files, rname, service)
            if chosen:
                out[(rname, service)] = chosen
    return out
