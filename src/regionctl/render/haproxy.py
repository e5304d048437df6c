"""The haproxy format: each region's scope router, ``OUT/<region>/haproxy/haproxy.cfg`` and its map
and pattern files (pure).

Native HAProxy 2.6 on the request path: header fetches, regex ACLs from pattern files, one
``regsub`` per hop to read the scope, a ``map_str`` to pick the backend, ``use_backend
%[var(...)]``. No Lua. The routing data is :mod:`regionctl.scope.routing`; the grammar's regexes
are :mod:`regionctl.scope.patterns`. Relative file names are resolved next to haproxy.cfg
(``default-path config``), so the directory can be copied anywhere as a whole.
"""

from __future__ import annotations

import re

from regionctl.errors import UserError
from regionctl.openstack.router import (
    HEALTH_STATUS,
    HOPS_HEADER,
    LEGACY_SCOPE_HEADER,
    SCOPE_HEADER,
    TOKEN_HEADERS,
    TOKEN_SCOPE_MARK,
    UNTRUSTED_IDENTITY_HEADERS,
)
from regionctl.render.files import RenderedFile
from regionctl.resolve.values import RegionValues
from regionctl.scope.grammar import MAX_BYTES
from regionctl.scope.patterns import COMPACT_FORM, JSON_FORM, error_rules, extract, valid_forms
from regionctl.scope.routing import Backend, Frontend, RouterPlan, plan_router
from regionctl.site.load import LoadedSite

DIR = "haproxy"
BACKENDS_MAP = "backends.map"
ERRORS_MAP = "scope-errors.map"
JSON_PAT = "scope-json.pat"
VALID_PAT = "scope-valid.pat"
COMPACT_PAT = "scope-compact.pat"
CHECK = "check inter 5s fall 3 rise 2"
#: HAProxy's own refusals (a request too large to parse, no server up) answer JSON too.
ERROR_PAGES = (
    (400, "Bad Request", "the router could not parse the request (malformed, or headers too large)"),
    (408, "Request Timeout", "the request was not received in time"),
    (502, "Bad Gateway", "the API server answered with an invalid response"),
    (503, "Service Unavailable", "no API server is up for this request"),
    (504, "Gateway Timeout", "the API server did not answer in time"),
)


def _error_page(code: int, title: str, message: str) -> str:
    body = f'{{"error": {{"code": {code}, "title": "{title}", "message": "{message}"}}}}'
    return f"  http-error status {code} content-type application/json string '{body}'\n"


def render_region(loaded: LoadedSite, values: RegionValues) -> list[RenderedFile]:
    assert loaded.site is not None
    plan = plan_router(loaded.site, values.region)
    if plan.problems:
        loc, message = plan.problems[0]
        raise UserError(f"{loaded.site_file}:{loaded.line(*loc)}: error: {message}")
    if any(f.tls for f in plan.frontends) and not plan.tls_crt:
        raise UserError(f"{loaded.site_file}:{loaded.line('regions', values.region, 'addresses')}: error: "
                        f"region '{values.region}' has https endpoints: give the router a certificate "
                        f"(regions.{values.region}.router.tls_crt)")
    base = f"{values.region}/{DIR}"
    files = {
        "haproxy.cfg": config(plan, loaded.site_file),
        BACKENDS_MAP: "".join(f"{k} {v}\n" for k, v in sorted(plan.choices.items())),
        ERRORS_MAP: "".join(f"{p} {r}\n" for p, r in error_rules(plan.types, plan.names)),
        JSON_PAT: JSON_FORM + "\n",
        COMPACT_PAT: COMPACT_FORM + "\n",
        VALID_PAT: "".join(p + "\n" for p in valid_forms(plan.types, plan.names)),
    }
    for f in plan.frontends:
        if len(f.routes) > 1:
            files[_routes_map(f)] = routes_map(f)
    return sorted((RenderedFile(f"{base}/{name}", text, False) for name, text in files.items()), key=lambda f: f.rel)


def _routes_map(f: Frontend) -> str:
    return f"routes-{f.name}.map"


