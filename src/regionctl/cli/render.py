"""`regionctl render`: every region's files, checked, written whole."""

from __future__ import annotations

from pathlib import Path

import click

from regionctl.errors import UserError
from regionctl.render import formats
from regionctl.check.validate import validate
from regionctl.check.site import check_all
from regionctl.site.load import load
from regionctl.site import layout
from regionctl.site.load import LoadedSite
from regionctl.site.problems import Problem, one_line, sort_problems
from regionctl.fileio import TreeFile, name_problem, write_tree


@click.command()
@click.option("-s", "--site", default=".", show_default=True, help="The site directory.")
@click.option("-r", "--region", "regions", multiple=True, help="Region to render (repeatable; default: all).")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--format", "fmt", type=click.Choice(list(formats.FORMATS)), default="plain", show_default=True,
              help="plain: /etc tree; kolla: globals.yml, config/, passwords.yml; helm: openstack-helm values; "
              "haproxy: each region's scope router.")
@click.option("--force", is_flag=True, help="Write regions that have errors too.")
def render(site: str, regions: tuple[str, ...], out: str, fmt: str, force: bool) -> None:
    """Write each region's files under OUT/<region>/ (plain: OUT/<region>/etc/).

    Each OUT/<region>/ is replaced whole (built beside, swapped in by rename): a file an earlier
    render wrote there and this one does not is gone, and a killed render leaves the old tree.
    """
    if fmt not in formats.available():
        raise UserError(f"render format '{fmt}' is not available in this build")
    render_region = formats.renderer(fmt)
    loaded = load(site)
    if loaded.site is None:
        _fail(check_all(loaded))
    assert loaded.site is not None
    chosen = list(regions) or list(loaded.site.regions)
    for r in chosen:
        if r not in loaded.site.regions:
            raise UserError(f"unknown region '{r}': the site declares {', '.join(loaded.site.regions)}")
    for r in chosen:
        why = name_problem(r)
        if why:  # --force can't override this: the name would write outside OUT
            raise UserError(f"{loaded.site_file}:{loaded.line('regions', r)}: region name {one_line(repr(r))} cannot be "
                            f"a directory under {out}: {why}: rename the region (--force does not write it)")
    _need_secrets(loaded, chosen, fmt)
    report = validate(loaded, chosen)
    report.problems = sort_problems(report.problems + formats.checks(fmt, loaded))
    for p in report.problems:
        click.echo(str(p), err=True)
    if report.errors and not force:
        bad = _regions_with_errors(loaded, report.errors, chosen)
        which = ("the site has" if not bad else f"region '{bad[0]}' has" if len(bad) == 1
                 else f"regions {', '.join(bad)} have")
        raise UserError(f"{which} {len(report.errors)} error(s) (above): fix them, or write anyway with --force")
    # Every region rendered before anything is written: a refusal leaves OUT as it was.
    files = [TreeFile(f.rel, f.content, f.secret, f.executable)
             for r in chosen for f in render_region(loaded, report.regions[r])]
    write_tree(Path(out), files, chosen)
    written = len(files)
    click.echo(f"wrote {written} file(s) for {len(chosen)} region(s) under {out}", err=True)


def _need_secrets(loaded: LoadedSite, chosen: list[str], fmt: str) -> None:
    """Only the chosen regions' secrets are needed (kolla and helm: the identity region's admin too)."""
    assert loaded.site is not None
    need = list(chosen)
    home = loaded.site.identity_region()
    if fmt in ("kolla", "helm") and home and home not in need:
        need.append(home)
    for r in need:
        sealed = loaded.sealed.get(layout.secrets_file(r).rel)
        if sealed is not None:
            why = "" if r in chosen else f"--format {fmt} needs keystone_admin from the identity region: "
            raise UserError(why + sealed.message)


def _fail(problems: list[Problem]) -> None:
    for p in problems:
        click.echo(str(p), err=True)
    n = sum(p.is_error for p in problems)
    raise UserError(f"the site has {n} error(s) (above): fix them, or write anyway with --force")


def _regions_with_errors(loaded: LoadedSite, errors: list[Problem], chosen: list[str]) -> list[str]:
    """Regions whose own files (regions/<r>/...) or secrets hold an error; site-wide ones name none."""
    out = []
    for r in chosen:
        marker = loaded.shown(f"regions/{r}/")
        if any(p.file.startswith(marker) for p in errors):
            out.append(r)
    return out
