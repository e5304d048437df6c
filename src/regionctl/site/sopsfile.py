"""SOPS files as regionctl opens and writes them: a YAML document, its key, its recipients.

Opening decrypts a parsed document in place, so every decrypted leaf keeps the line of its
encrypted one (``FILE:LINE`` provenance, ``explain`` and errors keep working). Writing re-uses the
ciphertext of every leaf whose value did not change, so changing one password changes one line
(plus the ``sops:`` block's ``lastmodified`` and ``mac``, as with sops itself).
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import LiteralScalarString

from regionctl.site import age, sops
from regionctl.site.sops import Metadata, SopsError


class NoIdentity(SopsError):
    """None of the identities this process has opens the file: the operator lacks that region's key."""

    def __init__(self, message: str, recipients: list[str]) -> None:
        super().__init__(message, (sops.METADATA_KEY, "age"))
        self.recipients = recipients


@dataclass
class Opened:
    """A decrypted document and what re-encrypting it needs."""

    data: Any  # ruamel round-trip tree, values in the clear, the sops block removed
    meta: Metadata
    key: bytes
    cipher: dict[tuple[str, str, bytes], str] = field(default_factory=dict)  # (ad, type, plaintext) -> ENC
    secret_values: list[str] = field(default_factory=list)
    comments: dict[tuple[str, str], str] = field(default_factory=dict)  # (ad, comment) -> ENC

    def reuse(self, path: sops.Path, value: Any) -> str | None:
        try:
            return self.cipher.get((sops.additional_data(path), sops.type_name(value), sops.to_bytes(value)))
        except SopsError:
            return None


def no_identity_message(shown: str, recipients: list[str], identities: age.Identities) -> str:
    who = ", ".join(recipients) or "nobody (no age recipients)"
    where = "; ".join(identities.problems) + "; " if identities.problems else ""
    return (f"no age identity can open {shown}: its recipients are {who}; {where}"
            f"set SOPS_AGE_KEY_FILE to a file with one of their keys (looked in {', '.join(identities.looked)})")


def open_document(data: Any, shown: str, identities: age.Identities) -> Opened:
    """Decrypt ``data`` (a parsed SOPS document) in place and verify its MAC.

    Raises :class:`NoIdentity` when no identity opens it, :class:`SopsError` for anything broken.
    """
    block = data.get(sops.METADATA_KEY)
    meta = sops.read_metadata(_plain_block(block))
    if not meta.age:
        others = f" ({', '.join(meta.other)} only)" if meta.other else ""
        raise SopsError(f"has no age recipients{others}: regionctl opens age-encrypted files; "
                        "re-encrypt it for age recipients", (sops.METADATA_KEY,))
    key = age.unwrap([(a.recipient, a.enc) for a in meta.age], identities)
    if key is None:
        raise NoIdentity(no_identity_message(shown, meta.recipients, identities), meta.recipients)
    opened = Opened(data, meta, key)

    def keep(path: sops.Path, enc: str, value: Any) -> None:
        opened.cipher[(sops.additional_data(path), sops.type_name(value), sops.to_bytes(value))] = enc
        opened.secret_values.append(str(value))

    mac = sops.decrypt_tree(data, key, meta, on_leaf=keep)
    sops.check_mac(meta, key, mac)
    del data[sops.METADATA_KEY]
    return opened


def _plain_block(block: Any) -> Any:
    if isinstance(block, dict):
        out = {k: _plain_block(v) for k, v in block.items()}
        lm = out.get("lastmodified")
        if isinstance(lm, datetime):  # an unquoted timestamp: sops formats it as RFC 3339
            out["lastmodified"] = lm.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if lm.tzinfo \
                else lm.strftime("%Y-%m-%dT%H:%M:%SZ")
        return out
    if isinstance(block, list):
        return [_plain_block(v) for v in block]
    return str(block) if isinstance(block, str) else block


# ---- writing --------------------------------------------------------------------------------------


def yaml_rt(indent: int = 2) -> YAML:
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    y.width = 4096
    y.preserve_quotes = True
    y.indent(mapping=indent, sequence=indent + 2, offset=indent)
    y.Representer = _Representer
    return y


class _Representer(RoundTripRepresenter):
    """Nulls written ``null``, as sops writes them (a subclass: ruamel's registry is per class)."""


