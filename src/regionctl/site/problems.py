"""Problems found in a site, printed compiler-style so editors jump to them.

A problem is data, never an exception: checks return lists of them and only the CLI prints.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


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
    return Problem(file, line, Severity.ERROR, message)


def warning(file: str, line: int, message: str) -> Problem:
    return Problem(file, line, Severity.WARNING, message)


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Sorted by file and line, duplicates dropped (two checks may find the same thing)."""
    return sorted(set(problems), key=lambda p: (p.file, p.line, p.severity.value, p.message))


def has_errors(problems: list[Problem]) -> bool:
    return any(p.is_error for p in problems)
