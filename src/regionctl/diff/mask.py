"""Secrets in a diff: deciding what is one, and showing it so that nothing of it is printed.

Three ways to know a secret (any is enough): the renderer said so (it came from a secrets file,
or its key looks secret), the key or value looks secret by regionctl's rule (site/secrets), or the
text contains a value the site holds as a secret (which also catches a password copied into an
option nobody would guess). The last check also guards every masked text before it is shown.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

from regionctl.site.secrets import MASK, looks_secret_key, mask_text, secret_path

_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/\s]*:[^/@\s]+@")
_ASSIGN = re.compile(r"^\s*['\"]?([A-Za-z_][\w.\-]*)['\"]?\s*[:=]\s*(.+)$")
#: a shorter secret is masked where it is a whole value, not searched for inside other text
MIN_SEARCHED = 4


class Secrets:
    """The secret values of both sides, for spotting them anywhere."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self.exact: set[str] = set()
        self.searched: list[str] = []
        for v in values:
            self.add(v)

    def add(self, value: Any) -> None:
        for text in _texts(value):
            if not text or text in self.exact:
                continue
            self.exact.add(text)
            if len(text) >= MIN_SEARCHED:
                self.searched.append(text)

    def found_in(self, value: Any) -> bool:
        for text in _texts(value):
            if text in self.exact or any(s in text for s in self.searched):
                return True
        return False


def _texts(value: Any) -> list[str]:
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    return [str(value)]


def looks_secret(path: tuple[str, ...], value: Any) -> bool:
    """regionctl's rule (site/secrets.secret_path) over a value as read back from text."""
    if isinstance(value, tuple):
        return any(looks_secret(path, v) for v in value)
    if isinstance(value, dict):
        return any(looks_secret(path + (str(k),), v) for k, v in value.items())
    if isinstance(value, list):
        return any(looks_secret(path, v) for v in value)
    return secret_path(path, value) or (isinstance(value, str) and _USERINFO.search(value) is not None)


_PUBLIC = re.compile(r"^(true|false|yes|no|on|off|none|-?[0-9]+(\.[0-9]+)?)$", re.IGNORECASE)


def plainly_public(value: Any) -> bool:
    """A flag or a number: shown even from a file that holds secrets (``debug = true``)."""
    values = value if isinstance(value, (tuple, list)) else (value,)
    return all(isinstance(v, (bool, int, float)) or (isinstance(v, str) and _PUBLIC.match(v.strip()) is not None)
               for v in values)


def line_secret(line: str, secrets: Secrets) -> bool:
    m = _ASSIGN.match(line)
    if m and looks_secret_key(m.group(1)):
        return True
    return _USERINFO.search(line) is not None or secrets.found_in(line)


def masked(value: Any, secrets: Secrets) -> str | None:
    """A secret as it may be shown: a URL keeps its shape, unless anything of a secret would remain."""
    if value is None:
        return None
    if isinstance(value, tuple) and len(value) == 1:
        value = value[0]
    if isinstance(value, str):
        text = mask_text(value)
        if text != MASK and not secrets.found_in(text) and _USERINFO.search(text.replace(MASK, "", 1)) is None:
            return text
    return MASK


def shown(value: Any) -> Any:
    """A value as printed: one INI occurrence as its text, several as a list."""
    if isinstance(value, tuple):
        return value[0] if len(value) == 1 else list(value)
    return value


def text(value: Any) -> str:
    v = shown(value)
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    return str(v)
