"""SOPS-encrypted values files inside a site: opened while loading, or left sealed.

A file whose recipients this operator holds no key for is *sealed*: it is not an error (an
operator may hold some regions' keys only); the commands that need its values say so. Anything
else wrong with an encrypted file (not valid SOPS, a value edited by hand, a MAC mismatch) is one
problem with the file and line, and none of the file's values are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from regionctl.site import sops
from regionctl.site.age import Identities
from regionctl.site.problems import Problem, error
from regionctl.site.sopsfile import NoIdentity, Opened, open_document
from regionctl.site.yamlio import YamlDoc, node_at


@dataclass(frozen=True)
class Sealed:
    """An encrypted file this process did not open, and why (one line, for the commands that need it)."""

    shown: str
    message: str
    recipients: tuple[str, ...]


@dataclass
class Outcome:
    doc: YamlDoc | None  # decrypted in place; None when sealed or broken
    problems: list[Problem]
    sealed: Sealed | None = None
    opened: Opened | None = None


def open_layer(doc: YamlDoc, identities: Callable[[], Identities], decrypt: bool = True) -> Outcome:
    """``doc`` as read; decrypted when it is a SOPS document and ``decrypt`` is set."""
    data = doc.data
    if not sops.is_sops_document(data):
        path = sops.first_enc(data)
        if path is not None:
            line = node_at(data, path)[0]
            return Outcome(None, [error(doc.display, line, "looks SOPS-encrypted (ENC[...] values) but has no "
                                        "'sops:' block: restore the file from git, or replace the values")])
        return Outcome(doc, [])
    if not decrypt:
        try:
            recipients = tuple(sops.read_metadata(data.get(sops.METADATA_KEY)).recipients)
        except sops.SopsError:
            recipients = ()
        return Outcome(None, [], Sealed(doc.display, f"{doc.display}: not opened (this command needs no secrets)",
                                        recipients))
    try:
        opened = open_document(data, doc.display, identities())
    except NoIdentity as exc:
        return Outcome(None, [], Sealed(doc.display, str(exc), tuple(exc.recipients)))
    except sops.SopsError as exc:
        line = node_at(data, exc.path)[0] if exc.path else 1
        return Outcome(None, [error(doc.display, line, f"{exc}")])
    return Outcome(doc, [], opened=opened)