def routes_map(f: Frontend) -> str:
    """Which route a request is (``map_beg`` on the path, or on Host + path), longest key first."""
    keys: list[tuple[str, int]] = []
    per_host: dict[str, int] = {}
    for r in f.routes:
        per_host[r.host] = per_host.get(r.host, 0) + 1
    for i, r in enumerate(f.routes):
        if f.by_host:
            default = (r.port == 443) if f.tls else (r.port == 80)
            hosts = [f"{r.host}:{r.port}"] + ([r.host] if default else [])
            path = r.path if per_host[r.host] > 1 else "/"  # a host of its own owns every path
            keys += [(h + path, i) for h in hosts]
        else:
            keys.append((r.path, i))
    keys.sort(key=lambda k: (-len(k[0]), k[0]))
    return "".join(f"{k} r{i}\n" for k, i in keys)


def _reply(status: int, title: str, message: str, cond: str) -> str:
    """A one-line JSON error, Keystone's shape; ``message`` may hold ``%[...]`` of checked names only."""
    body = f'{{"error": {{"code": {status}, "title": "{title}", "message": "{message}"}}}}'
    escaped = body.replace('"', '\\"')
    return (f'  http-request return status {status} content-type application/json '
            f'lf-string "{escaped}" if {cond}\n')


def _regsub(pattern: str, subst: str, flags: str = "") -> str:
    """``regsub`` with its arguments quoted for HAProxy's parser (``"`` escaped inside)."""
    quoted = pattern.replace('"', '\\"')
    args = f'"{quoted}","{subst}"' + (f",{flags}" if flags else "")
    return f"'regsub({args})'"


def config(plan: RouterPlan, site_file: str) -> str:
    names = ", ".join(plan.names)
    out = [
        f"# Rendered by regionctl from {site_file}; edit the site, not this file.\n",
        f"# The scope router of region {plan.region}: each API call goes to the region or cloud its\n",
        f"# {SCOPE_HEADER} header names for the call's service type ({names}), else to this region.\n",
        "global\n",
        "  default-path config\n",
        "  log /dev/log local0 info\n",
        "\n",
        "defaults\n",
        "  mode http\n",
        "  log global\n",
        "  option httplog\n",
        "  option forwardfor\n",
        "  timeout connect 5s\n",
        "  timeout client 60s\n",
        "  timeout server 60s\n",
        "  timeout http-request 10s\n",
        "  timeout check 5s\n",
    ]
    out += [_error_page(code, title, message) for code, title, message in ERROR_PAGES]
    if any(not s.is_ip for b in plan.backends for s in b.servers):
        out += ["\n", "resolvers sys\n", "  parse-resolv-conf\n"]
    for f in plan.frontends:
        out += ["\n", frontend(plan, f)]
    for b in plan.backends:
        out += ["\n", backend(b)]
    return "".join(out)


def _bind(f: Frontend, crt: str | None) -> str:
    host = f.bind_host or ""
    addr = f"ipv6@{host}:{f.port}" if ":" in host else f"{host}:{f.port}"
    return f"  bind {addr}" + (f" ssl crt {crt}" if f.tls and crt else "") + "\n"


