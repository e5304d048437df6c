"""`regionctl report`: the site on one HTML page; with --catalog, the live catalog beside it."""

from __future__ import annotations

import os
from pathlib import Path

import click

from regionctl.cli.catalog import cloud_option
from regionctl.errors import UserError
from regionctl.fileio import write_atomic


@click.command("report")
@click.option("-s", "--site", "site", default=".", show_default=True, type=click.Path(), help="The site directory.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False),
              help="The HTML file to write (written whole or not at all).")
@click.option("--catalog", "with_catalog", is_flag=True,
              help="Read the live Keystone catalog too and mark its drift from the site.")
@cloud_option
def report(site: str, out: str, with_catalog: bool, cloud: str | None) -> None:
    """Write one self-contained HTML page: regions, overrides, catalog, problems.

    An invalid site still gets its report, problems first (exit 1). With --catalog, a Keystone
    that cannot be read leaves the live column out and the page says why.
    """
    from regionctl.report.gather import gather
    from regionctl.report.page import build_page
    from regionctl.report.sections import Links
    from regionctl.site.load import load
    from regionctl.check.validate import validate

    loaded = load(site)
    checked = validate(loaded)
    live = where = error = None
    if with_catalog and loaded.site is not None:
        from regionctl.catalog.live import connect

        try:
            ks = connect(cloud)
            where = ks.auth_url
            live = ks.read()
        except UserError as exc:
            error = str(exc)
    data = gather(loaded, checked, live, error, where, catalog_asked=with_catalog)
    target = Path(out)
    root = os.path.relpath(Path.cwd(), target.resolve().parent) if not Path(site).is_absolute() else ""
    html = build_page(data, Links(root="" if root == "." else root, site=data.site))
    write_atomic(target, html)
    summary = (f"wrote {out}: {len(data.regions)} region(s), {len(data.overrides)} overridden option(s), "
               f"{data.errors} error(s), {data.warnings} warning(s)")
    click.echo(summary, err=True)
    if data.live is not None and data.live.error:
        click.echo(f"regionctl: warning: live catalog left out: {data.live.error}", err=True)
    if data.errors:
        raise click.exceptions.Exit(1)
