"""Where each key of a rendered file came from: what lets ``diff`` name the FILE:LINE of a change.

A renderer turns trees of :class:`Value` into text and the origins would be lost; it keeps them
here instead, keyed the way a reader of the text finds them again: ``(section, option)`` in an INI
file, the key path in a YAML file. ``secret`` is the renderer's own decision (it is the one that
knows a value went to a 0600 file), so nobody re-guesses it from the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from regionctl.site.provenance import Origin, Tree, Value

Key = tuple[str, ...]


@dataclass(frozen=True)
class Source:
    origin: Origin
    secret: bool


Sources = Mapping[Key, Source]
SecretRule = Callable[[Key, Value], bool]


def ini_sources(sections: Tree, deleted: Mapping[Key, Value], secret: SecretRule) -> dict[Key, Source]:
    """``(section, option)`` -> source; a null that removed an option keeps the null's origin."""
    out: dict[Key, Source] = {}
    for section, options in sections.items():
        if not isinstance(options, dict):
            continue
        for option, node in options.items():
            leaf = node.get("values") if isinstance(node, dict) else node  # multistring
            if isinstance(leaf, Value):
                out[(section, option)] = Source(leaf.origin, leaf.value is not None and secret((section, option), leaf))
    for path, gone in deleted.items():
        if len(path) == 2 and path not in out:
            out[path] = Source(gone.origin, False)
    return out


def tree_sources(tree: Tree, secret: SecretRule, prefix: Key = ()) -> dict[Key, Source]:
    """Key path -> source for every leaf of a values tree (a list is one leaf, as Helm sees it)."""
    out: dict[Key, Source] = {}
    for key, node in tree.items():
        path = prefix + (key,)
        if isinstance(node, dict):
            out.update(tree_sources(node, secret, path))
        else:
            out[path] = Source(node.origin, node.value is not None and secret(path, node))
    return out
