"""Real HAProxy routers on loopback: three regions (127.0.0.2, .3, .4), each with small API
servers (127.0.1.x) that answer with their own name and the request they got."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import SECRETS, make_site, run_process

REGIONS = {"R1": "127.0.0.2", "R2": "127.0.0.3", "R3": "127.0.0.4"}
SERVERS = {"R1": "127.0.1.2", "R2": "127.0.1.3", "R3": "127.0.1.4"}
#: catalog type -> port, as regionctl's service data has them
PORTS = {"identity": 5000, "compute": 8774, "placement": 8778, "network": 9696, "image": 9292, "volumev3": 8776}


def site_yaml(extra: dict[str, str] | None = None) -> str:
    """R1 hosts the Keystone; R2 honours public scope only from 10.0.0.0/8 (so not from loopback)."""
    extra = extra or {}
    out = ["format: 1", "regions:"]
    for r, ip in REGIONS.items():
        out += [f"  {r}:", "    addresses:", f"      public: http://{ip}", "    router:",
                f"      servers: [{SERVERS[r]}]"]
        out += [f"      {line}" for line in extra.get(r, "").splitlines()]
        out += ["    services:"] + (["      keystone:"] if r == "R1" else []) + \
               [f"      {s}:" for s in ("nova", "placement", "neutron", "glance", "cinder")]
    return "\n".join(out) + "\n"


def only_loopback() -> bool:
    """In the namespace tools/loopback-only.sh makes (/sys still shows the host's interfaces)."""
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def need_router_env() -> None:
    if shutil.which("haproxy") is None:
        pytest.skip("haproxy is not installed (make sysdeps)")
    if not only_loopback():
        pytest.skip("needs a loopback-only network namespace: run inside tools/loopback-only.sh (make test)")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_name_: str = ""
    seen: list[dict[str, object]]

    def _answer(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        record = {"server": self.server_name_, "path": self.path, "method": self.command,
                  "headers": {k.lower(): v for k, v in self.headers.items()}}
        if "X-Test-Id" in self.headers:  # not the routers' health checks
            self.seen.append(record)
        body = json.dumps(record).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # health checks close with a reset


@dataclass
class Topology:
    out: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    servers: list[ThreadingHTTPServer] = field(default_factory=list)
    seen: list[dict[str, object]] = field(default_factory=list)

    def request(self, region: str, port: int, path: str = "/", headers: dict[str, str] | None = None,
                raw_headers: list[tuple[str, str]] | None = None, method: str = "GET") -> tuple[int, dict[str, object]]:
        conn = http.client.HTTPConnection(REGIONS[region], port, timeout=10)
        try:
            conn.putrequest(method, path, skip_host="Host" in (headers or {}))
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            for k, v in raw_headers or []:
                conn.putheader(k, v)
            conn.endheaders()
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        try:
            return resp.status, json.loads(data)
        except ValueError:
            return resp.status, {"raw": data.decode("latin-1")}

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        for s in self.servers:
            s.shutdown()
            s.server_close()


def start_backends(topo: Topology, regions: dict[str, str] = SERVERS) -> None:
    for region, ip in regions.items():
        for port in PORTS.values():
            handler = type("H", (_Handler,), {"server_name_": f"{region}:{port}", "seen": topo.seen})
            srv = _Server((ip, port), handler)
            threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True).start()
            topo.servers.append(srv)


def start_router(topo: Topology, cfg_dir: Path, wait_for: tuple[str, int]) -> None:
    p = subprocess.Popen(["haproxy", "-db", "-f", str(cfg_dir / "haproxy.cfg")], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    topo.procs.append(p)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise AssertionError(f"haproxy exited: {p.stderr.read().decode() if p.stderr else ''}")
        try:
            socket.create_connection(wait_for, timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"haproxy did not listen on {wait_for}")


def render(tmp: Path, site: str, regions: tuple[str, ...] = tuple(REGIONS)) -> Path:
    """The site's routers, rendered by the real CLI."""
    root = make_site(tmp / "site", site, {f"regions/{r}/secrets.yaml": SECRETS for r in regions})
    for gone in ("One", "Two"):
        shutil.rmtree(root / "regions" / gone, ignore_errors=True)
    out = tmp / "out"
    r = run_process(["render", "-s", str(root), "--format", "haproxy", "-o", str(out)])
    assert r.code == 0, r.err
    return out
