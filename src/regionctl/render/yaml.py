"""Block YAML that Helm (YAML 1.1) and Ansible read back exactly as written: the one YAML writer.

Keys in the order given, strings always double-quoted (``yes``, ``on``, ``0755`` or ``1e3`` stay
strings in YAML 1.1), so the same site gives the same bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*$")
_YAML11_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def yaml_key(key: Any) -> str:
    text = str(key)
    if _PLAIN_KEY.match(text) and text.lower() not in _YAML11_WORDS:
        return text
    return json.dumps(text)


def yaml_scalar(value: Any) -> str:
    """Strings always double-quoted: ``yes``, ``on``, ``0755`` or ``1e3`` stay strings in YAML 1.1."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, (list, tuple)):
        return "[]"
    return json.dumps(str(value))


def _lines(node: Any, pad: str) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (dict, list, tuple)) and value:
                out.append(f"{pad}{yaml_key(key)}:")
                out += _lines(value, pad + "  ")
            else:
                out.append(f"{pad}{yaml_key(key)}: {yaml_scalar(value)}")
    else:
        for item in node:
            if isinstance(item, (dict, list, tuple)) and item:
                sub = _lines(item, pad + "  ")
                out.append(f"{pad}- {sub[0][len(pad) + 2:]}")
                out += sub[1:]
            else:
                out.append(f"{pad}- {yaml_scalar(item)}")
    return out


def sorted_keys(data: Any) -> Any:
    """Maps with their keys sorted, at every depth (lists keep their order): same site, same bytes."""
    if isinstance(data, dict):
        return {k: sorted_keys(data[k]) for k in sorted(data, key=str)}
    if isinstance(data, list):
        return [sorted_keys(v) for v in data]
    return data


def to_yaml(data: dict[str, Any] | list[Any]) -> str:
    """Block YAML, keys in the order given; an empty document is ``{}``."""
    if not data:
        return yaml_scalar(data) + "\n"
    return "\n".join(_lines(data, "")) + "\n"


