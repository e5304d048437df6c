"""The scope grammar as regular expressions, for routers that match it natively (no Lua).

HAProxy (PCRE2) accepts a scope when one of :func:`valid_forms` matches it whole: the grammar
with the site's service types and names spelled out, and no service type twice. Only a scope
that fails is looked at again, to say why:

1. syntax: :data:`JSON_FORM` or :data:`COMPACT_FORM` must match the whole header;
2. names: the scope is rewritten to a canonical ``,type=name,type=name,`` (whitespace, braces
   and quotes dropped, ``:`` made ``=``: safe only after step 1), and :func:`error_rules`
   (tried in order, first match wins) give the reason for a duplicate type, an unknown type or
   an unknown name, with the offending word (only name characters, so safe to echo).

A valid scope's name for one service type is read by :func:`extract` (one ``regsub``).

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


def valid_forms(types: Iterable[str], names: Iterable[str]) -> list[str]:
    """Whole-scope regexes (JSON, compact) accepting exactly the valid scopes of a site."""
    k, v = f"(?:{_alternatives(types)})", f"(?:{_alternatives(names)})"
    pair_json = f'"{k}"{_W}:{_W}"{v}"{_W}'
    pair_compact = f"{k}{_W}={_W}{v}{_W}"
    # named groups: HAProxy compiles ACL patterns without numbered captures (Python and PCRE agree on this syntax)
    no_twice_json = f'(?!.*"(?P<k>[^"]*)"{_W}:.*"(?P=k)"{_W}:)'
    no_twice_compact = f"(?!(?:.*,)?{_W}(?P<k>[^=, \\t]+){_W}=.*,{_W}(?P=k){_W}=)"
    return [
        f"^{no_twice_json}{_W}\\{{{_W}(?:{pair_json}(?:,{_W}{pair_json})*)?\\}}{_W}$",
        f"^{no_twice_compact}{_W}(?:{pair_compact}(?:,{_W}{pair_compact})*)?$",
    ]


def extract(service_type: str) -> str:
    """A regex whose group 1 is the name a valid scope gives ``service_type`` (empty: none)."""
    t = re.escape(service_type)
    return f'^(?:.*(?:^|[{{,]){_W}"?{t}"?{_W}[:=]{_W}"?([A-Za-z0-9._-]+))?.*$'


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
    types, names = list(types), list(names)
    valid = any(re.search(p, scope_text) for p in valid_forms(types, names))
    if valid:
        return None
    if not (re.search(JSON_FORM, scope_text) or re.search(COMPACT_FORM, scope_text)):
        return "malformed scope"
    canon = canonical(scope_text)
    for pattern, reason in error_rules(types, names):
        m = re.search(pattern, canon)
        if m:
            return m.expand(reason)
    return "invalid scope"  # the two checks disagree: tests make sure this never happens
