"""`regionctl diff`: what the site's render changes, against a render, a deployed tree or a git revision.

Thin: read both sides (diff/), compare them (diff/compare), print. Secrets are masked before
they reach this module; colour only on a terminal (click strips it when piped).
"""

from __future__ import annotations

import io
import json
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import click
from ruamel.yaml import YAML

from regionctl.diff.against import read_against
from regionctl.diff.compare import compare
from regionctl.diff.gitrev import extract
from regionctl.diff.mask import Secrets, text
from regionctl.diff.model import DEPLOY_CHANGES, Change, Files, Kind
from regionctl.diff.rendered import fallback_origins, render_side, site_secrets
from regionctl.errors import UserError
from regionctl.render import formats
from regionctl.site.load import LoadedSite, load
from regionctl.site.secrets import MASK

OUTPUTS = ("table", "json", "yaml")
REACH_SHOWN = 12  # regions named per origin in the table; json/yaml name them all


@click.command()
@click.option("-s", "--site", default=".", show_default=True, help="The site directory.")
@click.option("-r", "--region", "regions", multiple=True, help="Region to compare (repeatable; default: all).")
@click.option("--format", "render_fmt", type=click.Choice(list(formats.FORMATS)), default="plain", show_default=True,
              help="What is compared: the plain /etc tree, kolla's configuration, or openstack-helm values.")
@click.option("--against", "against", type=click.Path(file_okay=False), metavar="DIR",
              help="A directory 'regionctl render -o' wrote, or one region's deployed tree (/etc, /etc/kolla/config, "
                   "/etc/genestack/helm-configs).")
@click.option("--rev", "rev", metavar="REV", help="The site at a git revision (default: HEAD), read from git's objects.")
@click.option("-f", "fmt", type=click.Choice(OUTPUTS), default="table", show_default=True, help="Output format.")
@click.option("--stat", is_flag=True, help="Only counts per region and file.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 1 on error, 2 with changes.")
@click.option("--catalog", "with_catalog", is_flag=True,
              help="Add the catalog plan (the site against the live Keystone, as 'catalog plan').")
@click.option("--os-cloud", "cloud", default=None, metavar="NAME", help="With --catalog: a cloud in clouds.yaml.")
def diff(site: str, regions: tuple[str, ...], render_fmt: str, against: str | None, rev: str | None, fmt: str,
         stat: bool, detailed_exitcode: bool, with_catalog: bool, cloud: str | None) -> None:
    """Show what rendering the site would change, per region and file, with the site FILE:LINE of each change.

    Against --rev REV (default HEAD: your uncommitted work) or --against DIR. Secrets print as
    '(secret changed)', never their values.
    """
    if against and rev:
        raise UserError("--against and --rev both given: compare with one of them")
    if render_fmt not in formats.available():
        raise UserError(f"render format '{render_fmt}' is not available in this build")
    loaded = load(site)
    chosen = _regions(loaded, regions)
    new = render_side(loaded, chosen, render_fmt, "the site")
    secrets = site_secrets(loaded, Secrets())
    assert loaded.site is not None
    site_regions = list(loaded.site.regions)
    roots = ("", "")
    with tempfile.TemporaryDirectory(prefix="regionctl-diff-") as tmp:
        if against:
            old, new = read_against(Path(against), new, chosen, bool(regions), site_regions)
            what = against
        else:
            rev = rev or "HEAD"
            old, old_root = _at_revision(Path(site), rev, Path(tmp), chosen, bool(regions), render_fmt, secrets,
                                         site_regions)
            what = f"the site at {rev}"
            roots = (old_root, loaded.shown(""))
        changes = compare(old, new, secrets, fallback_origins(loaded), order=site_regions)
    plan, where = _catalog(site, cloud) if with_catalog else (None, "")
    _print(changes, fmt, stat, what, plan, where, roots)
    counted = any(c.kind in DEPLOY_CHANGES for c in changes) or (plan is not None and plan.has_changes)
    if detailed_exitcode and counted:
        raise click.exceptions.Exit(2)


