"""Benchmark (not a test): what scope routing costs per request, with wrk against real HAProxy.

The same small backend (an HAProxy that answers every request with a fixed 200, so the router,
not the backend, is what is measured) reached four ways, side by side in one run:

  (a) the router ``regionctl render --format haproxy`` writes, with a three-key scope header
      (parsed, checked against the site's names, routed by map);
  (b) the same HAProxy with a plain ``default_backend`` and no scope logic;
  (c) an interpreter in the style of OpenStackoid's proof of concept: ``use_backend
      %[lua.interpret_scope]`` (bench/openstackoid_style.lua) with the same scope in X-Scope;
  (d) the backend directly;
  and (a') the rendered router with no scope header, for what every other request pays.

Rounds are interleaved (a b c d, a b c d, ...) and the median of each setup is printed, with
requests/s and wrk's p50/p99 latency, and the ratios the scope-routing issue sets as targets.
Loopback only; run it where only loopback exists (make bench-router does):

    bash tools/loopback-only.sh .venv/bin/python bench/router_bench.py
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from regionctl.render import haproxy as haproxy_format
from regionctl.scope.routing import catalog
from regionctl.site.load import load
from regionctl.check.validate import validate

REGIONS = {"R1": "127.0.0.2", "R2": "127.0.0.3", "R3": "127.0.0.4"}
BACKEND = "127.0.1.2"
PLAIN, LUA = "127.0.0.5", "127.0.0.6"
PORT = 8774
SCOPE = '{"compute": "R1", "image": "R2", "network": "R3"}'
SECRETS = ("passwords:\n  keystone_admin: x\n  service_users: {nova: x, placement: x, neutron: x, glance: x, cinder: x}\n"
           "  databases: {keystone: x, nova: x, placement: x, neutron: x, glance: x, cinder: x}\n  messaging: x\n")
HERE = Path(__file__).resolve().parent
SERVICES = ("nova", "placement", "neutron", "glance", "cinder")


def write_site(root: Path) -> Path:
    lines = ["format: 1", "regions:"]
    for r, ip in REGIONS.items():
        lines += [f"  {r}:", "    addresses:", f"      public: http://{ip}", "    router:",
                  f"      servers: [{BACKEND if r == 'R1' else '127.0.1.' + ip.rsplit('.', 1)[1]}]", "    services:"]
        lines += (["      keystone:"] if r == "R1" else []) + [f"      {s}:" for s in SERVICES]
        (root / "regions" / r).mkdir(parents=True, exist_ok=True)
        (root / "regions" / r / "secrets.yaml").write_text(SECRETS)
    (root / "site.yaml").write_text("\n".join(lines) + "\n")
    return root


def render_router(site: Path, out: Path) -> Path:
    loaded = load(str(site))
    report = validate(loaded, ["R1"])
    if report.errors:
        sys.exit("\n".join(map(str, report.errors)))
    for f in haproxy_format.render_region(loaded, report.regions["R1"]):
        path = out / f.rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.text)
    return out / "R1" / "haproxy" / "haproxy.cfg"


HEAD = """global
  default-path config
defaults
  mode http
  option forwardfor
  timeout connect 5s
  timeout client 60s
  timeout server 60s
"""


def router_head(router_cfg: str) -> str:
    """The rendered router's global and defaults sections: (b) and (c) run with the same settings."""
    return router_cfg.split("\nfrontend ", 1)[0] + "\n"


def without_log(cfg: str) -> str:
    """Every setup runs without its syslog line (the host's /dev/log would be measured, not routing)."""
    return cfg.replace("  log /dev/log local0 info\n", "")


def backend_cfg(d: Path) -> Path:
    p = d / "backend.cfg"
    p.write_text(HEAD + f"frontend backend\n  bind {BACKEND}:{PORT}\n"
                 "  http-request return status 200 content-type application/json string '{\"server\": \"R1\"}'\n")
    return p


def _local_backend(router_cfg: str) -> str:
    m = re.search(r"^backend R1_compute_public\n(?:  .*\n)+", router_cfg, re.M)
    assert m, "no R1_compute_public backend in the rendered router"
    return m.group(0)


def plain_cfg(d: Path, router_cfg: str) -> Path:
    p = d / "plain.cfg"
    p.write_text(router_head(router_cfg) + f"frontend plain\n  bind {PLAIN}:{PORT}\n  default_backend R1_compute_public\n\n"
                 + _local_backend(router_cfg))
    return p


