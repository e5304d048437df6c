"""Benchmark (not a test): regionctl's catalog apply against the per-endpoint ways, on a real Keystone.

A synthetic site of N regions (default 50) x 8 catalog types x 2 interfaces, applied to a fresh
dev Keystone three times: from empty, converged, and after one URL changed. Side by side:

  (a) the Ansible ``openstack.cloud.endpoint`` way: per endpoint, find the service, find the
      region, list the endpoints filtered by service/interface/region, then create or update
      (per region and service the ``region``/``catalog_service`` modules' find-then-create).
      Run in one process with one token, which flatters it: real Ansible starts a module
      process and authenticates once per task.
  (b) the seed-001 way: one ``openstack ... create`` process per object, for a 2-region
      subset, next to regionctl applying the same subset.

HTTP requests are counted by wrapping keystoneauth's Session.request (in-process runs) and
from Keystone's access log (every run, including the openstack processes). Everything talks
to 127.0.0.1 only; run it the way the tests run:

    unshare -n sh -c 'ip link set lo up && .venv/bin/python bench/catalog_bench.py'
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
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keystoneauth1 import session as ksa_session

from regionctl.catalog.desired import desired_catalog
from regionctl.catalog.live import connect
from regionctl.catalog.model import Catalog
from regionctl.catalog.plan import plan
from regionctl.cli.main import main as regionctl_main
from regionctl.devkeystone import DevKeystone, start
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

        def request(sess: Any, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
            if instrument.run is not None:
                if url.rstrip("/").endswith("/auth/tokens") or re.search(r"/v3/?$", url):
                    instrument.run.auth += 1
                else:
                    instrument.run.methods[method.upper()] += 1
            return real(sess, url, method, *args, **kwargs)

        ksa_session.Session.request = request  # type: ignore[method-assign,assignment]

    @contextlib.contextmanager
    def measure(self, run: Run, dk: DevKeystone) -> Iterator[Run]:
        before = access_lines(dk)
        self.run = run
        t0 = time.perf_counter()
        try:
            yield run
        finally:
            run.seconds = time.perf_counter() - t0
            self.run = None
            run.logged = access_lines(dk) - before


_ACCESS = re.compile(r'INFO werkzeug .*"(GET|POST|PATCH|PUT|DELETE|HEAD) ')


def access_lines(dk: DevKeystone) -> int:
    time.sleep(0.05)  # let the server's log handler flush the last line
    with dk.log_file.open(errors="replace") as f:
        return sum(1 for line in f if _ACCESS.search(line))


def use(dk: DevKeystone) -> None:
    for key in [k for k in os.environ if k.startswith("OS_")]:
        del os.environ[key]
    os.environ.update(dk.env())
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


# ---- (b) one openstack process per object ------------------------------------------------------


def osc_per_object(cat: Catalog, live: Catalog) -> tuple[int, float]:
    """``openstack region/service/endpoint create`` per missing object (seed 001); returns count, seconds."""
    exe = str(Path(sys.executable).with_name("openstack"))
    env = dict(os.environ, OS_IDENTITY_ENDPOINT_OVERRIDE=os.environ["OS_AUTH_URL"])
    have_regions = {r.id for r in live.regions}
    have_services = {s.key for s in live.services}
    have_eps = {e.key for e in live.endpoints}
    cmds = [["region", "create", r.id, "--description", r.description] + (["--parent-region", r.parent] if r.parent else [])
            for r in cat.regions if r.id not in have_regions]
    cmds += [["service", "create", "--name", s.name, s.type] for s in cat.services if s.key not in have_services]
    cmds += [["endpoint", "create", "--region", e.region, e.name, e.interface, e.url]
             for e in cat.endpoints if e.key not in have_eps]
    t0 = time.perf_counter()
    for c in cmds:
        subprocess.run([exe, *c], env=env, check=True, stdout=subprocess.DEVNULL)
    return len(cmds), time.perf_counter() - t0


# ---- the runs ----------------------------------------------------------------------------------


def fresh_keystone(tmp: Path, name: str) -> DevKeystone:
    return start(tmp / name, region="R00")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regions", type=int, default=50)
    args = ap.parse_args()
    n = args.regions
    inst = Instrument()
    runs: list[Run] = []
    tmp = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    print(f"catalog bench: {n} regions x {TYPES_PER_REGION} types x 2 interfaces = "
          f"{n * TYPES_PER_REGION * 2} endpoints; scratch {tmp}", file=sys.stderr)

    # regionctl on the full site
    dk = fresh_keystone(tmp, "k-regionctl")
    try:
        use(dk)
        site = write_site(tmp / "site", n, dk.url)
        changed = write_site(tmp / "site-changed", n, dk.url, changed=True)
        want = desired_of(site)
        creates = len(plan(want, connect().read()).changes)
        for name, s, objects in (("regionctl apply, from empty", site, creates),
                                 ("regionctl apply, converged", site, 0),
                                 ("regionctl apply, one URL changed", changed, 1)):
            with inst.measure(Run(name, objects=objects), dk) as r:
                regionctl("catalog", "apply", "-s", str(s), "--yes")
            runs.append(r)
        with inst.measure(Run("regionctl plan, converged"), dk) as r:
            regionctl("catalog", "plan", "-s", str(changed), "--detailed-exitcode")
        runs.append(r)
        t0 = time.perf_counter()
        p = subprocess.run([str(Path(sys.executable).with_name("regionctl")), "catalog", "plan", "-s", str(changed),
                            "--detailed-exitcode"], capture_output=True, text=True, env=dict(os.environ))
        cli_seconds = time.perf_counter() - t0
        assert p.returncode == 0, p.stderr
        runs.append(Run("regionctl plan, converged (own process)", seconds=cli_seconds, note="incl. Python start-up"))
    finally:
        dk.stop()

    # (a) per-endpoint look-up-then-create, on its own fresh Keystone
    dk = fresh_keystone(tmp, "k-ansible")
    try:
        use(dk)
        site = write_site(tmp / "site-a", n, dk.url)
        changed = write_site(tmp / "site-a-changed", n, dk.url, changed=True)
        for name, s in (("(a) ansible-style loop, from empty", site), ("(a) ansible-style loop, converged", site),
                        ("(a) ansible-style loop, one URL changed", changed)):
            with inst.measure(Run(name), dk) as r:
                r.objects = ansible_like(desired_of(s))
            runs.append(r)
    finally:
        dk.stop()

    # (b) on a 2-region subset: regionctl, then one openstack process per object
    sub_runs = []
    for label in ("regionctl", "osc"):
        dk = fresh_keystone(tmp, f"k-sub-{label}")
        try:
            use(dk)
            site = write_site(tmp / f"site-sub-{label}", 2, dk.url)
            if label == "regionctl":
                with inst.measure(Run("regionctl apply, 2 regions from empty"), dk) as r:
                    regionctl("catalog", "apply", "-s", str(site), "--yes")
                r.objects = r.writes
            else:
                r = Run("(b) openstack create per object, 2 regions")
                before_log = access_lines(dk)
                r.objects, r.seconds = osc_per_object(desired_of(site), connect().read())
                r.logged = access_lines(dk) - before_log
                r.note = "requests from Keystone's log"
            sub_runs.append(r)
        finally:
            dk.stop()

    print_table(n, runs, sub_runs)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def print_table(n: int, runs: list[Run], sub: list[Run]) -> None:
    import importlib.metadata as md

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"keystone {md.version('keystone')}, openstacksdk {md.version('openstacksdk')}")
    print(f"site: {n} regions x {TYPES_PER_REGION} catalog types x 2 interfaces "
          f"= {n * TYPES_PER_REGION * 2} endpoints, {n} regions, {TYPES_PER_REGION} services")
    header = f"{'run':<44} {'seconds':>8} {'GET':>6} {'writes':>6} {'auth':>5} {'logged':>7} {'objects':>7}  note"
    print(header)
    print("-" * len(header))
    by = {r.name: r for r in runs + sub}
    for r in runs + sub:
        vs = ""
        if r.name.startswith("(a)"):
            mine = by[r.name.replace("(a) ansible-style loop", "regionctl apply")]
            vs = f"{r.seconds / mine.seconds:.0f}x regionctl's time"
        if r.name.startswith("(b)"):
            vs = f"{r.seconds / by['regionctl apply, 2 regions from empty'].seconds:.0f}x regionctl's time"
        note = "; ".join(x for x in (r.note, vs) if x)
        counted = r.reads or r.writes or r.auth
        print(f"{r.name:<44} {r.seconds:>8.2f} {r.reads if counted else '-':>6} {r.writes if counted else '-':>6} "
              f"{r.auth if counted else '-':>5} {r.logged or '-':>7} {r.objects or '-':>7}  {note}")


if __name__ == "__main__":
    sys.exit(main())
