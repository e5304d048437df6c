"""`regionctl catalog ...` and `regionctl dev-keystone`: the Keystone catalog as code.

Thin commands: load the site, read Keystone, call the pure core (desired, plan, drift, import),
print. Only here is anything printed; passwords and tokens never are.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from regionctl.catalog.desired import desired_catalog
from regionctl.catalog.model import Catalog, Endpoint, Region, Service
from regionctl.catalog.plan import Change, Plan, plan
from regionctl.cli.output import console, emit, format_option
from regionctl.errors import UserError
from regionctl.site.model import Site
from regionctl.site.secrets import mask_urls


def _load_site(site: str) -> Site:
    """The site model; only the site checks gate it (secrets and options don't shape the catalog)."""
    from regionctl.check.validate import load_checked

    loaded = load_checked(site, full=False)
    assert loaded.site is not None
    return loaded.site


def _load_desired(site: str) -> Catalog:
    return desired_catalog(_load_site(site))


def site_option(f: Any) -> Any:
    return click.option("-s", "--site", "site", default=".", show_default=True, type=click.Path(),
                        help="The site directory.")(f)


def cloud_option(f: Any) -> Any:
    return click.option("--os-cloud", "cloud", default=None, metavar="NAME",
                        help="A cloud in clouds.yaml (default: $OS_CLOUD, else the OS_* variables), "
                             "as for the openstack CLI.")(f)


def prune_option(f: Any) -> Any:
    return click.option("--prune", is_flag=True,
                        help="Also delete what the site's regions hold and the site doesn't declare "
                             "(and duplicates).")(f)


def _connect(cloud: str | None) -> Any:
    from regionctl.catalog.live import connect

    return connect(cloud)


def clouds_option(f: Any) -> Any:
    return click.option("--cloud", "clouds", multiple=True, metavar="NAME",
                        help="Only this cloud of the site (repeatable; default: every cloud it declares, each "
                             "against its own Keystone through its os_cloud clouds.yaml entry).")(f)


@dataclass(frozen=True)
class _Target:
    """One Keystone to plan against: the site's cloud (None: a site without clouds) and how to reach it."""

    cloud: str | None
    os_cloud: str | None
    desired: Catalog
    identity: tuple[str, ...]  # the URLs the site registers for this cloud's Keystone
    home: str | None = None  # its identity region
    others: tuple[str, ...] = ()  # the other clouds' Keystone URLs

    @property
    def label(self) -> str:
        return f"cloud {self.cloud}: " if self.cloud else ""


def _targets(site_dir: str, clouds: tuple[str, ...], os_cloud: str | None) -> list[_Target]:
    site = _load_site(site_dir)
    if not site.clouds:
        if clouds:
            raise UserError(f"--cloud {clouds[0]}: the site declares no clouds: drop --cloud")
        return [_Target(None, os_cloud, desired_catalog(site), ())]
    unknown = [c for c in clouds if c not in site.clouds]
    if unknown:
        raise UserError(f"--cloud {unknown[0]}: the site declares no such cloud: use one of {', '.join(site.clouds)}")
    names = list(dict.fromkeys(clouds)) or list(site.clouds)
    if os_cloud and len(names) > 1:
        raise UserError("--os-cloud names one Keystone, and the site has several clouds: add --cloud NAME "
                        "(without --os-cloud, each cloud uses its os_cloud entry from site.yaml)")
    out = []
    for name in names:
        desired = desired_catalog(site, name)
        identity = tuple(sorted({e.url for e in desired.endpoints if e.type == "identity"}))
        home = site.identity_regions(name)
        out.append(_Target(name, os_cloud or site.clouds[name].os_cloud or name, desired, identity,
                           home[0] if home else None))
    return [replace(t, others=tuple(u for o in out if o is not t for u in o.identity)) for t in out]


def _reach(t: _Target) -> tuple[Any, Catalog]:
    """The Keystone of ``t`` and its catalog, refused when the credentials reach another cloud's.

    The site declares each cloud's Keystone by its identity URLs and its identity region: a
    Keystone at another cloud's URL, or at none of the site's URLs and without this cloud's
    identity region, is not this cloud's.
    """
    from regionctl.catalog.address import address_of, same_keystone

    ks = _connect(t.os_cloud)
    live = ks.read()
    if t.cloud is None:
        return ks, live

    def reaches(urls: tuple[str, ...]) -> bool:
        return same_keystone(ks.auth_url, tuple(a for a in (address_of(u) for u in urls) if a is not None))

    mine = reaches(t.identity)
    if (not mine and reaches(t.others)) or (not mine and t.home and t.home not in {r.id for r in live.regions}):
        raise UserError(f"cloud {t.cloud}: the credentials of clouds.yaml entry '{t.os_cloud}' reach the Keystone "
                        f"at {mask_urls(ks.auth_url)}, which is not the one the site declares for {t.cloud} "
                        f"({', '.join(mask_urls(u) for u in t.identity)}): fix the entry or site.yaml")
    return ks, live


# ---- plan ---------------------------------------------------------------------------------------


@click.group()
def catalog() -> None:
    """The shared Keystone catalog as code: plan, apply, show, import."""


def _plan_with_live(site: str, cloud: str | None, prune: bool) -> tuple[Plan, Any, Catalog]:
    desired = _load_desired(site)
    ks = _connect(cloud)
    live = ks.read()
    return plan(desired, live, prune=prune), ks, live


def _make_plan(site: str, cloud: str | None, prune: bool) -> tuple[Plan, Any]:
    p, ks, _ = _plan_with_live(site, cloud, prune)
    return p, ks


def _region_text(r: Region) -> str:
    parts = [f"parent {r.parent}" if r.parent else "no parent"]
    if r.description:
        parts.append(json.dumps(r.description))
    return ", ".join(parts)


def _region_update(old: Region, new: Region) -> str:
    parts = []
    if old.description != new.description:
        parts.append(f"description {json.dumps(old.description)} -> {json.dumps(new.description)}")
    if old.parent != new.parent:
        parts.append(f"parent {old.parent or '(none)'} -> {new.parent or '(none)'}")
    return ", ".join(parts)


def _row(c: Change) -> list[str]:
    sign = {"create": "+", "update": "~", "delete": "-"}[c.op]
    s = c.subject
    if isinstance(s, Region):
        if c.op == "update" and isinstance(c.old, Region):
            what = _region_update(c.old, s)
        else:
            what = _region_text(s)
        row = [sign, "region", s.id, "", "", what]
    elif isinstance(s, Service):
        what = "enable" if c.op == "update" else (f"id {s.id}" if s.id else "")
        row = [sign, "service", "", f"{s.type}/{s.name}", "", what]
    else:
        assert isinstance(s, Endpoint)
        if c.op == "update" and isinstance(c.old, Endpoint):
            what = c.old.url if c.old.url == s.url else f"{c.old.url} -> {s.url}"
            if not c.old.enabled:
                what += " (enable)"
            what += f"  [id {s.id}]"
        else:
            what = s.url + (f"  [id {s.id}]" if s.id else "")
        row = [sign, "endpoint", s.region, f"{s.type}/{s.name}", s.interface, what]
    if c.reason:
        row[-1] += f"  ({c.reason})"
    return row


def _print_changes(title: str | None, changes: tuple[Change, ...] | list[Change]) -> None:
    """Aligned plain columns: stable in logs and diffs, no trailing padding."""
    if title:
        click.echo(title)
    rows = [_row(c) for c in changes]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)] if rows else []
    for r in rows:
        cells = [r[i].ljust(widths[i]) for i in range(len(widths)) if widths[i]] + [r[-1]]
        click.echo("  " + "  ".join(cells).rstrip())


