"""Hostile input: each bad site is a row with its exact one-line message and FILE:LINE.

Nothing is written outside -o OUT (with or without --force), nothing unbounded is read, no
"internal error" and no secret in any message. Rows run in-process (fast); the kill -9 test of
the whole-tree render runs real processes.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from conftest import COMPUTE, SECRETS, SITE, make_site, region_yaml, run, site_text
from regionctl.fileio import recover

BOMB = "\n".join(
    ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
) + "\n"


def _deep(n: int) -> str:
    return "conf:\n  x: " + "[" * n + "]" * n + "\n"


def _nested_map(n: int) -> str:
    lines = ["conf:"]
    for i in range(n):
        lines.append("  " * (i + 1) + f"k{i}:")
    lines[-1] += " 1"
    return "\n".join(lines) + "\n"


def _fifo(p: Path) -> None:
    os.mkfifo(p)


def _link(target: str) -> Callable[[Path], None]:
    return lambda p: os.symlink(target, p)


def _loop(p: Path) -> None:
    os.symlink(p.name, p)


def _file(text: str) -> Callable[[Path], None]:
    return lambda p: p.write_text(text)


def _secret(extra: str) -> str:
    return SECRETS + extra


# (name, path in the site, how to make it, expected first error: {root} is the site)
FILE_ROWS: list[tuple[str, str, Callable[[Path], None], str]] = [
    ("site.yaml a FIFO", "site.yaml", _fifo,
     "{root}/site.yaml: error: is a FIFO (named pipe), not a regular file: site files must be regular files "
     "(replace it with the file itself)"),
    ("secrets a FIFO", "regions/One/secrets.yaml", _fifo,
     "{root}/regions/One/secrets.yaml: error: is a FIFO (named pipe), not a regular file: site files must be "
     "regular files (replace it with the file itself)"),
    ("site.yaml -> /dev/zero", "site.yaml", _link("/dev/zero"),
     "{root}/site.yaml: error: is a character device, not a regular file: site files must be regular files "
     "(replace it with the file itself)"),
    ("values file a symlink loop", "values/nova.yaml", _loop,
     "{root}/values/nova.yaml: error: is a symlink loop: fix or remove the link"),
    ("values file dangling", "values/nova.yaml", _link("nowhere.yaml"),
     "{root}/values/nova.yaml: error: is a symlink to nothing: fix or remove the link"),
    ("values/ a file", "values", _file("conf: {}\n"),
     "{root}/values: error: is not a directory: the site keeps values files there; move it away and make a "
     "directory of that name"),
    ("values/ a symlink loop", "values", _loop, "{root}/values: error: is a symlink loop: fix or remove the link"),
    ("regions/ a file", "regions", _file("x\n"),
     "{root}/regions: error: is not a directory: the site keeps one directory per region there; move it away "
     "and make a directory of that name"),
    ("alias bomb in a values file", "values/nova.yaml", _file(BOMB),
     "{root}/values/nova.yaml:5: error: its aliases expand to more than 50000 values (a YAML alias bomb?): "
     "write the values out, or use fewer aliases"),
    ("300 levels of lists", "values/nova.yaml", _file(_deep(300)),
     "{root}/values/nova.yaml:2: error: nested more than 64 levels deep: flatten it "
     "(or raise REGIONCTL_MAX_YAML_DEPTH)"),
    ("100 levels of maps", "values/nova.yaml", _file(_nested_map(100)),
     "{root}/values/nova.yaml:64: error: nested more than 64 levels deep: flatten it "
     "(or raise REGIONCTL_MAX_YAML_DEPTH)"),
    ("impossible date", "values/nova.yaml", _file("conf:\n  nova:\n    DEFAULT:\n      x: 2026-02-30\n"),
     "{root}/values/nova.yaml: error: YAML error: a value cannot be read (an impossible date or number?): quote it"),
    ("password a list", "regions/One/secrets.yaml", _file(SECRETS.replace("nova: nova-pw", "nova: [1]")),
     "{root}/regions/One/secrets.yaml:4: error: passwords.service_users.nova: expected a string, found a list: "
     "quote the password"),
    ("password true", "regions/One/secrets.yaml", _file(SECRETS.replace("messaging: rabbit-pw", "messaging: true")),
     "{root}/regions/One/secrets.yaml:16: error: passwords.messaging: expected a string, found true/false: "
     "quote the password"),
    ("passwords a scalar", "regions/One/secrets.yaml", _file("passwords: hunter2\n"),
     "{root}/regions/One/secrets.yaml:1: error: passwords: expected a map (passwords: {{keystone_admin: ..., ...}}), "
     "found a single value"),
    ("CR in a secret", "regions/One/secrets.yaml", _file(SECRETS.replace("placement: placement-pw",
                                                                         'placement: "pl\\racement"')),
     "{root}/regions/One/secrets.yaml:5: error: nova.conf [placement] password: the value holds a "
     "carriage return, which breaks the INI file: remove it (a YAML '|' or '>' block adds a line break; write "
     "the value on one line)"),
    ("LF in a value", "values/nova.yaml", _file("conf:\n  nova:\n    DEFAULT:\n      state_path: |\n        a\n        b\n"),
     "{root}/values/nova.yaml:4: error: nova.conf [DEFAULT] state_path: the value holds a line break, which breaks the "
     "INI file: remove it (a YAML '|' or '>' block adds a line break; write the value on one line)"),
    ("NUL in a value", "values/nova.yaml", _file('conf:\n  nova:\n    DEFAULT:\n      state_path: "a\\0b"\n'),
     "{root}/values/nova.yaml:4: error: nova.conf [DEFAULT] state_path: the value holds a NUL byte, which breaks the "
     "INI file: remove it (a YAML '|' or '>' block adds a line break; write the value on one line)"),
    ("newline in an option name", "values/nova.yaml", _file('conf:\n  nova:\n    DEFAULT:\n      "ho\\nst": 1\n'),
     "{root}/values/nova.yaml:4: error: nova.conf [DEFAULT] ho\\nst: the name holds a line break, which breaks "
     "the INI file: fix the name"),
    ("secret of the wrong type is not quoted", "regions/One/secrets.yaml",
     _file(_secret("conf:\n  nova:\n    DEFAULT:\n      cpu_allocation_ratio: s3cr3t-ratio\n")),
     "{root}/regions/One/secrets.yaml:20: error: nova.conf [DEFAULT] cpu_allocation_ratio: expected a number, "
     "got the value (masked: it is secret)"),
    ("a secret's $ is literal, so it is checked", "regions/One/secrets.yaml",
     _file(_secret("conf:\n  nova:\n    DEFAULT:\n      cpu_allocation_ratio: $ecret\n")),
     "{root}/regions/One/secrets.yaml:20: error: nova.conf [DEFAULT] cpu_allocation_ratio: expected a number, "
     "got the value (masked: it is secret)"),
]

# (name, site.yaml, expected first error)
SITE_ROWS: list[tuple[str, str, str]] = [
    ("unclosed IPv6 literal", SITE.replace("http://192.0.2.1", '"http://[::1"'),
     "{root}/site.yaml:5: error: regions.One.addresses.public: 'http://[::1' is not a valid URL "
     "(an unclosed '[' of an IPv6 address?): fix the URL"),
    ("credentials in an address", SITE.replace("http://192.0.2.1", "http://admin:hunter2@192.0.2.1"),
     "{root}/site.yaml:5: error: regions.One.addresses.public: 'http://admin:********@192.0.2.1:5000/v3' has "
     "credentials in it: a catalog URL is public to every user; remove the user:password@ part: fix the URL"),
    ("credentials in a service URL", SITE.replace("      nova:\n", "      nova:\n        urls:\n"
                                                  "          compute: https://u:pw@nova.example.com/v2.1\n", 1),
     "{root}/site.yaml:10: error: regions.One.services.nova.urls.compute: 'https://u:********@nova.example.com/v2.1' "
     "has credentials in it: a catalog URL is public to every user; remove the user:password@ part: fix the URL"),
    ("template with an attribute", SITE.replace("http://192.0.2.1", '"http://{name.real}.example.com"'),
     "{root}/site.yaml:5: error: regions.One.addresses.public: 'http://{{name.real}}.example.com' uses unknown "
     "placeholder {{name.real}}: use {{name}}, {{port}}, {{region}}, {{service}}, {{type}}: fix the URL"),
    ("messaging URL where a list belongs", SITE.replace("  Two:\n", "    infra:\n      messaging: "
                                                        "rabbit://u:PASSWORD@mq.example.com:5672\n  Two:\n"),
     "{root}/site.yaml:13: error: regions.One.infra.messaging: input should be a valid list, got "
     "'rabbit://u:********@mq.example.com:5672'"),
    ("a NUL in a region name", SITE.replace("  Two:", '  "Tw\\0o":'),
     "{root}/site.yaml:12: error: region name 'Tw\\x00o' is not a usable Keystone region ID: use letters, digits, "
     "'.', '_' and '-' (it becomes a URL path segment and a directory name)"),
    ("a newline in a region name", SITE.replace("  Two:", '  "Tw\\no":'),
     "{root}/site.yaml:12: error: region name 'Tw\\no' is not a usable Keystone region ID: use letters, digits, "
     "'.', '_' and '-' (it becomes a URL path segment and a directory name)"),
    ("an alias bomb under a region's description",
     SITE.replace("regions:\n", BOMB + "regions:\n").replace("  Two:\n", "  Two:\n    description: *a9\n"),
     "{root}/site.yaml:6: error: its aliases expand to more than 50000 values (a YAML alias bomb?): "
     "write the values out, or use fewer aliases"),
]


def _first_error(text: str) -> str:
    return next((line for line in text.splitlines() if ": error: " in line), "")


def _assert_one_line_failure(r, expected: str) -> None:
    """Exit 1, no internal error, and ``expected`` is one of the error lines, whole."""
    text = r.out + r.err
    assert r.code == 1, text
    assert "internal error" not in text and "Traceback" not in text, text
    assert expected in [line for line in text.splitlines() if ": error: " in line], text


@pytest.mark.parametrize("name,rel,make,expected", FILE_ROWS, ids=[r[0] for r in FILE_ROWS])
def test_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, rel: str,
                  make: Callable[[Path], None], expected: str) -> None:
    root = make_site(tmp_path / "s")
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    make(path)
    r = run(["validate", "-s", str(root)], capsys)
    _assert_one_line_failure(r, expected.format(root=root))


@pytest.mark.parametrize("name,site,expected", SITE_ROWS, ids=[r[0] for r in SITE_ROWS])
def test_bad_site_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, site: str, expected: str) -> None:
    root = make_site(tmp_path / "s", site)
    r = run(["validate", "-s", str(root)], capsys)
    _assert_one_line_failure(r, expected.format(root=root))
    assert "hunter2" not in r.out + r.err and "PASSWORD" not in r.out + r.err and ":pw@" not in r.out + r.err


# (env var, value, file to grow, expected)
LIMIT_ROWS = [
    ("REGIONCTL_MAX_FILE_BYTES", "1000", "values/nova.yaml", "conf: {}\n" + "# padding\n" * 200,
     "{root}/values/nova.yaml: error: is 2009 bytes, over the limit of 1000: split it, or raise "
     "REGIONCTL_MAX_FILE_BYTES"),
    ("REGIONCTL_MAX_YAML_NODES", "50", "values/nova.yaml",
     "conf:\n  nova:\n    DEFAULT:\n" + "".join(f"      opt{i}: {i}\n" for i in range(60)),
     "{root}/values/nova.yaml:4: error: holds more than 50 values: split it, or raise REGIONCTL_MAX_YAML_NODES"),
    ("REGIONCTL_MAX_REGIONS", "1", "site.yaml", SITE,
     "{root}/site.yaml:2: error: declares 2 regions, over the limit of 1: split the site, or raise "
     "REGIONCTL_MAX_REGIONS"),
    ("REGIONCTL_MAX_SITE_FILES", "1", "values/global.yaml", "conf: {}\n",
     "{root}/regions: error: the site has 3 values files, over the limit of 1: split the site, or raise "
     "REGIONCTL_MAX_SITE_FILES"),
    ("REGIONCTL_MAX_FILE_BYTES", "lots", "values/global.yaml", "conf: {}\n",
     "regionctl: error: REGIONCTL_MAX_FILE_BYTES='lots': expected a positive whole number (see README: limits)"),
]


@pytest.mark.parametrize("var,value,rel,text,expected", LIMIT_ROWS, ids=[f"{r[0]}={r[1]}" for r in LIMIT_ROWS])
def test_limits(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                var: str, value: str, rel: str, text: str, expected: str) -> None:
    root = make_site(tmp_path / "s", files={rel: text})
    monkeypatch.setenv(var, value)
    r = run(["validate", "-s", str(root)], capsys)
    text_out = r.out + r.err
    assert r.code == 1 and "internal error" not in text_out
    got = _first_error(text_out)
    assert got == expected.format(root=root), text_out


def test_alias_bomb_is_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 342-byte bomb ran every command out of memory; now it is refused before anything walks it."""
    root = make_site(tmp_path / "s", files={"values/nova.yaml": BOMB})
    for cmd in (["validate", "-s", str(root)], ["render", "-s", str(root), "-o", str(tmp_path / "o")],
                ["explain", "-s", str(root), "-r", "One", "nova.conf:DEFAULT.host"],
                ["catalog", "plan", "-s", str(root)]):
        r = run(cmd, capsys)
        assert r.code == 1 and "aliases expand" in r.out + r.err, (cmd, r.out + r.err)
    assert not (tmp_path / "o").exists()


