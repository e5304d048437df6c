"""The scope: which region (or cloud) serves each service type of one request (seed 004).

Two spellings of the same thing, both accepted wherever a scope is read:

* the JSON object OpenStackoid used: ``{"compute": "RegionOne", "image": "RegionTwo"}``
* the compact form: ``compute=RegionOne,image=RegionTwo``

A service type the scope does not name is served by the local region. The grammar is
deliberately narrower than JSON: keys and values are bare names (letters, digits, ``.``,
``_``, ``-``, as Keystone region IDs and catalog types are spelled), no escapes, no nesting, no
duplicate keys, and the whole text at most :data:`MAX_BYTES` bytes. The routers rendered by
``regionctl render --format haproxy`` match exactly this grammar with regular expressions
(:mod:`regionctl.scope.patterns`), so what the router accepts and what Python accepts agree.

Pure: no I/O. Every failure is a :class:`ScopeError` with the position and the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

#: The longest scope accepted, in bytes of UTF-8 (a header longer than this is refused).
MAX_BYTES = 2048
#: A region, cloud or service type name: as Keystone region IDs are checked by ``validate``.
NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
NAME_MAX = 255
_NAME_RE = re.compile(NAME)
_WS = " \t\r\n"


class ScopeError(ValueError):
    """A scope that cannot be used: ``position`` is the 0-based character offset of the fault."""

    def __init__(self, reason: str, position: int = 0) -> None:
        super().__init__(f"scope:{position + 1}: {reason}")
        self.reason = reason
        self.position = position


@dataclass(frozen=True)
class Scope:
    """Service type -> region or cloud name, in the order written."""

    routes: tuple[tuple[str, str], ...] = ()

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.routes)

    def __len__(self) -> int:
        return len(self.routes)

    def as_dict(self) -> dict[str, str]:
        return dict(self.routes)

    def target(self, service_type: str, local: str) -> str:
        """The region or cloud serving ``service_type``: the one named, else ``local``."""
        return self.as_dict().get(service_type, local)

    def to_json(self) -> str:
        """OpenStackoid's form, for the ``OpenStack-Scope`` or ``X-Scope`` header."""
        return json.dumps(self.as_dict(), separators=(",", ":"))

    def to_compact(self) -> str:
        return ",".join(f"{t}={v}" for t, v in self.routes)


def from_mapping(routes: Mapping[str, str], *, types: Collection[str] | None = None,
                 names: Collection[str] | None = None) -> Scope:
    """A scope built in code (checked like a parsed one)."""
    if not isinstance(routes, Mapping):
        raise ScopeError("a scope is a mapping of service type to region or cloud")
    pairs = []
    for k, v in routes.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ScopeError("scope keys and values are strings")
        pairs.append((k, v))
    return parse(",".join(f"{k}={v}" for k, v in pairs), types=types, names=names)


