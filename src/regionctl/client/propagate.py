"""Keep a request's scope while a service serves it, and forward it on the calls it makes.

``ScopeMiddleware`` is a paste filter (``filter_factory``), placed in a service's
``api-paste.ini`` pipeline as ``request_id`` is. It accepts the site's names only (``names``,
``types``: comma lists rendered by regionctl), refuses anything else with 400 and a one-line
JSON reason, and keeps the parsed scope in a contextvar for the request. ``forward_scope`` makes
a keystoneauth Session add that scope to every request it sends while that request is served.

It reads nothing else from the request: no header can name an identity URL or a Keystone
(the routers strip OpenStackoid's ``X-Identity-*``; keystonemiddleware keeps its configured
``www_authenticate_uri``).
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

from regionctl.openstack.router import LEGACY_SCOPE_HEADER, SCOPE_HEADER
from regionctl.scope.grammar import MAX_BYTES, Scope, ScopeError, parse

#: The scope of the request being served (None: none given; local region everywhere).
current_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("regionctl_scope", default=None)
ENVIRON_KEY = "regionctl.scope"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(v for v in (p.strip() for p in value.replace("\n", ",").split(",")) if v)


class ScopeMiddleware:
    """Validate ``OpenStack-Scope`` (or OpenStackoid's ``X-Scope``) and keep it for the request."""

    def __init__(self, app: WsgiApp, names: Iterable[str] | None, types: Iterable[str] | None = None,
                 max_bytes: int = MAX_BYTES) -> None:
        self.app = app
        self.names = frozenset(names) if names is not None else None
        self.types = frozenset(types) if types is not None else None
        self.max_bytes = max_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raw = environ.get("HTTP_" + SCOPE_HEADER.upper().replace("-", "_"))
        if raw is None:
            raw = environ.get("HTTP_" + LEGACY_SCOPE_HEADER.upper().replace("-", "_"))
        if raw is None:
            return self._respond(None, environ, start_response)
        try:
            scope = parse(raw.encode("latin-1"), types=self.types, names=self.names, max_bytes=self.max_bytes)
        except (ScopeError, UnicodeEncodeError) as exc:
            reason = exc.reason if isinstance(exc, ScopeError) else "the scope is not UTF-8"
            body = json.dumps({"error": {"code": 400, "title": "Bad Request",
                                         "message": f"{SCOPE_HEADER}: {reason}"}}).encode()
            start_response("400 Bad Request", [("Content-Type", "application/json"),
                                               ("Content-Length", str(len(body)))])
            return [body]
        environ[ENVIRON_KEY] = scope
        return self._respond(scope, environ, start_response)

    def _respond(self, scope: Scope | None, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Run the app, and each step of its body (calls made while streaming it), with the scope set:
        in a context of its own, so nothing leaks to the next request the thread serves."""
        ctx = contextvars.copy_context()
        ctx.run(current_scope.set, scope)
        body = ctx.run(self.app, environ, start_response)
        return _Body(ctx, body)


class _Body:
    """A WSGI body iterated inside the request's context; ``close`` is passed on (PEP 3333)."""

    def __init__(self, ctx: contextvars.Context, body: Iterable[bytes]) -> None:
        self._ctx = ctx
        self._body = body
        self._it = iter(body)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return self._ctx.run(next, self._it)

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            self._ctx.run(close)


def filter_factory(global_conf: dict[str, str], **local_conf: str) -> Callable[[WsgiApp], ScopeMiddleware]:
    """paste.deploy: ``[filter:scope] paste.filter_factory = regionctl.client.propagate:filter_factory``
    with ``names = RegionOne,RegionTwo,CloudTwo`` and optionally ``types``, ``max_bytes``."""
    names = _split(local_conf.get("names"))
    types = _split(local_conf.get("types"))
    max_bytes = int(local_conf.get("max_bytes", MAX_BYTES))

    def _filter(app: WsgiApp) -> ScopeMiddleware:
        return ScopeMiddleware(app, names, types, max_bytes)
    return _filter


class ScopeHeaders(MutableMapping[str, str]):
    """A session's ``additional_headers`` that add the served request's scope, read per request."""

    def __init__(self, base: MutableMapping[str, str] | None = None) -> None:
        self._base: dict[str, str] = dict(base or {})

    def _all(self) -> dict[str, str]:
        scope = current_scope.get()
        return {**self._base, SCOPE_HEADER: scope.to_json()} if scope else dict(self._base)

    def __getitem__(self, key: str) -> str:
        return self._all()[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._base[key] = value

    def __delitem__(self, key: str) -> None:
        del self._base[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def forward_scope(session: Any) -> Any:
    """Make ``session`` (keystoneauth1 Session, or anything with one in ``.session``) forward the
    served request's scope on every call; returns the session."""
    target = session if hasattr(session, "additional_headers") else getattr(session, "session")
    if not isinstance(target.additional_headers, ScopeHeaders):
        target.additional_headers = ScopeHeaders(target.additional_headers)
    return session