# -- nothing outside OUT ---------------------------------------------------------------------------

ESCAPES = [
    ("../../escape", "site.yaml:12: region name '../../escape' cannot be a directory under {out}: it holds a '/', "
                     "so it would make a path, not one directory: rename the region (--force does not write it)"),
    ("/tmp/x", "site.yaml:12: region name '/tmp/x' cannot be a directory under {out}: it holds a '/', so it would "
               "make a path, not one directory: rename the region (--force does not write it)"),
    ("/", "site.yaml:12: region name '/' cannot be a directory under {out}: it holds a '/', so it would make a path, "
          "not one directory: rename the region (--force does not write it)"),
    ("..", "site.yaml:12: region name '..' cannot be a directory under {out}: '..' is not a name a directory can "
           "have: rename the region (--force does not write it)"),
    ("Tw\x00o", "site.yaml:12: region name 'Tw\\x00o' cannot be a directory under {out}: it holds a NUL or control "
                "character: rename the region (--force does not write it)"),
]


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
@pytest.mark.parametrize("name,expected", ESCAPES, ids=[repr(e[0]) for e in ESCAPES])
def test_render_never_writes_outside_out(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
                                         expected: str, force: bool) -> None:
    quoted = '"' + name.replace("\x00", "\\0") + '"'
    root = make_site(tmp_path / "s", SITE.replace("  Two:", f"  {quoted}:"))
    out = tmp_path / "deep" / "er" / "out"
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    r = run(["render", "-s", str(root), "-o", str(out), "--format", "plain"] + (["--force"] if force else []),
            capsys)
    assert r.code == 1 and "internal error" not in r.err
    assert r.err.splitlines()[-1] == f"regionctl: error: {root}/" + expected.format(out=out)
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before  # not even OUT was created
    assert not Path("/tmp/x").exists() or name != "/tmp/x"