def parse(text: str | bytes, *, types: Collection[str] | None = None, names: Collection[str] | None = None,
          max_bytes: int = MAX_BYTES) -> Scope:
    """Parse either form. ``types``/``names``: the service types and region/cloud names allowed
    (None: any well-formed name, for a client that does not know the site)."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ScopeError("the scope is not UTF-8", exc.start) from None
    if not isinstance(text, str):
        raise ScopeError(f"a scope is text, not {type(text).__name__}")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ScopeError(f"the scope is {size} bytes: at most {max_bytes} are accepted", max_bytes)
    start = _skip(text, 0)
    routes = _parse_json(text, start) if start < len(text) and text[start] == "{" else _parse_compact(text, start)
    # Three passes, in the order the routers check (duplicates, types, names): same reason either way.
    seen: set[str] = set()
    for key, _, kpos, _ in routes:
        if key in seen:
            raise ScopeError(f"service type '{key}' is given twice", kpos)
        seen.add(key)
    for key, _, kpos, _ in routes:
        if types is not None and key not in types:
            raise ScopeError(f"unknown service type '{key}': the catalog has {_list(types)}", kpos)
    for key, value, _, vpos in routes:
        if names is not None and value not in names:
            raise ScopeError(f"unknown region or cloud '{value}' for {key}: the site declares {_list(names)}", vpos)
    return Scope(tuple((k, v) for k, v, _, _ in routes))


Parsed = list[tuple[str, str, int, int]]  # key, value, key position, value position


def _list(items: Collection[str]) -> str:
    shown = sorted(items)
    return ", ".join(shown[:12]) + (f" and {len(shown) - 12} more" if len(shown) > 12 else "") if shown else "none"


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _what(text: str, i: int) -> str:
    if i >= len(text):
        return "the end of the scope"
    c = text[i]
    return f"'{c}'" if c.isprintable() and c.isascii() else f"character U+{ord(c):04X}"


def _name(text: str, i: int, what: str) -> tuple[str, int]:
    m = _NAME_RE.match(text, i)
    if not m:
        raise ScopeError(f"expected {what} (letters, digits, '.', '_', '-'), found {_what(text, i)}", i)
    if len(m.group()) > NAME_MAX:
        raise ScopeError(f"{what} is {len(m.group())} characters: at most {NAME_MAX}", i)
    return m.group(), m.end()


def _expect(text: str, i: int, char: str, context: str) -> int:
    if i >= len(text) or text[i] != char:
        raise ScopeError(f"expected '{char}' {context}, found {_what(text, i)}", i)
    return i + 1


def _parse_json(text: str, i: int) -> Parsed:
    out: Parsed = []
    i = _skip(text, i + 1)
    if i < len(text) and text[i] == "}":
        return _end(text, i + 1, out)
    while True:
        if i < len(text) and text[i] != '"':
            hint = " (keys are quoted strings)" if _NAME_RE.match(text, i) else ""
            raise ScopeError(f"expected '\"' before a service type{hint}, found {_what(text, i)}", i)
        key, kpos, i = _quoted(text, i, "a service type")
        i = _expect(text, _skip(text, i), ":", f"after \"{key}\"")
        i = _skip(text, i)
        if i < len(text) and text[i] in "{[":
            raise ScopeError(f"the value of {key} must be a region or cloud name, not an object or list", i)
        if i >= len(text) or text[i] != '"':
            raise ScopeError(f"the value of {key} must be a quoted region or cloud name, found {_what(text, i)}", i)
        value, vpos, i = _quoted(text, i, "a region or cloud name")
        out.append((key, value, kpos, vpos))
        i = _skip(text, i)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)
            continue
        if i < len(text) and text[i] == "}":
            return _end(text, i + 1, out)
        raise ScopeError(f"expected ',' or '}}' after \"{value}\", found {_what(text, i)}", i)


def _quoted(text: str, i: int, what: str) -> tuple[str, int, int]:
    pos = i + 1
    if pos < len(text) and text[pos] == "\\":
        raise ScopeError("escapes are not allowed in a scope: write names as they are", pos)
    name, j = _name(text, pos, what)
    if j < len(text) and text[j] == "\\":
        raise ScopeError("escapes are not allowed in a scope: write names as they are", j)
    return name, pos, _expect(text, j, '"', f"to close {what}")


def _end(text: str, i: int, out: Parsed) -> Parsed:
    i = _skip(text, i)
    if i < len(text):
        raise ScopeError(f"unexpected {_what(text, i)} after the scope's closing '}}'", i)
    return out


def _parse_compact(text: str, i: int) -> Parsed:
    out: Parsed = []
    if i >= len(text):
        return out
    while True:
        key, j = _name(text, i, "a service type")
        kpos = i
        i = _expect(text, _skip(text, j), "=", f"after '{key}'")
        i = _skip(text, i)
        vpos = i
        value, i = _name(text, i, f"a region or cloud name for {key}")
        out.append((key, value, kpos, vpos))
        i = _skip(text, i)
        if i >= len(text):
            return out
        if text[i] != ",":
            raise ScopeError(f"expected ',' after '{key}={value}', found {_what(text, i)}", i)
        i = _skip(text, i + 1)
