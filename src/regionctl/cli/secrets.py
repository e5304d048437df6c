"""`regionctl secrets`: encrypt, edit, generate, rotate, updatekeys, check (SOPS with age).

Secrets files are read and written in-process (regionctl.site.sops*); no ``sops`` binary is
needed. No command prints a secret value: they print file names, paths and recipients.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import click

from regionctl.cli.output import emit, format_option
from regionctl.errors import UserError
from regionctl.fileio import write_atomic
from regionctl.openstack import passwords
from regionctl.site import age, layout, sops
from regionctl.site.gittracked import tracked
from regionctl.site.load import LoadedSite, load
from regionctl.site.provenance import Branch, Value, lookup
from regionctl.site.secrets import KNOWN
from regionctl.site.secretstore import SecretsFile, write_all
from regionctl.site.sopsconfig import CONFIG_FILE, load_config
from regionctl.site.sopsfile import decrypt_text, detect_indent, encrypt_text, parse_text, reencrypt_text, rewrap_text


def _site_option(f: Any) -> Any:
    return click.option("-s", "--site", "site", default=".", show_default=True, help="The site directory.")(f)


def _regions_option(required: bool = False) -> Any:
    return click.option("-r", "--region", "regions", multiple=True, required=required,
                        help="Region (repeatable; default: every region)." if not required else "Region.")


@click.group()
def secrets() -> None:
    """Secrets files encrypted at rest with SOPS and age (readable by the real sops)."""


def _loaded(site: str) -> LoadedSite:
    loaded = load(site)
    if loaded.site is None:
        first = next((p for p in loaded.problems if p.is_error), None)
        raise UserError(f"{first or site}: fix site.yaml first (regionctl validate -s {site})")
    return loaded


def _chosen(loaded: LoadedSite, regions: tuple[str, ...]) -> list[str]:
    assert loaded.site is not None
    for r in regions:
        if r not in loaded.site.regions:
            raise UserError(f"unknown region '{r}': the site declares {', '.join(loaded.site.regions)}")
    return list(regions) or list(loaded.site.regions)


def _rel(region: str) -> str:
    return layout.secrets_file(region).rel


def _read(loaded: LoadedSite, region: str, ids: age.Identities) -> SecretsFile:
    rel = _rel(region)
    return SecretsFile.read(loaded.paths.root, rel, loaded.shown(rel), ids)


def _needed(loaded: LoadedSite, region: str) -> list[tuple[str, ...]]:
    assert loaded.site is not None
    r = loaded.site.regions[region]
    return passwords.needed(r.services, region == loaded.site.identity_region())


def _note(message: str) -> None:
    click.echo(message, err=True)


# ---- encrypt -------------------------------------------------------------------------------------


@secrets.command()
@_site_option
@_regions_option()
def encrypt(site: str, regions: tuple[str, ...]) -> None:
    """Encrypt plain secrets files in place, for the recipients .sops.yaml names."""
    loaded = _loaded(site)
    config = load_config(loaded.paths.root, loaded.shown(CONFIG_FILE))
    todo: list[tuple[SecretsFile, str]] = []
    for region in _chosen(loaded, regions):
        rel = _rel(region)
        path = loaded.paths.path(rel)
        if not path.exists():
            continue
        if rel in loaded.encrypted or rel in loaded.sealed:
            _note(f"{loaded.shown(rel)}: already encrypted")
            continue
        rule = config.recipients_for(rel, loaded.shown(rel))
        f = SecretsFile.read(loaded.paths.root, rel, loaded.shown(rel), age.Identities())
        try:
            todo.append((f, encrypt_text(path.read_text(encoding="utf-8"), list(rule.recipients), rule.options)))
        except (sops.SopsError, age.AgeError) as exc:
            raise UserError(f"{loaded.shown(rel)}: error: {exc}") from None
    write_all(todo)
    for f, _ in todo:
        rule = config.recipients_for(f.rel, f.shown)
        _note(f"encrypted {f.shown} for {', '.join(rule.recipients)}")
    if not todo:
        _note("nothing to encrypt")


# ---- edit ----------------------------------------------------------------------------------------


@secrets.command()
@_site_option
@click.option("-r", "--region", "region", required=True, help="The region whose secrets to edit.")
def edit(site: str, region: str) -> None:
    """Edit a region's encrypted secrets in $EDITOR; unchanged values keep their ciphertext."""
    loaded = _loaded(site)
    _chosen(loaded, (region,))
    rel = _rel(region)
    shown = loaded.shown(rel)
    path = loaded.paths.path(rel)
    if rel in loaded.sealed:
        raise UserError(loaded.sealed[rel].message)
    if not path.exists():
        raise UserError(f"{shown}: file not found: create it with 'regionctl secrets generate -r {region}'")
    if rel not in loaded.encrypted:
        raise UserError(f"{shown}: is plain text: encrypt it first with 'regionctl secrets encrypt -r {region}'")
    text = path.read_text(encoding="utf-8")
    try:
        plain, opened = decrypt_text(text, shown, age.find_identities())
    except sops.SopsError as exc:
        raise UserError(f"{shown}: error: {exc}") from None
    editor = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
    with private_file(plain, f"{region}-secrets.yaml") as tmp:
        while True:
            try:
                subprocess.run(editor + [str(tmp)], check=True)
            except FileNotFoundError:
                raise UserError(f"editor '{editor[0]}' not found: set EDITOR") from None
            except subprocess.CalledProcessError as exc:
                raise UserError(f"the editor exited with status {exc.returncode}: {shown} is unchanged") from None
            edited = tmp.read_text(encoding="utf-8")
            if edited == plain:
                _note(f"{shown}: no changes")
                return
            problem = _check_edited(edited, shown)
            if problem is None:
                break
            if not (sys.stdin.isatty() and click.confirm(f"{problem}\nedit again?", default=True, err=True)):
                raise UserError(f"{problem} ({shown} is unchanged)")
        try:
            new = reencrypt_text(edited, opened, detect_indent(text))
        except sops.SopsError as exc:
            raise UserError(f"{shown}: error: {exc} ({shown} is unchanged)") from None
    write_atomic(path, new, path.stat().st_mode & 0o777)
    _note(f"{shown}: re-encrypted")


