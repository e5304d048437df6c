"""Fuzzing site loading and rendering (hypothesis): whatever a site holds, every command ends in
exit 0 or 1 with one-line messages, never an internal error, never a secret, never a write
outside -o OUT, in bounded time.

In the suite: a fixed seed and a few dozen examples (well under a minute). ``make fuzz`` runs
many more (REGIONCTL_FUZZ_EXAMPLES, REGIONCTL_FUZZ_SEED) and prints the figures: inputs, crashes,
internal errors, max memory, max time.
"""

from __future__ import annotations

import io
import os
import resource
import stat
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from conftest import SECRETS, SITE
from regionctl.cli.main import main

EXAMPLES = int(os.environ.get("REGIONCTL_FUZZ_EXAMPLES", "30"))
SECRET_TOKEN = "SEKRIT"  # planted only where a value is secret: secrets files and URL passwords
URL_PASSWORD = "SEKRITURL"

NAMES = ["One", "Two", "RegionOne", "r-3.x_y", "../escaped", "../../escaped", "/escaped-abs", "..", ".", "",
         "a/b", "Tw\x00o", "x\ny", "tab\tbed", "a b", "é", "R" * 300, "{name}", "*a", "&a", "~", "-", "null", "1",
         "escaped"]
TOKENS = ["../", "/", "\x00", "\r", "\n", "\r\n", "\t", "{", "}", "{name}", "{port}", "{name.x}", "{0}", "{}",
          "[::1", "]", "$", "$state_path", "$$", "%", "%40", "'", '"', ":", ": ", "- ", "#", "&a", "*a", "<<",
          "\\", "\u2028", "\ufeff", "é", "😀", "\x7f", "\x1b[31m", ",", "=", "[DEFAULT]", "0x10", "1e999", "nan",
          "-1", "99999999999999999999", "yes", "~"]
URLS = ["http://192.0.2.1", "https://{name}.example.com", "http://[::1", "http://[::1]", f"http://u:{URL_PASSWORD}@h",
        f"https://admin:{URL_PASSWORD}@192.0.2.8/x", "ftp://x", "192.0.2.9", "http://h:99999", "http://h:abc",
        "http://{bogus}", "http://{name.x}", "http://h/path", "", "http://", "http:///x", "//h", "http://h h",
        "{name}", "{", "http://{name}:{port}"]
SERVICES = ["keystone", "nova", "placement", "neutron", "glance", "cinder", "horizon", "bogus", "Nova", ""]
OPTIONS = ["host", "debug", "state_path", "my_ip", "cpu_allocation_ratio", "transport_url", "enabled_backends",
           "region_name", "os_region_name", "password", "replication_device", "bogus_opt", "", "x\ny"]
SECTIONS = ["DEFAULT", "database", "placement", "keystone_authtoken", "neutron", "lvm", "bogus", "", "a\rb"]
CONF_KEYS = ["nova", "nova_compute", "placement", "neutron", "glance", "cinder", "keystone", "policy", "bogus"]

hostile_str = st.one_of(
    st.text(max_size=20),
    st.sampled_from(TOKENS + NAMES + URLS),
    st.lists(st.sampled_from(TOKENS + ["a", "b", "1"]), min_size=1, max_size=6).map("".join),
)
scalar = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                   st.floats(allow_nan=True, allow_infinity=True), hostile_str)
key = st.one_of(st.sampled_from(OPTIONS + SECTIONS + CONF_KEYS + ["conf", "passwords"]), hostile_str)
tree = st.recursive(scalar, lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(key, c, max_size=4)),
                    max_leaves=16)


@st.composite
def region(draw: Any) -> dict[str, Any]:
    r: dict[str, Any] = {}
    if draw(st.booleans()):
        r["addresses"] = draw(st.dictionaries(st.sampled_from(["public", "internal", "admin", "bogus"]),
                                              st.one_of(st.sampled_from(URLS), scalar), max_size=3))
    r["services"] = draw(st.one_of(
        st.dictionaries(st.sampled_from(SERVICES), st.one_of(st.none(), st.fixed_dictionaries({}, optional={
            "catalog": st.lists(st.sampled_from(["compute", "volumev3", "identity", "bogus"]), max_size=2),
            "urls": st.dictionaries(st.sampled_from(["compute", "identity", "volumev3", "bogus"]),
                                    st.one_of(st.sampled_from(URLS), st.dictionaries(
                                        st.sampled_from(["public", "internal", "admin", "x"]),
                                        st.sampled_from(URLS), max_size=2)), max_size=2)}), tree), max_size=5),
        tree))
    for k, strat in [("parent", st.one_of(st.sampled_from(NAMES), scalar)), ("description", scalar),
                     ("infra", st.one_of(st.fixed_dictionaries({}, optional={
                         "database": st.one_of(st.sampled_from(URLS), scalar),
                         "messaging": st.one_of(st.lists(st.sampled_from(URLS), max_size=2),
                                                st.just(f"rabbit://u:{URL_PASSWORD}@mq"), scalar),
                         "memcached": st.lists(hostile_str, max_size=2)}), tree)),
                     ("nodes", st.one_of(st.lists(st.fixed_dictionaries(
                         {"name": hostile_str, "roles": st.lists(st.sampled_from(
                             ["control", "network", "hypervisor", "x"]), max_size=2)}), max_size=2), tree)),
                     ("bogus", tree)]:
        if draw(st.integers(0, 4)) == 0:
            r[k] = draw(strat)
    return r


