"""age identities, found where sops finds them, and the data key wrapped and unwrapped with them.

sops (age/keysource.go) reads every one of these that is set and tries them all:
``SOPS_AGE_KEY`` (identities inline, several per line allowed), ``SOPS_AGE_KEY_FILE`` (a file,
one per line), and the user's ``sops/age/keys.txt`` under the user config directory
(``$XDG_CONFIG_HOME``, else ``~/.config``, on Linux). Lines starting with ``#`` are comments.
age itself is pyrage (the Rust age implementation): X25519 recipients ``age1...`` and identities
``AGE-SECRET-KEY-1...``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import pyrage
from pyrage import x25519

KEY_ENV = "SOPS_AGE_KEY"
KEY_FILE_ENV = "SOPS_AGE_KEY_FILE"
USER_KEYS = "sops/age/keys.txt"


class AgeError(Exception):
    """A recipient or identity that is not age, or a key file that cannot be read."""


@dataclass
class Identities:
    """The age identities this process can use, and where it looked (for the error message)."""

    keys: list[Any] = field(default_factory=list)
    looked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def user_keys_file(env: dict[str, str] | None = None) -> Path:
    e = os.environ if env is None else env
    base = e.get("XDG_CONFIG_HOME") or str(Path(e.get("HOME") or Path.home()) / ".config")
    return Path(base) / USER_KEYS


def find_identities(env: dict[str, str] | None = None) -> Identities:
    e = dict(os.environ) if env is None else env
    found = Identities()
    if KEY_ENV in e:
        found.looked.append(KEY_ENV)
        _parse(e[KEY_ENV], KEY_ENV, found, many_per_line=True)
    if KEY_FILE_ENV in e:
        found.looked.append(f"{KEY_FILE_ENV}={e[KEY_FILE_ENV]}")
        _read(Path(e[KEY_FILE_ENV]), KEY_FILE_ENV, found)
    user = user_keys_file(e)
    found.looked.append(str(user))
    if user.exists():
        _read(user, str(user), found)
    return found


def _read(path: Path, where: str, found: Identities) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        found.problems.append(f"{where}: {path}: cannot be read ({exc.strerror})")
        return
    _parse(text, where, found, many_per_line=False)


def _parse(text: str, where: str, found: Identities, many_per_line: bool) -> None:
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for word in line.split() if many_per_line else [line]:
            if not word.startswith("AGE-SECRET-KEY-1"):
                found.problems.append(f"{where}: line {n} is not an age identity (AGE-SECRET-KEY-1...)")
                continue
            try:
                found.keys.append(x25519.Identity.from_str(word))
            except pyrage.IdentityError:
                found.problems.append(f"{where}: line {n} is not a valid age identity")


def recipient(text: str) -> Any:
    try:
        return x25519.Recipient.from_str(text.strip())
    except pyrage.RecipientError:
        raise AgeError(f"'{text}' is not an age recipient (age1...)") from None


def public_of(identity_line: str) -> str:
    return str(x25519.Identity.from_str(identity_line.strip()).to_public())


def wrap(data_key: bytes, recipient_text: str) -> str:
    """The data key encrypted to one recipient, armored (one age file per recipient, as sops does)."""
    armored = pyrage.encrypt(data_key, [recipient(recipient_text)], armored=True).decode("ascii")
    return armored if armored.endswith("\n") else armored + "\n"


def unwrap(stanzas: Sequence[tuple[str, str]], identities: Identities) -> bytes | None:
    """The data key from the first stanza one of ``identities`` opens, else None."""
    if not identities.keys:
        return None
    for _recipient, enc in stanzas:
        try:
            key = pyrage.decrypt(enc.encode("ascii"), identities.keys)
        except (pyrage.DecryptError, UnicodeEncodeError, ValueError):
            continue
        if len(key) == 32:
            return bytes(key)
    return None


def generate() -> tuple[str, str]:
    """A new identity line and its recipient."""
    ident = x25519.Identity.generate()
    return str(ident), str(ident.to_public())
