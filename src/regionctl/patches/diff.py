"""Reading one patch file: a unified diff (``diff -ruN``, ``git diff``, ``git format-patch``) with
an optional header, parsed strictly enough that what ``patch -p1`` would do is known before it runs.

Pure: text in, a :class:`Patch` or problems (``FILE:LINE``) out. What is refused, and why:

* Windows line endings: the package's files have ``\\n``; ``patch`` would match nothing, or mix both;
* binary patches (``GIT binary patch``, ``Binary files ... differ``): GNU patch cannot apply them;
* a hunk whose line counts do not add up, or a line that is no hunk line: ``patch`` would stop
  half-way through the file list, or apply a truncated hunk;
* a path that leaves the directory (absolute, ``..``) or that ``-p1`` cannot strip;
* one file twice in one patch: ``patch --dry-run`` checks the second part against the unpatched
  file, so a dry run could not be trusted.

The header (lines before the first file) may name the upstream change and pin the package
versions the patch was checked against; ``#`` before a field is allowed::

    Upstream: https://review.opendev.org/c/openstack/nova/+/912345
    Versions: nova==34.0.0, nova==34.0.1
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from regionctl.site.problems import Problem, error

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
FIELD = re.compile(r"^#?\s*(Upstream|Versions)\s*:\s*(.*?)\s*$", re.IGNORECASE)
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*)$")
DEV_NULL = "/dev/null"


@dataclass(frozen=True)
class Hunk:
    """One ``@@`` block: where it sits in the patch file, and its lines with their ``' '``/``-``/``+``."""

    line: int
    number: int  # 1-based within its file, as GNU patch counts ("Hunk #2 FAILED")
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    lines: tuple[str, ...]

    @property
    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_len} +{self.new_start},{self.new_len} @@"

    @property
    def old_lines(self) -> list[str]:
        return [ln[1:] for ln in self.lines if ln[:1] in (" ", "-")]

    @property
    def new_lines(self) -> list[str]:
        return [ln[1:] for ln in self.lines if ln[:1] in (" ", "+")]

    def changes(self) -> tuple[set[int], set[int]]:
        """(old-file lines this hunk removes, old-file lines before which it inserts)."""
        removed: set[int] = set()
        inserted: set[int] = set()
        pos = self.old_start if self.old_len else self.old_start + 1
        for ln in self.lines:
            kind = ln[:1]
            if kind == " ":
                pos += 1
            elif kind == "-":
                removed.add(pos)
                pos += 1
            elif kind == "+":
                inserted.add(pos)
        return removed, inserted


@dataclass(frozen=True)
class FilePatch:
    """The part of a patch for one file; paths are relative to site-packages (``-p1`` stripped)."""

    line: int  # the '--- ' line
    old: str | None  # None: the file is created
    new: str | None  # None: the file is deleted
    hunks: tuple[Hunk, ...]

    @property
    def path(self) -> str:
        return self.new or self.old or ""


@dataclass(frozen=True)
class Header:
    upstream: str | None = None
    versions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # distribution -> versions
    versions_line: int = 0


@dataclass(frozen=True)
class Patch:
    """A parsed patch file. ``text`` is what ships: byte for byte the file in the site."""

    file: str  # as problems name it
    text: str
    header: Header
    files: tuple[FilePatch, ...]

    def touched(self) -> list[str]:
        return [f.path for f in self.files]


def parse(shown: str, data: bytes) -> tuple[Patch | None, list[Problem]]:
    """``data`` of the file ``shown``: the patch, or the problems that make it unusable."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [error(shown, line, "is not UTF-8 text (a binary file?): a patch is a unified diff "
                                         "made with diff -ruN or git diff")]
    lines = text.split("\n")
    for i, ln in enumerate(lines, 1):
        if ln.endswith("\r"):
            return None, [error(shown, i, "has Windows line endings (CRLF): the package's files have LF, so no "
                                          "hunk would match: convert it (dos2unix) and check it again")]
    return _Parser(shown, lines).run()


