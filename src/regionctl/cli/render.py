"""`regionctl render`: every region's files, checked, written whole."""

from __future__ import annotations

from pathlib import Path

import click

from regionctl.errors import UserError
from regionctl.render import formats
from regionctl.render.values import resolve_region
from regionctl.render.writer import write_atomic
from regionctl.site.checks import check_all
from regionctl.site.load import load
from regionctl.site.problems import Problem, sort_problems


@click.command()
@click.option("-s", "--site", default=".", show_default=True, help="The site directory.")
@click.option("-r", "--region", "regions", multiple=True, help="Region to render (repeatable; default: all).")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--format", "fmt", type=click.Choice(list(formats.FORMATS)), default="plain", show_default=True,
              help="plain: /etc tree; kolla: globals.yml, config/, passwords.yml; helm: openstack-helm values.")
@click.option("--force", is_flag=True, help="Write regions that have errors too.")
def render(site: str, regions: tuple[str, ...], out: str, fmt: str, force: bool) -> None:
    """Write each region's files under OUT/<region>/ (plain: OUT/<region>/etc/)."""
    if fmt not in formats.available():
        raise UserError(f"render format '{fmt}' is not available in this build")
    render_region = formats.renderer(fmt)
    loaded = load(site)
    problems = check_all(loaded)
    if loaded.site is None:
        _fail(problems)
    assert loaded.site is not None
    chosen = list(regions) or list(loaded.site.regions)
    for r in chosen:
        if r not in loaded.site.regions:
            raise UserError(f"unknown region '{r}': the site declares {', '.join(loaded.site.regions)}")
    site_errors = [p for p in problems if p.is_error]
    if site_errors and not force:
        _fail(problems)
    written = 0
    for r in chosen:
        values = resolve_region(loaded, r)
        region_problems = sort_problems(values.problems)
        for p in region_problems:
            click.echo(str(p), err=True)
        if any(p.is_error for p in region_problems) and not force:
            raise UserError(f"region '{r}' has errors (above): fix them, or write anyway with --force")
        for f in render_region(loaded, values):
            write_atomic(Path(out) / f.rel, f.text, f.mode)
            written += 1
    click.echo(f"wrote {written} file(s) for {len(chosen)} region(s) under {out}", err=True)


def _fail(problems: list[Problem]) -> None:
    for p in problems:
        click.echo(str(p), err=True)
    n = sum(p.is_error for p in problems)
    raise UserError(f"the site has {n} error(s) (above): fix them, or write anyway with --force")