@st.composite
def near_valid_site(draw: Any, most: int = 3) -> Any:
    """The suite's valid two-region site with a few things replaced: most runs get past site.yaml."""
    doc = yaml.safe_load(SITE)
    for _ in range(draw(st.integers(0, most))):
        r = doc["regions"][draw(st.sampled_from(sorted(doc["regions"])))]
        what = draw(st.sampled_from(["public", "internal", "service", "parent", "description", "infra", "rename"]))
        if what in ("public", "internal"):
            r.setdefault("addresses", {})[what] = draw(st.one_of(st.sampled_from(URLS), scalar))
        elif what == "service":
            r["services"][draw(st.sampled_from(SERVICES))] = draw(st.one_of(st.none(), tree))
        elif what == "infra":
            r["infra"] = {draw(st.sampled_from(["database", "messaging", "memcached"])):
                          draw(st.one_of(st.sampled_from(URLS), st.lists(st.sampled_from(URLS), max_size=2), scalar))}
        elif what == "rename":
            name = draw(st.sampled_from(NAMES))
            doc["regions"] = {(name if k == "Two" else k): v for k, v in doc["regions"].items()}
        else:
            r[what] = draw(st.one_of(st.sampled_from(NAMES), scalar))
    return doc


@st.composite
def site_doc(draw: Any) -> Any:
    if draw(st.booleans()):
        return draw(near_valid_site())
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    doc: dict[str, Any] = {"format": draw(st.sampled_from([1, 1, 1, 2, "1", None]))}
    doc["regions"] = {n: draw(region()) for n in names}
    first = next(iter(doc["regions"].values()))
    if isinstance(first.get("services"), dict) and draw(st.booleans()):
        first["services"]["keystone"] = None
    for k, strat in [("release", st.sampled_from(["2026.2", "2024.1", "bogus", None])),
                     ("service_users", st.sampled_from(["shared", "per-region", "x"])), ("extra", tree)]:
        if draw(st.integers(0, 3)) == 0:
            doc[k] = draw(strat)
    return doc if draw(st.integers(0, 15)) else draw(tree)


def conf_doc() -> Any:
    option = st.dictionaries(st.sampled_from(OPTIONS), scalar, max_size=3)
    return st.one_of(
        st.fixed_dictionaries({"conf": st.dictionaries(st.sampled_from(CONF_KEYS), st.dictionaries(
            st.sampled_from(SECTIONS), st.one_of(option, scalar), max_size=2), max_size=2)}),
        tree)


@st.composite
def secrets_doc(draw: Any) -> Any:
    doc = yaml.safe_load(SECRETS)
    pw = doc["passwords"]
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(["keystone_admin", "messaging", "service_users", "databases"]))
        planted = draw(st.one_of(
            st.sampled_from([SECRET_TOKEN + "1", SECRET_TOKEN + "$x", SECRET_TOKEN + "\r", SECRET_TOKEN + "%40@:/",
                             "\n" + SECRET_TOKEN, SECRET_TOKEN + "${y}"]),
            st.one_of(st.none(), st.booleans(), st.lists(st.just(SECRET_TOKEN + "l"), max_size=2),
                      st.integers())))
        if where in ("service_users", "databases"):
            pw[where][draw(st.sampled_from(sorted(pw[where])))] = planted
        else:
            pw[where] = planted
    if draw(st.booleans()):
        doc["conf"] = {"nova": {"DEFAULT": {draw(st.sampled_from(OPTIONS)): SECRET_TOKEN + "c"},
                                "placement": {"region_name": SECRET_TOKEN + "r"}}}
    return doc if draw(st.integers(0, 10)) else draw(tree)


def dump(doc: Any, flow: bool = False) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, default_flow_style=flow, sort_keys=False)