def _null(representer: Any, _data: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


_Representer.add_representer(type(None), _null)


def detect_indent(text: str) -> int:
    """The mapping indent a file uses (sops writes 4, regionctl and most people 2)."""
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if stripped and not stripped.startswith(("#", "-")) and len(stripped) < len(line):
            return len(line) - len(stripped)
    return 2


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_metadata(recipients: list[str], data_key: bytes, options: dict[str, Any] | None = None) -> Metadata:
    opts = options or {}
    return Metadata(
        age=[sops.AgeStanza(r, age.wrap(data_key, r)) for r in recipients],
        lastmodified="", mac="",
        unencrypted_suffix=str(opts.get("unencrypted_suffix") or "") or (
            "" if any(opts.get(k) for k in ("encrypted_suffix", "unencrypted_regex", "encrypted_regex"))
            else sops.UNENCRYPTED_SUFFIX),
        encrypted_suffix=str(opts.get("encrypted_suffix") or ""),
        unencrypted_regex=str(opts.get("unencrypted_regex") or ""),
        encrypted_regex=str(opts.get("encrypted_regex") or ""),
        mac_only_encrypted=bool(opts.get("mac_only_encrypted") or False),
    )


def encrypt_document(data: Any, meta: Metadata, key: bytes, indent: int = 2, previous: Opened | None = None) -> str:
    """``data`` (plain, a ruamel map) encrypted in place, with the ``sops:`` block, as text."""
    if not isinstance(data, CommentedMap):
        raise SopsError("expected a map of values at the top of the file")
    if sops.METADATA_KEY in data:
        raise SopsError("has a top-level 'sops' key: that name is sops's own; rename it", (sops.METADATA_KEY,))
    _block_style(data)
    mac = sops.encrypt_tree(data, key, meta, reuse=previous.reuse if previous else None)
    meta.lastmodified = now()
    meta.mac = sops.seal_mac(mac, key, meta.lastmodified)
    data[sops.METADATA_KEY] = _block(meta)
    buf = io.StringIO()
    yaml_rt(indent).dump(data, buf)
    return encrypt_comments(buf.getvalue(), key, previous.comments if previous else {})


def _block_style(node: Any) -> None:
    """One leaf per line: flow maps and lists become block ones, so a changed value is a changed line."""
    if isinstance(node, (CommentedMap, CommentedSeq)):
        node.fa.set_block_style()
        for child in (node.values() if isinstance(node, CommentedMap) else node):
            _block_style(child)


# ---- comments -------------------------------------------------------------------------------------
# sops encrypts comments too (type:comment), with the path of the map (or list) holding them as
# additional data, and leaves them out of the MAC. A full-line comment belongs with the next key
# (or list item) below it, an end-of-line comment with the key on its line.

_COMMENT_LINE = re.compile(r"^(?P<lead>\s*)#(?P<text>.*)$")
_EOL_COMMENT = re.compile(r"^(?P<head>\s*(?:- )*(?:[^#\s-][^:]*:\s+)?(?:ENC\[[^\]]*\]|''|\"\"|null|~)?\s*)#(?P<text>.*)$")


def _line_paths(text: str) -> dict[int, sops.Path]:
    """1-based line -> the path of the map or list whose key or item starts on it (the document only)."""
    out: dict[int, sops.Path] = {}
    try:
        data = parse_text(text)
    except Exception:  # noqa: BLE001 - a document we just wrote; comments stay as they are if not
        return out

    def walk(node: Any, path: sops.Path) -> None:
        if isinstance(node, CommentedMap):
            for k, v in node.items():
                if not path and k == sops.METADATA_KEY:
                    continue
                out.setdefault(node.lc.key(k)[0] + 1, path)
                walk(v, path + (str(k),))
        elif isinstance(node, CommentedSeq):
            for i, v in enumerate(node):
                out.setdefault(node.lc.item(i)[0] + 1, path)
                walk(v, path)

    walk(data, ())
    return out


def _map_comments(text: str, change: Any) -> str:
    lines = text.split("\n")
    paths = _line_paths(text)
    starts = sorted(paths)
    end = next((i for i, line in enumerate(lines) if line.startswith(sops.METADATA_KEY + ":")), len(lines))
    for i in range(end):
        line = lines[i]
        m = _COMMENT_LINE.match(line)
        if m:
            below = next((n for n in starts if n > i + 1), None)
            path = paths[below] if below is not None else ()
            lines[i] = f"{m.group('lead')}#{change(m.group('text'), path)}"
            continue
        e = _EOL_COMMENT.match(line)
        if e and (i + 1) in paths:
            lines[i] = f"{e.group('head')}#{change(e.group('text'), paths[i + 1])}"
    return "\n".join(lines)


def encrypt_comments(text: str, key: bytes, stash: dict[tuple[str, str], str]) -> str:
    def enc(comment: str, path: sops.Path) -> str:
        if comment.startswith("ENC[AES256_GCM,") or comment == "":
            return comment
        ad = sops.additional_data(path)
        return stash.get((ad, comment)) or sops.encrypt_value(sops.Comment(comment), key, ad)
    return _map_comments(text, enc)


def decrypt_comments(text: str, key: bytes) -> tuple[str, dict[tuple[str, str], str]]:
    """Comments in the clear where they decrypt (others stay as they are), and their ciphertexts."""
    stash: dict[tuple[str, str], str] = {}

    def dec(comment: str, path: sops.Path) -> str:
        if not comment.startswith("ENC[AES256_GCM,"):
            return comment
        ad = sops.additional_data(path)
        try:
            plain = str(sops.decrypt_value(comment, key, ad))
        except SopsError:
            return comment
        stash[(ad, plain)] = comment
        return plain
    return _map_comments(text, dec), stash


def _block(meta: Metadata) -> CommentedMap:
    m = sops.metadata_map(meta)
    out = CommentedMap()
    for k, v in m.items():
        if k == "age":
            seq = CommentedSeq()
            for a in v:
                item = CommentedMap()
                item["recipient"] = a["recipient"]
                item["enc"] = LiteralScalarString(a["enc"])
                seq.append(item)
            out[k] = seq
        else:
            out[k] = v
    return out


def parse_text(text: str) -> Any:
    return yaml_rt().load(text)


def encrypt_text(text: str, recipients: list[str], options: dict[str, Any] | None = None) -> str:
    """A plain YAML document encrypted for ``recipients`` under a new data key."""
    data = parse_text(text)
    if data is None:
        data = CommentedMap()
    key = os.urandom(32)
    meta = new_metadata(recipients, key, options)
    return encrypt_document(data, meta, key, detect_indent(text))


def decrypt_text(text: str, shown: str, identities: age.Identities) -> tuple[str, Opened]:
    """An encrypted document's plain YAML (no ``sops:`` block), and what re-encrypting needs."""
    data = parse_text(text)
    if not sops.is_sops_document(data):
        raise SopsError("is not SOPS-encrypted (no 'sops:' block)")
    opened = open_document(data, shown, identities)
    buf = io.StringIO()
    yaml_rt(detect_indent(text)).dump(opened.data, buf)
    plain, opened.comments = decrypt_comments(buf.getvalue(), opened.key)
    return plain, opened


def reencrypt_text(plain: str, opened: Opened, indent: int = 2, recipients: list[str] | None = None) -> str:
    """``plain`` (an edited decryption) encrypted again with the same data key.

    Unchanged leaves keep their ciphertext. ``recipients`` (updatekeys) re-wraps the data key.
    """
    data = parse_text(plain)
    if data is None:
        data = CommentedMap()
    meta = opened.meta
    if recipients is not None:
        old = {a.recipient: a for a in meta.age}
        meta.age = [old[r] if r in old else sops.AgeStanza(r, age.wrap(opened.key, r)) for r in recipients]
    return encrypt_document(data, meta, opened.key, indent, previous=opened)


def rewrap_text(text: str, opened: Opened, recipients: list[str]) -> str:
    """The encrypted file as it was, its data key wrapped for ``recipients`` (values and MAC untouched).

    A recipient that stays keeps its stanza; a new one gets the data key wrapped for it.
    """
    data = parse_text(text)
    old = {a.recipient: a.enc for a in opened.meta.age}
    seq = CommentedSeq()
    for r in recipients:
        item = CommentedMap()
        item["recipient"] = r
        item["enc"] = LiteralScalarString(old.get(r) or age.wrap(opened.key, r))
        seq.append(item)
    data[sops.METADATA_KEY]["age"] = seq
    buf = io.StringIO()
    yaml_rt(detect_indent(text)).dump(data, buf)
    return buf.getvalue()
