"""The live catalog: Keystone through openstacksdk (this module and apply are the only network I/O).

Authentication is the ``openstack`` CLI's: ``--os-cloud NAME`` with clouds.yaml, else the
``OS_*`` environment, parsed by the same openstacksdk code path. Every identity call then goes
to the URL regionctl authenticated with (openstacksdk's ``identity_endpoint_override``), never
to an identity URL read from the catalog being edited: a catalog whose identity endpoints are
wrong (or point at 10.24.63.248 while Keystone answers on 127.0.0.1) stays fixable.

Reading costs a constant number of requests: the token, then one list each of regions,
services and endpoints. Every failure becomes one :class:`KeystoneError` line saying what
failed and what to do; a 403 names the Keystone policy that refused it.
"""

from __future__ import annotations

import argparse
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from keystoneauth1 import exceptions as ksa_exc

from regionctl.catalog.address import needs_lookup
from regionctl.catalog.model import MANAGED_KEY, MANAGED_VALUE, Catalog, Endpoint, Region, Service
from regionctl.catalog.retry import GATEWAY, NOT_DONE, RetryPolicy, maybe_sent, parse_retry_after
from regionctl.errors import UserError

#: Keystone policy per (method, collection, item?): what a 403 says is missing.
_VERBS = {"GET": ("list", "get"), "POST": ("create", "create"), "PATCH": ("update", "update"),
          "DELETE": ("delete", "delete")}
_SINGULAR = {"regions": "region", "services": "service", "endpoints": "endpoint"}
_PATH = re.compile(r"^/?(?P<coll>regions|services|endpoints)(?:/(?P<item>[^/?]+))?")

NO_CLOUD_HINT = ("pass --os-cloud NAME (a cloud in clouds.yaml) or set OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, "
                 "OS_PROJECT_NAME, OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME as for the openstack CLI "
                 "('regionctl dev-keystone' starts a local Keystone to try it)")