def print_plan(p: Plan, where: str) -> None:
    """The human form: what changes, what doesn't, what --prune would add, notes."""
    click.echo(f"Catalog plan against {where}:")
    if p.changes:
        _print_changes(None, p.changes)
    if p.not_pruned:
        _print_changes("Not deleted without --prune:", p.not_pruned)
    for note in p.notes:
        click.echo(f"note: {note}")
    click.echo(p.summary() if p.changes else f"No changes: Keystone matches the site. {p.summary()}")


def _document(p: Plan, live: Catalog, where: str, site: str) -> dict[str, Any]:
    from regionctl.catalog.planfile import document, site_files, site_revision

    try:
        revision: str | None = site_revision(site_files(Path(site)))
    except OSError:
        revision = None
    return document(p, live, where, str(Path(site).resolve()), revision)


def _emit_plan(p: Plan, fmt: str, where: str, doc: dict[str, Any]) -> None:
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
    elif fmt == "yaml":
        emit([doc], "yaml")
    elif fmt == "value":
        for c in p.changes:
            click.echo(" ".join(x for x in _row(c) if x))
    else:
        print_plan(p, where)


@catalog.command("plan")
@site_option
@cloud_option
@clouds_option
@prune_option
@format_option("table")
@click.option("-o", "--out", "out", default=None, type=click.Path(dir_okay=False), metavar="PLAN",
              help="Also save the plan (JSON, with the live catalog's fingerprint) for 'catalog apply PLAN'.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 with no changes, 1 on error, 2 with changes or deletes held back without --prune.")