def lua_cfg(d: Path, site: Path, router_cfg: str) -> tuple[Path, dict[str, str]]:
    """OpenStackoid's shape: every <Region>_<Type>_<Interface> backend, one Lua fetch picks one."""
    loaded = load(str(site))
    assert loaded.site is not None
    entries = [e for e in catalog(loaded.site) if e.interface == "public"]
    services = "\n".join(
        f'    {{url = "{e.url.split("://", 1)[1].split("%(")[0]}", type = "{e.type}", interface = "{e.interface}"}},'
        for e in entries if e.region == "R1")
    types = sorted({e.type for e in entries})
    data = d / "scope_services.lua"
    data.write_text("return {\n  region = \"R1\",\n  default_backend = \"R1_compute_public\",\n"
                    f"  types = {{{', '.join(repr(t).replace(chr(39), chr(34)) for t in types)}}},\n"
                    f"  services = {{\n{services}\n  }},\n}}\n")
    backends = [_local_backend(router_cfg)]
    for e in entries:
        name = f"{e.region}_{e.type}_{e.interface}"
        if name != "R1_compute_public":
            host = e.url.split("://", 1)[1].split("/", 1)[0]
            backends.append(f"backend {name}\n  server s1 {host}\n")
    p = d / "lua.cfg"
    p.write_text(router_head(router_cfg).replace("global\n", f"global\n  lua-load {HERE / 'openstackoid_style.lua'}\n", 1)
                 + f"frontend lua\n  bind {LUA}:{PORT}\n  use_backend %[lua.interpret_scope]\n\n"
                 + "\n".join(sorted(set(backends))))
    return p, {"SCOPE_SERVICES": str(data)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (robust on a shared machine, unlike wall time)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running(cfg: Path, listen: tuple[str, int], env: dict[str, str] | None = None) -> Iterator[int]:
    check = subprocess.run(["haproxy", "-c", "-q", "-f", str(cfg)], capture_output=True, text=True,
                           env={**os.environ, **(env or {})})
    if check.returncode:
        sys.exit(f"{cfg}: {check.stdout}{check.stderr}")
    p = subprocess.Popen(["haproxy", "-db", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(listen, timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or p.poll() is not None:
                    sys.exit(f"haproxy ({cfg.name}) did not start")
                time.sleep(0.05)
        yield p.pid
    finally:
        p.terminate()
        p.wait(5)


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    requests: int = 0
    cpu_us: float = 0.0  # the proxy's CPU time per request (0 for the backend alone)


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    assert m, text
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v


def wrk(url: str, headers: dict[str, str], seconds: int, connections: int, threads: int) -> Run:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    for k, v in headers.items():
        cmd[1:1] = ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    n = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return Run(rps, p50, p99, int(bad.group(1)) if bad else 0, n)


def machine() -> str:
    hv = subprocess.run(["haproxy", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    wv = (subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines() or ["wrk ?"])[0]
    return (f"machine: {platform.machine()} {os.cpu_count()} CPUs (load {os.getloadavg()[0]:.1f}), "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}; {hv}; {wv.strip()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=4, help="wrk duration per round (default 4)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    for tool in ("haproxy", "wrk"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed: make sysdeps")
    print(machine())
    with tempfile.TemporaryDirectory(prefix="router-bench.") as tmp:
        d = Path(tmp)
        site = write_site(d / "site")
        router = render_router(site, d / "out")
        text = without_log(router.read_text())
        router.write_text(text)
        lua, lua_env = lua_cfg(d, site, text)
        host = {"Host": f"{REGIONS['R1']}:{PORT}"}
        setups = {
            "(a) rendered router, scope": (f"http://{REGIONS['R1']}:{PORT}/v2.1/servers", {**host, "OpenStack-Scope": SCOPE}),
            "(b) plain use_backend": (f"http://{PLAIN}:{PORT}/v2.1/servers", host),
            "(c) Lua interpreter": (f"http://{LUA}:{PORT}/v2.1/servers", {**host, "X-Scope": SCOPE}),
            "(d) backend directly": (f"http://{BACKEND}:{PORT}/v2.1/servers", host),
            "(a') rendered router, no scope": (f"http://{REGIONS['R1']}:{PORT}/v2.1/servers", host),
        }
        results: dict[str, list[Run]] = {k: [] for k in setups}
        with running(backend_cfg(d), (BACKEND, PORT)) as backend_pid, \
                running(router, (REGIONS["R1"], PORT)) as a_pid, running(plain_cfg(d, text), (PLAIN, PORT)) as b_pid, \
                running(lua, (LUA, PORT), lua_env) as c_pid:
            pids = dict(zip(setups, (a_pid, b_pid, c_pid, backend_pid, a_pid)))
            time.sleep(1)  # first health checks
            for name, (url, headers) in setups.items():  # warm-up, and every setup answers 200
                if wrk(url, headers, 1, args.connections, args.threads).non2xx:
                    sys.exit(f"{name}: non-2xx answers; the setup is broken")
            for _ in range(args.rounds):
                for name, (url, headers) in setups.items():
                    before = cpu_seconds(pids[name])
                    run = wrk(url, headers, args.seconds, args.connections, args.threads)
                    run.cpu_us = (cpu_seconds(pids[name]) - before) / max(run.requests, 1) * 1e6
                    results[name].append(run)
    print(f"wrk -t{args.threads} -c{args.connections}, {args.rounds} interleaved rounds of {args.seconds} s; "
          "medians:")
    print(f"{'setup':<30} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'CPU us/req':>11}")
    med: dict[str, Run] = {}
    for name, runs in results.items():
        med[name] = Run(statistics.median(r.rps for r in runs), statistics.median(r.p50_ms for r in runs),
                        statistics.median(r.p99_ms for r in runs), sum(r.non2xx for r in runs),
                        sum(r.requests for r in runs), statistics.median(r.cpu_us for r in runs))
        m = med[name]
        print(f"{name:<30} {m.rps:>11.0f} {m.p50_ms:>8.3f} {m.p99_ms:>8.3f} {m.non2xx:>8} {m.cpu_us:>11.1f}")
    a, b, c, _, a0 = (med[k] for k in setups)
    print(f"(a)/(b) requests/s {a.rps / b.rps:.2f} (target >= 0.90); p99 (a)-(b) {a.p99_ms - b.p99_ms:+.3f} ms "
          f"(target <= +1 ms); (a)/(c) requests/s {a.rps / c.rps:.2f} (target > 1)")
    print(f"CPU per request of the proxy: (a) {a.cpu_us:.1f} us, (b) {b.cpu_us:.1f} us, (c) {c.cpu_us:.1f} us: "
          f"scope routing adds {a.cpu_us - b.cpu_us:.1f} us ({a0.cpu_us - b.cpu_us:.1f} us for a request without a "
          f"scope), the Lua interpreter {c.cpu_us - b.cpu_us:.1f} us")


if __name__ == "__main__":
    main()