class KeystoneError(UserError):
    """Keystone failed, refused, or could not be reached: one line, with what to do.

    ``status`` is the HTTP status (None: no answer); ``transient`` says whether the same
    request could succeed later (so "run it again" is advice that can help).
    """

    def __init__(self, message: str, status: int | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient


class OutcomeUnknown(KeystoneError):
    """A write was sent and no answer came back: it may or may not have been done. Re-read first."""


def policy_for(method: str, path: str) -> str | None:
    """``POST /endpoints`` -> ``identity:create_endpoint``: the rule Keystone checked."""
    m = _PATH.match(path)
    verbs = _VERBS.get(method.upper())
    if not m or not verbs:
        return None
    coll = m.group("coll")
    if m.group("item"):
        return f"identity:{verbs[1]}_{_SINGULAR[coll]}"
    return f"identity:{verbs[0]}_{coll}" if method.upper() == "GET" else f"identity:{verbs[1]}_{_SINGULAR[coll]}"


def _keystone_message(resp: Any) -> str:
    try:
        body = resp.json()
        msg = body.get("error", {}).get("message")
    except Exception:  # noqa: BLE001 - not JSON: say nothing more than the status
        msg = None
    if not msg:
        msg = (getattr(resp, "reason", "") or "").strip()
    return " ".join(str(msg).split())[:300]


@dataclass
class Keystone:
    """An authenticated Keystone: every call goes to ``identity_url``, requests are counted.

    Safe to share between the threads of a parallel apply (the counters take a lock; the
    connection pool is sized by :meth:`set_parallel`).
    """

    conn: Any  # openstack.connection.Connection
    identity_url: str  # versioned (.../v3): where every call goes
    auth_url: str  # as configured; the identity endpoint protected from --prune
    user: str
    region: str | None = None  # the client's region (OS_REGION_NAME / region_name)
    requests: int = 0
    retries: int = 0  # requests sent again after a 503/429/refused connection
    answered: bool = False  # Keystone has answered once: a refused connection now means a restart
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    #: told of every retry ("POST /v3/endpoints: HTTP 503; retrying in 0.4 s"): the CLI's progress line
    on_retry: Callable[[str], None] | None = field(default=None, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    timeout: float = 120.0  # seconds without an answer before a request counts as dropped
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set_parallel(self, n: int) -> None:
        """Keep up to ``n`` connections open (one per writer in flight)."""
        from keystoneauth1.session import TCPKeepAliveAdapter

        http = getattr(self.conn.session, "session", None)
        if http is None or n <= 10:
            return
        for prefix in ("http://", "https://"):
            http.mount(prefix, TCPKeepAliveAdapter(pool_connections=4, pool_maxsize=n, max_retries=0))

    # ---- requests -------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             missing_ok: bool = False) -> dict[str, Any] | None:
        """One identity API call, retried while Keystone says it was not done.

        Raises KeystoneError for anything but 2xx (``missing_ok``: a 404 returns None), and
        OutcomeUnknown when a write was sent but no answer came.
        """
        url = self.identity_url.rstrip("/") + "/" + path.lstrip("/")
        write = method.upper() not in ("GET", "HEAD")
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            with self._lock:
                self.requests += 1
            try:
                resp = self.conn.session.request(url, method, json=body, raise_exc=False,
                                                 endpoint_filter=None, connect_retries=0,
                                                 timeout=self.timeout)
            except ksa_exc.Unauthorized as exc:
                raise KeystoneError(self._auth_failed(exc), 401) from None
            except ksa_exc.ClientException as exc:
                sent = maybe_sent(str(exc)) and _connect_reason(exc) is not None
                if write and sent:
                    raise OutcomeUnknown(self._dropped(method, path, exc), None, True) from None
                auth_status = getattr(exc, "http_status", None) if isinstance(exc, ksa_exc.HttpError) else None
                transient = _connect_reason(exc) is not None or auth_status in NOT_DONE
                # A Keystone that never answered is a wrong address, not a restart: say so at once.
                retry = transient and (self.answered or auth_status in NOT_DONE)
                wait = self.retry.wait(attempt, time.monotonic() - started) if retry else None
                if wait is None:
                    raise KeystoneError(self._unreachable(exc, retried=attempt > 1), auth_status, transient) from None
                self._retrying(method, path, _connect_reason(exc) or f"HTTP {auth_status} authenticating", wait)
                continue
            self.answered = True
            status = resp.status_code
            if status in NOT_DONE or (status in GATEWAY and not write):
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                wait = self.retry.wait(attempt, time.monotonic() - started, retry_after)
                if wait is None:
                    raise KeystoneError(self._http_error(method, path, resp, attempt > 1, retry_after), status, True)
                self._retrying(method, path, f"HTTP {status}", wait)
                continue
            if status in GATEWAY:  # a write through a gateway that gave up: Keystone may have done it
                raise OutcomeUnknown(self._http_error(method, path, resp), status, True)
            if missing_ok and status == 404:
                return None
            if status >= 400:
                raise KeystoneError(self._http_error(method, path, resp), status, False)
            if status == 204 or not resp.content:
                return {}
            return resp.json()  # type: ignore[no-any-return]

    def get(self, path: str) -> dict[str, Any]:
        """GET that must answer (a 404 is an error)."""
        body = self.call("GET", path)
        assert body is not None
        return body

    def _retrying(self, method: str, path: str, why: str, wait: float) -> None:
        with self._lock:
            self.retries += 1
        if self.on_retry is not None:
            self.on_retry(f"{method} {self._api(path)}: {why}; retrying in {wait:.1f} s")
        self.sleep(wait)

    def _api(self, path: str) -> str:
        return f"{urlsplit(self.identity_url).path.rstrip('/')}/{path.lstrip('/')}"

    def _dropped(self, method: str, path: str, exc: Exception) -> str:
        return (f"Keystone at {self.auth_url} did not answer {method} {self._api(path)} "
                f"({_connect_reason(exc) or 'no answer'}): it may or may not have been done")

    def _unreachable(self, exc: Exception, retried: bool = False) -> str:
        reason = _connect_reason(exc)
        if reason:
            if retried:
                reason += f", retried for up to {self.retry.budget:g} s"
            return (f"cannot reach Keystone at {self.auth_url} ({reason}): "
                    "check that it runs and that OS_AUTH_URL / clouds.yaml auth_url is right")
        if isinstance(exc, ksa_exc.DiscoveryFailure):
            return (f"{self.auth_url} does not answer like Keystone: "
                    "check OS_AUTH_URL / clouds.yaml auth_url (e.g. http://HOST:5000/v3)")
        if isinstance(exc, ksa_exc.MissingRequiredOptions):
            return f"incomplete credentials ({_short(exc)}): {NO_CLOUD_HINT}"
        if isinstance(exc, ksa_exc.HttpError):
            return f"Keystone at {self.auth_url} failed while authenticating: HTTP {exc.http_status}: {_short(exc)}"
        return f"talking to Keystone at {self.auth_url} failed: {_short(exc)}"

    def _auth_failed(self, exc: Exception) -> str:
        return (f"Keystone at {self.auth_url} rejected the credentials of user '{self.user}' (HTTP 401): "
                "check the password, user, project and domains in OS_* / clouds.yaml")

    def _http_error(self, method: str, path: str, resp: Any, retried: bool = False,
                    retry_after: float | None = None) -> str:
        status = resp.status_code
        what = f"{method} {self._api(path)}"
        detail = _keystone_message(resp)
        if status in NOT_DONE or status in GATEWAY:
            if retry_after is not None and retry_after > self.retry.budget:
                detail += f" (asked to retry after {retry_after:g} s, beyond the {self.retry.budget:g} s cap)"
            elif retried:
                detail += f" (retried for up to {self.retry.budget:g} s)"
            if status == 429:
                return (f"Keystone at {self.auth_url} is limiting requests (HTTP 429 on {what}){': ' + detail if detail else ''}: "
                        "wait, or lower --parallel, then re-run")
        if status == 401:
            return self._auth_failed(Exception(detail))
        if status == 403:
            rule = policy_for(method, path)
            needs = f"permission '{rule}'" if rule else "the permission for it"
            return (f"Keystone refused {what} for user '{self.user}' (HTTP 403): it lacks {needs}; "
                    "use a user with the admin role (clouds.yaml / OS_*)")
        if status >= 500:
            return (f"Keystone at {self.auth_url} failed on {what}: HTTP {status}"
                    f"{': ' + detail if detail else ''}: check its log, then re-run")
        if status == 404:
            return f"Keystone has no {what.split(' ', 1)[1]} (HTTP 404): it changed since it was read; re-run the plan"
        return f"Keystone rejected {what}: HTTP {status}{': ' + detail if detail else ''}"

    # ---- reading --------------------------------------------------------------------------------

    def _list(self, coll: str) -> list[dict[str, Any]]:
        body = self.get(f"/{coll}")
        if body.get("truncated"):
            raise KeystoneError(f"Keystone truncated its list of {coll} (list_limit in keystone.conf): "
                                "raise or unset [catalog] list_limit so the whole catalog can be compared")
        items = body.get(coll)
        if not isinstance(items, list):
            raise KeystoneError(f"Keystone at {self.auth_url} answered GET /{coll} without a list of {coll}")
        return items

    def read(self) -> Catalog:
        """The whole catalog in three list calls (plus the token)."""
        regions = [_region(r) for r in self._list("regions")]
        services = [Service(s.get("type", ""), s.get("name", "") or "", s["id"], bool(s.get("enabled", True)))
                    for s in self._list("services")]
        by_id = {s.id: s for s in services}
        endpoints = []
        for e in self._list("endpoints"):
            svc = by_id.get(e.get("service_id"))
            endpoints.append(Endpoint(
                svc.type if svc else "", svc.name if svc else "", e.get("interface", ""),
                e.get("region_id") or e.get("region") or "", e.get("url", ""), bool(e.get("enabled", True)),
                e.get("id"), e.get("service_id")))
        selves = tuple(u for u in (self.identity_url,) if u != self.auth_url)
        hosts = {urlsplit(u).hostname or "" for u in (self.auth_url, *selves)}
        hosts |= {_host(e.url) for e in endpoints if e.type == "identity"}
        return Catalog(tuple(_parents_first(regions)), tuple(services), tuple(endpoints),
                       auth_url=self.auth_url, auth_region=self.region, self_urls=selves,
                       resolved=resolve_hosts(h for h in hosts if h and needs_lookup(h)))

    # ---- reading one object again (after a write whose outcome is unknown) ----------------------

    def find_region(self, rid: str) -> Region | None:
        body = self.call("GET", f"/regions/{rid}", missing_ok=True)
        return _region(body["region"]) if body else None

    def find_service_ids(self, s: Service) -> list[str]:
        body = self.get(f"/services?type={s.type}")
        return [str(x["id"]) for x in body.get("services", []) if (x.get("name") or "") == s.name]

    def find_endpoints(self, service_id: str, interface: str, region: str) -> list[dict[str, Any]]:
        body = self.get(f"/endpoints?service_id={service_id}&interface={interface}&region_id={region}")
        return list(body.get("endpoints", []))

    def find(self, coll: str, oid: str) -> dict[str, Any] | None:
        body = self.call("GET", f"/{coll}/{oid}", missing_ok=True)
        return body.get(_SINGULAR[coll]) if body else None

    # ---- writing (apply) ------------------------------------------------------------------------

    def create_region(self, r: Region) -> None:
        body: dict[str, Any] = {"id": r.id, "description": r.description, MANAGED_KEY: MANAGED_VALUE}
        if r.parent:
            body["parent_region_id"] = r.parent
        self.call("POST", "/regions", {"region": body})

    def update_region(self, r: Region) -> None:
        self.call("PATCH", f"/regions/{r.id}", {"region": {"description": r.description,
                                                           "parent_region_id": r.parent,
                                                           MANAGED_KEY: MANAGED_VALUE}})

    def delete_region(self, r: Region) -> None:
        self.call("DELETE", f"/regions/{r.id}")

    def create_service(self, s: Service) -> str:
        body = self.call("POST", "/services", {"service": {"type": s.type, "name": s.name, "enabled": True}})
        assert body is not None
        return str(body["service"]["id"])

    def enable_service(self, s: Service) -> None:
        self.call("PATCH", f"/services/{s.id}", {"service": {"enabled": True}})

    def delete_service(self, s: Service) -> None:
        self.call("DELETE", f"/services/{s.id}")

    def create_endpoint(self, e: Endpoint, service_id: str) -> str:
        body = self.call("POST", "/endpoints", {"endpoint": {
            "service_id": service_id, "interface": e.interface, "region_id": e.region,
            "url": e.url, "enabled": e.enabled}})
        assert body is not None
        return str(body["endpoint"]["id"])

    def update_endpoint(self, e: Endpoint) -> None:
        self.call("PATCH", f"/endpoints/{e.id}", {"endpoint": {"url": e.url, "enabled": e.enabled}})

    def delete_endpoint(self, e: Endpoint) -> None:
        self.call("DELETE", f"/endpoints/{e.id}")


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


_RESOLVED: dict[str, frozenset[str]] = {}


def resolve_hosts(hosts: Any) -> dict[str, frozenset[str]]:
    """Host name -> its addresses (empty when it does not resolve); looked up once per process."""
    out: dict[str, frozenset[str]] = {}
    for h in sorted(set(hosts)):
        if h not in _RESOLVED:
            try:
                infos = socket.getaddrinfo(h, None, proto=socket.IPPROTO_TCP)
                _RESOLVED[h] = frozenset(str(i[4][0]) for i in infos)
            except (OSError, UnicodeError):
                _RESOLVED[h] = frozenset()
        out[h] = _RESOLVED[h]
    return out


def _region(r: dict[str, Any]) -> Region:
    return Region(r["id"], r.get("description") or "", r.get("parent_region_id"),
                  r.get(MANAGED_KEY) == MANAGED_VALUE)


def _parents_first(regions: list[Region]) -> list[Region]:
    by_id = {r.id: r for r in regions}
    out: list[Region] = []
    placed: set[str] = set()

    def place(r: Region, path: frozenset[str]) -> None:
        if r.id in placed or r.id in path:
            return
        if r.parent in by_id:
            place(by_id[r.parent], path | {r.id})
        if r.id not in placed:
            placed.add(r.id)
            out.append(r)

    for r in regions:
        place(r, frozenset())
    return out


_REASONS = (("refused", "connection refused"), ("unreachable", "network unreachable"),
            ("timed out", "timed out"), ("name or service not known", "unknown host"),
            ("temporary failure in name resolution", "unknown host"), ("reset by peer", "connection reset"),
            ("remote end closed", "connection closed by Keystone"), ("aborted", "connection aborted"),
            ("certificate", "TLS certificate problem"))


def _connect_reason(exc: BaseException) -> str | None:
    """A short why for a failed connection, from keystoneauth's (long, nested) message."""
    text = str(exc).lower()
    connection = isinstance(exc, (ksa_exc.ConnectFailure, ksa_exc.ConnectionError, ksa_exc.ConnectTimeout,
                                  ksa_exc.SSLError)) or "unable to establish connection" in text
    if not connection:
        return None
    return next((why for needle, why in _REASONS if needle in text), "connection failed")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:240]


def _cloud_config(cloud: str | None) -> Any:
    """The cloud exactly as ``openstack [--os-cloud NAME]`` would resolve it (clouds.yaml + OS_*)."""
    import openstack.config
    from openstack import exceptions as sdk_exc

    argv = ["--os-cloud", cloud] if cloud else []
    try:
        cfg = openstack.config.OpenStackConfig(load_yaml_config=True, load_envvars=True)
        parser = argparse.ArgumentParser(add_help=False)
        cfg.register_argparse_arguments(parser, list(argv))
        options, _ = parser.parse_known_args(argv)
        return cfg.get_one(argparse=options, validate=True)
    except sdk_exc.ConfigException as exc:
        raise KeystoneError(f"{_short(exc).rstrip('.')}: {NO_CLOUD_HINT}") from None
    except ksa_exc.MissingRequiredOptions as exc:
        missing = ", ".join(getattr(o, "dest", str(o)) for o in getattr(exc, "options", [])) or _short(exc)
        raise KeystoneError(f"no complete cloud configuration (missing {missing}): {NO_CLOUD_HINT}") from None
    except ksa_exc.ClientException as exc:
        raise KeystoneError(f"cloud configuration: {_short(exc)}: {NO_CLOUD_HINT}") from None


def connect(cloud: str | None = None) -> Keystone:
    """Authenticate like the openstack CLI; pin every identity call to the auth URL."""
    import openstack.connection

    for name in ("keystoneauth", "openstack"):  # their warnings would print past our one line
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
    region = _cloud_config(cloud)
    auth = region.config.get("auth") or {}
    auth_url = auth.get("auth_url")
    if not auth_url:
        where = f"cloud '{cloud}' has no auth.auth_url" if cloud else "no cloud is configured"
        raise KeystoneError(f"{where}: {NO_CLOUD_HINT}")
    user = str(auth.get("username") or auth.get("user_id") or region.config.get("auth_type") or "?")
    # The override must be Keystone's v3 root; an unversioned auth_url (http://HOST:5000) is discovered.
    region.config["identity_endpoint_override"] = auth_url
    conn = openstack.connection.Connection(config=region)
    ks = Keystone(conn, auth_url, auth_url, user, region.config.get("region_name") or None)
    if not urlsplit(auth_url).path.rstrip("/").endswith("/v3"):
        ks.identity_url = _discover_v3(ks)
    return ks


def _discover_v3(ks: Keystone) -> str:
    """The v3 root under an unversioned auth URL, found the way keystoneauth finds it."""
    try:
        data = ks.conn.session.get_endpoint_data(
            endpoint_override=ks.auth_url, service_type="identity", min_version="3.0", max_version="3.latest",
            discover_versions=True)
    except ksa_exc.Unauthorized as exc:
        raise KeystoneError(ks._auth_failed(exc)) from None
    except ksa_exc.ClientException as exc:
        raise KeystoneError(ks._unreachable(exc)) from None
    url = getattr(data, "url", None) if data is not None else None
    if not url:
        raise KeystoneError(f"{ks.auth_url} offers no identity v3 API: point OS_AUTH_URL at Keystone's /v3")
    return str(url)
