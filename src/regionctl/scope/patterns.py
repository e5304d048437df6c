"""The scope grammar as regular expressions, for routers that match it natively (no Lua).

HAProxy (PCRE2) checks a scope in two steps, with these patterns written to its pattern and
map files:

1. syntax: :data:`JSON_FORM` or :data:`COMPACT_FORM` must match the whole header;
2. names: the scope is rewritten to a canonical ``,type=name,type=name,`` (whitespace, braces
   and quotes dropped, ``:`` made ``=``: safe only after step 1), and :func:`error_rules`
   (tried in order, first match wins) give the reason for a duplicate type, an unknown type or
   an unknown name, with the offending word (only name characters, so safe to echo).

These are the same languages as :mod:`regionctl.scope.grammar` (tests compare them on random
input); Python's ``re`` and PCRE agree on every construct used here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: A name as the grammar takes it, at most 255 characters.
N = "[A-Za-z0-9][A-Za-z0-9._-]{0,254}"
_W = "[ \\t]*"  # header whitespace (HTTP OWS: space and tab)
_PAIR_JSON = f'"{N}"{_W}:{_W}"{N}"{_W}'
_PAIR_COMPACT = f"{N}{_W}={_W}{N}{_W}"
JSON_FORM = f"^{_W}\\{{{_W}(?:{_PAIR_JSON}(?:,{_W}{_PAIR_JSON})*)?\\}}{_W}$"
COMPACT_FORM = f"^{_W}(?:{_PAIR_COMPACT}(?:,{_W}{_PAIR_COMPACT})*)?$"


def _alternatives(words: Iterable[str]) -> str:
    escaped = sorted((re.escape(w) for w in set(words)), key=lambda w: (-len(w), w))
    return "|".join(escaped) if escaped else "(?!)"


def error_rules(types: Iterable[str], names: Iterable[str]) -> list[tuple[str, str]]:
    """(regex on the canonical form, reason with ``\\1`` for the offender), in the order tried."""
    return [
        (",([^=,]+)=.*,\\1=", "service type '\\1' is given twice"),
        (f",((?!(?:{_alternatives(types)})=)[^=,]+)=", "unknown service type '\\1'"),
        (f"=((?!(?:{_alternatives(names)}),)[^=,]+),", "unknown region or cloud '\\1'"),
    ]


def canonical(scope_text: str) -> str:
    """What the router makes of a well-formed scope before checking names (see module doc)."""
    return "," + re.sub(r'[\s{}"]', "", scope_text).replace(":", "=") + ","


def first_error(scope_text: str, types: Iterable[str], names: Iterable[str]) -> str | None:
    """The router's verdict in Python: None when it accepts ``scope_text``, else its reason."""
    if not (re.search(JSON_FORM, scope_text) or re.search(COMPACT_FORM, scope_text)):
        return "malformed scope"
    canon = canonical(scope_text)
    for pattern, reason in error_rules(types, names):
        m = re.search(pattern, canon)
        if m:
            return m.expand(reason)
    return None
