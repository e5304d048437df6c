"""Reading a SOPS file fast: its long ciphertexts stand aside while the YAML parser runs.

ruamel's round-trip parser is pure Python and pays per character; an encrypted file is mostly
base64 (every leaf an ``ENC[...]`` of 100+ characters, the age stanzas armored). Each ciphertext
is swapped for a short token on the same line before parsing and put back into the parsed
strings after, so lines (FILE:LINE) and structure are exactly those of the file. Plain files
pass through untouched.
"""

from __future__ import annotations

import re
from typing import Any, Callable

MARK = "\u2060"  # WORD JOINER: never in a ciphertext, valid inside a YAML plain scalar
_ENC = re.compile(r"ENC\[AES256_GCM,[^\]\s]*\]")
_ARMOR = re.compile(r"-----BEGIN AGE ENCRYPTED FILE-----\n(?:[ \t]*[A-Za-z0-9+/=]+\n)*?[ \t]*-----END AGE ENCRYPTED FILE-----")
_TOKEN = re.compile(MARK + r"(\d+)" + MARK)


def shrink(text: str) -> tuple[str, Callable[[Any], None]]:
    """``text`` with ciphertexts replaced by tokens, and the function that puts them back in place."""
    if "ENC[AES256_GCM," not in text or MARK in text:
        return text, _nothing
    table: list[str] = []

    def token(value: str) -> str:
        table.append(value)
        return f"{MARK}{len(table) - 1}{MARK}"

    def armor(m: re.Match[str]) -> str:
        lines = m.group(0).split("\n")
        return "\n".join(line[: len(line) - len(line.lstrip())] + token(line.lstrip()) for line in lines)

    short = _ARMOR.sub(armor, _ENC.sub(lambda m: token(m.group(0)), text))

    def restore(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, str) and MARK in v:
                    node[k] = _put_back(v, table)
                else:
                    restore(v)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                if isinstance(v, str) and MARK in v:
                    node[i] = _put_back(v, table)
                else:
                    restore(v)

    return short, restore


def _put_back(value: str, table: list[str]) -> Any:
    text = _TOKEN.sub(lambda m: table[int(m.group(1))], value)
    if type(value) is not str:  # a ruamel scalar string (literal block, quoted): keep its style
        return type(value)(text)
    return text


def _nothing(_data: Any) -> None:
    return None