def test_import_refuses_escaping_names(tmp_path: Path) -> None:
    from regionctl.errors import UserError
    from regionctl.fileio import write_dir_atomic

    for rel in ("regions/../../x/secrets.yaml", "/abs/site.yaml", "regions/a\x00b/global.yaml", "regions//x.yaml"):
        with pytest.raises(UserError) as exc:
            write_dir_atomic(tmp_path / "new", {"site.yaml": "format: 1\n", rel: "x: 1\n"}, "import")
        assert str(exc.value).startswith(f"refusing to write {rel!r}: "), exc.value
        assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_out_region_symlink_is_not_followed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site(tmp_path / "s")
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "One").symlink_to(elsewhere)
    r = run(["render", "-s", str(root), "-o", str(out)], capsys)
    assert r.code == 1
    assert r.err.splitlines()[-1] == (f"regionctl: error: {out}/One: is a symlink: regionctl replaces only the "
                                      "directories it writes; remove the link, or choose another -o/--out")
    assert list(elsewhere.iterdir()) == [] and sorted(p.name for p in out.iterdir()) == ["One"]


def test_out_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site(tmp_path / "s")
    (tmp_path / "out").write_text("x")
    r = run(["render", "-s", str(root), "-o", str(tmp_path / "out")], capsys)
    assert r.code == 2 and r.err.splitlines()[-1] == (
        f"Error: Invalid value for '-o' / '--out': Directory '{tmp_path}/out' is a file.")


