"""Layer merging with Helm's rules, keeping where every value came from.

The rules (``helm -f a.yaml -f b.yaml``), each a row in tests/test_merge.py:

* a later layer wins;
* maps merge recursively, keys found in one layer only are kept;
* lists and scalars replace whole (a list has one origin);
* ``null`` deletes the key from the result (and everything under it);
* a map replacing a scalar, or a scalar replacing a map, replaces, with a warning naming both files.

Each leaf of the result is a :class:`Value` whose ``overridden`` lists the settings it replaced.
Deleted keys are kept apart, with their history, so ``explain`` can say who removed a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from regionctl.site.problems import Problem, warning
from regionctl.site.provenance import Branch, Origin, Tree, Value, origin_of

Path = tuple[str, ...]


@dataclass
class Merged:
    """The result of merging layers: the tree, the deleted keys, and the warnings."""

    tree: Tree = field(default_factory=dict)
    deleted: dict[Path, Value] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)


def merge(layers: Sequence[Tree]) -> Merged:
    """Merge ``layers`` lowest precedence first."""
    out = Merged(tree=Branch())
    for layer in layers:
        _merge_into(out, out.tree, layer, ())
    return out


def _without_nulls(out: Merged, tree: Tree, path: Path) -> Tree:
    """A map that lands where nothing was: its nulls delete nothing, but are remembered."""
    clean: Tree = Branch.at(origin_of(tree))
    for key, node in tree.items():
        sub = path + (key,)
        if isinstance(node, dict):
            clean[key] = _without_nulls(out, node, sub)
        elif node.value is None:
            out.deleted[sub] = node
        else:
            clean[key] = _after_deletion(out, node, sub)
    return clean


def _after_deletion(out: Merged, node: Value, path: Path) -> Value:
    """A value set again after a null deleted it keeps the deletion in its history."""
    gone = out.deleted.pop(path, None)
    if gone is None:
        return node
    return Value(node.value, node.origin, gone.history())


def _drop_subtree(out: Merged, path: Path) -> None:
    for key in [k for k in out.deleted if k[: len(path)] == path and k != path]:
        del out.deleted[key]


def _merge_into(out: Merged, dst: Tree, src: Tree, path: Path) -> None:
    for key, new in src.items():
        sub = path + (key,)
        old = dst.get(key)
        if isinstance(new, Value) and new.value is None:
            if isinstance(old, Value):
                out.deleted[sub] = Value(None, new.origin, old.history())
            else:
                out.deleted[sub] = new
            dst.pop(key, None)
            continue
        if isinstance(new, dict):
            if isinstance(old, dict):
                _merge_into(out, old, new, sub)
            else:
                if isinstance(old, Value):
                    here = origin_of(new)
                    out.warnings.append(
                        _mismatch(here, sub, "a map", "the value", old.origin)
                    )
                _drop_subtree(out, sub)
                dst[key] = _without_nulls(out, new, sub)
            continue
        if isinstance(old, dict):
            there = origin_of(old)
            out.warnings.append(_mismatch(new.origin, sub, "a value", "the map", there))
            dst[key] = _after_deletion(out, new, sub)
        elif isinstance(old, Value):
            dst[key] = Value(new.value, new.origin, old.history())
        else:
            dst[key] = _after_deletion(out, new, sub)


def _mismatch(here: Origin | None, path: Path, what: str, replaced: str, there: Origin | None) -> Problem:
    file, line = (here.file, here.line) if here else ("<unknown>", 0)
    where = str(there) if there else "an earlier layer"
    return warning(
        file,
        line,
        f"{'.'.join(path)}: {what} here replaces {replaced} set at {where}; "
        "check the types match in both files",
    )