def _check_edited(text: str, shown: str) -> str | None:
    """One line saying what is wrong with an edited secrets file, or None."""
    try:
        data = parse_text(text)
    except Exception as exc:  # noqa: BLE001 - ruamel's errors; the line is in the mark
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        what = getattr(exc, "problem", None) or "invalid YAML"
        return f"{shown}:{line}: error: YAML syntax error: {what}; fix the YAML"
    if data is None:
        return None
    if not isinstance(data, dict):
        return f"{shown}:1: error: expected a map of secrets (passwords: ...)"
    if sops.METADATA_KEY in data:
        return f"{shown}: error: has a top-level 'sops' key: that name is sops's own; remove it"
    for container, key, path in sops.leaves(data):
        try:
            sops.to_bytes(container[key])
        except sops.SopsError as exc:
            return f"{shown}: error: {'.'.join(path)}: {exc}"
    return None


@contextlib.contextmanager
def private_file(text: str, name: str) -> Iterator[Path]:
    """``text`` in a 0600 file inside a 0700 directory, removed on every way out (signals included)."""
    tmpdir = Path(tempfile.mkdtemp(prefix="regionctl-secrets-"))
    saved = {}

    def stop(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    try:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            saved[sig] = signal.signal(sig, stop)
    except ValueError:  # not the main thread: nothing to install
        pass
    try:
        os.chmod(tmpdir, 0o700)
        path = tmpdir / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        yield path
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
        for sig, handler in saved.items():
            signal.signal(sig, handler)


# ---- generate ------------------------------------------------------------------------------------


@secrets.command()
@_site_option
@_regions_option()
def generate(site: str, regions: tuple[str, ...]) -> None:
    """Fill every secret the site needs and lacks with a strong random value (never changes a set one)."""
    loaded = _loaded(site)
    assert loaded.site is not None
    ids = age.find_identities()
    shared_mode = loaded.site.service_users == "shared"
    files = {r: _read_or_sealed(loaded, r, ids) for r in loaded.site.regions}
    known: dict[tuple[str, ...], tuple[str, str]] = {}  # shared path -> (value, region)
    for r, f in files.items():
        if f is None:
            continue
        for p in _needed(loaded, r) + [q for q in _set_paths(f) if passwords.shared(q)]:
            v = f.get(p)
            if shared_mode and passwords.shared(p) and isinstance(v, (str, int)) and v != "":
                known.setdefault(p, (str(v), r))
    records = []
    changed: list[SecretsFile] = []
    for region in _chosen(loaded, regions):
        f = files[region]
        if f is None:
            raise UserError(loaded.sealed[_rel(region)].message)
        added = False
        for p in _needed(loaded, region):
            if f.get(p) not in (None, ""):
                continue
            if shared_mode and passwords.shared(p):
                if p not in known:
                    _refuse_if_sealed_share(loaded, files, p)
                    known[p] = (passwords.policy_for(p).generate(), region)
                value, source = known[p]
                how = "generated" if source == region else f"shared with {source}"
            else:
                value, how = passwords.policy_for(p).generate(), "generated"
            f.set(p, value)
            KNOWN.add(value)
            added = True
            records.append({"region": region, "secret": ".".join(p), "how": how, "file": f.shown})
        if added:
            changed.append(f)
    write_all([(f, f.text()) for f in changed])
    emit(records, "table" if sys.stdout.isatty() else "value", ["region", "secret", "how", "file"])
    for f in changed:
        hint = "" if f.encrypted else f"; encrypt it: regionctl secrets encrypt -s {site} -r {f.rel.split('/')[1]}"
        _note(f"wrote {f.shown} ({'encrypted' if f.encrypted else 'plain, mode 0600'}){hint}")
    if not changed:
        _note("every secret the site needs is set")


def _read_or_sealed(loaded: LoadedSite, region: str, ids: age.Identities) -> SecretsFile | None:
    if _rel(region) in loaded.sealed:
        return None
    return _read(loaded, region, ids)


def _set_paths(f: SecretsFile) -> list[tuple[str, ...]]:
    return [path for _c, _k, path in sops.leaves(f.data)]


def _refuse_if_sealed_share(loaded: LoadedSite, files: dict[str, SecretsFile | None], p: tuple[str, ...]) -> None:
    """A shared password may be set in a region this operator cannot open: a new one would differ."""
    user = p[-1]
    assert loaded.site is not None
    for r, f in files.items():
        if f is None and p in _needed(loaded, r):
            raise UserError(f"{'.'.join(p)}: the {user} user is shared by every region, and region '{r}' may hold "
                            f"its password in {loaded.shown(_rel(r))}, which cannot be opened here: "
                            "copy the value from there, or run this with that region's key too")


# ---- rotate --------------------------------------------------------------------------------------


@secrets.command()
@_site_option
@click.option("-r", "--region", "region", required=True, help="The region whose secrets to rotate.")
@click.argument("paths", nargs=-1, required=True)
def rotate(site: str, region: str, paths: tuple[str, ...]) -> None:
    """New random values for the named secrets (PATH: passwords.databases.nova); shared users everywhere."""
    loaded = _loaded(site)
    assert loaded.site is not None
    _chosen(loaded, (region,))
    ids = age.find_identities()
    files = {r: _read_or_sealed(loaded, r, ids) for r in loaded.site.regions}
    home = files[region]
    if home is None:
        raise UserError(loaded.sealed[_rel(region)].message)
    shared_mode = loaded.site.service_users == "shared"
    changed: dict[str, SecretsFile] = {}
    records = []
    for text in paths:
        p = tuple(text.split("."))
        old = home.get(p)
        if old in (None, "") or isinstance(old, dict):
            raise UserError(f"{home.shown}: {text} is not set: name a secret the file holds "
                            f"(or fill missing ones with 'regionctl secrets generate -r {region}')")
        value = passwords.policy_for(p).generate()
        targets = [region]
        if shared_mode and passwords.shared(p):
            for r, f in files.items():
                if r == region:
                    continue
                if f is None and p in _needed(loaded, r):
                    raise UserError(f"{text}: the {p[-1]} user is shared by every region, and "
                                    f"{loaded.shown(_rel(r))} cannot be opened here: rotate it with every "
                                    "region's key at hand, or the regions would disagree")
                if f is not None and f.get(p) not in (None, ""):
                    targets.append(r)
        for r in targets:
            f = files[r]
            assert f is not None
            f.set(p, value)
            changed[r] = f
            records.append({"region": r, "secret": text, "file": f.shown})
        KNOWN.add(value)
    write_all([(f, f.text()) for f in changed.values()])
    emit(records, "table" if sys.stdout.isatty() else "value", ["region", "secret", "file"])
    _note(f"rotated {len(paths)} secret(s) in {len(changed)} file(s): deploy those regions to apply them")


# ---- updatekeys ----------------------------------------------------------------------------------


@secrets.command()
@_site_option
@_regions_option()
def updatekeys(site: str, regions: tuple[str, ...]) -> None:
    """Re-wrap each encrypted file's data key for the recipients .sops.yaml names now (values unchanged)."""
    loaded = _loaded(site)
    config = load_config(loaded.paths.root, loaded.shown(CONFIG_FILE))
    ids = age.find_identities()
    todo = []
    for region in _chosen(loaded, regions):
        rel = _rel(region)
        if rel in loaded.sealed:
            raise UserError(loaded.sealed[rel].message)
        if rel not in loaded.encrypted:
            continue
        rule = config.recipients_for(rel, loaded.shown(rel))
        want = list(rule.recipients)
        have = list(loaded.encrypted[rel])
        if want == have:
            _note(f"{loaded.shown(rel)}: recipients unchanged")
            continue
        f = _read(loaded, region, ids)
        assert f.opened is not None
        text = f.path.read_text(encoding="utf-8")
        todo.append((f, rewrap_text(text, f.opened, want)))
        added = [r for r in want if r not in have]
        removed = [r for r in have if r not in want]
        _note(f"{f.shown}: " + "; ".join(x for x in (
            f"added {', '.join(added)}" if added else "", f"removed {', '.join(removed)}" if removed else "") if x))
    write_all(todo)
    if not todo:
        _note("every encrypted file has the recipients .sops.yaml names")


# ---- check ---------------------------------------------------------------------------------------


@secrets.command()
@_site_option
@format_option("table")
def check(site: str, fmt: str) -> None:
    """Which secrets files are plain, encrypted (for whom), missing secrets; exit 1 if git tracks a plain one."""
    loaded = _loaded(site)
    assert loaded.site is not None
    rels = {r: _rel(r) for r in loaded.site.regions}
    plain = [rel for rel in rels.values() if loaded.paths.path(rel).exists()
             and rel not in loaded.encrypted and rel not in loaded.sealed]
    in_git = tracked(loaded, plain)
    records = []
    for region, rel in rels.items():
        exists = loaded.paths.path(rel).exists()
        if rel in loaded.sealed:
            state, who, opens = "encrypted", list(loaded.sealed[rel].recipients), "no"
        elif rel in loaded.encrypted:
            state, who, opens = "encrypted", list(loaded.encrypted[rel]), "yes"
        elif exists:
            state, who, opens = "plain", [], "-"
        else:
            state, who, opens = "absent", [], "-"
        if opens == "no":
            missing = "?"
        else:
            tree = loaded.layers.get(rel, Branch())
            gaps = [".".join(p) for p in _needed(loaded, region)
                    if not (isinstance(n := lookup(tree, p), Value) and n.value not in (None, ""))]
            missing = ", ".join(gaps)
        records.append({"region": region, "file": loaded.shown(rel), "state": state,
                        "recipients": ", ".join(who), "opens_here": opens, "missing": missing,
                        "in_git": "yes" if rel in in_git else ("no" if state == "plain" else "-")})
    emit(records, fmt, ["region", "file", "state", "recipients", "opens_here", "missing", "in_git"])
    if in_git:
        for rel in sorted(in_git):
            _note(f"{loaded.shown(rel)}: error: is plain text in git: regionctl secrets encrypt -r {rel.split('/')[1]}")
        raise click.exceptions.Exit(1)