# -- modes -------------------------------------------------------------------------------------------

def _modes(top: Path) -> dict[str, int]:
    return {str(p.relative_to(top)): stat.S_IMODE(p.lstat().st_mode) for p in [top, *top.rglob("*")]}


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_output_modes_ignore_the_umask(tmp_path: Path, capsys: pytest.CaptureFixture[str], umask: int) -> None:
    root = make_site(tmp_path / "s", SITE.replace("      keystone:\n", "      keystone:\n      horizon:\n", 1))
    old = os.umask(umask)
    try:
        r = run(["render", "-s", str(root), "-o", str(tmp_path / "out")], capsys)
        assert r.code == 0, r.err
        r = run(["init", str(tmp_path / "new")], capsys)
        assert r.code == 0, r.err
    finally:
        os.umask(old)
    modes = _modes(tmp_path / "out")
    assert modes["."] == 0o700  # created by render, holds secrets
    assert modes["One"] == modes["One/etc"] == modes["One/etc/nova"] == 0o700
    assert modes["One/etc/nova/nova.conf"] == 0o600
    assert modes["One/etc/openstack-dashboard"] == 0o755  # Horizon's settings hold no secret
    assert modes["One/etc/openstack-dashboard/local_settings.py"] == 0o644
    assert {m for p, m in modes.items() if p.endswith(".conf")} == {0o600}
    site = _modes(tmp_path / "new")
    assert site["."] == site["regions"] == 0o700
    assert {m for p, m in site.items() if p.endswith("secrets.yaml")} == {0o600}
    assert site["site.yaml"] == 0o644
    assert {m for p, m in site.items() if (tmp_path / "new" / p).is_dir() and "regions" not in p and p != "."} \
        <= {0o755}


