"""The pure core: two trees of files -> the changes, per region and file, each with its cause.

INI files are compared by section and option (an option moved is no change; a repeated key is
a list), YAML by key path, anything else by lines. The new side is a render, so every key it
holds names its origin; a key without one falls back to the region's line in site.yaml (derived).
"""

from __future__ import annotations

import difflib
from typing import Any, Mapping

from regionctl.diff.mask import Secrets, line_secret, looks_secret, masked, plainly_public, shown
from regionctl.diff.model import Change, FileSide, Files, Kind
from regionctl.diff.parse import HEADER_PREFIX, Entry, kind_of, parse, parse_lines
from regionctl.render.sources import Key, Source


def split(rel: str) -> tuple[str, str]:
    region, _, path = rel.partition("/")
    return region, path


def compare(old: Files, new: Files, secrets: Secrets, fallback: Mapping[str, str] | None = None,
            order: list[str] | None = None) -> list[Change]:
    """Every change from ``old`` to ``new``. ``fallback``: region -> origin for keys with none;
    ``order``: regions in the order to report (the site's), others after, sorted."""
    fallback = fallback or {}
    rank = {r: i for i, r in enumerate(order or [])}
    rels = sorted(set(old) | set(new), key=lambda rel: (rank.get(split(rel)[0], len(rank)), split(rel)))
    out: list[Change] = []
    for rel in rels:
        region, path = split(rel)
        o, n = old.get(rel), new.get(rel)
        if o is None:
            assert n is not None
            out.append(Change(region, path, Kind.FILE_ADDED, origin=fallback.get(region)))
        elif n is None:
            kind = Kind.FILE_REMOVED if o.managed else Kind.FILE_UNMANAGED
            out.append(Change(region, path, kind, old_origin=None, where=o.shown))
        elif o.text is not None and n.text is not None and _body(o.text) != _body(n.text):
            out += compare_file(region, path, o, n, secrets, fallback.get(region))
    return out


def _body(text: str) -> str:
    """The text without regionctl's header line, which names the site as it was passed."""
    if text.startswith(HEADER_PREFIX):
        return text[text.find("\n") + 1:]
    return text


def compare_file(region: str, path: str, o: FileSide, n: FileSide, secrets: Secrets,
                 fallback: str | None) -> list[Change]:
    assert o.text is not None and n.text is not None
    if kind_of(path) == "lines":
        return _lines(region, path, o.text, n.text, secrets, fallback)
    old_doc = parse(path, o.text, o.shown, lines=o.lines_known)
    new_doc = parse(path, n.text, n.shown)
    ini = kind_of(path) == "ini"
    out = []
    for key in sorted(set(old_doc) | set(new_doc), key=_order if ini else None):
        a, b = old_doc.get(key), new_doc.get(key)
        if a is not None and b is not None and a.value == b.value:
            continue
        out.append(_change(region, path, key, a, b, o, n, secrets, fallback, ini))
    return out


def _order(key: Key) -> tuple[int, Key]:
    return (0 if key[0] == "DEFAULT" else 1, key)


def _change(region: str, path: str, key: Key, a: Entry | None, b: Entry | None, o: FileSide, n: FileSide,
            secrets: Secrets, fallback: str | None, ini: bool) -> Change:
    src_new: Source | None = n.sources.get(key)
    src_old: Source | None = o.sources.get(key)
    secret = any(s is not None and s.secret for s in (src_new, src_old)) or any(
        e is not None and (looks_secret(key, e.value) or secrets.found_in(e.value)) for e in (a, b))
    if a is not None and b is None and src_old is None and o.secret_file and not plainly_public(a.value):
        secret = True  # a value the site doesn't know, in a file that holds secrets: assume it is one
    if secret:
        for e in (a, b):
            if e is not None:
                secrets.add(e.value)
    if a is None:
        kind = Kind.ADDED
    elif b is None:
        kind = Kind.REMOVED if (src_old is not None or src_new is not None) else Kind.KEPT if n.merged \
            else Kind.UNMANAGED
    else:
        kind = Kind.CHANGED
    origin = src_new.origin if src_new is not None else None
    where = f"{o.shown}:{a.line}" if a is not None and o.lines_known and a.line else None
    return Change(
        region, path, kind,
        section=key[0] if ini else None,
        key=key[1] if ini else ".".join(key),
        old=_show(a, secret, secrets), new=_show(b, secret, secrets), secret=secret,
        origin=str(origin) if origin is not None else (fallback if b is not None else None),
        old_origin=str(src_old.origin) if src_old is not None else None,
        where=where)


def _show(e: Entry | None, secret: bool, secrets: Secrets) -> Any:
    if e is None:
        return None
    return masked(e.value, secrets) if secret else shown(e.value)


def _lines(region: str, path: str, a: str, b: str, secrets: Secrets, fallback: str | None) -> list[Change]:
    old, new = parse_lines(a), parse_lines(b)
    out = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        gone, came = old[i1:i2], new[j1:j2]
        secret = any(line_secret(x, secrets) for x in gone + came)
        kind = Kind.CHANGED if gone and came else Kind.ADDED if came else Kind.REMOVED
        out.append(Change(region, path, kind, key=f"line {j1 + 1}",
                          old="\n".join(gone) if gone and not secret else ("********" if gone else None),
                          new="\n".join(came) if came and not secret else ("********" if came else None),
                          secret=secret, origin=fallback))
    return out
