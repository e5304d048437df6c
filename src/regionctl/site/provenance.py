"""Where a value came from: the thread that makes ``explain``, secret masking and FILE:LINE cheap.

A resolved values tree is plain nested dicts whose leaves are :class:`Value`. A list is a leaf:
Helm replaces lists whole, so a list has one origin.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Iterator, Union


class Layer(str, enum.Enum):
    """The kind of source, lowest precedence first."""

    DEFAULT = "default"  # regionctl's built-in defaults
    DERIVED = "derived"  # computed from site.yaml (region wiring)
    BASE = "base"  # values/ for every region
    REGION = "region"  # regions/<name>/ overrides
    SECRET = "secret"  # regions/<name>/secrets.yaml


@dataclass(frozen=True)
class Origin:
    """A file and 1-based line (0: no line, e.g. built-in), and the layer kind it belongs to."""

    file: str
    line: int
    layer: Layer

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    @property
    def is_secret(self) -> bool:
        return self.layer is Layer.SECRET


BUILTIN = Origin("<built-in>", 0, Layer.DEFAULT)


@dataclass(frozen=True)
class Value:
    """A leaf value, where it was set, and the values it replaced (oldest first)."""

    value: Any
    origin: Origin
    overridden: tuple["Value", ...] = field(default=())

    def history(self) -> tuple["Value", ...]:
        """Every setting of this value in precedence order, the final one last."""
        return self.overridden + (Value(self.value, self.origin),)


Tree = dict[str, Union["Tree", Value]]


class Branch(dict):  # type: ignore[type-arg]
    """A map in a values tree that remembers where its key was written (None: the root)."""

    origin: Origin | None = None

    @classmethod
    def at(cls, origin: Origin | None) -> "Branch":
        b = cls()
        b.origin = origin
        return b


def origin_of(node: "Tree | Value") -> Origin | None:
    return node.origin if isinstance(node, (Value, Branch)) else None


def walk(tree: Tree, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Value]]:
    """Every leaf with its path, in key order of the tree."""
    for key, node in tree.items():
        path = prefix + (key,)
        if isinstance(node, dict):
            yield from walk(node, path)
        else:
            yield path, node


def branch(node: "Tree | Value | None") -> Tree:
    """``node`` if it is a map, else an empty one: for reading a tree that may be malformed."""
    return node if isinstance(node, dict) else Branch()


def lookup(tree: Tree, path: tuple[str, ...]) -> Tree | Value | None:
    node: Tree | Value = tree
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def put(tree: Tree, path: tuple[str, ...], node: "Tree | Value") -> None:
    """Set ``path`` in ``tree`` to ``node``, making the maps on the way (a value on the way is replaced)."""
    for key in path[:-1]:
        nxt = tree.get(key)
        if not isinstance(nxt, dict):
            nxt = Branch()
            tree[key] = nxt
        tree = nxt
    tree[path[-1]] = node


def plain(tree: Tree) -> dict[str, Any]:
    """The tree without provenance, as Helm would see it."""
    return {k: plain(v) if isinstance(v, dict) else v.value for k, v in tree.items()}


def bare(node: "Tree | Value") -> Any:
    """A node without provenance: a leaf's value, or a map as :func:`plain` gives it."""
    return plain(node) if isinstance(node, dict) else node.value


def multistring(node: Tree) -> list[Any] | None:
    """openstack-helm's ``{type: multistring, values: [...]}`` as a list, else None."""
    kind, values = node.get("type"), node.get("values")
    if isinstance(kind, Value) and kind.value == "multistring" and isinstance(values, Value):
        return list(values.value or [])
    return None