# -- whole-tree renders --------------------------------------------------------------------------------

def _snapshot(region_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(region_dir)): p.read_text() for p in sorted(region_dir.rglob("*")) if p.is_file()}


def test_render_replaces_the_region_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file an earlier render wrote and this one does not is gone; other regions are left alone."""
    root = make_site(tmp_path / "s")
    out = tmp_path / "out"
    assert run(["render", "-s", str(root), "-o", str(out)], capsys).code == 0
    (out / "One" / "etc" / "stale.conf").write_text("old")
    (out / "Two" / "mine").write_text("kept")
    assert run(["render", "-s", str(root), "-o", str(out), "-r", "One"], capsys).code == 0
    assert not (out / "One" / "etc" / "stale.conf").exists()
    assert (out / "Two" / "mine").read_text() == "kept"
    assert sorted(p.name for p in out.iterdir()) == ["One", "Two"]


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_a_later_run_cleans_up_a_killed_one(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch, exchange: bool) -> None:
    """What a kill can leave: a work dir with a half-built tree, and (two-renames) an old tree moved away."""
    root = make_site(tmp_path / "s")
    out = tmp_path / "out"
    if not exchange:
        monkeypatch.setenv("REGIONCTL_NO_RENAME_EXCHANGE", "1")
    assert run(["render", "-s", str(root), "-o", str(out)], capsys).code == 0
    old_one = _snapshot(out / "One")
    work = out / ".regionctl-work-killed"
    (work / "new" / "Two" / "etc").mkdir(parents=True)
    (work / "new" / "Two" / "etc" / "half.conf").write_text("half")
    (work / "old").mkdir()
    os.rename(out / "One", work / "old" / "One")  # killed between the two renames
    assert run(["render", "-s", str(root), "-o", str(out), "-r", "Two"], capsys).code == 0
    assert sorted(p.name for p in out.iterdir()) == ["One", "Two"]
    assert _snapshot(out / "One") == old_one


# The real CLI in a child process that SIGKILLs itself at the Nth file-system step of the write
# (a file synced, a mode set, a rename): every moment of the write phase is hit, deterministically.
RENDER_CHILD = """
import atexit, os, signal, sys
kill_at, steps = int(sys.argv[3]), [0]
def counting(real):
    def step(*args, **kw):
        steps[0] += 1
        if steps[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kw)
    return step