SNIPPETS = ["&a ", "*a", "*b", "<<: *a\n", "\t", "\x00", "[[[[", "{{", "? ", "!!python/object:os.system ", "%YAML 1.1\n",
            "--- ", "...\n", "|\n", ">\n", "'", '"', "\ufeff", "key: &a [*a]\n", "x: !!binary ZZZ\n",
            "d: 2026-02-30\n", "n: 0o99\n", "- \n", ": \n"]
BOMB = "".join(f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 9 if i else ["x"] * 9) + "]\n" for i in range(9))


@st.composite
def mutated(draw: Any, text: str, chaos: int = 2) -> bytes:
    """A document's text, maybe broken at the YAML level: truncated, a snippet inserted, a line doubled."""
    kind = draw(st.integers(0, 9)) if chaos else 9
    data = text.encode("utf-8", "surrogatepass")
    if kind == 0 and data:
        return data[: draw(st.integers(0, len(data)))]
    if kind == 1:
        at = draw(st.integers(0, len(text)))
        return (text[:at] + draw(st.sampled_from(SNIPPETS)) + text[at:]).encode("utf-8", "surrogatepass")
    if kind == 2:
        lines = text.splitlines(keepends=True)
        if lines:
            i = draw(st.integers(0, len(lines) - 1))
            return "".join(lines[: i + 1] + lines[i:]).encode("utf-8", "surrogatepass")
    if kind == 3:
        return data + draw(st.sampled_from([BOMB.encode(), b"deep: " + b"[" * 400 + b"]" * 400 + b"\n",
                                            b"\xff\xfe\x00bin", b"x: " + b"[" * 80 + b"]" * 80 + b"\n"]))
    return data


FILE_KINDS = ["file"] * 12 + ["fifo", "dir", "loop", "zero", "dangling", "empty"]


@dataclass
class Stats:
    inputs: int = 0
    runs: int = 0
    crashes: int = 0
    internal: int = 0
    succeeded: dict[str, int] = field(default_factory=dict)
    max_time: float = 0.0
    slowest: str = ""
    failures: list[str] = field(default_factory=list)


STATS = Stats()


