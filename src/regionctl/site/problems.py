"""Problems found in a site, printed compiler-style so editors jump to them.

A problem is data, never an exception: checks return lists of them and only the CLI prints.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from regionctl.site.secrets import mask_urls


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One finding: ``FILE:LINE: severity: message``.

    ``line`` is 1-based; 0 means "the file as a whole" (a missing file, an unreadable one).
    Ordering is by file, then line, then message, which is the order ``validate`` prints.
    """

    file: str
    line: int
    severity: Severity
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity.value}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def error(file: str, line: int, message: str) -> Problem:
    return Problem(one_line(file), line, Severity.ERROR, clean(message))


def warning(file: str, line: int, message: str) -> Problem:
    return Problem(one_line(file), line, Severity.WARNING, clean(message))


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def one_line(text: str) -> str:
    """Control characters (a NUL or newline in a region name) shown as escapes: a problem is one line."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def clean(message: str) -> str:
    """A message as it may be printed: one line, and no URL's password in it (whatever quoted it)."""
    return one_line(mask_urls(message))


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Sorted by file and line, duplicates dropped (two checks may find the same thing)."""
    return sorted(set(problems), key=lambda p: (p.file, p.line, p.severity.value, p.message))


def has_errors(problems: list[Problem]) -> bool:
    return any(p.is_error for p in problems)