def frontend(plan: RouterPlan, f: Frontend) -> str:
    """The request path: find the scope, check it, pick the backend; a valid scope costs one regex
    match and one ``regsub`` per request, the diagnostics run only for a scope that fails."""
    has, ok = "has_scope", "scope_ok"
    lines = [f"frontend {f.name}\n", _bind(f, plan.tls_crt)]
    lines.append("  # identity URLs are never taken from a request: only the Keystones site.yaml declares\n")
    lines += [f"  http-request del-header {h}\n" for h in UNTRUSTED_IDENTITY_HEADERS]
    trust = ""
    if f.trusted is not None:
        nets = " ".join(f.trusted) or "255.255.255.255/32"
        lines.append(f"  # scope only from {nets}: other clients' requests stay in this region\n")
        lines.append(f"  acl scope_trusted src {nets}\n")
        trust = " scope_trusted"
    lines.append(f"  # the scope: {SCOPE_HEADER}, else {LEGACY_SCOPE_HEADER}, else a token's {TOKEN_SCOPE_MARK} suffix "
                 "(OpenStackoid)\n")
    token = TOKEN_HEADERS[0]
    lines.append(f"  http-request set-var(txn.scope) req.fhdr({token}),"
                 f"{_regsub('^.*?' + TOKEN_SCOPE_MARK, '')} if {{ req.fhdr({token}) -m sub {TOKEN_SCOPE_MARK} }}"
                 f"{trust}\n")
    for header in (LEGACY_SCOPE_HEADER, SCOPE_HEADER):
        lines.append(_reply(400, "Bad Request", f"{header} is given more than once",
                            f"{{ req.fhdr_cnt({header}) gt 1 }}{trust}"))
        lines.append(f"  http-request set-var(txn.scope) req.fhdr({header}) if {{ req.fhdr_cnt({header}) eq 1 }}"
                     f"{trust}\n")
    for t in TOKEN_HEADERS:
        lines.append(f"  http-request set-header {t} %[req.fhdr({t}),{_regsub(TOKEN_SCOPE_MARK + '.*$', '')}]"
                     f" if {{ req.fhdr({t}) -m sub {TOKEN_SCOPE_MARK} }}\n")
    lines.append(f"  http-request del-header {LEGACY_SCOPE_HEADER}\n")
    if trust:
        lines.append(f"  http-request del-header {SCOPE_HEADER} if !scope_trusted\n")
        lines.append(f"  http-request del-header {HOPS_HEADER} if !scope_trusted\n")
    lines.append("  # a loop between routers ends here\n")
    lines.append("  http-request set-var(txn.hops) int(0)\n")
    lines.append(_reply(400, "Bad Request", f"{HOPS_HEADER} must be one number",
                        f"{{ req.fhdr_cnt({HOPS_HEADER}) gt 1 }} || {{ req.fhdr_cnt({HOPS_HEADER}) eq 1 }} "
                        f"!{{ req.fhdr({HOPS_HEADER}) -m reg ^[0-9][0-9]?[0-9]?$ }}"))
    lines.append(f"  http-request set-var(txn.hops) req.hdr_val({HOPS_HEADER}) if {{ req.fhdr_cnt({HOPS_HEADER}) eq 1 }}\n")
    lines.append(_reply(508, "Loop Detected",
                        f"the request passed %[var(txn.hops)] routers: at most {plan.max_hops} (a routing loop?)",
                        f"{{ var(txn.hops) -m int gt {plan.max_hops} }}"))
    lines.append(f"  acl {has} var(txn.scope) -m found\n")
    lines.append(_reply(400, "Bad Request", f"the scope is longer than {MAX_BYTES} bytes",
                        f"{has} {{ var(txn.scope),length -m int gt {MAX_BYTES} }}"))
    lines.append(f"  acl {ok} var(txn.scope) -m reg -f {VALID_PAT}\n")
    lines.append("  # why a scope is refused (only for one that is)\n")
    lines.append(f"  acl scope_json var(txn.scope) -m reg -f {JSON_PAT}\n")
    lines.append(f"  acl scope_compact var(txn.scope) -m reg -f {COMPACT_PAT}\n")
    lines.append(_reply(400, "Bad Request",
                        "malformed scope: give a JSON object of service type to region or cloud, "
                        "or type=name,type=name",
                        f"{has} !{ok} !scope_json !scope_compact"))
    strip = _regsub('[[:blank:]{}"]', "", "g")
    lines.append(f"  http-request set-var(txn.canon) var(txn.scope),{strip},"
                 f"{_regsub(':', '=', 'g')} if {has} !{ok}\n")
    lines.append(f"  http-request set-var(txn.canon) str(),'concat(\",\",txn.canon,\",\")' if {has} !{ok}\n")
    lines.append(f"  http-request set-var(txn.bad) var(txn.canon),map_regm({ERRORS_MAP}) if {has} !{ok}\n")
    lines.append(_reply(400, "Bad Request", "%[var(txn.bad)]", "{ var(txn.bad) -m found }"))
    lines.append(_reply(400, "Bad Request", "invalid scope", f"{has} !{ok}"))
    multi = len(f.routes) > 1
    if multi:
        fetch = "base" if f.by_host else "path"
        lines.append(f"  # which API: a path no API owns goes to {f.default_backend}\n")
        lines.append(f"  http-request set-var(txn.route) {fetch},map_beg({_routes_map(f)})\n")
    named = "{ var(txn.name) -m len gt 0 }"
    for i, r in enumerate(f.routes):
        when = f" {{ var(txn.route) -m str r{i} }}" if multi else ""
        for t in r.types:  # aliases at one URL (volumev3, block-storage): the first one given wins
            first = "" if t == r.types[0] else f" !{named}"
            lines.append(f"  http-request set-var(txn.name) var(txn.scope),{_regsub(extract(t), chr(92) + '1')} "
                         f"if{when} {has}{first}\n")
        lines.append(f"  http-request set-var(txn.backend) str({r.interface}/{r.type}/),'concat(,txn.name,)',"
                     f"map_str({BACKENDS_MAP}) if{when} {named}\n")
        lines.append(_reply(400, "Bad Request",
                            f"%[var(txn.name)] has no {r.interface} {r.type} endpoint in the catalog",
                            f"{when.strip()} {named} !{{ var(txn.backend) -m found }}".strip()))
    lines.append("  # the next hop routes by the same scope\n")
    lines.append(f"  http-request set-header {SCOPE_HEADER} %[var(txn.scope)] if {has} "
                 f"!{{ req.fhdr_cnt({SCOPE_HEADER}) eq 1 }}\n")
    lines.append("  use_backend %[var(txn.backend)] if { var(txn.backend) -m found }\n")
    if multi:
        for i, r in enumerate(f.routes):
            lines.append(f"  use_backend {r.local_backend} if {{ var(txn.route) -m str r{i} }}\n")
    lines.append(f"  default_backend {f.default_backend}\n")
    return "".join(lines)


