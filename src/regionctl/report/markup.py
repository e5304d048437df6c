"""HTML built so that escaping is the default: text is escaped unless it is already :class:`Html`.

A section writes ``tag("td", {"class": "v"}, value)``; whatever ``value`` holds (``<script>``
included) ends up as text. Only this module turns strings into markup.
"""

from __future__ import annotations

import html
from typing import Iterable, Mapping, Union


class Html(str):
    """A string that is already markup: inserted as is."""


Child = Union["Html", str, int, float, None, Iterable["Child"]]


def esc(value: object) -> Html:
    """Text as markup: ``<``, ``>``, ``&`` and both quotes escaped."""
    if isinstance(value, Html):
        return value
    return Html(html.escape(str(value), quote=True))


def join(children: Iterable[Child]) -> Html:
    return Html("".join(render(c) for c in children))


def render(child: Child) -> Html:
    if child is None:
        return Html("")
    if isinstance(child, Html):
        return child
    if isinstance(child, (str, int, float)):
        return esc(child)
    return join(child)


VOID = frozenset({"meta", "br", "input", "hr", "img", "link"})


def tag(name: str, attrs: Mapping[str, object] | None = None, *children: Child) -> Html:
    """``<name attrs>children</name>``; attributes with value None or False are left out."""
    parts = [name]
    for key, value in (attrs or {}).items():
        if value is None or value is False:
            continue
        parts.append(key if value is True else f'{key}="{esc(value)}"')
    head = "<" + " ".join(parts) + ">"
    if name in VOID:
        return Html(head)
    return Html(head + render(list(children)) + f"</{name}>")
