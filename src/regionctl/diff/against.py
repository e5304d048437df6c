"""The old side read from a directory: a render written earlier, or what is deployed.

Two shapes are recognised, from the files the new render holds:

* a render: ``DIR/<region>/...`` as ``regionctl render -o DIR`` wrote it (every file it writes
  starts with its ``# Rendered by regionctl`` header);
* one region's deployed tree (with ``-r REGION``): ``DIR`` is some directory of the region's
  render, e.g. an ``/etc`` (``etc/``), kolla's ``/etc/kolla`` or ``/etc/kolla/config``,
  Genestack's ``/etc/genestack`` or ``/etc/genestack/helm-configs``: the one where most of the
  render's files are found. Other files in the directories those live in are listed as not
  managed by the site; they are never read.
"""

from __future__ import annotations

import stat
from pathlib import Path

from regionctl.diff.model import FileSide, Files
from regionctl.diff.parse import is_rendered
from regionctl.errors import UserError

SECRET_NAMES = ("passwords.yml", "secrets.yaml", "secrets.yml")


def read_file(path: Path, shown: str) -> tuple[str, bool]:
    """(text, may hold secrets); a binary or unreadable file is one line of error."""
    try:
        raw = path.read_bytes()
        mode = path.stat().st_mode
    except OSError as exc:
        raise UserError(f"{shown}: error: cannot be read ({exc.strerror}): fix its permissions, "
                        "or point --against at another tree") from None
    if b"\0" in raw:
        line = raw[: raw.index(b"\0")].count(b"\n") + 1
        raise UserError(f"{shown}:{line}: error: a binary file where regionctl renders text: remove it, "
                        "or point --against at another tree")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(f"{shown}:{line}: error: not UTF-8 text (a binary file?) where regionctl renders text: "
                        "remove it, or point --against at another tree") from None
    secret = (stat.S_IMODE(mode) & 0o077) == 0 or path.name.endswith(SECRET_NAMES)
    return text, secret


def _side(path: Path, shown: str) -> FileSide:
    text, secret = read_file(path, shown)
    return FileSide(text, shown, {}, managed=is_rendered(text), secret_file=secret, lines_known=True)


def _files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


def read_against(root: Path, new: Files, regions: list[str], chosen: bool,
                 site_regions: list[str]) -> tuple[Files, Files]:
    """(the old tree keyed like ``new`` (``<region>/<path>``), the part of ``new`` it covers).

    ``regions``: the regions compared; ``chosen``: they were named with -r (else every region of
    the site, and any other region directory of a render).
    """
    if not root.is_dir():
        raise UserError(f"--against {root}: no such directory: pass a directory 'regionctl render -o' wrote, "
                        "or a deployed tree such as /etc")
    if _is_render(root, new, regions):
        return _read_render(root, regions, chosen, site_regions), new
    if len(regions) != 1:
        raise UserError(f"--against {root}: not a render of the site (expected {_expect(root, new, regions)}); "
                        "a deployed tree is one region's: name it with -r REGION")
    return _read_deployed(root, new, regions[0])


def _expect(root: Path, new: Files, regions: list[str]) -> str:
    sample = sorted(rel for rel in new if rel.split("/", 1)[0] in regions)
    example = sample[0] if sample else "<region>/..."
    return f"{root / example}, as 'regionctl render -o {root}' writes it"


def _is_render(root: Path, new: Files, regions: list[str]) -> bool:
    for region in regions:
        rdir = root / region
        if not rdir.is_dir():
            continue
        if any((root / rel).is_file() for rel in new if rel.startswith(region + "/")):
            return True
        for p in _files_under(rdir)[:50]:
            try:
                with p.open("rb") as f:
                    if is_rendered(f.read(64).decode("utf-8", "replace")):
                        return True
            except OSError:
                continue
    return False


def _read_render(root: Path, regions: list[str], chosen: bool, site_regions: list[str]) -> Files:
    names = list(regions)
    if not chosen:  # a region the site no longer declares: its rendered files are removals
        names += sorted(p.name for p in root.iterdir() if p.is_dir() and p.name not in site_regions
                        and not p.name.startswith("."))
    out: Files = {}
    for region in names:
        rdir = root / region
        if not rdir.is_dir():
            continue
        for p in _files_under(rdir):
            side = _side(p, str(p))
            if region not in site_regions and not side.managed:
                continue
            out[f"{region}/{p.relative_to(rdir).as_posix()}"] = side
    return out


def _read_deployed(root: Path, new: Files, region: str) -> tuple[Files, Files]:
    mine = sorted(rel[len(region) + 1:] for rel in new if rel.startswith(region + "/"))
    prefixes = {""} | {"/".join(p.split("/")[:i]) + "/" for p in mine for i in range(1, p.count("/") + 1)}
    best, found = "", 0
    for prefix in sorted(prefixes, key=len, reverse=True):
        n = sum(1 for p in mine if p.startswith(prefix) and (root / p[len(prefix):]).is_file())
        if n > found:
            best, found = prefix, n
    if not found:
        names = ", ".join(sorted({p.split("/", 1)[-1] for p in mine})[:3])
        raise UserError(f"--against {root}: neither a render of the site (expected {_expect(root, new, [region])}) "
                        f"nor a deployed tree of region '{region}' (none of its files, e.g. {names}, is there; "
                        "--format kolla or helm for those deployers' trees)")
    out: Files = {}
    dirs: set[Path] = set()
    for p in mine:
        if not p.startswith(best):
            continue
        path = root / p[len(best):]
        if path.is_file():
            out[f"{region}/{p}"] = _side(path, str(path))
        dirs.add(path.parent)
    for d in sorted(dirs):
        if not d.is_dir():
            continue
        for extra in sorted(d.iterdir()):
            rel = f"{region}/{best}{extra.relative_to(root).as_posix()}"
            if extra.is_file() and not extra.name.startswith(".") and rel not in out and rel not in new:
                out[rel] = FileSide(None, str(extra), {}, managed=False)
    covered = {rel: f for rel, f in new.items() if rel.startswith(f"{region}/{best}")}
    return out, covered