def plan_cmd(site: str, cloud: str | None, clouds: tuple[str, ...], prune: bool, fmt: str, out: str | None,
             detailed_exitcode: bool) -> None:
    """Show what apply would change in Keystone's catalog (nothing is written to Keystone).

    A site with several clouds gets one plan per cloud, each against its own Keystone.
    """
    from regionctl.catalog.planfile import dumps
    from regionctl.fileio import write_atomic

    targets = _targets(site, clouds, cloud)
    if out is not None and len(targets) > 1:
        raise UserError("-o/--out saves one plan: add --cloud NAME to choose the cloud")
    drifted, failed = False, []
    for t in targets:
        try:
            ks, live = _reach(t)
        except UserError as exc:
            if len(targets) == 1:
                raise
            click.echo(f"regionctl: error: {t.label}{exc}", err=True)
            failed.append(str(t.cloud))
            continue
        p = plan(t.desired, live, prune=prune)
        doc = _document(p, live, _where(ks), site)
        _emit_plan(p, fmt, t.label + _where(ks), doc)
        drifted = drifted or p.drifted
        if out is not None:
            write_atomic(Path(out), dumps(doc), 0o600)
            if fmt == "table":
                click.echo(f"Saved the plan to {out}: 'regionctl catalog apply {out}' executes exactly this plan "
                           "while Keystone's catalog stays as it is now.")
    if failed:
        raise UserError(f"not everything was planned: cloud(s) {', '.join(failed)} could not be read (above)")
    if detailed_exitcode and drifted:
        raise click.exceptions.Exit(2)


def _where(ks: Any) -> str:
    return f"{mask_urls(ks.auth_url)} as {ks.user}"


# ---- apply --------------------------------------------------------------------------------------


def _saved_plan(path: str, cloud: str | None, prune: bool) -> tuple[Plan, Any, Catalog]:
    """A saved plan, refused when the live catalog is no longer the one it was made against."""
    from regionctl.catalog.planfile import plan_of, read, stale_reason

    doc = read(path)
    ks = _connect(cloud)
    live = ks.read()
    if doc.get("auth_url") not in (None, ks.auth_url):
        raise UserError(f"{path}: the plan was made against {doc.get('auth_url')}, not {ks.auth_url}: "
                        "use the same cloud, or make a new plan")
    why = stale_reason(doc, live)
    if why is not None:
        raise UserError(f"{path}: stale plan: Keystone's catalog changed since it was made ({why}): "
                        f"make a new one with 'regionctl catalog plan -o {path}' and review it")
    if prune and not doc["prune"]:
        raise UserError(f"{path}: the plan was made without --prune: make a new one with --prune")
    return plan_of(doc, live, path), ks, live


@catalog.command("apply")
@click.argument("saved", metavar="[PLAN]", required=False, type=click.Path(dir_okay=False))
@site_option
@cloud_option
@clouds_option
@prune_option
@click.option("--yes", "-y", is_flag=True, help="Apply without asking (required when stdin is not a terminal).")
@click.option("--parallel", default=10, show_default=True, type=click.IntRange(1, 64), metavar="N",
              help="Writes in flight at once (each still waits for what it depends on).")
@click.option("--retry-for", "retry_for", default=30.0, show_default=True, type=click.FloatRange(0, 3600),
              metavar="SECONDS",
              help="How long one request may be retried while Keystone answers 503/429 or refuses connections "
                   "(0: never retry).")