def place(path: Path, kind: str, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    elif kind == "loop":
        os.symlink(path.name, path)
    elif kind == "zero":
        os.symlink("/dev/zero", path)
    elif kind == "dangling":
        os.symlink("nowhere", path)
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(data)


#: errors about the command line (explain -r REGION), not about a file
ABOUT_THE_COMMAND = ("regionctl: error: unknown region ", "regionctl: error: region ")


def run_cli(args: list[str]) -> tuple[int, str, float]:
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    code = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(args)
        except SystemExit as exc:
            code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
        except BaseException as exc:  # noqa: BLE001 - a crash past the catch-all is what we look for
            STATS.crashes += 1
            return -1, f"CRASH {type(exc).__name__}: {exc}", time.perf_counter() - started
    return code, out.getvalue() + err.getvalue(), time.perf_counter() - started


def snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@st.composite
def site_files(draw: Any) -> dict[str, tuple[str, bytes]]:
    """A site's files and what each is (a file, a FIFO, a loop...); ``chaos`` 0 keeps them all files."""
    chaos = draw(st.sampled_from([0, 0, 1, 2]))
    kinds = st.just("file") if chaos == 0 else st.sampled_from(FILE_KINDS if chaos == 2 else ["file"] * 30 + FILE_KINDS)
    doc = draw(near_valid_site(1) if chaos == 0 else site_doc())
    files: dict[str, tuple[str, bytes]] = {"site.yaml": (draw(kinds), draw(mutated(dump(doc, draw(st.booleans())),
                                                                                  chaos)))}
    regions = list(doc["regions"]) if isinstance(doc, dict) and isinstance(doc.get("regions"), dict) else ["One"]
    for r in regions:
        if "/" in r or "\x00" in r or r in ("", ".", "..") or len(r.encode()) > 255:
            continue  # no such directory can exist
        secrets = draw(secrets_doc()) if chaos or draw(st.booleans()) else yaml.safe_load(SECRETS)
        files[f"regions/{r}/secrets.yaml"] = (draw(kinds), dump(secrets).encode())
        if draw(st.integers(0, 2 if chaos else 4)) == 0:
            files[f"regions/{r}/{draw(st.sampled_from(SERVICES[:6] + ['global']))}.yaml"] = (
                draw(kinds), draw(mutated(dump(draw(conf_doc())), chaos)))
    for name in draw(st.lists(st.sampled_from(["global", "nova", "cinder", "secrets", "x"]), max_size=2 if chaos else 1,
                              unique=True)):
        files[f"values/{name}.yaml"] = (draw(kinds), draw(mutated(dump(draw(conf_doc())), chaos)))
    if chaos and draw(st.integers(0, 12)) == 0:
        files["values"] = (draw(st.sampled_from(["file", "loop", "dangling"])), b"conf: {}\n")
        files = {k: v for k, v in files.items() if not k.startswith("values/")}
    return files


def check_one(files: dict[str, tuple[str, bytes]], fmt: str) -> None:
    STATS.inputs += 1
    with tempfile.TemporaryDirectory(prefix="regionctl-fuzz-") as tmp:
        sandbox = Path(tmp)
        root, out = sandbox / "site", sandbox / "deep" / "out"
        root.mkdir()
        for rel, (kind, data) in files.items():
            place(root / rel, kind, data)
        before = snapshot(root)
        first = next((r for r in ("One", "Two", "RegionOne") if f"regions/{r}/secrets.yaml" in files), "One")
        for args in (["validate", "-s", str(root)],
                     ["render", "-s", str(root), "-o", str(out), "--format", fmt],
                     ["render", "-s", str(root), "-o", str(out), "--format", fmt, "--force"],
                     ["explain", "-s", str(root), "-r", first, "nova.conf:DEFAULT.host"]):
            code, text, took = run_cli(args)
            STATS.runs += 1
            if took > STATS.max_time:
                STATS.max_time, STATS.slowest = took, f"{args[0]} {sorted(files)}"
            what = f"{args[:1]} on {files!r}"
            if code == 0:
                STATS.succeeded[args[0] + (" --force" if "--force" in args else "")] = \
                    STATS.succeeded.get(args[0] + (" --force" if "--force" in args else ""), 0) + 1
            if "internal error" in text:
                STATS.internal += 1
            assert code in (0, 1), f"{what}: exit {code}: {text[-2000:]}"
            assert "internal error" not in text and "Traceback" not in text, f"{what}: {text[-2000:]}"
            assert SECRET_TOKEN not in text.replace(URL_PASSWORD, ""), f"{what}: a secret was printed: {text[-2000:]}"
            assert f":{URL_PASSWORD}@" not in text, f"{what}: a URL password was printed: {text[-2000:]}"
            assert "\x00" not in text and "\r" not in text, f"{what}: a control character reached the terminal"
            for line in text.splitlines():  # a problem in a file names the file
                if "error" in line and not line.startswith((str(root), f"regionctl: error: {root}")):
                    assert line.startswith(ABOUT_THE_COMMAND) or "(above)" in line, f"{what}: no FILE in {line!r}"
        # nothing outside OUT: the site is as it was, and the sandbox holds only the site and OUT
        assert snapshot(root) == before, "the site directory was changed"
        outside = {str(p.relative_to(sandbox)) for p in sandbox.rglob("*")
                   if not (p == out or out in p.parents or p == root or root in p.parents)}
        assert outside <= {"deep"}, f"written outside OUT: {sorted(outside)}"
        if out.exists():
            for p in [out, *out.rglob("*")]:
                mode = stat.S_IMODE(p.lstat().st_mode)
                if p.is_dir():
                    assert mode in (0o700, 0o755), (p, oct(mode))
                else:
                    assert mode in (0o600, 0o644) and not p.name.startswith(".regionctl"), (p, oct(mode))


#: in the suite, a failure is reported as found (shrinking can take minutes); ``make fuzz`` shrinks
PHASES = [Phase.explicit, Phase.generate] + ([Phase.shrink] if os.environ.get("REGIONCTL_FUZZ_SHRINK") else [])


@seed(int(os.environ.get("REGIONCTL_FUZZ_SEED", "18")))
@settings(max_examples=EXAMPLES, deadline=None, database=None, phases=PHASES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(files=site_files(), fmt=st.sampled_from(["plain", "kolla", "helm"]))
def test_fuzz_site_loading_and_rendering(files: dict[str, tuple[str, bytes]], fmt: str) -> None:
    check_one(files, fmt)


@pytest.fixture(scope="module", autouse=True)
def _report() -> Any:
    yield
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line = (f"fuzz: {STATS.inputs} inputs, {STATS.runs} command runs, {STATS.crashes} crashes, "
            f"{STATS.internal} internal errors, exit 0: {STATS.succeeded}, max memory {rss:.0f} MB (whole process), "
            f"max time {STATS.max_time:.2f} s ({STATS.slowest[:120]})")
    sys.__stderr__.write("\n" + line + "\n")
    report = os.environ.get("REGIONCTL_FUZZ_REPORT")
    if report:
        Path(report).write_text(line + "\n")
