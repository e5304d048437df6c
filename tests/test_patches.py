"""Hot-fix patch sets (issue 12): found per region, refused when malformed, listed, rendered.

The patches here are literal text: what validate, list and render do needs no package. The tests
against the real nova of the services environment are in test_patches_real.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import make_site

from regionctl.patches import conflicts, diff
from regionctl.render.patches import startup_script

#: nova 34.0.0's nova/utils.py is_none_string, made to ignore blanks (the hunk's lines are real).
FIX = """\
Upstream: https://review.opendev.org/c/openstack/nova/+/900001
Versions: nova==34.0.0

--- a/nova/utils.py
+++ b/nova/utils.py
@@ -511,7 +511,7 @@
     if not isinstance(val, str):
         return False
 
-    return val.lower() == 'none'
+    return val.strip().lower() == 'none'
 
 
 def is_auto_disk_config_disabled(auto_disk_config_raw):
"""

#: The same line changed differently, made on the unchanged file too: it conflicts with FIX.
OTHER = """\
--- a/nova/utils.py
+++ b/nova/utils.py
@@ -511,7 +511,7 @@
     if not isinstance(val, str):
         return False
 
-    return val.lower() == 'none'
+    return val.lower() in ('none', 'null')
 
 
 def is_auto_disk_config_disabled(auto_disk_config_raw):
"""

#: Made on top of FIX: consistent with it.
ON_TOP = """\
--- a/nova/utils.py
+++ b/nova/utils.py
@@ -511,7 +511,7 @@
     if not isinstance(val, str):
         return False
 
-    return val.strip().lower() == 'none'
+    return val.strip().lower() in ('none', 'null')
 
 
 def is_auto_disk_config_disabled(auto_disk_config_raw):
"""

#: Another function of the same file, made on the unchanged file: it applies beside FIX.
BESIDE = """\
--- a/nova/utils.py
+++ b/nova/utils.py
@@ -626,6 +626,7 @@
 def safe_truncate(value, length):
     \"\"\"Safely truncates unicode strings such that their encoded length is
     no greater than the length provided.
+    (hot-fixed)
     \"\"\"
     b_value = encodeutils.safe_encode(value)[:length]
 
