"""render --format helm writes each region's whole /etc/genestack (issue 9 item 11, deliverable 4).

regions/<r>/genestack/ (inventory, kustomize overlays, any other file) is copied byte for byte
beside helm-configs/, so `regionctl link` points /etc/genestack at everything Genestack needs.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from conftest import EXAMPLES, make_site

EXAMPLE = EXAMPLES / "genestack-sjc-dfw"


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_example_region_tree_is_whole_and_link_shows_it(cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = cli("render", "--format", "helm", "-s", str(EXAMPLE), "-o", str(out))
    assert r.code == 0, r.err
    for region in ("sjc", "dfw"):
        src = EXAMPLE / "regions" / region / "genestack"
        carried = sorted(p.relative_to(src) for p in src.rglob("*") if p.is_file())
        assert Path("inventory/inventory.yaml") in carried and Path("helm-chart-versions.yaml") in carried
        for rel in carried:
            assert (out / region / rel).read_bytes() == (src / rel).read_bytes(), rel
            assert _mode(out / region / rel) == 0o644, rel
    link = tmp_path / "etc-genestack"
    r = cli("link", "-s", str(EXAMPLE), "-r", "sjc", "-o", str(out), "--to", str(link))
    assert r.code == 0, r.err
    assert (link / "inventory/inventory.yaml").is_file()
    assert (link / "kustomize/nova/overlay/kustomization.yaml").is_file()
    assert (link / "helm-configs/nova/sjc-nova-helm-overrides.yaml").is_file()


def _render(cli, root: Path, out: Path):
    return cli("render", "--format", "helm", "-s", str(root), "-o", str(out))


def test_bytes_modes_and_secrets(cli, tmp_path: Path) -> None:
    g = "regions/Two/genestack/"
    root = make_site(tmp_path / "s", files={
        g + "inventory/inventory.yaml": "all:\n  hosts: {n1: {ansible_host: 10.0.0.1}}\n",
        g + "inventory/group_vars/all.yaml": "ansible_become_password: hunter2\n",
        g + "inventory/credentials/kubeadm_certificate_key.creds": "abc\n",
        g + "kustomize/nova/overlay/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n",
        g + "kustomize/kustomize.sh": "#!/bin/sh\nkubectl kustomize \"$1\"\n",
        g + "helm-configs/octavia/Two-octavia.yaml": "conf: {}\n",
        g + "private.txt": "only mine\n",
    })
    gdir = root / g
    (gdir / "notes.bin").write_bytes(b"\x00\xff\r\nline\r\n\xe9")
    os.chmod(gdir / "kustomize/kustomize.sh", 0o755)
    os.chmod(gdir / "private.txt", 0o640)
    r = _render(cli, root, tmp_path / "o")
    assert r.code == 0, r.err
    two = tmp_path / "o/Two"
    assert (two / "notes.bin").read_bytes() == b"\x00\xff\r\nline\r\n\xe9"
    modes = {str(p.relative_to(two)): _mode(p) for p in two.rglob("*") if p.is_file() and "helm-configs/nova" not in str(p)}
    assert {k: v for k, v in modes.items() if not k.startswith("helm-configs/")} == {
        "inventory/inventory.yaml": 0o644,
        "inventory/group_vars/all.yaml": 0o600,  # a key that reads as secret holds a value
        "inventory/credentials/kubeadm_certificate_key.creds": 0o600,  # its path reads as secret
        "kustomize/nova/overlay/secret.yaml": 0o600,  # a Kubernetes Secret
        "kustomize/kustomize.sh": 0o755,  # the post-renderer stays executable
        "private.txt": 0o600,  # not world-readable where the site keeps it
        "notes.bin": 0o644,
    }
    assert modes["helm-configs/octavia/Two-octavia.yaml"] == 0o644  # a chart regionctl does not render: as is


def test_a_symlink_is_refused_and_nothing_is_written(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", files={"regions/Two/genestack/inventory/inventory.yaml": "all: {}\n"})
    secret = tmp_path / "outside.txt"
    secret.write_text("not the site's\n")
    os.symlink(secret, root / "regions/Two/genestack/inventory/hosts.yaml")
    r = _render(cli, root, tmp_path / "o")
    assert r.code == 1
    assert r.err.splitlines()[0] == (
        f"{root}/regions/Two/genestack/inventory/hosts.yaml: error: is a symlink: regionctl copies only files the "
        "site holds into /etc/genestack (a link can point outside the site; Genestack's bootstrap.sh makes "
        "kustomize.sh and kustomize/<service>/base links itself): replace it with the file it points at, or remove it")
    assert not (tmp_path / "o").exists()
    r = cli("validate", "-s", str(root))
    assert r.code == 1 and "hosts.yaml: error: is a symlink" in r.out + r.err


def test_values_for_a_rendered_chart_are_refused(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", files={
        "regions/Two/genestack/helm-configs/nova/extra.yaml": "conf: {nova: {DEFAULT: {debug: true}}}\n",
        "regions/Two/genestack/helm-configs/cinder/old.yaml": "conf: {}\n"})
    r = _render(cli, root, tmp_path / "o")
    assert r.code == 1
    lines = r.err.splitlines()
    assert f"{root}/regions/Two/genestack/helm-configs/nova/extra.yaml: error: regionctl renders the nova chart's " \
           "values into helm-configs/nova/, where helm would take this file unchecked too: put its values in " \
           "values/nova.yaml or regions/Two/nova.yaml" in lines
    assert f"{root}/regions/Two/genestack/helm-configs/cinder/old.yaml: error: region 'Two' does not run cinder, " \
           "but Genestack's install-cinder.sh would pass this file to helm: remove it" in lines
    assert not (tmp_path / "o").exists()


def test_genestack_dir_is_not_a_values_layer(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", files={"regions/Two/genestack/nova.yaml": "conf: {nova: {DEFAULT: {debug: true}}}\n"})
    r = cli("render", "-s", str(root), "-o", str(tmp_path / "p"))
    assert r.code == 0, r.err
    assert "debug" not in (tmp_path / "p/Two/etc/nova/nova.conf").read_text()
    assert not (tmp_path / "p/Two/nova.yaml").exists()  # plain and kolla carry nothing of Genestack's


def test_an_unreadable_file_is_one_line() -> None:
    """Permissions don't bind root, so as root validate runs as 'nobody' (setpriv), as test_bad_input does."""
    import shutil
    import subprocess
    import sys
    import tempfile

    import pytest
    base = Path(tempfile.mkdtemp(prefix="regionctl-unreadable-"))
    try:
        base.chmod(0o755)
        root = make_site(base / "s", files={"regions/Two/genestack/inventory/inventory.yaml": "all: {}\n"})
        for p in [root, *root.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        (root / "regions/Two/genestack/inventory/inventory.yaml").chmod(0)
        cmd = [sys.executable, "-m", "regionctl", "validate", "-s", str(root)]
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("setpriv (util-linux) is needed to drop root")
            cmd = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True, cwd="/", env={**os.environ, "HOME": "/"})
        assert r.returncode == 1 and "Traceback" not in r.stderr
        assert (f"{root}/regions/Two/genestack/inventory/inventory.yaml: error: cannot be read (permission denied): "
                "fix its permissions, or remove it") in (r.stdout + r.stderr).splitlines()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_linked_genestack_dir_is_refused(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s")
    elsewhere = tmp_path / "etc-genestack"
    (elsewhere / "inventory").mkdir(parents=True)
    (elsewhere / "inventory/inventory.yaml").write_text("all: {}\n")
    os.symlink(elsewhere, root / "regions/Two/genestack")
    r = _render(cli, root, tmp_path / "o")
    assert r.code == 1
    assert r.err.splitlines()[0].startswith(f"{root}/regions/Two/genestack: error: is a symlink: ")
    assert not (tmp_path / "o").exists()
