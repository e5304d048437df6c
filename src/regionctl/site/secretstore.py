"""A secrets file to change: read plain or encrypted, changed in memory, written back the same way.

Used by the ``secrets`` commands. Writing is whole-or-nothing (temp file + rename); an encrypted
file keeps its data key and the ciphertext of every value that did not change.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from regionctl.errors import UserError
from regionctl.fileio import write_atomic
from regionctl.site import age, sops
from regionctl.site.sopsfile import Opened, detect_indent, encrypt_document, open_document, parse_text, yaml_rt
from regionctl.site.yamlio import read_yaml


@dataclass
class SecretsFile:
    rel: str
    path: Path
    shown: str
    data: CommentedMap  # in the clear
    opened: Opened | None  # None: a plain file
    indent: int
    mode: int
    exists: bool = True

    @classmethod
    def read(cls, root: Path, rel: str, shown: str, identities: age.Identities) -> "SecretsFile":
        path = root / rel
        if not path.exists():
            return cls(rel, path, shown, CommentedMap(), None, 2, 0o600, exists=False)
        doc, problems = read_yaml(path, shown)
        if doc is None:
            raise UserError(str(problems[0]))
        text = path.read_text(encoding="utf-8")
        data = parse_text(text)
        if data is None:
            data = CommentedMap()
        if not isinstance(data, CommentedMap):
            raise UserError(f"{shown}:1: error: expected a map of secrets (passwords: ...)")
        opened = None
        if sops.is_sops_document(data):
            try:
                opened = open_document(data, shown, identities)
            except sops.SopsError as exc:
                raise UserError(f"{shown}: error: {exc}") from None
        elif sops.first_enc(data) is not None:
            raise UserError(f"{shown}: error: looks SOPS-encrypted (ENC[...] values) but has no 'sops:' block: "
                            "restore the file from git")
        return cls(rel, path, shown, data, opened, detect_indent(text), path.stat().st_mode & 0o777)

    @property
    def encrypted(self) -> bool:
        return self.opened is not None

    def get(self, path: tuple[str, ...]) -> Any:
        node: Any = self.data
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    def set(self, path: tuple[str, ...], value: Any) -> None:
        node = self.data
        for key in path[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = CommentedMap()
                node[key] = child
            node = child
        node[path[-1]] = value

    def text(self) -> str:
        if self.opened is None:
            buf = io.StringIO()
            yaml_rt(self.indent).dump(self.data, buf)
            return buf.getvalue()
        return encrypt_document(self.data, self.opened.meta, self.opened.key, self.indent, previous=self.opened)

    def write(self, text: str | None = None) -> None:
        write_atomic(self.path, self.text() if text is None else text, self.mode)


def write_all(files: list[tuple[SecretsFile, str]]) -> None:
    """Every file's new text is computed before any is written: a failure leaves all as they were."""
    for f, text in files:
        f.write(text)