"""


def _site(tmp_path: Path, files: dict[str, str]) -> Path:
    return make_site(tmp_path / "site", files=files)


def _validate(cli, site: Path) -> tuple[int, list[str]]:
    r = cli("validate", "-s", str(site))
    return r.code, [ln for ln in r.out.splitlines() if ": error: " in ln or ": warning: " in ln]


# -- the parser --------------------------------------------------------------------------------

def test_parse_reads_files_hunks_and_header() -> None:
    patch, problems = diff.parse("p.patch", FIX.encode())
    assert problems == [] and patch is not None
    assert patch.header.upstream == "https://review.opendev.org/c/openstack/nova/+/900001"
    assert patch.header.versions == {"nova": ("34.0.0",)}
    assert patch.touched() == ["nova/utils.py"]
    (hunk,) = patch.files[0].hunks
    assert (hunk.line, hunk.number, hunk.header) == (6, 1, "@@ -511,7 +511,7 @@")
    assert hunk.changes() == ({514}, {515})
    assert patch.text == FIX


def test_git_format_patch_with_a_new_file_parses() -> None:
    text = ("From 1234 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] add a file\n\n---\n nova/x.py | 1 +\n\n"
            "diff --git a/nova/x.py b/nova/x.py\nnew file mode 100644\nindex 0000000..e69de29\n"
            "--- /dev/null\n+++ b/nova/x.py\n@@ -0,0 +1 @@\n+X = 1\n-- \n2.39.2\n")
    patch, problems = diff.parse("p.patch", text.encode())
    assert problems == [] and patch is not None
    assert [(f.old, f.new) for f in patch.files] == [(None, "nova/x.py")]


def test_static_conflicts_find_the_conflicting_order_only() -> None:
    def p(text: str, name: str) -> diff.Patch:
        patch, problems = diff.parse(name, text.encode())
        assert patch is not None, problems
        return patch

    fix, other, top, beside = p(FIX, "a"), p(OTHER, "b"), p(ON_TOP, "c"), p(BESIDE, "d")
    assert [(c.later.file, c.earlier.file, c.hunk.number) for c in conflicts.conflicts([fix, other])] == [("b", "a", 1)]
    assert conflicts.conflicts([fix, top]) == []
    assert conflicts.conflicts([fix, beside]) == [] and conflicts.conflicts([beside, fix]) == []
    assert [c.later.file for c in conflicts.conflicts([top, fix])] == ["a"]  # made on top of FIX, ordered before it


# -- bad input: one line each with FILE, exit 1, nothing rendered ------------------------------

OUTSIDE = "--- a/oslo_config/cfg.py\n+++ b/oslo_config/cfg.py\n@@ -1,1 +1,1 @@\n-x\n+y\n"
ESCAPES = "--- a/../../etc/passwd\n+++ b/../../etc/passwd\n@@ -1,1 +1,1 @@\n-x\n+y\n"
BINARY = ("diff --git a/nova/x.png b/nova/x.png\nindex 0000000..1111111 100644\nGIT binary patch\n"
          "literal 4\nLcmZQzWMT#Y01f~L\n\n")
CUT = FIX.replace("     def is_auto_disk_config_disabled(auto_disk_config_raw):\n", "").replace(
    " def is_auto_disk_config_disabled(auto_disk_config_raw):\n", "")

BAD = {
    "outside": ({"patches/nova/0001-x.patch": OUTSIDE},
                "patches/nova/0001-x.patch:1: error: touches oslo_config/cfg.py, which is outside nova's packages "
                "(nova, os_vif, vif_plug_ovs, vif_plug_noop, os_brick): paths are relative to site-packages "
                "(a/nova/...); a fix of another service goes under its own patches/<service>/"),
    "escapes": ({"patches/nova/0001-x.patch": ESCAPES},
                "patches/nova/0001-x.patch:1: error: path a/../../etc/passwd leaves the package directory or holds "
                "blanks: touch only files of the service's packages"),
    "binary": ({"patches/nova/0001-x.patch": BINARY},
               "patches/nova/0001-x.patch:3: error: is a binary patch: GNU patch cannot apply it: ship the file in "
               "the image instead, or patch a text file"),
    "crlf": ({"patches/nova/0001-x.patch": FIX.replace("\n", "\r\n")},
             "patches/nova/0001-x.patch:1: error: has Windows line endings (CRLF): the package's files have LF, so "
             "no hunk would match: convert it (dos2unix) and check it again"),
    "malformed": ({"patches/nova/0001-x.patch": CUT},
                  "patches/nova/0001-x.patch:6: error: malformed hunk #1 of nova/utils.py: its header promises 1 more "
                  "old and 1 more new line(s), but the file ends: make the diff again (diff -ruN or git diff) "
                  "instead of editing it by hand"),
    "conflict": ({"patches/nova/0001-fix.patch": FIX, "patches/nova/0002-other.patch": OTHER},
                 "patches/nova/0002-other.patch:3: error: hunk #1 changes lines of nova/utils.py that "
                 "0001-fix.patch (applied before it) changes too, and expects them as they were before it: "
                 "conflicting patches: make this patch on top of 0001-fix.patch, or merge the two"),
    "region-conflict": ({"patches/nova/0001-fix.patch": FIX, "regions/Two/patches/nova/0002-other.patch": OTHER},
                        "regions/Two/patches/nova/0002-other.patch:3: error: hunk #1 changes lines of nova/utils.py "
                        "that 0001-fix.patch (applied before it in region 'Two') changes too, and expects them as "
                        "they were before it: conflicting patches: make this patch on top of 0001-fix.patch, or "
                        "merge the two"),
    "no-diff": ({"patches/nova/0001-x.patch": "just some notes\n"},
                "patches/nova/0001-x.patch:1: error: holds no unified diff ('--- a/...', '+++ b/...', '@@'): make it "
                "with diff -ruN or git diff, or leave it empty in a region to remove a base patch"),
    "bad-pin": ({"patches/nova/0001-x.patch": FIX.replace("nova==34.0.0", "nova>=34")},
                "patches/nova/0001-x.patch:2: error: Versions: 'nova>=34' is not DIST==VERSION: write e.g. "
                "'Versions: nova==34.0.0, nova==34.0.1'"),
    "unknown-service": ({"patches/nvoa/0001-x.patch": FIX},
                        "patches/nvoa: error: patches for unknown service 'nvoa' (did you mean 'nova'?): name the "
                        "directory for one of keystone, nova, placement, neutron, glance, cinder, heat, horizon"),
    "bad-name": ({"patches/nova/fix it.patch": FIX},
                 "patches/nova/fix it.patch: error: patch name must be letters, digits, '.', '_' and '-' (it becomes "
                 "a ConfigMap key and a file name): rename it"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_patch_is_one_line_with_its_file_and_nothing_is_rendered(cli, tmp_path: Path, case: str) -> None:
    files, message = BAD[case]
    site = _site(tmp_path, files)
    code, problems = _validate(cli, site)
    assert (code, problems) == (1, [f"{site}/{message}"])
    for fmt in ("helm", "kolla"):
        out = tmp_path / f"out-{fmt}"
        r = cli("render", "-s", str(site), "-o", str(out), "--format", fmt)
        assert r.code == 1
        assert f"{site}/{message}" in r.err.splitlines()
        assert not out.exists() or not any(out.rglob("*"))


def test_consistent_sets_validate_clean(cli, tmp_path: Path) -> None:
    site = _site(tmp_path, {"patches/nova/0001-fix.patch": FIX, "patches/nova/0002-more.patch": ON_TOP,
                            "patches/nova/0003-doc.patch": BESIDE})
    assert _validate(cli, site) == (0, [])


def test_misplaced_patches_are_warnings(cli, tmp_path: Path) -> None:
    site = _site(tmp_path, {"patches/nova/0001-fix.patch": FIX, "patches/nova/README.md": "notes\n",
                            "patches/glance/0001-empty.patch": "",
                            "regions/Two/patches/nova/0009-gone.patch": "",
                            "regions/Two/patches/cinder/0001-x.patch": FIX})
    code, problems = _validate(cli, site)
    s = str(site)
    assert (code, problems) == (1, [
        f"{s}/patches/glance/0001-empty.patch: warning: is empty: it patches nothing (an empty file removes a base "
        "patch only in regions/<region>/patches/): remove it",
        f"{s}/patches/nova/README.md: warning: not a '.patch' file; it is ignored: name patches NAME.patch",
        f"{s}/regions/Two/patches/cinder/0001-x.patch: warning: region 'Two' does not run cinder; this patch is "
        "ignored: add the service to the region or remove it",
        f"{s}/regions/Two/patches/cinder/0001-x.patch:4: error: touches nova/utils.py, which is outside cinder's "
        "packages (cinder, os_brick): paths are relative to site-packages (a/cinder/...); a fix of another service "
        "goes under its own patches/<service>/",
        f"{s}/regions/Two/patches/nova/0009-gone.patch: warning: is empty but no base patch "
        "patches/nova/0009-gone.patch exists for it to remove: remove it or fix its name",
    ])


# -- per region: base, override, removal ---------------------------------------------------------

def test_region_override_replaces_and_empty_file_removes(cli, tmp_path: Path) -> None:
    site = _site(tmp_path, {"patches/nova/0001-fix.patch": FIX, "patches/nova/0002-doc.patch": BESIDE,
                            "regions/Two/patches/nova/0001-fix.patch": OTHER,
                            "regions/Two/patches/nova/0002-doc.patch": ""})
    r = cli("patches", "list", "-s", str(site), "-f", "json")
    assert r.code == 0, r.err
    got = [(x["region"], x["patch"], x["file"], x["scope"], x["touches"], x["versions"]) for x in json.loads(r.out)]
    s = str(site)
    assert got == [
        ("One", "0001-fix.patch", f"{s}/patches/nova/0001-fix.patch", "base", ["nova/utils.py"], ["nova==34.0.0"]),
        ("One", "0002-doc.patch", f"{s}/patches/nova/0002-doc.patch", "base", ["nova/utils.py"], []),
        ("Two", "0001-fix.patch", f"{s}/regions/Two/patches/nova/0001-fix.patch", "region", ["nova/utils.py"], []),
    ]
    r = cli("patches", "list", "-s", str(site), "-r", "Two", "-f", "value")
    assert r.out.split() == ["Two", "nova", "0001-fix.patch", f"{s}/regions/Two/patches/nova/0001-fix.patch",
                             "nova/utils.py"]


def test_list_refuses_a_site_with_a_bad_patch(cli, tmp_path: Path) -> None:
    site = _site(tmp_path, {"patches/nova/0001-x.patch": BINARY})
    r = cli("patches", "list", "-s", str(site))
    assert r.code == 1
    assert r.err.strip() == f"regionctl: error: {site}/{BAD['binary'][1]}"


# -- rendered --------------------------------------------------------------------------------

def test_helm_renders_a_configmap_and_mounts_it(cli, tmp_path: Path) -> None:
    site = _site(tmp_path, {"patches/nova/0001-fix.patch": FIX, "patches/nova/0002-doc.patch": BESIDE,
                            "regions/Two/patches/nova/0001-fix.patch": OTHER})
    out = tmp_path / "out"
    r = cli("render", "-s", str(site), "-o", str(out), "--format", "helm")
    assert r.code == 0, r.err
    for region, first in (("One", FIX), ("Two", OTHER)):
        cm = yaml.safe_load((out / region / "manifests/nova-patches.yaml").read_text())
        assert (cm["kind"], cm["metadata"]["name"]) == ("ConfigMap", "nova-patches")
        assert cm["data"] == {"0001-fix.patch": first, "0002-doc.patch": BESIDE,
                              "series": "0001-fix.patch\n0002-doc.patch\n",
                              "packages": "nova\nos_vif\nos-brick\n", "apply-patches.sh": startup_script()}
        values = yaml.safe_load((out / region / f"helm-configs/nova/{region}-nova-helm-overrides.yaml").read_text())
        osapi = values["pod"]["mounts"]["nova_api_osapi"]["nova_api_osapi"]
        assert osapi == {"volumes": [{"name": "nova-patches", "configMap": {"name": "nova-patches", "defaultMode": 0o444}}],
                         "volumeMounts": [{"name": "nova-patches", "mountPath": "/nova-patches", "readOnly": True}]}
        assert "nova_compute" in values["pod"]["mounts"]
    assert not (out / "One/manifests/glance-patches.yaml").exists()


def test_configmap_keeps_every_byte(cli, tmp_path: Path) -> None:
    """Leading blanks, blank-only lines, a missing final newline: the ConfigMap holds the file as is."""
    odd = FIX.replace("Upstream:", "  Upstream:").rstrip("\n")
    site = _site(tmp_path, {"patches/nova/0001-fix.patch": odd, "patches/nova/0002-doc.patch": BESIDE + "\n\n"})
    out = tmp_path / "out"
    assert cli("render", "-s", str(site), "-o", str(out), "--format", "helm").code == 0
    data = yaml.safe_load((out / "One/manifests/nova-patches.yaml").read_text())["data"]
    assert (data["0001-fix.patch"], data["0002-doc.patch"]) == (odd, BESIDE + "\n\n")


def test_kolla_renders_the_set_under_node_custom_config(cli, tmp_path: Path) -> None:
    site = _site(tmp_path, {"patches/nova/0001-fix.patch": FIX})
    out = tmp_path / "out"
    r = cli("render", "-s", str(site), "-o", str(out), "--format", "kolla")
    assert r.code == 0, r.err
    pdir = out / "Two/config/nova/patches"
    assert {p.name: p.read_text() for p in pdir.iterdir()} == {
        "0001-fix.patch": FIX, "series": "0001-fix.patch\n", "packages": "nova\nos_vif\nos-brick\n",
        "apply-patches.sh": startup_script()}


def test_a_site_without_patches_renders_as_before(cli, tmp_path: Path) -> None:
    site = _site(tmp_path, {})
    out = tmp_path / "out"
    assert cli("render", "-s", str(site), "-o", str(out), "--format", "helm").code == 0
    assert not (out / "One/manifests").exists()
    values = yaml.safe_load((out / "One/helm-configs/nova/One-nova-helm-overrides.yaml").read_text())
    assert "mounts" not in values.get("pod", {})


def test_every_service_has_packages_and_every_chart_mounts() -> None:
    from regionctl.openstack.deployers import HELM_CHARTS
    from regionctl.openstack.pypackages import HELM_PATCH_MOUNTS, SERVICE_PACKAGES
    from regionctl.openstack.services import SERVICES

    assert set(SERVICE_PACKAGES) == set(SERVICES)
    assert set(HELM_PATCH_MOUNTS) == set(HELM_CHARTS)