def dist_key(name: str) -> str:
    """A distribution name as PyPI compares them (``os_vif`` is ``os-vif``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _strip_path(raw: str) -> str:
    """The path of a ``---``/``+++`` line, without its timestamp (``diff -u`` appends one after a tab)."""
    path = raw.split("\t", 1)[0]
    if path.startswith('"') and path.endswith('"') and len(path) > 1:
        path = path[1:-1]
    return path.rstrip()


class _Parser:
    def __init__(self, shown: str, lines: list[str]) -> None:
        self.shown = shown
        self.lines = lines
        self.i = 0
        self.problems: list[Problem] = []

    def fail(self, line: int, msg: str) -> tuple[None, list[Problem]]:
        return None, [error(self.shown, line, msg)]

    def run(self) -> tuple[Patch | None, list[Problem]]:
        files: list[FilePatch] = []
        header = Header()
        in_header = True
        header_fields: dict[str, tuple[int, str]] = {}
        n = len(self.lines)
        while self.i < n:
            ln = self.lines[self.i]
            no = self.i + 1
            if ln.startswith("GIT binary patch") or (ln.startswith("Binary files ") and ln.endswith(" differ")):
                return self.fail(no, "is a binary patch: GNU patch cannot apply it: ship the file in the image "
                                     "instead, or patch a text file")
            if ln.startswith("--- ") and self.i + 1 < n and self.lines[self.i + 1].startswith("+++ "):
                in_header = False
                fp = self.file_patch()
                if fp is None:
                    return None, self.problems
                if any(f.path == fp.path for f in files):
                    return self.fail(fp.line, f"changes {fp.path} a second time: GNU patch's dry run checks each part "
                                              "against the unchanged file: make one diff per file")
                files.append(fp)
                continue
            if not in_header and (ln.startswith("+++ ") or HUNK.match(ln)):
                return self.fail(no, "hunk or '+++' line without the '--- OLD' line before it: the diff is cut or "
                                     "edited by hand: make it again with diff -ruN or git diff")
            if not in_header and ln.startswith("--- "):
                return self.fail(no, "'--- OLD' line without '+++ NEW' after it: the diff is cut or edited by "
                                     "hand: make it again with diff -ruN or git diff")
            if in_header:
                m = FIELD.match(ln)
                if m:
                    header_fields.setdefault(m.group(1).lower(), (no, m.group(2)))
            self.i += 1
        if not files:
            return self.fail(1, "holds no unified diff ('--- a/...', '+++ b/...', '@@'): make it with diff -ruN "
                                "or git diff, or leave it empty in a region to remove a base patch")
        if "upstream" in header_fields:
            header = Header(upstream=header_fields["upstream"][1])
        if "versions" in header_fields:
            line, value = header_fields["versions"]
            pins: dict[str, tuple[str, ...]] = {}
            for item in (v.strip() for v in value.split(",")):
                m = PIN.match(item)
                if m is None:
                    return self.fail(line, f"Versions: '{item}' is not DIST==VERSION: write e.g. "
                                           "'Versions: nova==34.0.0, nova==34.0.1'")
                key = dist_key(m.group(1))
                pins[key] = pins.get(key, ()) + (m.group(2),)
            header = Header(header.upstream, pins, line)
        return Patch(self.shown, "\n".join(self.lines), header, tuple(files)), []

    def path(self, raw: str, line: int) -> str | None:
        path = _strip_path(raw)
        if path == DEV_NULL:
            return DEV_NULL
        if path.startswith("/"):
            self.problems.append(error(self.shown, line, f"path {path} is absolute: paths are relative to "
                                                         "site-packages with one leading directory (a/nova/...)"))
            return None
        parts = path.split("/")
        if len(parts) < 2 or not parts[1]:
            self.problems.append(error(self.shown, line, f"path {path} has no leading directory for -p1 to strip: "
                                                         "write a/<package>/... (as git diff does)"))
            return None
        rel = parts[1:]
        if any(p in ("..", ".", "") for p in rel) or any(c.isspace() for c in path):
            self.problems.append(error(self.shown, line, f"path {path} leaves the package directory or holds "
                                                         "blanks: touch only files of the service's packages"))
            return None
        return "/".join(rel)

    def file_patch(self) -> FilePatch | None:
        start = self.i + 1
        old = self.path(self.lines[self.i][4:], start)
        new = self.path(self.lines[self.i + 1][4:], start + 1) if old is not None else None
        if old is None or new is None:
            return None
        if old == DEV_NULL and new == DEV_NULL:
            self.problems.append(error(self.shown, start, "both paths are /dev/null: the diff is broken"))
            return None
        self.i += 2
        hunks: list[Hunk] = []
        while self.i < len(self.lines) and HUNK.match(self.lines[self.i]):
            hunk = self.hunk(len(hunks) + 1, new if new != DEV_NULL else old)
            if hunk is None:
                return None
            hunks.append(hunk)
        if not hunks:
            self.problems.append(error(self.shown, start, f"the part for {new if new != DEV_NULL else old} has no "
                                                          "hunk ('@@ -N,M +N,M @@'): the diff is cut"))
            return None
        return FilePatch(start, None if old == DEV_NULL else old, None if new == DEV_NULL else new, tuple(hunks))

    def hunk(self, number: int, path: str) -> Hunk | None:
        no = self.i + 1
        m = HUNK.match(self.lines[self.i])
        assert m is not None
        old_start, new_start = int(m.group(1)), int(m.group(3))
        old_len = int(m.group(2)) if m.group(2) is not None else 1
        new_len = int(m.group(4)) if m.group(4) is not None else 1
        want_old, want_new = old_len, new_len
        body: list[str] = []
        self.i += 1
        while want_old > 0 or want_new > 0:
            if self.i >= len(self.lines) or (self.i == len(self.lines) - 1 and self.lines[self.i] == ""):
                self.bad(no, number, path, want_old, want_new, "the file ends")
                return None
            ln = self.lines[self.i]
            kind = ln[:1] if ln else " "  # an empty context line: some tools drop its blank
            if kind == "\\":
                self.i += 1
                continue
            if kind == " " and want_old > 0 and want_new > 0:
                want_old -= 1
                want_new -= 1
            elif kind == "-" and want_old > 0:
                want_old -= 1
            elif kind == "+" and want_new > 0:
                want_new -= 1
            else:
                self.bad(no, number, path, want_old, want_new, f"line {self.i + 1} is {ln[:40]!r}")
                return None
            body.append(ln if ln else " ")
            self.i += 1
        while self.i < len(self.lines) and self.lines[self.i].startswith("\\"):
            self.i += 1
        return Hunk(no, number, old_start, old_len, new_start, new_len, tuple(body))

    def bad(self, line: int, number: int, path: str, want_old: int, want_new: int, found: str) -> None:
        self.problems.append(error(self.shown, line,
                                   f"malformed hunk #{number} of {path}: its header promises {want_old} more old and "
                                   f"{want_new} more new line(s), but {found}: make the diff again (diff -ruN or "
                                   "git diff) instead of editing it by hand"))
