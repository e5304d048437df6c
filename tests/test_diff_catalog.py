"""`regionctl diff --catalog`: the files and the catalog plan in one report, against a real Keystone."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import EXAMPLES
from keystone_fixture import dev_keystone  # noqa: F401 - the session fixture
from test_diff import committed, edit

from regionctl.devkeystone import DevKeystone

pytestmark = pytest.mark.keystone


def test_diff_with_the_catalog_plan(cli, dev_keystone: DevKeystone, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("OS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "no-clouds.yaml"))
    for key, value in dev_keystone.env().items():
        monkeypatch.setenv(key, value)
    site = committed(EXAMPLES / "admin-region", tmp_path / "site")
    edit(site / "values/nova.yaml", "cpu_allocation_ratio: 16.0", "cpu_allocation_ratio: 12.0")

    r = cli("diff", "-s", str(site), "--catalog", "-f", "json", "--detailed-exitcode")
    assert r.code == 2, r.err
    doc = json.loads(r.out)
    assert {(c["region"], c["file"], c["key"], c["old"], c["new"]) for c in doc["changes"]} == {
        (region, f"etc/nova/{f}", "cpu_allocation_ratio", "16.0", "12.0")
        for region in ("OSR1", "OSR2") for f in ("nova.conf", "nova-compute.conf")}
    catalog = doc["catalog"]
    assert catalog["keystone"] == f"{dev_keystone.url} as {dev_keystone.username}"
    created = {c["id"] for c in catalog["changes"] if c["kind"] == "region" and c["op"] == "create"}
    assert {"AR", "OSR1", "OSR2"} <= created  # the session Keystone holds only its bootstrap region
    assert dev_keystone.password not in r.out + r.err

    r = cli("diff", "-s", str(site), "--catalog")
    lines = r.out.splitlines()
    at = lines.index(f"Catalog plan against {dev_keystone.url} as {dev_keystone.username}:")
    assert lines[at - 2].startswith("4 change(s) in 2 region(s), 4 file(s)")
    assert any(line.split()[:3] == ["+", "region", "OSR1"] for line in lines[at:])
