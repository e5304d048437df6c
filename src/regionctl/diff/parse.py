"""Reading a rendered (or deployed) file into keys the diff compares.

INI as oslo.config reads it (its own parser: no inline comments, continuation lines, quotes
stripped, a repeated key kept as a list, which is what a MultiStrOpt sees); YAML by key path (a
list is one value, as Helm replaces lists whole); anything else by lines. Bad text is a
:class:`UserError` of one line, ``FILE:LINE: error: ...``.
"""

from __future__ import annotations

from regionctl.site.yamlio import to_plain

from dataclasses import dataclass
from typing import Any

from oslo_config import iniparser
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from regionctl.errors import UserError
from regionctl.render.sources import Key

HEADER_PREFIX = "# Rendered by regionctl from "
INI_SUFFIXES = (".conf", ".ini")
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Entry:
    value: Any  # INI: tuple of strings (one per occurrence); YAML: the leaf; lines: the line
    line: int  # 1-based line in the file (0: unknown)


Doc = dict[Key, Entry]


def kind_of(path: str) -> str:
    if path.endswith(INI_SUFFIXES):
        return "ini"
    if path.endswith(YAML_SUFFIXES):
        return "yaml"
    return "lines"


def is_rendered(text: str) -> bool:
    """regionctl writes its header as the first line of every file it renders."""
    return text.startswith(HEADER_PREFIX)


class _Ini(iniparser.BaseParser):
    """oslo.config's parser, keeping every assignment's line."""

    def __init__(self, shown: str) -> None:
        super().__init__()
        self.shown = shown
        self.section: str | None = None
        self.keys: dict[Key, list[str]] = {}
        self.lines: dict[Key, int] = {}
        self._at = 0

    def _split_key_value(self, line: str) -> tuple[str, list[str]]:
        self._at = self.lineno
        return super()._split_key_value(line)

    def new_section(self, section: str) -> None:
        self.section = section

    def assignment(self, key: str, value: list[str]) -> None:
        if self.section is None:
            raise iniparser.ParseError("an option before any [section]", self._at, key)
        k = (self.section, key)
        self.keys.setdefault(k, []).append("\n".join(value))
        self.lines.setdefault(k, self._at)


def parse_ini(text: str, shown: str) -> Doc:
    parser = _Ini(shown)
    try:
        parser.parse(text.splitlines())
    except iniparser.ParseError as exc:
        raise UserError(f"{shown}:{exc.lineno}: error: not INI that oslo.config can read ({exc.msg}): "
                        "fix the file, or point the diff at another tree") from None
    return {k: Entry(tuple(v), parser.lines[k]) for k, v in parser.keys.items()}


def _yaml(lines: bool) -> YAML:
    y = YAML(typ="rt" if lines else "safe", pure=True)
    y.allow_duplicate_keys = False
    return y


def _flatten(node: Any, prefix: Key, line: int, out: Doc) -> None:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            at = line
            if isinstance(node, CommentedMap):
                pos = node.lc.data.get(key)
                at = pos[0] + 1 if pos else line
            _flatten(value, prefix + (str(key),), at, out)
    elif isinstance(node, dict):
        return  # an empty map sets nothing
    else:
        out[prefix] = Entry(to_plain(node), line)


def parse_yaml(text: str, shown: str, lines: bool = False) -> Doc:
    """Key path -> leaf. ``lines``: keep line numbers (slower: only for trees read from disk)."""
    try:
        data = _yaml(lines).load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f":{mark.line + 1}" if mark is not None else ""
        problem = (exc.problem or "syntax error").strip().split(" with value", 1)[0]  # never a value: it may be secret
        raise UserError(f"{shown}{at}: error: not YAML ({problem}): "
                        "fix the file, or point the diff at another tree") from None
    except YAMLError as exc:
        raise UserError(f"{shown}: error: not YAML ({str(exc).splitlines()[0]}): fix the file") from None
    out: Doc = {}
    _flatten(data, (), 1, out)
    return out


def parse_lines(text: str) -> list[str]:
    """The file's lines without regionctl's header (which names how the site was passed)."""
    return [line for line in text.splitlines() if not line.startswith(HEADER_PREFIX)]


def parse(path: str, text: str, shown: str, lines: bool = False) -> Doc:
    kind = kind_of(path)
    if kind == "ini":
        return parse_ini(text, shown)
    return parse_yaml(text, shown, lines)
