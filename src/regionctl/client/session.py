"""Attach a scope to a keystoneauth1 Session or an openstacksdk Connection.

Two modes, as the CLI's ``--os-scope-mode``:

* ``header``: every request the session sends (token requests included) carries
  ``OpenStack-Scope``; the site's routers pick the region. Nothing else changes: the token is
  sent as it is (OpenStackoid appended the scope to the token; we never do).
* ``direct``: no router at all. Each endpoint look-up for a service type the scope names is made
  in the region it names, from the catalog of the one Keystone the session authenticated with.
  ``regions`` maps a cloud name to the region to use for it (a client does not know the site).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from regionctl.openstack.router import SCOPE_HEADER
from regionctl.scope.grammar import Scope, ScopeError, parse

MODES = ("header", "direct")


def as_scope(scope: Scope | str | Mapping[str, str]) -> Scope:
    """Either grammar form, a mapping, or a parsed :class:`Scope` (``ScopeError`` if malformed)."""
    if isinstance(scope, Scope):
        return scope
    if isinstance(scope, Mapping):
        from regionctl.scope.grammar import from_mapping
        return from_mapping(scope)
    return parse(scope)


def _session_of(target: Any) -> Any:
    """A keystoneauth Session, from itself, an Adapter or an openstacksdk Connection."""
    for attr in ("additional_headers",):
        if hasattr(target, attr) and hasattr(target, "request"):
            return target
    inner = getattr(target, "session", None)
    if inner is not None and hasattr(inner, "additional_headers"):
        return inner
    raise TypeError(f"cannot attach a scope to {type(target).__name__}: give a keystoneauth1 Session, "
                    "an Adapter or an openstacksdk Connection")


def attach_scope(target: Any, scope: Scope | str | Mapping[str, str], mode: str = "header",
                 regions: Mapping[str, str] | None = None) -> Scope:
    """Make every request of ``target``'s session follow ``scope``; returns the parsed scope."""
    parsed = as_scope(scope)
    if mode not in MODES:
        raise ScopeError(f"unknown scope mode '{mode}': use {' or '.join(MODES)}")
    session = _session_of(target)
    if mode == "header":
        if parsed:
            session.additional_headers[SCOPE_HEADER] = parsed.to_json()
        else:
            session.additional_headers.pop(SCOPE_HEADER, None)
        return parsed
    auth = session.auth
    if isinstance(auth, ScopedAuth):
        auth = auth._inner
    session.auth = ScopedAuth(auth, parsed, regions or {})
    return parsed


class ScopedAuth:
    """An auth plugin that delegates everything and looks each scoped service type up in its region.

    Not a subclass of keystoneauth's plugins: it wraps whichever one the caller has (password,
    token, application credential, ...) so it keeps that plugin's behaviour whole.
    """

    def __init__(self, inner: Any, scope: Scope, regions: Mapping[str, str]) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_scope", scope)
        object.__setattr__(self, "_regions", dict(regions))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)  # e.g. osc-lib sets auth_ref on the session's plugin

    def region_for(self, service_type: str | None, region_name: str | None) -> str | None:
        if service_type is None:
            return region_name
        named = self._scope.as_dict().get(service_type)
        if named is None:
            return region_name
        return self._regions.get(named, named)

    def _filtered(self, session: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        service_type = kwargs.get("service_type")
        region = self.region_for(service_type, kwargs.get("region_name"))
        if region != kwargs.get("region_name"):
            kwargs = {**kwargs, "region_name": region}
            access = self._inner.get_access(session)
            found = access.service_catalog.get_endpoints(service_type=service_type, region_name=region) \
                if access.service_catalog is not None else {"": [True]}
            if not any(found.values()):
                raise ScopeError(f"the catalog has no {service_type} endpoint in region '{region}'")
        return kwargs

    def get_endpoint(self, session: Any, **kwargs: Any) -> Any:
        return self._inner.get_endpoint(session, **self._filtered(session, kwargs))

    def get_endpoint_data(self, session: Any, **kwargs: Any) -> Any:
        return self._inner.get_endpoint_data(session, **self._filtered(session, kwargs))


class CloudConnections:
    """Direct routing across clouds: one openstacksdk Connection (or Session) per cloud, and for
    each service type the one of the cloud the scope names (else the local cloud's).

    The site's ``clouds.<name>.os_cloud`` names each cloud's clouds.yaml entry:
    ``CloudConnections(scope, {c: openstack.connect(cloud=os_cloud) ...}, local="CloudOne")``.
    """

    def __init__(self, scope: Scope | str | Mapping[str, str], connections: Mapping[str, Any], local: str) -> None:
        self.scope = as_scope(scope)
        self.connections = dict(connections)
        if local not in self.connections:
            raise ScopeError(f"the local cloud '{local}' has no connection")
        self.local = local
        for service_type, name in self.scope:
            if name not in self.connections:
                raise ScopeError(f"unknown cloud '{name}' for {service_type}: connections are given for "
                                 f"{', '.join(sorted(self.connections))}")

    def for_type(self, service_type: str) -> Any:
        """The Connection serving ``service_type`` under the scope."""
        return self.connections[self.scope.target(service_type, self.local)]