def _regions(loaded: LoadedSite, regions: tuple[str, ...]) -> list[str]:
    if loaded.site is None:
        return []
    for r in regions:
        if r not in loaded.site.regions:
            raise UserError(f"unknown region '{r}': the site declares {', '.join(loaded.site.regions)}")
    return list(regions) or list(loaded.site.regions)


def _at_revision(site: Path, rev: str, tmp: Path, chosen: list[str], named: bool, render_fmt: str,
                 secrets: Secrets, site_regions: list[str]) -> tuple[Files, str]:
    """The render of the site at ``rev``, and how its files are named (``REV:path/``)."""
    where, shown_as, commit = extract(site, rev, tmp)
    old = load(where, shown_as=shown_as)
    label = f"the site at {rev} ({commit[:12]})"
    if old.site is None:
        return render_side(old, [], render_fmt, label), ""  # raises with the revision's first error
    site_secrets(old, secrets)
    then = list(old.site.regions)
    regions = [r for r in chosen if r in then] + ([] if named else [r for r in then if r not in site_regions])
    return render_side(old, regions, render_fmt, label), old.shown("")


def _catalog(site: str, cloud: str | None) -> tuple[Any, str]:
    from regionctl.cli.catalog import _make_plan, _where

    plan, ks = _make_plan(site, cloud, False)
    return plan, _where(ks)


# ---- printing -------------------------------------------------------------------------------------


def _reach(changes: list[Change]) -> list[tuple[str, list[str]]]:
    """Each site FILE:LINE behind changes in more than one region, with those regions."""
    regions: dict[str, list[str]] = defaultdict(list)
    for c in changes:
        if c.origin and c.kind in DEPLOY_CHANGES and c.region not in regions[c.origin]:
            regions[c.origin].append(c.region)
    return [(o, rs) for o, rs in sorted(regions.items()) if len(rs) > 1]


def _summary(changes: list[Change]) -> dict[str, int]:
    counted = [c for c in changes if c.kind in DEPLOY_CHANGES]
    return {"changes": len(counted), "regions": len({c.region for c in counted}),
            "files": len({(c.region, c.file) for c in counted}),
            "not_managed": sum(c.kind in (Kind.UNMANAGED, Kind.FILE_UNMANAGED) for c in changes),
            "kept": sum(c.kind is Kind.KEPT for c in changes)}


def _stat(changes: list[Change]) -> list[dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for c in changes:
        if c.kind is Kind.KEPT:
            continue
        row = rows.setdefault((c.region, c.file), {"region": c.region, "file": c.file, "changed": 0, "added": 0,
                                                   "removed": 0, "not_managed": 0})
        kind = {Kind.CHANGED: "changed", Kind.ADDED: "added", Kind.FILE_ADDED: "added", Kind.REMOVED: "removed",
                Kind.FILE_REMOVED: "removed"}.get(c.kind, "not_managed")
        row[kind] += 1
    return list(rows.values())


def _print(changes: list[Change], fmt: str, stat: bool, what: str, plan: Any, where: str,
           roots: tuple[str, str]) -> None:
    if fmt != "table":
        doc: dict[str, Any] = {"against": what}
        if stat:
            doc["stat"] = _stat(changes)
        else:
            doc["changes"] = [c.record() for c in changes]
            doc["reach"] = [{"origin": o, "regions": rs} for o, rs in _reach(changes)]
        doc["summary"] = _summary(changes)
        if plan is not None:
            doc["catalog"] = {"keystone": where, **plan.to_dict()}
        _dump(doc, fmt)
        return
    if stat:
        _print_stat(changes)
    else:
        for c in changes:
            if c.kind is not Kind.KEPT:  # counted in the summary: a merged file keeps them
                click.echo(_line(c, roots))
        for origin, rs in _reach(changes):
            names = ", ".join(rs[:REACH_SHOWN]) + (f" and {len(rs) - REACH_SHOWN} more" if len(rs) > REACH_SHOWN else "")
            click.echo(f"{click.style(origin, bold=True)} reaches {len(rs)} regions: {names}")
    s = _summary(changes)
    unmanaged = f"; {s['not_managed']} not managed by the site" if s["not_managed"] else ""
    if s["kept"]:
        files = sorted({c.file for c in changes if c.kind is Kind.KEPT})
        unmanaged += f"; {s['kept']} key(s) the site doesn't set kept in {', '.join(files)} (the deployer merges it)"
    if s["changes"]:
        click.echo(f"{s['changes']} change(s) in {s['regions']} region(s), {s['files']} file(s), "
                   f"against {what}{unmanaged}")
    else:
        click.echo(f"No changes: the render matches {what}{unmanaged}.")
    if plan is not None:
        from regionctl.cli.catalog import print_plan

        click.echo("")
        print_plan(plan, where)


def _print_stat(changes: list[Change]) -> None:
    rows = _stat(changes)
    if not rows:
        return
    wr = max(len(r["region"]) for r in rows)
    wf = max(len(r["file"]) for r in rows)
    for r in rows:
        counts = ", ".join(f"{r[k]} {k.replace('_', ' ')}" for k in ("changed", "added", "removed", "not_managed")
                           if r[k])
        click.echo(f"{r['region']:<{wr}}  {r['file']:<{wf}}  {counts}")


def _dump(doc: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2, default=str))
        return
    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    buf = io.StringIO()
    y.dump(json.loads(json.dumps(doc, default=str)), buf)
    click.echo(buf.getvalue(), nl=False)


