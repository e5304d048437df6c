"""Where each key of a rendered file came from: what lets ``diff`` name the FILE:LINE of a change.

A renderer turns trees of :class:`Value` into text and the origins would be lost; it keeps them
here instead, keyed the way a reader of the text finds them again: ``(section, option)`` in an INI
file, the key path in a YAML file. ``secret`` is the renderer's own rule (it is the one that knows
a value went to a 0600 file), so nobody re-guesses it from the text.

Rendering must stay fast and only ``diff`` reads these, so they are lazy: the tree is kept, and a
key is looked up (and its secret rule run) only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Mapping

from regionctl.site.provenance import Origin, Tree, Value

Key = tuple[str, ...]
SecretRule = Callable[[Key, Value], bool]


@dataclass(frozen=True)
class Source:
    origin: Origin
    secret: bool


Sources = Mapping[Key, Source]


class IniSources(Mapping[Key, Source]):
    """``(section, option)`` -> source; a null that removed an option keeps the null's origin."""

    def __init__(self, sections: Tree, deleted: Mapping[Key, Value], secret: SecretRule) -> None:
        self._sections, self._deleted, self._secret = sections, deleted, secret

    def _leaf(self, key: Key) -> Value | None:
        if len(key) != 2:
            return None
        options = self._sections.get(key[0])
        node = options.get(key[1]) if isinstance(options, dict) else None
        leaf = node.get("values") if isinstance(node, dict) else node  # multistring
        return leaf if isinstance(leaf, Value) else None

    def __getitem__(self, key: Key) -> Source:
        leaf = self._leaf(key)
        if leaf is not None:
            return Source(leaf.origin, leaf.value is not None and self._secret(key, leaf))
        gone = self._deleted.get(key)
        if gone is None:
            raise KeyError(key)
        return Source(gone.origin, False)

    def __iter__(self) -> Iterator[Key]:
        seen = set()
        for section, options in self._sections.items():
            if isinstance(options, dict):
                for option in options:
                    if self._leaf((section, option)) is not None:
                        seen.add((section, option))
                        yield (section, option)
        yield from (k for k in self._deleted if len(k) == 2 and k not in seen)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class TreeSources(Mapping[Key, Source]):
    """Key path -> source for every leaf of a values tree (a list is one leaf, as Helm sees it)."""

    def __init__(self, tree: Tree, secret: SecretRule) -> None:
        self._tree, self._secret = tree, secret

    def __getitem__(self, key: Key) -> Source:
        node: Tree | Value = self._tree
        for k in key:
            if not isinstance(node, dict) or k not in node:
                raise KeyError(key)
            node = node[k]
        if not isinstance(node, Value):
            raise KeyError(key)
        return Source(node.origin, node.value is not None and self._secret(key, node))

    def __iter__(self) -> Iterator[Key]:
        def walk(tree: Tree, prefix: Key) -> Iterator[Key]:
            for k, node in tree.items():
                if isinstance(node, dict):
                    yield from walk(node, prefix + (k,))
                else:
                    yield prefix + (k,)
        return walk(self._tree, ())

    def __len__(self) -> int:
        return sum(1 for _ in self)


def ini_sources(sections: Tree, deleted: Mapping[Key, Value], secret: SecretRule) -> Sources:
    return IniSources(sections, deleted, secret)


def tree_sources(tree: Tree, secret: SecretRule) -> Sources:
    return TreeSources(tree, secret)