def apply_cmd(saved: str | None, site: str, cloud: str | None, clouds: tuple[str, ...], prune: bool, yes: bool,
              parallel: int, retry_for: float) -> None:
    """Make Keystone's catalog match the site (or execute a saved PLAN): regions, services, endpoints.

    A site with several clouds is applied cloud by cloud, each to its own Keystone.
    """
    if saved is not None:
        p, ks, live = _saved_plan(saved, cloud, prune)
        _apply_one(p, ks, live, "", yes, parallel, retry_for)
        return
    for t in _targets(site, clouds, cloud):
        ks, live = _reach(t)
        _apply_one(plan(t.desired, live, prune=prune), ks, live, t.label, yes, parallel, retry_for)


def _apply_one(p: Plan, ks: Any, live: Catalog, label: str, yes: bool, parallel: int, retry_for: float) -> None:
    from regionctl.catalog.apply import ApplyError, apply
    from regionctl.catalog.retry import NO_RETRIES, RetryPolicy

    print_plan(p, label + _where(ks))
    if not p.has_changes:
        return
    if not yes:
        if not sys.stdin.isatty():
            raise UserError("not applying: stdin is not a terminal, so nobody can confirm; "
                            "review 'regionctl catalog plan', then pass --yes")
        click.confirm(f"Apply these {len(p.changes)} changes to Keystone at {mask_urls(ks.auth_url)}?", abort=True)
    ks.retry = RetryPolicy(budget=retry_for) if retry_for > 0 else NO_RETRIES
    with _progress(len(p.changes)) as bar:
        ks.on_retry = bar.note
        try:
            done = apply(p, ks, bar.report, parallel=parallel, live=live)
        except ApplyError as exc:
            bar.stop()
            if exc.done.done:
                _print_changes(f"Done before it stopped ({len(exc.done.done)} of {len(p.changes)}):", exc.done.done)
            raise
    extra = [f"{n} {what}" for n, what in ((ks.retries, "request(s) retried"),
                                           (done.recovered, "lost answer(s) settled by reading back")) if n]
    click.echo(done.summary() + (f" ({'; '.join(extra)})" if extra else ""))


