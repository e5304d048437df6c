"""Reading YAML with line marks: the only place a site file is opened.

Every way a file can be broken (missing, a directory, unreadable, not UTF-8, bad YAML, duplicate
keys) becomes one :class:`Problem` with FILE:LINE, never an exception.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from regionctl.site.limits import ENV, Limits, current
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


def read_yaml(path: Path, display: str, limits: Limits | None = None) -> tuple[YamlDoc | None, list[Problem]]:
    """Parse one file. ``display`` is the name problems carry (the path as the user wrote it)."""
    lim = limits or current()
    raw, problem = _read_regular(path, display, lim.file_bytes)
    if raw is None:
        return None, [problem] if problem else []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [error(display, line, "is not UTF-8 text (binary file?): expected YAML")]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, [error(display, line, "contains NUL bytes (binary file?): expected YAML")]
    from regionctl.site.sopsread import shrink

    short, restore = shrink(text)  # a SOPS file's ciphertexts stand aside while ruamel parses
    try:
        # A SOPS file is decrypted in place after parsing: its tree is its own, never the cache's.
        data = _parsed(text) if short is text else _yaml().load(short)
    except RecursionError:
        return None, [error(display, _too_deep_line(text, lim.yaml_depth),
                            f"nested more than {lim.yaml_depth} levels deep: flatten it "
                            f"(or raise {ENV['yaml_depth']})")]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        what = exc.problem or exc.context or "invalid YAML"
        if "found duplicate key" in str(what) or type(exc).__name__ == "DuplicateKeyError":
            return None, [error(display, line, f"duplicate key: {_dup_key(exc)}; keep one of them")]
        return None, [error(display, line, f"YAML syntax error: {what}; fix the YAML")]
    except YAMLError as exc:
        return None, [error(display, 0, f"YAML error: {str(exc).splitlines()[0]}; fix the YAML")]
    except ValueError:  # ruamel's own constructors, e.g. an impossible date (2026-02-30)
        return None, [error(display, 0, "YAML error: a value cannot be read (an impossible date or number?): "
                                        "quote it")]
    restore(data)
    bound = _check_bounds(data, display, lim) if isinstance(data, (dict, list)) else None
    if bound is not None:
        return None, [bound]
    return YamlDoc(path, display, data), []


def _parsed(text: str) -> Any:
    if text in _PARSED:
        return _PARSED[text]
    data = _yaml().load(text)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[text] = data
    return data


_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a directory"}


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _read_regular(path: Path, display: str, max_bytes: int) -> tuple[bytes | None, Problem | None]:
    """The bytes of a regular file no bigger than ``max_bytes``, or the one problem why not.

    A FIFO, device or socket is refused before it is opened (reading one could block forever
    or never end); the file is opened non-blocking and checked again, so a swap in between
    changes nothing.
    """
    try:
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode):
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
                    raw = None
                else:
                    with os.fdopen(fd, "rb", closefd=False) as f:
                        raw = f.read(max_bytes + 1)
            finally:
                os.close(fd)
            if raw is not None and len(raw) <= max_bytes:
                return raw, None
    except FileNotFoundError:
        if os.path.islink(path):
            return None, error(display, 0, "is a symlink to nothing: fix or remove the link")
        return None, error(display, 0, "file not found")
    except PermissionError:
        return None, error(display, 0, "cannot be read (permission denied): fix its permissions")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, error(display, 0, "is a symlink loop: fix or remove the link")
        return None, error(display, 0, f"cannot be read ({exc.strerror}): fix the file")
    except ValueError:  # a NUL byte in the name (from a region name)
        return None, error(display, 0, "the path holds a NUL byte: fix the name")
    if stat.S_ISDIR(st.st_mode):
        return None, error(display, 0, "is a directory, expected a YAML file: remove or rename it")
    if not stat.S_ISREG(st.st_mode):
        return None, error(display, 0, f"is {_kind(st.st_mode)}, not a regular file: site files must be "
                                       "regular files (replace it with the file itself)")
    size = f"is {st.st_size} bytes" if st.st_size > max_bytes else "grew while it was read"
    return None, error(display, 0, f"{size}, over the limit of {max_bytes}: split it, or raise {ENV['file_bytes']}")


def _too_deep_line(text: str, max_depth: int) -> int:
    """Line where nesting first passes ``max_depth`` (ruamel's parser is not recursive)."""
    depth = 0
    try:
        for event in _yaml().parse(text):
            name = type(event).__name__
            if name in ("MappingStartEvent", "SequenceStartEvent"):
                depth += 1
                if depth > max_depth:
                    return int(event.start_mark.line) + 1
            elif name in ("MappingEndEvent", "SequenceEndEvent"):
                depth -= 1
    except (YAMLError, RecursionError):
        pass
    return 0


def _check_bounds(data: Any, display: str, lim: Limits) -> Problem | None:
    """Depth and size of a parsed document, aliases expanded (without expanding them).

    An alias is the same object each time it is used, so a "billion laughs" document parses
    small; counting each node's expanded size once (memoised) finds it in time linear in the
    document, before anything walks the tree.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    active: set[int] = set()  # on the current path: a cycle is not followed
    physical = 0  # values actually written, each alias's target once
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        kids = list(node.values() if isinstance(node, dict) else node)
        if done:
            active.discard(key)
            inner = [c for c in kids if isinstance(c, (dict, list))]
            size[key] = 1 + len(kids) - len(inner) + sum(size.get(id(c), 0) for c in inner)
            height[key] = 1 + max((height.get(id(c), 0) for c in inner), default=0)
            physical += 1 + len(kids) - len(inner)
            line = line_of(node) or 1
            if size[key] > lim.yaml_nodes:
                if physical <= lim.yaml_nodes:
                    return error(display, line, f"its aliases expand to more than {lim.yaml_nodes} values "
                                                "(a YAML alias bomb?): write the values out, or use fewer aliases")
                return error(display, line, f"holds more than {lim.yaml_nodes} values: split it, "
                                            f"or raise {ENV['yaml_nodes']}")
            continue
        if key in size or key in active:
            continue
        active.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in kids if isinstance(c, (dict, list)) and id(c) not in size)
    if height.get(id(data), 0) > lim.yaml_depth:
        return error(display, _deepest_line(data, height, lim.yaml_depth),
                     f"nested more than {lim.yaml_depth} levels deep: flatten it (or raise {ENV['yaml_depth']})")
    return None


def _deepest_line(data: Any, height: dict[int, int], depth: int) -> int:
    """Line of the value at ``depth + 1`` levels along the deepest path from the top."""
    node, line = data, line_of(data) or 1
    for _ in range(depth):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        best = max(keys, key=lambda k: height.get(id(node[k]), 0) if isinstance(node[k], (dict, list)) else 0)
        line = line_of(node, best) or line
        node = node[best]
        if not isinstance(node, (dict, list)):
            break
    return line


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
