"""What counts as secret, and how it is shown: masked, always.

A value is secret when it comes from a region's secrets file, when its key looks secret
(password, secret, token, credential, key, passphrase), or when it is a URL with a password in
it (``mysql+pymysql://nova:PASSWORD@db/nova``, ``rabbit://openstack:PASSWORD@mq:5672``).
"""

from __future__ import annotations

import re
from typing import Any

from regionctl.site.provenance import Value

MASK = "********"
SECRET_WORDS = frozenset({"password", "passwd", "secret", "token", "credential", "credentials", "key", "passphrase"})
SECRET_MAPS = frozenset({"passwords", "secrets", "credentials"})
_URL_PASSWORD = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^/@:\s]*:)(?P<pw>[^/@\s]+)(?P<tail>@.*)$")


def looks_secret_key(key: str) -> bool:
    """``metadata_proxy_shared_secret``, ``password``, ``api_key`` yes; ``rbd_secret_uuid``, ``key_manager`` no."""
    words = [w for w in re.split(r"[_\-.\s]+", key.lower()) if w]
    return bool(words) and words[-1] in SECRET_WORDS


def url_has_password(value: Any) -> bool:
    return isinstance(value, str) and _URL_PASSWORD.match(value) is not None


def secret_path(path: tuple[str, ...], value: Any) -> bool:
    """Would this key path and value be a secret, wherever it was written?"""
    if not path:
        return False
    if value is None or value == "" or isinstance(value, bool):
        return False  # an on/off flag (send_service_user_token: true) hides nothing
    if looks_secret_key(path[-1]) or any(p.lower() in SECRET_MAPS for p in path[:-1]):
        return True
    if isinstance(value, list):
        return any(url_has_password(v) for v in value)
    return url_has_password(value)


def is_secret(path: tuple[str, ...], value: Value) -> bool:
    return value.origin.is_secret or secret_path(path, value.value)


def mask_text(value: Any) -> str:
    """A secret as shown: URLs keep their shape with every password masked.

    A RabbitMQ cluster's URL has one ``user:password@host`` per host
    (``rabbit://u:pw@h1:5672,u:pw@h2:5672/``): each is masked, not only the first.
    """
    m = _URL_PASSWORD.match(value) if isinstance(value, str) else None
    if m is not None:
        scheme, _, rest = value.partition("://")
        netloc, slash, path = rest.partition("/")
        items, passwords = [], [m.group("pw")]
        for item in netloc.split(","):
            if "@" in item:
                userinfo, _, host = item.rpartition("@")
                user, colon, password = userinfo.partition(":")
                if colon:
                    passwords.append(password)
                    item = f"{user}:{MASK}@{host}"
            items.append(item)
        shown = f"{scheme}://{','.join(items)}{slash}{path}"
        if not any(p and p in shown for p in passwords):  # a password with a ',' or '/' in it: mask all
            return shown
    return MASK


_URL_NETLOC = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<netloc>[^/\s?#]*)")
_NETLOC_CRED = re.compile(r"(?P<sep>^|,)(?P<user>[^,:@]*):(?P<pw>[^,@]*)@")


def mask_urls(text: str) -> str:
    """``text`` with the password of every URL in it masked, each host of a list too.

    ``rabbit://openstack:PW@mq1:5672,openstack:PW@mq2:5672//`` keeps its shape; free text
    around URLs (an error message, an OS_AUTH_URL) is left as it is.
    """
    def netloc(m: re.Match[str]) -> str:
        creds = _NETLOC_CRED.sub(lambda c: f"{c['sep']}{c['user']}:{MASK}@", m["netloc"])
        return m["scheme"] + creds

    return _URL_NETLOC.sub(netloc, text) if "://" in text else text


def shown(path: tuple[str, ...], value: Value) -> Any:
    """The value as it may be printed."""
    if value.value is None:
        return None
    return mask_text(value.value) if is_secret(path, value) else value.value


# ---- masking by value ----------------------------------------------------------------------------
# A secret that reaches another place (inside a URL, ``$$``-doubled in an INI file, URL-encoded,
# escaped in JSON) is still that secret: every known secret string, in each of those forms, is
# masked in everything the CLI prints. Loading a site registers its secrets here.

#: Shorter strings are not masked by value (they would mask ordinary words); origin rules still apply.
MIN_MASKED = 4


class KnownSecrets:
    """The secret strings this process has read, and a masker over all their forms."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def clear(self) -> None:
        self._values.clear()
        self._pattern = None

    def add(self, value: Any) -> None:
        if isinstance(value, list):
            for v in value:
                self.add(v)
            return
        if not isinstance(value, str) or isinstance(value, bool):
            return
        m = _URL_PASSWORD.match(value)
        for text in ([m.group("pw")] if m else [value]):
            for form in forms(text):
                if len(form) >= MIN_MASKED and form not in self._values:
                    self._values.add(form)
                    self._pattern = None

    def __len__(self) -> int:
        return len(self._values)

    def mask(self, text: str) -> str:
        if not self._values or not text:
            return text
        if self._pattern is None:
            alts = sorted(self._values, key=len, reverse=True)
            # A secret is masked where it stands as a token: "other" as a password leaves "another" be.
            self._pattern = re.compile("|".join(rf"(?<![A-Za-z0-9]){re.escape(a)}(?![A-Za-z0-9])" for a in alts))
        return self._pattern.sub(MASK, text)


def forms(secret: str) -> set[str]:
    """The ways a secret is written elsewhere: as is, ``$$``-doubled, URL-encoded, JSON-escaped."""
    from urllib.parse import quote, quote_plus
    import json

    out = {secret, secret.replace("$", "$$"), quote(secret, safe=""), quote_plus(secret), quote(secret),
           json.dumps(secret)[1:-1]}
    return {f for f in out if f}


KNOWN = KnownSecrets()


def remember_tree(tree: Any, prefix: tuple[str, ...] = ()) -> None:
    """Register every secret leaf of a values tree (by origin, key name or URL password)."""
    for key, node in tree.items():
        path = prefix + (key,)
        if isinstance(node, dict):
            remember_tree(node, path)
        elif isinstance(node, Value) and is_secret(path, node):
            KNOWN.add(node.value)