class _progress:
    """A rich progress bar on a terminal (stderr): writes done / total and the rate; nothing when piped."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> _progress:
        if sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                                console=console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("applying", total=self.total, rate="")
        return self

    def report(self, change: Change | None, done: int, total: int) -> None:
        if self.bar is None:
            return
        label = "done" if change is None else " ".join(x for x in _row(change)[:5] if x)
        speed = self.bar.tasks[0].speed if self.bar.tasks else None
        rate = f"{speed:.1f} writes/s" if speed else ""
        self.bar.update(self.task, completed=done, description=label[:48].ljust(48), rate=rate)

    def note(self, text: str) -> None:
        """A retry, as a line above the bar (on a terminal only: piped output stays one line per error)."""
        if self.bar is not None:
            self.bar.console.print(f"retry: {text}", markup=False, highlight=False)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# ---- show ---------------------------------------------------------------------------------------


@catalog.command("show")
@click.option("-s", "--site", "site", default=None, type=click.Path(),
              help="The site to compare with (default: the current directory, if it holds site.yaml).")
@cloud_option
@click.option("--cloud", "site_cloud", default=None, metavar="NAME",
              help="Which cloud of the site to show (default: its first).")
@format_option("table")
def show_cmd(site: str | None, cloud: str | None, site_cloud: str | None, fmt: str) -> None:
    """The live catalog as regions x service types, with drift against the site marked."""
    from regionctl.catalog.drift import LEGEND, compare, drifted, matrix

    if site is None and Path("site.yaml").is_file():
        site = "."
    if site is not None:
        t = _targets(site, (site_cloud,) if site_cloud else (), cloud)[0]
        desired: Catalog | None = t.desired
        ks, live = _reach(t)
    else:
        desired, ks = None, _connect(cloud)
        live = ks.read()
    cells = compare(live, desired)
    if fmt != "table":
        emit([c.to_dict() for c in cells], fmt, ["region", "type", "name", "interface", "state", "url", "site_url"])
        return
    columns, rows = matrix(cells)
    emit([dict(zip(columns, row)) for row in rows], "table", columns,
         title=f"Keystone catalog at {mask_urls(ks.auth_url)}" + (f" vs site {site}" if site is not None else ""))
    if desired is not None:
        click.echo(LEGEND if drifted(cells) else "No drift: Keystone matches the site.")


# ---- import -------------------------------------------------------------------------------------


@catalog.command("import")
@click.option("--os-cloud", "clouds", multiple=True, metavar="NAME",
              help="A cloud to import (repeatable: several clouds are merged into one site). "
                   "Default: $OS_CLOUD, else the OS_* variables.")
@click.option("-o", "--output", "output", required=True, type=click.Path(), help="The new site directory.")
def import_cmd(clouds: tuple[str, ...], output: str) -> None:
    """Write a site (regions, parents, addresses, services, URL overrides) from live catalogs."""
    from regionctl.catalog.importer import site_from_catalogs, write_site
    from regionctl.check.site import check_all
    from regionctl.site.load import load

    target = Path(output)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UserError(f"{output}: exists and is not an empty directory: import writes a new site")
    sources = []
    for cloud in clouds or (None,):
        ks = _connect(cloud)
        sources.append((f"cloud '{cloud}'" if cloud else mask_urls(ks.auth_url), ks.read()))
    result = site_from_catalogs(sources)
    write_site(target, result.files)
    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)
    for rel in sorted(result.files):
        click.echo(f"  {output.rstrip('/')}/{rel}")
    problems = [p for p in check_all(load(output)) if p.is_error]
    for p in problems:
        click.echo(str(p), err=True)
    click.echo(f"imported {result.regions} region(s), {result.endpoints} endpoint(s) from {len(sources)} cloud(s); "
               f"next: fill in the secrets, then 'regionctl catalog plan -s {output}'", err=True)
    if problems:
        raise UserError(f"the imported site has {len(problems)} error(s) (above): fix them in {output}")


# ---- dev-keystone -------------------------------------------------------------------------------


@click.command("dev-keystone")
@click.option("-s", "--site", "site", default=None, type=click.Path(),
              help="Bootstrap the site's identity region, or one Keystone per cloud of a site with clouds "
                   "(default: the current directory's site, else RegionOne).")
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535),
              help="Port on 127.0.0.1 (0: the previous one if free, else any free port).")
@click.option("--data", "data", default=None, type=click.Path(file_okay=False),
              help="Data directory (SQLite, keys, log; default ~/.local/state/regionctl/dev-keystone).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 16),
              help="Server processes on the one database (more than 1: gunicorn, as a production Keystone "
                   "runs several behind a load balancer).")
def dev_keystone(site: str | None, port: int, data: str | None, workers: int) -> None:
    """Run a real Keystone on 127.0.0.1 for trying regionctl out; prints how to use it; Ctrl-C stops it."""
    from regionctl import devkeystone
    from regionctl.cli.devkeystone import print_banner, print_stopping

    if site is None and Path("site.yaml").is_file():
        site = "."
    data_dir = Path(data) if data else _default_data_dir()
    specs = [devkeystone.Spec(data_dir, devkeystone.DEFAULT_REGION, port=port)]
    if site is not None:
        model = _load_site(site)
        specs = [devkeystone.Spec(data_dir, model.identity_region(), port=port)]
        if model.clouds:  # one Keystone per cloud: a data dir each, under --data
            if port:
                raise UserError("--port names one port, and the site has several clouds: leave it out "
                                "(each Keystone takes a free port and keeps it)")
            specs = [devkeystone.Spec(data_dir / name, model.identity_regions(name)[0] if model.identity_regions(name)
                                      else devkeystone.DEFAULT_REGION, cloud.os_cloud or name)
                     for name, cloud in model.clouds.items()]
    try:
        code = devkeystone.run_several(specs, workers=workers, on_ready=print_banner, on_stop=print_stopping)
    except devkeystone.DevKeystoneError as exc:
        raise UserError(str(exc).splitlines()[0]) from None
    if code:
        raise click.exceptions.Exit(code)


def _default_data_dir() -> Path:
    import os

    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "regionctl" / "dev-keystone"
