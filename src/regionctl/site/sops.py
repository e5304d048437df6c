"""The SOPS file format, read and written in-process (pure apart from random IVs).

sops encrypts each leaf value of a YAML document with AES-256-GCM under one random 32-byte
data key, and keeps keys, structure and order readable::

    password: ENC[AES256_GCM,data:<b64>,iv:<b64 32 bytes>,tag:<b64 16 bytes>,type:str]

* The additional data of a leaf is its path of map keys joined with ``:`` plus a trailing ``:``
  (``passwords:databases:nova:``); list items share their list's path.
* ``type`` is str, int, float, bool (plaintext ``True``/``False``), bytes or comment; empty
  strings and nulls are not encrypted.
* The MAC is SHA-512 over every leaf's plaintext bytes in document order (only the encrypted
  ones, after a fixed prefix, with ``mac_only_encrypted``), as upper-case hex, itself encrypted
  with the ``lastmodified`` timestamp as additional data.
* The ``sops:`` block holds the data key wrapped for each age recipient (an armored age file),
  ``lastmodified``, ``mac``, the (un)encrypted suffix/regex options and ``version``.

Learned from the getsops/sops sources (aes/cipher.go, sops.go, stores/); written for regionctl.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: The sops release whose format this module writes (the ``version`` field).
FORMAT_VERSION = "3.11.0"
METADATA_KEY = "sops"
UNENCRYPTED_SUFFIX = "_unencrypted"
NONCE_SIZE = 32
#: sops hashes these bytes first when ``mac_only_encrypted`` is set (sops.go).
MAC_ONLY_ENCRYPTED_INIT = bytes([
    0x8A, 0x3F, 0xD2, 0xAD, 0x54, 0xCE, 0x66, 0x52, 0x7B, 0x10, 0x34, 0xF3, 0xD1, 0x47, 0xBE, 0x0B,
    0x0B, 0x97, 0x5B, 0x3B, 0xF4, 0x4F, 0x72, 0xC6, 0xFD, 0xAD, 0xEC, 0x81, 0x76, 0xF2, 0x7D, 0x69,
])

_ENC = re.compile(r"ENC\[AES256_GCM,data:([A-Za-z0-9+/=]*),iv:([A-Za-z0-9+/=]+),tag:([A-Za-z0-9+/=]+),type:([a-z]+)\]")
_TYPES = ("str", "int", "float", "bool", "bytes", "comment")
_UNSUPPORTED = ("key_groups", "shamir_threshold", "unencrypted_comment_regex", "encrypted_comment_regex")
_OTHER_KEYS = ("pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms")

Path = tuple[str, ...]


class SopsError(Exception):
    """A file that is not valid SOPS, or does not open: ``path`` locates it in the document."""

    def __init__(self, message: str, path: Path = ()) -> None:
        super().__init__(message)
        self.path = path


@dataclass
class AgeStanza:
    recipient: str
    enc: str  # the data key, age-encrypted to ``recipient``, armored


@dataclass
class Metadata:
    """The ``sops:`` block, the parts regionctl reads and writes."""

    age: list[AgeStanza]
    lastmodified: str
    mac: str
    version: str = FORMAT_VERSION
    unencrypted_suffix: str = ""
    encrypted_suffix: str = ""
    unencrypted_regex: str = ""
    encrypted_regex: str = ""
    mac_only_encrypted: bool = False
    other: list[str] = field(default_factory=list)  # key types present that regionctl does not read

    @property
    def recipients(self) -> list[str]:
        return [a.recipient for a in self.age]

    def should_encrypt(self, path: Path) -> bool:
        """sops.go shouldBeEncrypted, without the comment regexes (refused when reading)."""
        encrypted = True
        if self.unencrypted_suffix and any(p.endswith(self.unencrypted_suffix) for p in path):
            encrypted = False
        if self.encrypted_suffix:
            encrypted = any(p.endswith(self.encrypted_suffix) for p in path)
        if self.unencrypted_regex and any(re.search(self.unencrypted_regex, p) for p in path):
            encrypted = False
        if self.encrypted_regex:
            encrypted = any(re.search(self.encrypted_regex, p) for p in path)
        return encrypted


def is_sops_document(data: Any) -> bool:
    """A top-level map with a ``sops:`` map in it: sops wrote it (or means to)."""
    return isinstance(data, dict) and isinstance(data.get(METADATA_KEY), dict)


def first_enc(data: Any, path: Path = ()) -> Path | None:
    """The path of the first ``ENC[...]``-looking leaf, for "looks encrypted but has no sops block"."""
    for p, value in _scalars(data, path):
        if isinstance(value, str) and value.startswith("ENC["):
            return p
    return None


def _scalars(node: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            if not path and k == METADATA_KEY:
                continue
            yield from _scalars(v, path + (str(k),))
    elif isinstance(node, list):
        for v in node:
            yield from _scalars(v, path)
    else:
        yield path, node


# ---- the sops: block -----------------------------------------------------------------------------


def read_metadata(block: Any) -> Metadata:
    if not isinstance(block, dict):
        raise SopsError("the 'sops' block is not a map: the file is not valid SOPS", (METADATA_KEY,))
    for key in _UNSUPPORTED:
        if block.get(key):
            raise SopsError(f"sops.{key} is not supported by regionctl: re-encrypt with age recipients only "
                            "(one key group)", (METADATA_KEY, key))
    for key in ("lastmodified", "mac"):
        if not isinstance(block.get(key), str) or not block.get(key):
            raise SopsError(f"sops.{key} is missing: the file is not valid SOPS (re-encrypt it)", (METADATA_KEY,))
    stanzas = block.get("age") or []
    if not isinstance(stanzas, list):
        raise SopsError("sops.age is not a list of recipients", (METADATA_KEY, "age"))
    age = []
    for s in stanzas:
        if not isinstance(s, dict) or not isinstance(s.get("recipient"), str) or not isinstance(s.get("enc"), str):
            raise SopsError("sops.age: every entry needs 'recipient' and 'enc'", (METADATA_KEY, "age"))
        age.append(AgeStanza(s["recipient"], s["enc"]))
    other = [k for k in _OTHER_KEYS if block.get(k)]
    return Metadata(
        age=age, lastmodified=str(block["lastmodified"]), mac=str(block["mac"]),
        version=str(block.get("version") or ""),
        unencrypted_suffix=str(block.get("unencrypted_suffix") or ""),
        encrypted_suffix=str(block.get("encrypted_suffix") or ""),
        unencrypted_regex=str(block.get("unencrypted_regex") or ""),
        encrypted_regex=str(block.get("encrypted_regex") or ""),
        mac_only_encrypted=bool(block.get("mac_only_encrypted") or False),
        other=other,
    )


def metadata_map(meta: Metadata) -> dict[str, Any]:
    """The ``sops:`` block as sops writes it (keys in sops's order); armored keys end in a newline."""
    out: dict[str, Any] = {
        "age": [{"recipient": a.recipient, "enc": a.enc} for a in meta.age],
        "lastmodified": meta.lastmodified,
        "mac": meta.mac,
    }
    if meta.mac_only_encrypted:
        out["mac_only_encrypted"] = True
    for key in ("unencrypted_suffix", "encrypted_suffix", "unencrypted_regex", "encrypted_regex"):
        if getattr(meta, key):
            out[key] = getattr(meta, key)
    out["version"] = meta.version or FORMAT_VERSION
    return out


# ---- one value ------------------------------------------------------------------------------------


def to_bytes(value: Any) -> bytes:
    """sops's ToBytes: the plaintext bytes a value is encrypted and MAC'd as."""
    if isinstance(value, bool):
        return b"True" if value else b"False"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return _go_float(value).encode()
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise SopsError(f"a {type(value).__name__} value cannot be encrypted: quote it to make it a string")


def _go_float(value: float) -> str:
    """Go's strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, never an exponent."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)).normalize(), "f")
    return text


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, bytes):
        return "bytes"
    return "str"


def encrypt_value(value: Any, key: bytes, ad: str, iv: bytes | None = None) -> str:
    """One value as ``ENC[AES256_GCM,...]``; the empty string stays empty (as in sops)."""
    if value == "" or value == b"":
        return ""
    nonce = iv if iv is not None else os.urandom(NONCE_SIZE)
    out = AESGCM(key).encrypt(nonce, to_bytes(value), ad.encode("utf-8"))
    b64 = base64.b64encode
    return (f"ENC[AES256_GCM,data:{b64(out[:-16]).decode()},iv:{b64(nonce).decode()},"
            f"tag:{b64(out[-16:]).decode()},type:{'comment' if isinstance(value, Comment) else type_name(value)}]")


class Comment(str):
    """A YAML comment's text, encrypted with type ``comment``."""


def parse_enc(text: str) -> tuple[bytes, bytes, bytes, str]:
    m = _ENC.fullmatch(text.strip())
    if m is None:
        if text.startswith("ENC[") and not text.startswith("ENC[AES256_GCM,"):
            cipher = text[4:].split(",", 1)[0]
            raise SopsError(f"unknown cipher '{cipher}': sops files use AES256_GCM")
        raise SopsError("is not a well-formed ENC[AES256_GCM,data:...,iv:...,tag:...,type:...] value "
                        "(edited by hand?): restore it from git, or set the value with 'regionctl secrets edit'")
    try:
        data, iv, tag = (base64.b64decode(g, validate=True) for g in m.groups()[:3])
    except ValueError:
        raise SopsError("holds invalid base64 inside ENC[...] (edited by hand?): restore it from git") from None
    kind = m.group(4)
    if kind not in _TYPES:
        raise SopsError(f"unknown value type '{kind}' inside ENC[...]")
    if len(tag) != 16 or len(iv) < 8:
        raise SopsError("holds an ENC[...] value with a bad iv or tag length (edited by hand?): restore it from git")
    return data, iv, tag, kind


def decrypt_value(text: str, key: bytes, ad: str) -> Any:
    if text == "":
        return ""
    data, iv, tag, kind = parse_enc(text)
    try:
        plain = AESGCM(key).decrypt(iv, data + tag, ad.encode("utf-8"))
    except InvalidTag:
        raise SopsError("does not decrypt (a value edited by hand inside ENC[...], moved to another key, "
                        "or encrypted with another data key): restore it from git") from None
    try:
        if kind == "bytes":
            return plain
        s = plain.decode("utf-8")
        if kind == "int":
            return int(s)
        if kind == "float":
            return float(s)
        if kind == "bool":
            if s.lower() not in ("true", "false", "1", "0", "t", "f"):
                raise ValueError(s)
            return s.lower() in ("true", "1", "t")
        if kind == "comment":
            return Comment(s)
        return s
    except (UnicodeDecodeError, ValueError):
        raise SopsError(f"decrypts to something that is not a {kind}") from None


def additional_data(path: Path) -> str:
    return ":".join(path) + ":"


# ---- the tree -------------------------------------------------------------------------------------

#: A leaf as found in the tree: its container, the key or index inside it, and its sops path.
Leaf = tuple[Any, Any, Path]


def leaves(data: Any) -> Iterator[Leaf]:
    """Every scalar leaf in document order, skipping the top-level ``sops`` block and nulls."""
    yield from _leaves(data, ())


def _leaves(node: Any, path: Path) -> Iterator[Leaf]:
    if isinstance(node, dict):
        for k in list(node.keys()):
            if not path and k == METADATA_KEY:
                continue
            child = node[k]
            sub = path + (str(k),)
            if isinstance(child, (dict, list)):
                yield from _leaves(child, sub)
            elif child is not None:
                yield node, k, sub
    elif isinstance(node, list):
        for i, child in enumerate(node):
            if isinstance(child, (dict, list)):
                yield from _leaves(child, path)
            elif child is not None:
                yield node, i, path


def _mac_hash(meta: Metadata) -> Any:
    h = hashlib.sha512()
    if meta.mac_only_encrypted:
        h.update(MAC_ONLY_ENCRYPTED_INIT)
    return h


def decrypt_tree(data: Any, key: bytes, meta: Metadata, on_leaf: Callable[[Path, str, Any], None] | None = None) -> str:
    """Decrypt every leaf in place; returns the MAC computed over the plaintext (hex).

    ``on_leaf(path, ciphertext, plaintext)`` sees each encrypted leaf (``edit`` keeps ciphertexts).
    """
    h = _mac_hash(meta)
    for container, k, path in leaves(data):
        value = container[k]
        encrypted = meta.should_encrypt(path)
        if encrypted:
            if not isinstance(value, str):
                raise SopsError(f"{'.'.join(path) or 'a value'}: expected an encrypted value, found a plain "
                                f"{type(value).__name__} (added by hand?): set it with 'regionctl secrets edit'", path)
            if value != "":
                if not value.startswith("ENC["):
                    raise SopsError(f"{'.'.join(path)}: is plain text in an encrypted file (added by hand?): "
                                    "set it with 'regionctl secrets edit'", path)
                try:
                    value = decrypt_value(value, key, additional_data(path))
                except SopsError as exc:
                    raise SopsError(f"{'.'.join(path)}: {exc}", path) from None
            if on_leaf is not None and container[k] != "":
                on_leaf(path, container[k], value)
            container[k] = str(value) if isinstance(value, Comment) else value
        if not meta.mac_only_encrypted or encrypted:
            h.update(to_bytes(value))
    return h.hexdigest().upper()


def encrypt_tree(data: Any, key: bytes, meta: Metadata, reuse: Callable[[Path, Any], str | None] | None = None) -> str:
    """Encrypt every leaf in place; returns the MAC over the plaintext (hex).

    ``reuse(path, value)`` may return the ciphertext a value had before (``edit`` keeps it, so an
    unchanged leaf is an unchanged line).
    """
    h = _mac_hash(meta)
    for container, k, path in leaves(data):
        value = container[k]
        encrypted = meta.should_encrypt(path)
        if not meta.mac_only_encrypted or encrypted:
            try:
                h.update(to_bytes(value))
            except SopsError as exc:
                raise SopsError(f"{'.'.join(path)}: {exc}", path) from None
        if encrypted:
            old = reuse(path, value) if reuse is not None else None
            container[k] = old if old is not None else encrypt_value(value, key, additional_data(path))
    return h.hexdigest().upper()


def seal_mac(mac: str, key: bytes, lastmodified: str) -> str:
    return encrypt_value(mac, key, lastmodified)


def check_mac(meta: Metadata, key: bytes, computed: str) -> None:
    try:
        stored = decrypt_value(meta.mac, key, meta.lastmodified)
    except SopsError:
        raise SopsError("sops.mac does not decrypt (lastmodified or mac edited by hand?): the file cannot be "
                        "trusted; restore it from git", (METADATA_KEY, "mac")) from None
    if stored != computed:
        raise SopsError("MAC mismatch: a value was changed, added or removed outside sops/regionctl: the file "
                        "cannot be trusted; restore it from git", (METADATA_KEY, "mac"))
