"""`regionctl patches list|check`: which hot-fixes each region runs, and whether they apply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from regionctl.cli.output import emit, format_option
from regionctl.errors import UserError
from regionctl.patches import environment
from regionctl.patches.check import ALREADY, APPLIES, Outcome, check_sets
from regionctl.patches.validate import SitePatches, load_patches
from regionctl.site.load import LoadedSite
from regionctl.site.problems import sort_problems
from regionctl.check.validate import load_checked


def _chosen(loaded: LoadedSite, regions: tuple[str, ...]) -> list[str]:
    assert loaded.site is not None
    for r in regions:
        if r not in loaded.site.regions:
            raise UserError(f"unknown region '{r}': the site declares {', '.join(loaded.site.regions)}")
    return list(regions) or list(loaded.site.regions)


def _loaded(site: str, regions: tuple[str, ...]) -> tuple[LoadedSite, SitePatches]:
    """The site (its site checks passed) and the chosen regions' patches, refused if one is unusable."""
    loaded = load_checked(site, full=False)
    found = load_patches(loaded, _chosen(loaded, regions))
    errors = [p for p in sort_problems(found.problems) if p.is_error]
    if errors:
        more = f" (and {len(errors) - 1} more: run 'regionctl validate -s {site}')" if len(errors) > 1 else ""
        raise UserError(f"{errors[0]}{more}")
    return loaded, found


@click.group()
def patches() -> None:
    """Hot-fix patch sets: patches/<service>/NAME.patch, regions/<region>/patches/<service>/NAME.patch."""


@patches.command("list")
@click.option("-s", "--site", default=".", show_default=True, help="The site directory.")
@click.option("-r", "--region", "regions", multiple=True, help="Region (repeatable; default: all).")
@format_option("table")
def list_(site: str, regions: tuple[str, ...], fmt: str) -> None:
    """Which patches each region runs, in order, where they come from and what they touch."""
    loaded, found = _loaded(site, regions)
    records: list[dict[str, Any]] = []
    for (region, service), _ in found.sets.items():
        for f, p in found.region_set(region, service):
            records.append({
                "region": region, "service": service, "patch": f.name, "file": loaded.shown(f.rel),
                "scope": "region" if f.region else "base", "touches": p.touched(),
                "upstream": p.header.upstream,
                "versions": [f"{d}=={v}" for d, vs in p.header.versions.items() for v in vs],
            })
    if fmt in ("table", "value"):
        for r in records:
            r["touches"] = ", ".join(r["touches"])
            r["versions"] = ", ".join(r["versions"])
    emit(records, fmt, ["region", "service", "patch", "file", "touches", "versions"] if fmt in ("table", "value")
         else None)
    if not records:
        click.echo(f"{site}: no region runs a patch", err=True)


def _record(o: Outcome) -> dict[str, Any]:
    status = "pin mismatch" if o.status in (APPLIES, ALREADY) and o.pin_mismatch else o.status
    detail = o.detail
    if o.pin_mismatch:
        detail = (f"{o.status} to {o.package}, but {o.pin_mismatch}: re-checked now; add {o.package.replace(' ', '==')} "
                  "to its Versions line once it is reviewed for this version")
    return {"region": o.region, "service": o.service, "patch": o.name, "status": status,
            "checked_against": o.package, "file": o.patch.file, "line": o.line, "detail": detail}


@patches.command("check")
@click.option("-s", "--site", default=".", show_default=True, help="The site directory.")
@click.option("-r", "--region", "regions", multiple=True, help="Region (repeatable; default: all).")
@click.option("--against", type=click.Path(file_okay=False), help="A site-packages directory holding the packages.")
@click.option("--release", help="The release of the services environment to check against (default: the site's).")
@format_option("table")
def check(site: str, regions: tuple[str, ...], against: str | None, release: str | None, fmt: str) -> None:
    """Apply each region's patch sets in order to a scratch copy of the real packages (GNU patch, no fuzz).

    Reports per patch: applies, already applied (its reverse applies), fails (with the hunk and
    file), or pin mismatch (its Versions line does not list the version checked). Exit 1 unless
    every patch applies or is already applied, at a version it pins.
    """
    if against and release:
        raise UserError("--against and --release both name what to check against: pass one")
    loaded, found = _loaded(site, regions)
    assert loaded.site is not None
    if not found.sets:
        click.echo(f"{site}: no region runs a patch: nothing to check", err=True)
        return
    services = sorted({s for _, s in found.sets})
    env = (environment.at(Path(against), "--against") if against
           else environment.for_release(release or loaded.site.release, services))
    outcomes = check_sets({key: [p for _, p in found.region_set(*key)] for key in found.sets}, env)
    records = [_record(o) for o in outcomes]
    emit(records, fmt, ["region", "service", "patch", "status", "checked_against", "detail"]
         if fmt in ("table", "value") else None)
    bad = [o for o in outcomes if not o.ok]
    for o, r in zip(outcomes, records):
        if not o.ok:
            where = f"{o.patch.file}:{o.line}" if o.line else o.patch.file
            click.echo(f"{where}: error: region '{o.region}': {r['detail']} ({o.package})", err=True)
    click.echo(f"checked {len(outcomes)} patch(es) of {len({o.region for o in outcomes})} region(s) against "
               f"{env.site_packages} ({env.origin}): {len(bad)} to fix", err=True)
    if bad:
        raise click.exceptions.Exit(1)
