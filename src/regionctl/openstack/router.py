"""What a scope router needs to know about OpenStack's APIs, as data (seed 004).

Ports and catalog types are in :mod:`regionctl.openstack.services`; here: the request each
API answers cheaply for a health check, and the headers scope-aware clients send.
"""

from __future__ import annotations

#: catalog type -> a GET path its API answers with 2xx/3xx without a token. Version documents
#: are unauthenticated in every service; glance answers ``/`` with 300 Multiple Choices.
HEALTH_PATH: dict[str, str] = {
    "identity": "/v3",
    "compute": "/",
    "placement": "/",
    "network": "/",
    "image": "/",
    "volumev3": "/",
    "volumev2": "/",
    "block-storage": "/",
}
HEALTH_DEFAULT = "/"
#: Status codes a health check accepts (version discovery may answer 300).
HEALTH_STATUS = "200-399"

#: The scope header regionctl's clients and routers use (and forward on every hop).
SCOPE_HEADER = "OpenStack-Scope"
#: OpenStackoid's clients: the same scope in X-Scope, or appended to the token.
LEGACY_SCOPE_HEADER = "X-Scope"
TOKEN_HEADERS: tuple[str, ...] = ("X-Auth-Token", "X-Subject-Token")
TOKEN_SCOPE_MARK = "!SCOPE!"
#: How many routers a request has passed through.
HOPS_HEADER = "OpenStack-Scope-Hops"
#: Headers OpenStackoid's routers set and its keystonemiddleware fork trusted to pick a Keystone:
#: a client could name any identity URL with them, so a router removes them from every request.
UNTRUSTED_IDENTITY_HEADERS: tuple[str, ...] = ("X-Identity-Url", "X-Identity-Cloud", "X-Identity-Region")
