"""Benchmark (not a test): the catalog over distance, against a production-shaped dev Keystone.

A synthetic site of N regions x 8 catalog types x 2 interfaces (N=50: 854 objects; the
default N=10, 174 objects, keeps a run near 10 minutes on two shared cores), against dev
Keystone with W gunicorn workers (default 2) on one SQLite database, reached through
tools/faultproxy.py adding a fixed one-way delay (default 0 and 25 ms: round trips of 0 and
50 ms; ``--delays 0,10,25`` adds 20 ms). For every delay, side by side:

  regionctl apply --parallel 1 and --parallel 10, from empty; converged; one URL changed.
  (t) a Terraform-style model: refresh reads every resource in its state one GET at a time,
      10 in flight (-parallelism=10), then writes what differs, 10 at a time in graph order.
  (a) the Ansible ``openstack.cloud.endpoint`` way: per endpoint, find the service, find the
      region, list the endpoints filtered by service/interface/region, then create or update.
      Serial, so it runs on --ansible-regions regions (default 1) and is also shown scaled
      to N regions (its cost is linear in endpoints).

"From empty" restores the database Keystone had before the first apply (stop, copy, start).
Requests are counted in the client (keystoneauth) and at the server (gunicorn's access log,
with each request's server time), so the table shows where Keystone's own write time is the
limit: server busy = sum of server time / (workers x wall time).

    make bench    # or: bash tools/loopback-only.sh .venv/bin/python bench/catalog_bench.py
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from keystoneauth1 import session as ksa_session

from regionctl.catalog.desired import desired_catalog
from regionctl.catalog.live import connect
from regionctl.catalog.model import Catalog, Region
from regionctl.cli.main import main as regionctl_main
from regionctl.devkeystone import DB_FILE, DevKeystone, start
from regionctl.site.load import load

TYPES_PER_REGION = 8  # identity, compute, placement, network, image, volumev3, volumev2, block-storage
SECRETS = "passwords:\n  service_users: {nova: x, placement: x, neutron: x, glance: x, cinder: x}\n"


# ---- the synthetic site ------------------------------------------------------------------------


def write_site(root: Path, n: int, identity_url: str, changed: bool = False) -> Path:
    """N regions; each runs nova, placement, neutron, glance, cinder (3 types) + identity copies.

    Addresses are ``{name}`` templates so every catalog name gets its own host (no URL is
    claimed twice). R00 hosts Keystone at the dev Keystone's own URL, so bootstrap's
    endpoints are already right and "from empty" writes only new objects.
    """
    lines = ["format: 1", "regions:"]
    for i in range(n):
        rid = f"R{i:02d}"
        lines.append(f"  {rid}:")
        if i:  # R00 is bootstrap's region, as bootstrap left it
            lines += [f"    description: Bench region {i}", "    parent: R00"]
        lines += ["    addresses:", f"      public: http://{{name}}.r{i:02d}.bench.example",
                  f"      internal: http://{{name}}.r{i:02d}.internal.bench.example", "    services:"]
        if i == 0:
            lines += ["      keystone:", "        urls:", f"          identity: {identity_url}"]
        lines += ["      nova:"]
        if changed and i == min(7, n - 1):
            lines += ["        urls:", "          compute:", f"            public: http://compute-new.r{i:02d}.bench.example/v2.1"]
        lines += ["      placement:", "      neutron:", "      glance:", "      cinder:",
                  "        catalog: [volumev3, volumev2, block-storage]"]
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.yaml").write_text("\n".join(lines) + "\n")
    for i in range(n):
        d = root / "regions" / f"R{i:02d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "secrets.yaml").write_text(SECRETS)
    return root


def desired_of(site: Path) -> Catalog:
    s = load(site).site
    assert s is not None
    return desired_catalog(s)


# ---- counting ----------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    seconds: float = 0.0
    methods: Counter[str] = field(default_factory=Counter)
    auth: int = 0
    logged: int = 0  # requests in Keystone's access log (all processes)
    server_seconds: float = 0.0  # their time inside Keystone, summed
    objects: int = 0  # objects created or updated
    note: str = ""

    @property
    def reads(self) -> int:
        return self.methods["GET"]

    @property
    def writes(self) -> int:
        return sum(v for k, v in self.methods.items() if k != "GET")


class Instrument:
    """Wraps keystoneauth's Session.request: counts requests by method, auth apart."""

    def __init__(self) -> None:
        self.run: Run | None = None
        real = ksa_session.Session.request
        instrument = self

        lock = threading.Lock()

        def request(sess: Any, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
            if instrument.run is not None:
                with lock:
                    if url.rstrip("/").endswith("/auth/tokens") or re.search(r"/v3/?$", url):
                        instrument.run.auth += 1
                    else:
                        instrument.run.methods[method.upper()] += 1
            return real(sess, url, method, *args, **kwargs)

        ksa_session.Session.request = request  # type: ignore[method-assign,assignment]

    @contextlib.contextmanager
    def measure(self, run: Run, dk: DevKeystone) -> Iterator[Run]:
        before, busy = access_log(dk)
        self.run = run
        t0 = time.perf_counter()
        try:
            yield run
        finally:
            run.seconds = time.perf_counter() - t0
            self.run = None
            after, busy2 = access_log(dk)
            run.logged, run.server_seconds = after - before, busy2 - busy


_ACCESS = re.compile(r'"(GET|POST|PATCH|PUT|DELETE|HEAD) \S+ HTTP/1\.[01]" \d+ \S+(?: (\d+)ms)?')


def access_log(dk: DevKeystone) -> tuple[int, float]:
    """Requests in Keystone's access log so far, and the sum of their server time in seconds."""
    time.sleep(0.05)  # let the server's log handler flush the last line
    n, ms = 0, 0.0
    with dk.log_file.open(errors="replace") as f:
        for line in f:
            m = _ACCESS.search(line)
            if m:
                n += 1
                ms += float(m.group(2) or 0)
    return n, ms / 1000


def access_lines(dk: DevKeystone) -> int:
    return access_log(dk)[0]


def use(dk: DevKeystone, url: str | None = None) -> None:
    """Talk to ``dk`` as OS_* says, at ``url`` (the delaying proxy) when given."""
    for key in [k for k in os.environ if k.startswith("OS_")]:
        del os.environ[key]
    os.environ.update(dk.env())
    if url:
        os.environ["OS_AUTH_URL"] = url
    os.environ["OS_CLIENT_CONFIG_FILE"] = os.devnull


def regionctl(*args: str) -> int:
    """regionctl in-process (no interpreter start-up in the figure), output discarded."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        try:
            regionctl_main(list(args))
        except SystemExit as exc:
            if exc.code:
                raise RuntimeError(f"regionctl {' '.join(args)} failed: {err.getvalue().strip()}") from None
            return 0
    return 0


# ---- (a) the Ansible openstack.cloud way -------------------------------------------------------


def ansible_like(cat: Catalog) -> int:
    """Per object: find, then create or update; returns objects written."""
    import warnings

    import openstack

    warnings.filterwarnings("ignore")
    conn = openstack.connect(load_envvars=True, identity_endpoint_override=os.environ["OS_AUTH_URL"])
    idn: Any = conn.identity
    written = 0
    for r in cat.regions:  # openstack.cloud.region
        if idn.find_region(r.id) is None:
            idn.create_region(id=r.id, description=r.description, parent_region_id=r.parent)
            written += 1
    services = {}
    for s in cat.services:  # openstack.cloud.catalog_service
        found = idn.find_service(s.name)
        if found is None:
            found = idn.create_service(type=s.type, name=s.name)
            written += 1
        services[s.key] = found
    for e in cat.endpoints:  # openstack.cloud.endpoint
        service = idn.find_service(e.name)
        region = idn.find_region(e.region)
        have = list(idn.endpoints(service_id=service.id, interface=e.interface, region_id=region.id))
        if not have:
            idn.create_endpoint(service_id=service.id, interface=e.interface, region_id=region.id, url=e.url)
            written += 1
        elif have[0].url != e.url:
            idn.update_endpoint(have[0], url=e.url)
            written += 1
    return written


# ---- (t) the Terraform way -------------------------------------------------------------------


@dataclass
class TfState:
    """What a Terraform state holds after apply: every resource's ID and attributes."""

    regions: dict[str, Region] = field(default_factory=dict)
    services: dict[tuple[str, str], str] = field(default_factory=dict)  # key -> id
    endpoints: dict[tuple[str, str, str, str], tuple[str, str]] = field(default_factory=dict)  # key -> (id, url)


def terraform_like(cat: Catalog, state: TfState, parallelism: int = 10) -> int:
    """``terraform apply`` with the OpenStack provider: refresh, diff, write; returns objects written.

    Refresh reads each resource in the state by ID (``GET /regions/{id}`` ...), ``parallelism``
    at a time; then creates and updates run ``parallelism`` at a time, each after the
    resources it references (an endpoint after its region and service, a region after its
    parent), as Terraform walks its graph.
    """
    ks = connect()
    ks.set_parallel(parallelism)
    with ThreadPoolExecutor(parallelism) as pool:  # refresh
        reads = [pool.submit(ks.call, "GET", f"/regions/{rid}") for rid in state.regions]
        reads += [pool.submit(ks.call, "GET", f"/services/{sid}") for sid in state.services.values()]
        urls = {}
        futures = {key: pool.submit(ks.call, "GET", f"/endpoints/{eid}") for key, (eid, _) in state.endpoints.items()}
        for f in reads:
            f.result()
        for key, f in futures.items():
            body = f.result() or {}
            urls[key] = body.get("endpoint", {}).get("url")
    written = 0
    lock = threading.Lock()
    with ThreadPoolExecutor(parallelism) as pool:
        done: dict[str, Future[Any]] = {}

        def after(*names: str) -> None:
            for n in names:
                if n in done:
                    done[n].result()

        def region(r: Region) -> None:
            nonlocal written
            after(f"region:{r.parent}")
            ks.create_region(r)
            with lock:
                state.regions[r.id] = r
                written += 1

        def service(sv: Any) -> None:
            nonlocal written
            sid = ks.create_service(sv)
            with lock:
                state.services[sv.key] = sid
                written += 1

        def endpoint(e: Any) -> None:
            nonlocal written
            after(f"region:{e.region}", f"service:{e.type}/{e.name}")
            if e.key in state.endpoints:
                ks.update_endpoint(replace(e, id=state.endpoints[e.key][0]))
                eid = state.endpoints[e.key][0]
            else:
                eid = ks.create_endpoint(e, state.services[(e.type, e.name)])
            with lock:
                state.endpoints[e.key] = (eid, e.url)
                written += 1

        for r in cat.regions:  # submitted in graph order, so what a task waits for is always ahead of it
            if r.id not in state.regions:
                done[f"region:{r.id}"] = pool.submit(region, replace(r, managed=True))
        for sv in cat.services:
            if sv.key not in state.services:
                done[f"service:{sv.type}/{sv.name}"] = pool.submit(service, sv)
        for e in cat.endpoints:
            if e.key not in state.endpoints or urls.get(e.key) != e.url:
                done[f"endpoint:{e.label()}"] = pool.submit(endpoint, e)
        for f in list(done.values()):
            f.result()
    return written


def adopt(state: TfState, live: Catalog) -> None:
    """Put what bootstrap made (R00's region, identity service and endpoints) in the state, as an import."""
    for r in live.regions:
        state.regions[r.id] = r
    for sv in live.services:
        if sv.id:
            state.services[sv.key] = sv.id
    for e in live.endpoints:
        if e.id:
            state.endpoints[e.key] = (e.id, e.url)


# ---- the runs ----------------------------------------------------------------------------------


class Bench:
    """One Keystone (W workers) behind one delaying proxy at a time; the empty state kept aside."""

    def __init__(self, tmp: Path, workers: int) -> None:
        self.tmp, self.workers = tmp, workers
        self.data = tmp / "keystone"
        self.dk = start(self.data, region="R00", workers=workers)
        self.dk.stop()
        shutil.copy2(self.data / DB_FILE, tmp / "empty.db")
        self.dk = start(self.data, region="R00", workers=workers)
        self.proxy: subprocess.Popen[str] | None = None
        self.url = self.dk.url

    def empty(self) -> None:
        """Keystone as bootstrap left it: stop, put the saved database back, start on the same port."""
        port = self.dk.port
        self.dk.stop()
        shutil.copy2(self.tmp / "empty.db", self.data / DB_FILE)
        self.dk = start(self.data, region="R00", port=port, workers=self.workers)

    def delay(self, ms: float) -> None:
        """Put a proxy adding ``ms`` each way between us and Keystone (0: still through the proxy)."""
        self.close_proxy()
        tool = Path(__file__).resolve().parent.parent / "tools" / "faultproxy.py"
        self.proxy = subprocess.Popen([sys.executable, str(tool), "--upstream", f"127.0.0.1:{self.dk.port}",
                                       "--delay-ms", str(ms)], stdout=subprocess.PIPE, text=True)
        assert self.proxy.stdout is not None
        line = self.proxy.stdout.readline()
        self.url = f"http://127.0.0.1:{int(line.split()[-1])}/v3"
        use(self.dk, self.url)

    def close_proxy(self) -> None:
        if self.proxy is not None:
            self.proxy.terminate()
            self.proxy.wait(10)
            self.proxy = None

    def close(self) -> None:
        self.close_proxy()
        self.dk.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Defaults sized to finish in ~10 minutes on 2 busy cores; the full shape is
    # --regions 50 --delays 0,10,25 (each from-empty run then writes 854 objects).
    ap.add_argument("--regions", type=int, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--delays", default="0,25", help="one-way delays in ms, comma-separated (at most 1000)")
    ap.add_argument("--ansible-regions", type=int, default=1)
    args = ap.parse_args()
    n, delays = args.regions, [float(d) for d in args.delays.split(",")]
    inst = Instrument()
    runs: list[Run] = []
    tmp = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    print(f"catalog bench: {n} regions x {TYPES_PER_REGION} types x 2 interfaces = {n * TYPES_PER_REGION * 2} "
          f"endpoints, Keystone with {args.workers} workers, one-way delays {delays} ms; scratch {tmp}",
          file=sys.stderr)
    bench = Bench(tmp, args.workers)
    t_all = time.perf_counter()
    try:
        site = write_site(tmp / "site", n, bench.dk.url)
        changed = write_site(tmp / "site-changed", n, bench.dk.url, changed=True)
        small = write_site(tmp / "site-small", args.ansible_regions, bench.dk.url)
        small_changed = write_site(tmp / "site-small-changed", args.ansible_regions, bench.dk.url, changed=True)
        want = desired_of(site)
        for d in delays:
            tag = f"{2 * d:g} ms"
            for par in (1, 10):
                bench.empty()
                bench.delay(d)
                with inst.measure(Run(f"{tag} regionctl --parallel {par}, from empty"), bench.dk) as r:
                    regionctl("catalog", "apply", "-s", str(site), "--yes", "--parallel", str(par))
                r.objects = r.writes
                runs.append(r)
                print(f"  {r.name}: {r.seconds:.1f} s", file=sys.stderr)
            for name, s_ in (("converged", site), ("one URL changed", changed)):
                with inst.measure(Run(f"{tag} regionctl, {name}"), bench.dk) as r:
                    regionctl("catalog", "apply", "-s", str(s_), "--yes")
                r.objects = r.writes
                runs.append(r)
            # (t): its own empty Keystone, state from its own applies
            bench.empty()
            bench.delay(d)
            state = TfState()
            adopt(state, connect().read())
            for name, s_ in (("from empty", site), ("converged", site), ("one URL changed", changed)):
                with inst.measure(Run(f"{tag} (t) terraform-style, {name}"), bench.dk) as r:
                    r.objects = terraform_like(desired_of(s_), state)
                runs.append(r)
            print(f"  {tag} terraform-style done", file=sys.stderr)
            # (a): serial, on the small site, scaled
            bench.empty()
            bench.delay(d)
            for name, s_ in (("from empty", small), ("converged", small), ("one URL changed", small_changed)):
                with inst.measure(Run(f"{tag} (a) ansible-style, {name}"), bench.dk) as r:
                    r.objects = ansible_like(desired_of(s_))
                r.note = f"{args.ansible_regions} regions"
                runs.append(r)
            print(f"  {tag} ansible-style done", file=sys.stderr)
    finally:
        bench.close()
    print_table(n, args, runs, len(want.endpoints), time.perf_counter() - t_all)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def print_table(n: int, args: Any, runs: list[Run], endpoints: int, total: float) -> None:
    import importlib.metadata as md

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"keystone {md.version('keystone')}, gunicorn {md.version('gunicorn')}; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"site: {n} regions x {TYPES_PER_REGION} catalog types x 2 interfaces = {endpoints} endpoints; "
          f"Keystone: {args.workers} gunicorn workers, SQLite; bench took {total:.0f} s")
    scale = n / args.ansible_regions
    header = (f"{'round trip / run':<48} {'seconds':>8} {'GET':>5} {'writes':>6} {'server req/s':>12} "
              f"{'server busy':>11}  note")
    print(header)
    print("-" * len(header))
    by = {r.name: r for r in runs}
    for r in runs:
        notes = [r.note] if r.note else []
        if "(a)" in r.name:
            notes.append(f"x{scale:g} for {n} regions: ~{r.seconds * scale:.0f} s")
        tag = r.name.split(" ", 2)[:2]
        base = by.get(f"{' '.join(tag)} regionctl --parallel 1, from empty")
        if r.name.endswith("--parallel 10, from empty") and base:
            notes.append(f"{base.seconds / r.seconds:.1f}x faster than --parallel 1")
        if "(t)" in r.name:
            mine = by.get(f"{' '.join(tag)} regionctl" + (" --parallel 10, from empty" if "empty" in r.name
                                                           else ", " + r.name.split(", ", 1)[1]))
            if mine:
                notes.append(f"{r.seconds / mine.seconds:.1f}x regionctl's time")
        rate = r.logged / r.seconds if r.seconds else 0
        busy = r.server_seconds / (args.workers * r.seconds) if r.seconds else 0
        print(f"{r.name:<48} {r.seconds:>8.2f} {r.reads:>5} {r.writes:>6} {rate:>12.1f} {busy:>10.0%}  "
              + "; ".join(notes))


if __name__ == "__main__":
    sys.exit(main())