def _value(v: Any) -> str:
    if isinstance(v, str):
        return v if v and v.strip() == v else json.dumps(v)
    return text(v)


def _line(c: Change, roots: tuple[str, str] = ("", "")) -> str:
    head = f"{click.style(c.region, bold=True)} {c.file}"
    if c.kind is Kind.FILE_ADDED:
        return f"{head}: new file" + (f"  ({c.origin})" if c.origin else "")
    if c.kind is Kind.FILE_REMOVED:
        return f"{head}: {click.style('file removed', fg='red')} (rendered before; the site renders it no more)"
    if c.kind is Kind.FILE_UNMANAGED:
        return f"{head}: not managed by the site (left alone)"
    name = f"[{c.section}] {c.key}" if c.section is not None else (c.key or "(document)")
    if c.key and c.key.startswith("line ") and c.section is None and ("\n" in str(c.old or "") or "\n" in str(c.new or "")):
        lines = [f"{head} {name}:"]
        lines += [click.style(f"  - {x}", fg="red") for x in str(c.old).split("\n")] if c.old is not None else []
        lines += [click.style(f"  + {x}", fg="green") for x in str(c.new).split("\n")] if c.new is not None else []
        return "\n".join(lines) + (f"\n  ({c.origin})" if c.origin else "")
    old = click.style(_value(c.old), fg="red") if c.old is not None else "(unset)"
    new = click.style(_value(c.new), fg="green") if c.new is not None else "(unset)"
    if c.secret:
        word = {Kind.CHANGED: "changed", Kind.ADDED: "added", Kind.REMOVED: "removed"}.get(c.kind)
        what = f"(secret {word})" if word else "(secret) not managed by the site (deploying the render removes it)"
        shapes = c.kind is Kind.CHANGED and MASK not in (c.old, c.new) and c.old != c.new
        body = f"{old} -> {new} {what}" if shapes else what
    elif c.kind is Kind.UNMANAGED:
        body = f"{old}: not managed by the site (deploying the render removes it)"
    else:
        body = f"{old} -> {new}"
    return f"{head} {name}: {body}{_cause(c, roots)}"


def _same(old: str, new: str, roots: tuple[str, str]) -> bool:
    """The same file and line, one named at the revision (``HEAD:x/values/a.yaml:3``), one in the work tree."""
    return old == new or (bool(roots[0]) and old.startswith(roots[0]) and new.startswith(roots[1])
                          and old[len(roots[0]):] == new[len(roots[1]):])


def _cause(c: Change, roots: tuple[str, str]) -> str:
    parts = []
    if c.kind is Kind.REMOVED and c.origin:
        parts.append(f"removed by {c.origin}")
    elif c.origin and c.kind is not Kind.UNMANAGED:
        parts.append(c.origin)
    if c.old_origin and not (c.origin and _same(c.old_origin, c.origin, roots)):
        parts.append(f"was {c.old_origin}")
    if c.where:
        parts.append(c.where)
    return click.style(f"  ({'; '.join(parts)})", dim=True) if parts else ""
