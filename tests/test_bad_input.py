"""Malformed sites get one clean line and exit 1, never a traceback (run as real processes)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import SITE, make_site, run_process


def assert_clean_failure(r, expected: str) -> None:
    assert r.code == 1, (r.out, r.err)
    assert "Traceback" not in r.out + r.err
    errors = [line for line in (r.out + r.err).splitlines() if ": error: " in line]
    assert errors and errors[0] == expected, r.out + r.err


@pytest.mark.parametrize("name,content,expected", [
    ("empty", "", "site.yaml:1: error: is empty: declare the regions (see 'regionctl init')"),
    ("truncated", SITE[:SITE.index("http://192.0.2.1")] + "\"http://19", "site.yaml:5: error: YAML syntax error: found unexpected end of stream; fix the YAML"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "site.yaml:1: error: is not UTF-8 text (binary file?): expected YAML"),
    ("text with NUL", "format: 1\nregions:\x00\n", "site.yaml:2: error: contains NUL bytes (binary file?): expected YAML"),
    ("list", "- regions\n- One\n", "site.yaml:1: error: expected a map with 'regions:', found a list"),
])
def test_broken_site_yaml(tmp_path: Path, name: str, content: str | bytes, expected: str) -> None:
    root = make_site(tmp_path / "s")
    if isinstance(content, bytes):
        (root / "site.yaml").write_bytes(content)
    else:
        (root / "site.yaml").write_text(content)
    r = run_process(["validate", "-s", str(root)])
    assert r.code == 1 and "Traceback" not in r.err
    line = next(l for l in r.out.splitlines() if ": error: " in l)
    assert line.startswith(f"{root}/{expected}"), line


def test_non_utf8_file(tmp_path: Path) -> None:
    root = make_site(tmp_path / "s")
    (root / "values").mkdir()
    (root / "values" / "nova.yaml").write_bytes(b"conf:\n  nova: \xff\xfe\n")
    r = run_process(["validate", "-s", str(root)])
    assert_clean_failure(r, f"{root}/values/nova.yaml:2: error: is not UTF-8 text (binary file?): expected YAML")


def test_directory_where_file_belongs(tmp_path: Path) -> None:
    root = make_site(tmp_path / "s")
    (root / "site.yaml").unlink()
    (root / "site.yaml").mkdir()
    r = run_process(["validate", "-s", str(root)])
    assert_clean_failure(r, f"{root}/site.yaml: error: is a directory, expected a YAML file: remove or rename it")


def test_directory_as_values_file(tmp_path: Path) -> None:
    root = make_site(tmp_path / "s")
    (root / "values" / "nova.yaml").mkdir(parents=True)
    r = run_process(["validate", "-s", str(root)])
    assert_clean_failure(r, f"{root}/values/nova.yaml: error: is a directory, expected a YAML file: remove or rename it")


def test_missing_site_yaml(tmp_path: Path) -> None:
    root = tmp_path / "s"
    root.mkdir()
    r = run_process(["validate", "-s", str(root)])
    assert_clean_failure(r, f"{root}/site.yaml: error: file not found: a site needs site.yaml (create one with 'regionctl init DIR')")


def test_missing_site_dir(tmp_path: Path) -> None:
    r = run_process(["validate", "-s", str(tmp_path / "nope")])
    assert r.code == 1 and "Traceback" not in r.err
    assert r.err.strip() == (f"regionctl: error: {tmp_path}/nope: no such directory: "
                             "pass the site with -s/--site, or create one with 'regionctl init'")


def test_site_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    r = run_process(["validate", "-s", str(f)])
    assert r.code == 1 and r.err.strip() == f"regionctl: error: {f}: is not a directory: -s/--site takes the site directory"


def test_unreadable_file() -> None:
    """Permissions don't bind root, so as root the command runs as 'nobody' (setpriv)."""
    base = Path(tempfile.mkdtemp(prefix="regionctl-unreadable-"))
    try:
        base.chmod(0o755)
        root = make_site(base / "s")
        for p in [root, *root.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        (root / "regions" / "Two" / "secrets.yaml").chmod(0)
        cmd = ["validate", "-s", str(root)]
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("setpriv (util-linux) is needed to drop root")
            import subprocess
            p = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                                sys.executable, "-m", "regionctl", *cmd],
                               capture_output=True, text=True, cwd="/", env={**os.environ, "HOME": "/"})
            from conftest import Result
            r = Result(p.returncode, p.stdout, p.stderr)
        else:
            r = run_process(cmd)
        assert_clean_failure(r, f"{root}/regions/Two/secrets.yaml: error: cannot be read (permission denied): fix its permissions")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_internal_errors_are_one_line(tmp_path: Path, monkeypatch) -> None:
    """The last line of defence: an unexpected exception is one line, not a traceback."""
    code = ("import regionctl.check.site as c\n"
            "def boom(loaded): raise RuntimeError('boom')\n"
            "c.SITE_CHECKS.append(boom)\n"
            "from regionctl.cli.main import main\n"
            f"main(['validate', '-s', {str(make_site(tmp_path / 's'))!r}])\n")
    import subprocess
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert p.stderr.strip().startswith("regionctl: internal error: RuntimeError: boom")