import regionctl.fileio as fileio
for name in ("fsync", "chmod", "rename"):
    setattr(fileio.os, name, counting(getattr(os, name)))
atexit.register(lambda: sys.stderr.write(f"steps={steps[0]}\\n"))
sys.argv = ["regionctl", "render", "-s", sys.argv[1], "-o", sys.argv[2]]
from regionctl.cli.main import main
main()
"""


KILL_REGIONS = ("R0", "R1")


@dataclass
class KillSite:
    root: Path
    old: dict[str, dict[str, str]]
    new: dict[str, dict[str, str]]
    saved: Path  # OUT as the old render left it
    steps: int  # file-system steps of one render's write


def _render_child(root: Path, out: Path, ratio: str, kill_at: int = 0,
                  exchange: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    if not exchange:
        env["REGIONCTL_NO_RENAME_EXCHANGE"] = "1"
    (root / "values").mkdir(exist_ok=True)
    (root / "values" / "nova.yaml").write_text(f"conf:\n  nova:\n    DEFAULT:\n      cpu_allocation_ratio: {ratio}\n")
    return subprocess.run([sys.executable, "-c", RENDER_CHILD, str(root), str(out), str(kill_at)], env=env,
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def kill_site(tmp_path_factory: pytest.TempPathFactory) -> KillSite:
    """A two-region site rendered twice: OUT holds the old tree; the new one is known."""
    base = tmp_path_factory.mktemp("kill")
    site = site_text(*(region_yaml(r, (("keystone",) if i == 0 else ()) + COMPUTE, public=f"http://192.0.2.{i + 1}")
                       for i, r in enumerate(KILL_REGIONS)))
    root = make_site(base / "s", site, files={f"regions/{r}/secrets.yaml": SECRETS for r in KILL_REGIONS})
    for extra in ("One", "Two"):
        shutil.rmtree(root / "regions" / extra)
    out = base / "out"
    first = _render_child(root, out, "4.0")
    assert first.returncode == 0, first.stderr
    new = {r: _snapshot(out / r) for r in KILL_REGIONS}
    second = _render_child(root, out, "2.0")
    assert second.returncode == 0, second.stderr
    old = {r: _snapshot(out / r) for r in KILL_REGIONS}
    assert all(old[r] != new[r] for r in old)
    shutil.copytree(out, base / "saved", symlinks=True)
    shutil.rmtree(out)
    return KillSite(root, old, new, base / "saved", int(second.stderr.rsplit("steps=", 1)[1]))


@pytest.mark.slow
@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_kill_9_leaves_old_or_new_per_region(tmp_path: Path, kill_site: KillSite, exchange: bool) -> None:
    """kill -9 at every kind of moment of a render over an existing OUT: each region is old or new.

    With renameat2 each region's swap is one atomic step. With two renames (a kernel or file
    system without RENAME_EXCHANGE) a kill between them leaves the old tree moved aside, which
    the next run puts back: the test checks it is there, whole.
    """
    ks, out = kill_site, tmp_path / "out"
    total = ks.steps if exchange else ks.steps + len(KILL_REGIONS)  # one more rename per region
    # The write ends with one counted rename per region (renameat2) or two (target aside, new in),
    # then a sync of OUT: kill before each of those, and at a few earlier steps of the build.
    n = len(KILL_REGIONS) * (1 if exchange else 2)
    points = sorted(set(range(total - n - 1, total + 1)) | ({1} if exchange else set()))
    landed = {"old": 0, "new": 0, "some regions new": 0, "moved aside": 0}
    for kill_at in points:
        shutil.copytree(ks.saved, out, symlinks=True)
        p = _render_child(ks.root, out, "4.0", kill_at, exchange)
        assert p.returncode == -signal.SIGKILL, (kill_at, p.stderr)
        states = set()
        for r in KILL_REGIONS:
            if not exchange and not (out / r).exists():
                aside = [q / "old" / r for q in out.glob(".regionctl-work-*") if (q / "old" / r).is_dir()]
                assert len(aside) == 1 and _snapshot(aside[0]) == ks.old[r], f"step {kill_at}: {r} lost"
                states.add("moved aside")
                continue
            got = _snapshot(out / r)
            assert got in (ks.old[r], ks.new[r]), f"killed at step {kill_at}/{total}: {r} is neither old nor new"
            assert not [q for q in (out / r).rglob(".*")], r  # no temp file inside a region's tree
            states.add("old" if got == ks.old[r] else "new")
        landed["moved aside" if "moved aside" in states else "some regions new" if len(states) == 2
               else states.pop()] += 1
        # what a later run does first: clean up what the killed one left, restore what it moved aside
        recover(out)
        assert sorted(q.name for q in out.iterdir()) == list(KILL_REGIONS)
        assert all(_snapshot(out / r) in (ks.old[r], ks.new[r]) for r in KILL_REGIONS)
        shutil.rmtree(out)
    print(f"kill -9 at steps {points} of {total}: {landed}")
    assert landed["old"] and landed["new"] and landed["some regions new"]
    # and the whole of a later run, over what the last-but-one kill left
    shutil.copytree(ks.saved, out, symlinks=True)
    assert _render_child(ks.root, out, "4.0", points[-2], exchange).returncode == -signal.SIGKILL
    assert [q for q in out.iterdir() if q.name.startswith(".regionctl-work-")]
    assert _render_child(ks.root, out, "4.0", exchange=exchange).returncode == 0
    assert sorted(q.name for q in out.iterdir()) == list(KILL_REGIONS)
    assert {r: _snapshot(out / r) for r in KILL_REGIONS} == ks.new


# -- no secret in any error -----------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["table", "json", "yaml", "value"])
def test_echoed_input_is_masked_in_every_format(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    site = SITE.replace("  Two:\n", "    infra:\n      messaging: rabbit://u:PASSWORD@mq:5672\n  Two:\n")
    root = make_site(tmp_path / "s", site)
    r = run(["validate", "-s", str(root), "-f", fmt], capsys)
    assert r.code == 1 and "PASSWORD" not in r.out + r.err
    assert "rabbit://u:********@mq:5672" in r.out


def test_auth_url_password_is_masked(tmp_path: Path) -> None:
    """OS_AUTH_URL with credentials in it, and nothing listening: the one line masks them."""
    from conftest import EXAMPLES, Result

    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": os.pathsep.join(sys.path),
           "OS_AUTH_URL": "http://admin:hunter2@127.0.0.1:9/v3", "OS_USERNAME": "admin", "OS_PASSWORD": "pw",
           "OS_PROJECT_NAME": "admin", "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default"}
    p = subprocess.run([sys.executable, "-m", "regionctl", "catalog", "plan", "-s", str(EXAMPLES / "two-regions")],
                       capture_output=True, text=True, env=env, timeout=120)
    r = Result(p.returncode, p.stdout, p.stderr)
    assert r.code == 1 and "hunter2" not in r.out + r.err
    assert r.err.strip() == ("regionctl: error: cannot reach Keystone at http://admin:********@127.0.0.1:9/v3 "
                             "(connection refused): check that it runs and that OS_AUTH_URL / clouds.yaml "
                             "auth_url is right")


def test_a_problem_is_one_line_and_masked() -> None:
    from regionctl.site.problems import error

    p = error("regions/a\nb/x.yaml", 3, "got 'rabbit://u:pw1@h1:5672,u:pw2@h2:5672//' and \x00\r")
    assert str(p) == "regions/a\\nb/x.yaml:3: error: got 'rabbit://u:********@h1:5672,u:********@h2:5672//' and \\x00\\r"
