"""The command line: parse, call the core, print. No OpenStack knowledge lives here."""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from regionctl import __version__
from regionctl.cli.output import emit, format_option, masked_output
from regionctl.errors import UserError
from regionctl.resolve.values import resolve_region
from regionctl.check.validate import load_checked
from regionctl.check.validate import validate as validate_site
from regionctl.resolve.explain import explain as explain_value
from regionctl.resolve.explain import parse_path
from regionctl.site.load import LoadedSite, SiteNotFound, load
from regionctl.site.model import json_schema
from regionctl.site.problems import clean, has_errors
from regionctl.site.secrets import KNOWN
from regionctl.site.starter import write_starter


def site_option(f: Any) -> Any:
    return click.option("-s", "--site", "site", default=".", show_default=True, type=click.Path(file_okay=True),
                        help="The site directory.")(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="regionctl")
def cli() -> None:
    """Declare OpenStack regions once; derive, check and apply everything region-specific."""


@cli.command()
@site_option
@format_option("table")
@click.option("--strict", is_flag=True, help="A secrets file no age identity here opens is an error, not a warning.")
def validate(site: str, fmt: str, strict: bool) -> None:
    """Check a site: prints FILE:LINE: error|warning: message; exit 1 on errors."""
    loaded = load(site)
    problems = validate_site(loaded, strict=strict).problems
    if fmt == "table":
        for p in problems:
            click.echo(str(p))
        n_err = sum(p.is_error for p in problems)
        n_warn = len(problems) - n_err
        regions = len(loaded.site.regions) if loaded.site else 0
        unopened = sorted({rel.split("/")[1] for rel in loaded.sealed if rel.startswith("regions/")})
        could_not = f"; could not open the secrets of {', '.join(unopened)}" if unopened else ""
        click.echo(f"{site}: {regions} region(s), {len(loaded.layers)} values file(s): "
                   f"{n_err} error(s), {n_warn} warning(s){could_not}", err=True)
    else:
        emit([{"file": p.file, "line": p.line, "severity": p.severity.value, "message": p.message} for p in problems],
             fmt, ["file", "line", "severity", "message"])
    if has_errors(problems):
        raise click.exceptions.Exit(1)


@cli.command()
@site_option
@click.option("-r", "--region", "regions", multiple=True, required=True, help="Region (repeatable).")
@format_option("table")
@click.argument("path")
def explain(site: str, regions: tuple[str, ...], fmt: str, path: str) -> None:
    """Show a value's final setting and every layer that set it.

    PATH is nova.conf:DEFAULT.cpu_allocation_ratio, conf.nova.DEFAULT.cpu_allocation_ratio,
    or SERVICE:values.path. Secrets are masked.
    """
    loaded = load_checked(site)
    assert loaded.site is not None
    query = parse_path(path)
    records: list[dict[str, Any]] = []
    missing = []
    for region in regions:
        r = loaded.site.regions.get(region)
        if r is None:
            raise UserError(f"unknown region '{region}': the site declares {', '.join(loaded.site.regions)}")
        sealed = loaded.sealed.get(f"regions/{region}/secrets.yaml")
        if sealed is not None:
            raise UserError(sealed.message)
        if not r.runs(query.service):
            raise UserError(f"region '{region}' does not run {query.service}: nothing sets {query.label} there")
        result = explain_value(*_explain_source(loaded, region, query), region, query)
        if not result.steps:
            missing.append(region)
        if fmt == "table":
            _print_explanation(result)
        records += result.records()
    if fmt != "table":
        emit(records, fmt, ["region", "option", "value", "set_at", "layer", "deleted"])
    if missing:
        click.echo(f"regionctl: {query.label} is not set in {', '.join(missing)}", err=True)
        raise click.exceptions.Exit(1)


def _explain_source(loaded: LoadedSite, region: str, query: Any) -> tuple[Any, tuple[str, ...]]:
    """conf paths are looked up in the file as rendered (derived wiring included)."""
    values = resolve_region(loaded, region)
    if query.path[0] == "conf":
        for conf in values.files.values():
            if conf.service == query.service and conf.conf_key == query.path[1]:
                return conf.merged, query.path[2:]
    return values.services[query.service], query.path


def _print_explanation(result: Any) -> None:
    if not result.steps:
        return
    shown = result.value if result.present else "(unset: deleted)"
    click.echo(f"{result.region}: {result.label} = {_scalar(shown)}")
    width = max(len(s.where) for s in result.steps)
    for i, step in enumerate(result.steps):
        final = i == len(result.steps) - 1
        what = "deleted (null)" if step.deleted else _scalar(step.value)
        click.echo(f"  {step.where:<{width}}  {step.layer:<7} {what}{'   <- final' if final else ''}")


def _scalar(value: Any) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@cli.command()
@click.argument("directory", type=click.Path())
@click.option("--age", "recipients", multiple=True, metavar="AGE1...",
              help="Age recipient for .sops.yaml (repeatable; default: the public keys of your sops age identities).")
def init(directory: str, recipients: tuple[str, ...]) -> None:
    """Write a working starter site of two regions into a new or empty DIRECTORY."""
    from regionctl.site.age import find_identities

    who = list(recipients) or sorted({str(k.to_public()) for k in find_identities().keys})
    for r in who:
        if not r.startswith("age1"):
            raise UserError(f"--age {r}: not an age recipient (age1...)")
    files = write_starter(Path(directory), who)
    for f in files:
        click.echo(f"  {directory.rstrip('/')}/{f}")
    click.echo(f"wrote a two-region site; next: regionctl validate -s {directory}, then "
               f"regionctl secrets encrypt -s {directory} before the first commit", err=True)


@cli.command()
def schema() -> None:
    """Print the JSON Schema of site.yaml (for yaml-language-server)."""
    click.echo(json.dumps(json_schema(), indent=2, sort_keys=True))


def _register() -> None:
    """Command groups that live in their own modules."""
    from regionctl.cli import catalog, deploy
    from regionctl.cli.diff import diff
    from regionctl.cli import secrets as secrets_cli
    from regionctl.cli.render import render
    from regionctl.cli.report import report

    cli.add_command(render)
    cli.add_command(report)
    cli.add_command(diff)
    for command in (deploy.helm_args, deploy.link, deploy.k8s_nodes):
        cli.add_command(command)
    cli.add_command(catalog.catalog)
    from regionctl.cli.patches import patches
    cli.add_command(patches)
    cli.add_command(secrets_cli.secrets)
    for name in ("dev_keystone",):
        cmd = getattr(catalog, name, None)
        if cmd is not None:
            cli.add_command(cmd)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: one clear line and a non-zero exit for every failure, never a traceback.

    Everything printed passes through the masking streams: a secret the site holds never leaves
    in the clear, whatever form it took (see regionctl.site.secrets.KNOWN).
    """
    KNOWN.clear()
    with masked_output():
        _main(argv)


def _main(argv: list[str] | None) -> None:
    try:
        code = cli.main(args=argv, prog_name="regionctl", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            click.echo("regionctl: interrupted", err=True)
            sys.exit(130)
        click.echo("regionctl: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (UserError, SiteNotFound) as exc:
        click.echo(f"regionctl: error: {clean(str(exc))}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("regionctl: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        if os.environ.get("REGIONCTL_DEBUG"):
            traceback.print_exc()
        click.echo(f"regionctl: internal error: {type(exc).__name__}: {clean(str(exc))} "
                   "(a bug: please report it; REGIONCTL_DEBUG=1 shows the traceback)", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