def _server_addr(b: Backend, i: int) -> str:
    s = b.servers[i]
    host = f"ipv6@{s.host}" if ":" in s.host else s.host
    opts = ""
    if s.tls:
        sni = b.host_header.rsplit(":", 1)[0] if b.host_header else s.host
        opts += f" ssl verify required ca-file @system-ca sni str({sni}) check-sni {sni}"
    if not s.is_ip:
        opts += " resolvers sys init-addr none"  # resolved at run time, never by haproxy -c
    return f"{host}:{s.port}{opts}"


def backend(b: Backend) -> str:
    lines = [f"backend {b.name}\n"]
    if b.local:
        lines.append(f"  # {b.type} ({b.interface}) of {b.region}: this region's own servers\n")
        lines.append(f"  http-request del-header {HOPS_HEADER}\n")
    else:
        lines.append(f"  # {b.type} ({b.interface}) of {b.region}: its router, at its endpoint\n")
        lines.append(f"  http-request set-header Host {b.host_header}\n")
        lines.append(f"  http-request set-header {HOPS_HEADER} %[var(txn.hops),add(1)]\n")
        if b.path_from is not None and b.path_to is not None:
            lines.append(f"  http-request replace-path {_literal_regex(b.path_from)}(.*) "
                         f"{b.path_to.rstrip('/')}\\1\n")
    if b.track is None:
        host = b.host_header or (b.servers[0].host if b.servers else "localhost")
        lines.append("  option httpchk\n")
        lines.append(f"  http-check send meth GET uri {b.health_path} ver HTTP/1.1 hdr Host {host}\n")
        lines.append(f"  http-check expect status {HEALTH_STATUS}\n")
    for i, _ in enumerate(b.servers):
        name = f"s{i + 1}" if b.local else b.region
        health = CHECK if b.track is None else f"track {b.track}/{name}"
        lines.append(f"  server {name} {_server_addr(b, i)} {health}\n")
    return "".join(lines)


def _literal_regex(path: str) -> str:
    """``^`` + ``path`` matched literally, without backslashes (kept intact by HAProxy's parser)."""
    return "^" + "".join(c if c.isalnum() or c in "/_-" else f"[{c}]" for c in path.rstrip("/"))
