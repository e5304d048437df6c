"""Reading YAML with line marks: the only place a site file is opened.

Every way a file can be broken (missing, a directory, unreadable, not UTF-8, bad YAML, duplicate
keys) becomes one :class:`Problem` with FILE:LINE, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from regionctl.site.problems import Problem, error
from regionctl.site.provenance import Branch, Layer, Origin, Tree, Value


@dataclass(frozen=True)
class YamlDoc:
    """A parsed document: ``data`` is ruamel's round-trip tree (it keeps line numbers)."""

    path: Path
    display: str
    data: Any


#: parsed documents by their text: ``diff --rev`` loads the site twice, and most files are the same
#: at both revisions. The trees are only read after parsing, never changed, so sharing them is safe.
_PARSED: dict[str, Any] = {}
_PARSED_MAX = 4096


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    return y


def read_yaml(path: Path, display: str) -> tuple[YamlDoc | None, list[Problem]]:
    """Parse one file. ``display`` is the name problems carry (the path as the user wrote it)."""
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        return None, [error(display, 0, "is a directory, expected a YAML file: remove or rename it")]
    except FileNotFoundError:
        return None, [error(display, 0, "file not found")]
    except PermissionError:
        return None, [error(display, 0, "cannot be read (permission denied): fix its permissions")]
    except OSError as exc:
        return None, [error(display, 0, f"cannot be read ({exc.strerror}): fix the file")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [error(display, line, "is not UTF-8 text (binary file?): expected YAML")]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, [error(display, line, "contains NUL bytes (binary file?): expected YAML")]
    try:
        data = _parsed(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        what = exc.problem or exc.context or "invalid YAML"
        if "found duplicate key" in str(what) or type(exc).__name__ == "DuplicateKeyError":
            return None, [error(display, line, f"duplicate key: {_dup_key(exc)}; keep one of them")]
        return None, [error(display, line, f"YAML syntax error: {what}; fix the YAML")]
    except YAMLError as exc:
        return None, [error(display, 0, f"YAML error: {str(exc).splitlines()[0]}; fix the YAML")]
    return YamlDoc(path, display, data), []


def _parsed(text: str) -> Any:
    if text in _PARSED:
        return _PARSED[text]
    data = _yaml().load(text)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[text] = data
    return data


def _dup_key(exc: MarkedYAMLError) -> str:
    problem = str(exc.problem or "")
    # ruamel says: 'found duplicate key "name" with value ...'
    if '"' in problem:
        return problem.split('"')[1]
    return problem or "?"


def line_of(node: Any, key: Any | None = None) -> int:
    """1-based line of ``node`` (or of ``key`` inside a mapping / index inside a sequence); 0 if unknown."""
    try:
        if key is not None and isinstance(node, CommentedMap):
            return int(node.lc.key(key)[0]) + 1
        if key is not None and isinstance(node, CommentedSeq):
            return int(node.lc.item(key)[0]) + 1
        return int(node.lc.line) + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return 0


def node_at(root: Any, loc: tuple[Any, ...]) -> tuple[int, bool]:
    """Line of the deepest node along ``loc`` that exists, and whether the whole path exists."""
    node, line = root, line_of(root) or 1
    for key in loc:
        if isinstance(node, CommentedMap) and key in node:
            line = line_of(node, key) or line
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
            line = line_of(node, key) or line
            node = node[key]
        else:
            return line, False
    return line, True


def to_plain(node: Any) -> Any:
    """ruamel's tree as plain dicts/lists/scalars (pydantic validates these)."""
    if isinstance(node, dict):
        return {(k if isinstance(k, str) else str(k)): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def to_tree(node: CommentedMap, display: str, layer: Layer, origin: Origin | None = None) -> Tree:
    """A values document as a provenance tree: every leaf knows its file and line.

    Keys are strings (Helm's too); a list is one leaf; ``null`` stays a leaf with value None,
    which the merge reads as "delete this key".
    """
    tree: Tree = Branch.at(origin)
    for key, child in node.items():
        name = key if isinstance(key, str) else str(key)
        if isinstance(child, CommentedMap):
            tree[name] = to_tree(child, display, layer, Origin(display, line_of(node, key), layer))
        else:
            tree[name] = Value(to_plain(child), Origin(display, line_of(node, key), layer))
    return tree
