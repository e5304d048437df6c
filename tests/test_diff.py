"""`regionctl diff`: against a render, a deployed tree and a git revision; provenance; secrets masked."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, make_site, run_process

from regionctl.diff.compare import compare
from regionctl.diff.mask import Secrets
from regionctl.diff.model import FileSide, Kind

EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "site.yaml").is_file())
FORMATS = ("plain", "kolla", "helm")


def git(repo: Path, *args: str) -> str:
    p = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args], cwd=repo,
                       check=True, capture_output=True, text=True)
    return p.stdout


def committed(src: Path, dest: Path) -> Path:
    """A copy of a site in a new git repository, committed."""
    shutil.copytree(src, dest)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "site")
    return dest


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


# ---- the core, on texts -------------------------------------------------------------------------


def side(text: str, **kw) -> FileSide:
    return FileSide(text, "x", **kw)


def test_ini_option_moved_is_no_change_and_multistring_is_a_list() -> None:
    old = {"r/a.conf": side("[DEFAULT]\na = 1\nb = 2\n[x]\nm = one\nm = two\n")}
    same = {"r/a.conf": side("[x]\nm = one\nm = two\n[DEFAULT]\nb = 2\n# a comment\na=1\n")}
    assert compare(old, same, Secrets()) == []
    reordered = {"r/a.conf": side("[DEFAULT]\na = 1\nb = 2\n[x]\nm = two\nm = one\n")}
    [c] = compare(old, reordered, Secrets())
    assert (c.kind, c.section, c.key, c.old, c.new) == (Kind.CHANGED, "x", "m", ["one", "two"], ["two", "one"])


def test_ini_read_as_oslo_config_reads_it() -> None:
    """No inline comments, quotes stripped, continuation lines joined: oslo.config's own parser."""
    old = {"r/a.conf": side('[DEFAULT]\na = x # y\nb = "q"\nc = one\n  two\n')}
    new = {"r/a.conf": side("[DEFAULT]\na = x\nb = q\nc = one\n    two\n")}
    [c] = compare(old, new, Secrets())
    assert (c.key, c.old, c.new) == ("a", "x # y", "x")


def test_yaml_by_key_path_and_lines() -> None:
    old = {"r/v.yaml": side("a:\n  b: 1\n  l: [1, 2]\nc: x\n"), "r/s.py": side("A = 1\nB = 2\n")}
    new = {"r/v.yaml": side("c: x\na:\n  l: [1, 3]\n  b: 1\n  d: {}\n"), "r/s.py": side("A = 1\nB = 3\n")}
    changes = compare(old, new, Secrets())
    assert [(c.file, c.kind, c.key, c.old, c.new) for c in changes] == [
        ("s.py", Kind.CHANGED, "line 2", "B = 2", "B = 3"),
        ("v.yaml", Kind.CHANGED, "a.l", [1, 2], [1, 3])]


def test_secrets_known_by_value_are_masked_anywhere() -> None:
    old = {"r/a.conf": side("[x]\nnote = was s3cr3t-value here\n"), "r/s.py": side("X = 's3cr3t-value'\n")}
    new = {"r/a.conf": side("[x]\nnote = now\n"), "r/s.py": side("X = 'other'\n")}
    changes = compare(old, new, Secrets(["s3cr3t-value"]))
    assert all(c.secret for c in changes)
    assert "s3cr3t" not in json.dumps([c.record() for c in changes])


def test_multi_host_transport_url_masks_every_password() -> None:
    url = "rabbit://u:pw-one@h1:5672,u:pw-two@h2:5672/"
    old = {"r/a.conf": side(f"[DEFAULT]\ntransport_url = {url}\n")}
    new = {"r/a.conf": side("[DEFAULT]\ntransport_url = rabbit://u:pw-three@h1:5672/\n")}
    [c] = compare(old, new, Secrets())
    assert c.secret and "pw-" not in json.dumps(c.record())


# ---- every example against its own render ------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_example_against_its_own_render_has_no_changes(cli, tmp_path: Path, example: str, fmt: str) -> None:
    site = str(EXAMPLES / example)
    assert cli("render", "-s", site, "-o", str(tmp_path), "--format", fmt).code == 0
    r = cli("diff", "-s", site, "--against", str(tmp_path), "--format", fmt, "--detailed-exitcode")
    assert (r.code, r.out) == (0, f"No changes: the render matches {tmp_path}.\n"), r.err


# ---- changes, with provenance -------------------------------------------------------------------


@pytest.fixture
def sjc_dfw(tmp_path: Path) -> Path:
    return committed(EXAMPLES / "genestack-sjc-dfw", tmp_path / "site")


def test_base_change_reaches_every_region(cli, sjc_dfw: Path) -> None:
    edit(sjc_dfw / "values/nova.yaml", "ram_allocation_ratio: 1.0", "ram_allocation_ratio: 1.5")
    r = cli("diff", "-s", str(sjc_dfw), "--detailed-exitcode")
    origin = f"{sjc_dfw}/values/nova.yaml:6"
    assert r.code == 2, r.err
    assert r.out.splitlines() == [
        f"sjc etc/nova/nova-compute.conf [DEFAULT] ram_allocation_ratio: 1.0 -> 1.5  ({origin})",
        f"sjc etc/nova/nova.conf [DEFAULT] ram_allocation_ratio: 1.0 -> 1.5  ({origin})",
        f"dfw etc/nova/nova-compute.conf [DEFAULT] ram_allocation_ratio: 1.0 -> 1.5  ({origin})",
        f"dfw etc/nova/nova.conf [DEFAULT] ram_allocation_ratio: 1.0 -> 1.5  ({origin})",
        f"{origin} reaches 2 regions: sjc, dfw",
        "4 change(s) in 2 region(s), 4 file(s), against the site at HEAD",
    ]


def test_region_only_change(cli, sjc_dfw: Path) -> None:
    edit(sjc_dfw / "regions/sjc/nova.yaml", "cpu_allocation_ratio: 8.0", "cpu_allocation_ratio: 6.0")
    r = cli("diff", "-s", str(sjc_dfw), "-f", "json", "--detailed-exitcode")
    assert r.code == 2
    doc = json.loads(r.out)
    assert doc["changes"] == [
        {"region": "sjc", "file": f, "kind": "changed", "section": "DEFAULT", "key": "cpu_allocation_ratio",
         "old": "8.0", "new": "6.0", "secret": False, "origin": f"{sjc_dfw}/regions/sjc/nova.yaml:4",
         "old_origin": f"HEAD:regions/sjc/nova.yaml:4", "where": None}
        for f in ("etc/nova/nova-compute.conf", "etc/nova/nova.conf")]
    assert doc["reach"] == [] and doc["summary"] == {"changes": 2, "regions": 1, "files": 2, "not_managed": 0, "kept": 0}
    r = cli("diff", "-s", str(sjc_dfw), "-r", "dfw", "--detailed-exitcode")
    assert (r.code, r.out) == (0, "No changes: the render matches the site at HEAD.\n")


def test_rev_reads_git_objects_and_leaves_the_work_tree_alone(cli, sjc_dfw: Path) -> None:
    """Against an older commit; the work tree, the index and the stash are as they were."""
    edit(sjc_dfw / "values/nova.yaml", "ram_allocation_ratio: 1.0", "ram_allocation_ratio: 2.0")
    git(sjc_dfw, "commit", "-qam", "two")
    edit(sjc_dfw / "values/nova.yaml", "ram_allocation_ratio: 2.0", "ram_allocation_ratio: 3.0")
    (sjc_dfw / "values/glance.yaml").write_text("conf:\n  glance:\n    DEFAULT:\n      show_image_direct_url: true\n")
    git(sjc_dfw, "add", "values/glance.yaml")
    before = (git(sjc_dfw, "status", "--porcelain"), git(sjc_dfw, "stash", "list"),
              (sjc_dfw / "values/nova.yaml").read_text(), git(sjc_dfw, "rev-parse", "HEAD"))
    r = cli("diff", "-s", str(sjc_dfw), "--rev", "HEAD~1", "-r", "dfw", "--stat")
    assert r.out.splitlines() == [
        "dfw  etc/glance/glance-api.conf  1 added",
        "dfw  etc/nova/nova-compute.conf  1 changed",
        "dfw  etc/nova/nova.conf          1 changed",
        "3 change(s) in 1 region(s), 3 file(s), against the site at HEAD~1"]
    r = cli("diff", "-s", str(sjc_dfw), "--rev", "HEAD~1", "-r", "dfw")
    assert f"dfw etc/nova/nova.conf [DEFAULT] ram_allocation_ratio: 1.0 -> 3.0  ({sjc_dfw}/values/nova.yaml:6)" \
        in r.out.splitlines()
    assert f"dfw etc/glance/glance-api.conf [DEFAULT] show_image_direct_url: (unset) -> true  " \
           f"({sjc_dfw}/values/glance.yaml:4)" in r.out.splitlines()
    after = (git(sjc_dfw, "status", "--porcelain"), git(sjc_dfw, "stash", "list"),
             (sjc_dfw / "values/nova.yaml").read_text(), git(sjc_dfw, "rev-parse", "HEAD"))
    assert after == before


def test_null_removal_names_the_null_and_files_added_and_removed(cli, sjc_dfw: Path) -> None:
    edit(sjc_dfw / "regions/dfw/nova.yaml", "cpu_allocation_ratio: 4.0", "cpu_allocation_ratio: null")
    site = sjc_dfw / "site.yaml"
    text = site.read_text()
    assert "      cinder:\n" in text
    site.write_text(text.replace("      cinder:\n", "", 1))  # sjc no longer runs cinder
    r = cli("diff", "-s", str(sjc_dfw))
    lines = r.out.splitlines()
    assert "sjc etc/cinder/cinder.conf: file removed (rendered before; the site renders it no more)" in lines
    assert (f"dfw etc/nova/nova.conf [DEFAULT] cpu_allocation_ratio: 4.0 -> (unset)  "
            f"(removed by {sjc_dfw}/regions/dfw/nova.yaml:4)") in lines
    git(sjc_dfw, "commit", "-qam", "drop")
    r = cli("diff", "-s", str(sjc_dfw), "--rev", "HEAD~1", "-f", "yaml")
    doc = yaml.safe_load(r.out)
    kinds = {(c["region"], c["file"], c["kind"]) for c in doc["changes"]}
    assert ("sjc", "etc/cinder/cinder.conf", "file removed") in kinds
    git(sjc_dfw, "revert", "--no-edit", "HEAD")
    r = cli("diff", "-s", str(sjc_dfw), "--rev", "HEAD~1")
    assert "sjc etc/cinder/cinder.conf: new file  " in r.out


def test_deployed_tree_with_hand_made_options(cli, tmp_path: Path) -> None:
    site = EXAMPLES / "genestack-sjc-dfw"
    assert cli("render", "-s", str(site), "-o", str(tmp_path / "out")).code == 0
    etc = tmp_path / "etc"
    shutil.copytree(tmp_path / "out/sjc/etc", etc)
    for p in etc.rglob("*.conf"):
        p.chmod(0o640)  # as a deployer leaves it: root:nova 0640
    nova = etc / "nova/nova.conf"
    edit(nova, "[DEFAULT]\n", "[DEFAULT]\nmy_hand_option = hand made\nadmin_token = tok-ZZZ-9\n")
    (etc / "nova/api-paste.ini").write_text("[composite:osapi]\nuse = egg:Paste\n")
    r = cli("diff", "-s", str(site), "--against", str(etc), "-r", "sjc", "--detailed-exitcode")
    assert r.code == 2, r.err
    assert r.out.splitlines() == [
        "sjc etc/nova/api-paste.ini: not managed by the site (left alone)",
        "sjc etc/nova/nova.conf [DEFAULT] admin_token: (secret) not managed by the site (deploying the render "
        f"removes it)  ({nova}:5)",
        "sjc etc/nova/nova.conf [DEFAULT] my_hand_option: hand made: not managed by the site (deploying the "
        f"render removes it)  ({nova}:4)",
        f"2 change(s) in 1 region(s), 1 file(s), against {etc}; 3 not managed by the site"]
    assert "tok-ZZZ-9" not in r.out + r.err


@pytest.mark.parametrize("fmt,sub", [("kolla", "config"), ("kolla", ""), ("helm", "helm-configs")])
def test_deployer_trees(cli, tmp_path: Path, fmt: str, sub: str) -> None:
    """kolla's /etc/kolla (or its config/), Genestack's /etc/genestack/helm-configs, found by their files."""
    site = committed(EXAMPLES / "genestack-sjc-dfw", tmp_path / "site")
    assert cli("render", "-s", str(site), "-o", str(tmp_path / "out"), "--format", fmt).code == 0
    deployed = tmp_path / "deployed"
    shutil.copytree(tmp_path / "out/sjc" / sub, deployed)
    edit(site / "values/nova.yaml", "ram_allocation_ratio: 1.0", "ram_allocation_ratio: 1.5")
    r = cli("diff", "-s", str(site), "--against", str(deployed), "-r", "sjc", "--format", fmt, "--stat")
    file = {"config": "config/nova.conf", "": "config/nova.conf",
            "helm-configs": "helm-configs/nova/sjc-nova-helm-overrides.yaml"}[sub]
    assert r.out.splitlines()[0].split() == ["sjc", file, "1", "changed"], r.out + r.err


def test_kolla_passwords_kept_and_globals_hand_made(cli, tmp_path: Path) -> None:
    """/etc/kolla: passwords.yml is merged (kolla-mergepwd), so the keys the site doesn't set stay;
    a variable added to globals.yml by hand is gone after the next deploy."""
    site = EXAMPLES / "genestack-sjc-dfw"
    assert cli("render", "-s", str(site), "-o", str(tmp_path / "out"), "--format", "kolla").code == 0
    kolla = tmp_path / "etc-kolla"
    shutil.copytree(tmp_path / "out/sjc", kolla)
    with (kolla / "passwords.yml").open("a") as f:
        f.write("heat_database_password: genpwd-H3at-77\nceph_cluster_fsid: 0e7c5cb0-aaaa\n")
    with (kolla / "globals.yml").open("a") as f:
        f.write('kolla_base_distro: "ubuntu"\n')
    r = cli("diff", "-s", str(site), "--against", str(kolla), "-r", "sjc", "--format", "kolla", "--detailed-exitcode")
    assert r.code == 2
    assert r.out.splitlines() == [
        'sjc globals.yml kolla_base_distro: ubuntu: not managed by the site (deploying the render removes it)  '
        f"({kolla}/globals.yml:{len((kolla / 'globals.yml').read_text().splitlines())})",
        f"1 change(s) in 1 region(s), 1 file(s), against {kolla}; 1 not managed by the site; 2 key(s) the site "
        "doesn't set kept in passwords.yml (the deployer merges it)"]
    assert "genpwd-H3at-77" not in r.out + r.err


# ---- secrets ------------------------------------------------------------------------------------


OLD_SECRETS = {"nova_service": "old-nova-svc-41", "nova_db": "old-nova-db-42", "rabbit": "old-rabbit-43",
               "shared": "old-shared-44", "glance_service": "old-glance-svc-45", "admin": "old-admin-46"}
NEW_SECRETS = {k: v.replace("old-", "new-") for k, v in OLD_SECRETS.items()}


def _secrets_file(s: dict[str, str]) -> str:
    return f"""\
passwords:
  keystone_admin: {s['admin']}
  service_users: {{nova: {s['nova_service']}, placement: p-same-1, neutron: n-same-1, glance: {s['glance_service']}, cinder: c-same-1}}
  databases: {{keystone: k-db-same, nova: {s['nova_db']}, placement: p-db-same, neutron: n-db-same, glance: g-db-same, cinder: c-db-same}}
  messaging: {s['rabbit']}
conf:
  nova:
    neutron:
      metadata_proxy_shared_secret: {s['shared']}
"""


def test_no_secret_is_ever_printed(cli, tmp_path: Path) -> None:
    """Every kind of secret changes; every output of every mode and format is scanned for old and new."""
    site = tmp_path / "site"
    shutil.copytree(EXAMPLES / "two-regions", site)
    (site / "regions/RegionOne/secrets.yaml").write_text(_secrets_file(OLD_SECRETS))
    edit(site / "site.yaml", "messaging: [192.168.40.15:5672]", "messaging: [192.168.40.15:5672, 192.168.40.16:5672]")
    git(site, "init", "-q")
    git(site, "add", "-A")
    git(site, "commit", "-qm", "old secrets")
    outs = {fmt: tmp_path / f"out-{fmt}" for fmt in FORMATS}
    for fmt, out in outs.items():
        assert cli("render", "-s", str(site), "-o", str(out), "--format", fmt).code == 0
    (site / "regions/RegionOne/secrets.yaml").write_text(_secrets_file(NEW_SECRETS))
    printed = []
    for fmt in FORMATS:
        for how in (["--rev", "HEAD"], ["--against", str(outs[fmt])], ["--against", str(outs[fmt] / "RegionOne"),
                                                                      "-r", "RegionOne"]):
            for output in (["-f", "table"], ["-f", "json"], ["-f", "yaml"], ["--stat"]):
                r = cli("diff", "-s", str(site), "--format", fmt, *how, *output, "--detailed-exitcode")
                assert r.code == 2, (fmt, how, output, r.err)
                printed.append(r.out + r.err)
                if fmt == "plain" and output == ["-f", "table"]:
                    lines = r.out.splitlines()
                    for file, option in [("etc/nova/nova.conf", "[keystone_authtoken] password"),
                                         ("etc/nova/nova.conf", "[database] connection"),
                                         ("etc/nova/nova.conf", "[DEFAULT] transport_url"),
                                         ("etc/nova/nova.conf", "[neutron] metadata_proxy_shared_secret"),
                                         ("etc/neutron/neutron.conf", "[nova] password"),
                                         ("etc/glance/glance-api.conf", "[keystone_authtoken] password")]:
                        assert any(line.startswith(f"RegionOne {file} {option}: (secret changed)") for line in lines), \
                            (file, option, r.out)
    everything = "\n".join(printed)
    for value in list(OLD_SECRETS.values()) + list(NEW_SECRETS.values()):
        assert value not in everything, value
        assert value.split("-", 1)[1] not in everything  # not even the part after old-/new-
    assert "(secret changed)" in everything


# ---- bad input ----------------------------------------------------------------------------------


def test_rev_naming_no_commit(cli, sjc_dfw: Path) -> None:
    top = git(sjc_dfw, "rev-parse", "--show-toplevel").strip()
    r = cli("diff", "-s", str(sjc_dfw), "--rev", "no-such-branch")
    assert (r.code, r.out) == (1, "")
    assert r.err == (f"regionctl: error: --rev no-such-branch: not a commit in {top}: name a branch, tag or "
                     "commit (see 'git log')\n")


def test_rev_outside_git(cli, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site")
    r = cli("diff", "-s", str(site))
    assert r.code == 1
    assert r.err.startswith(f"regionctl: error: {site}: not in a git repository (") and r.err.count("\n") == 1


def test_site_invalid_at_that_revision(cli, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    site = committed(EXAMPLES / "genestack-sjc-dfw", repo / "sites" / "prod")
    shutil.rmtree(site / ".git")
    edit(site / "site.yaml", "format: 1\n", "format: 1\nbogus: true\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "broken")
    edit(site / "site.yaml", "bogus: true\n", "")
    line = (site / "site.yaml").read_text().splitlines().index("format: 1") + 2
    commit = git(repo, "rev-parse", "HEAD").strip()[:12]
    r = cli("diff", "-s", str(site))
    assert r.code == 1 and r.out == ""
    assert r.err == (f"regionctl: error: HEAD:sites/prod/site.yaml:{line}: error: unknown key 'bogus' in the top "
                     "level: remove it or fix its spelling (see 'regionctl schema') (the site at HEAD "
                     f"({commit}) has errors, so it renders nothing to compare)\n")


def test_against_a_directory_that_is_no_render(cli, tmp_path: Path) -> None:
    site = EXAMPLES / "genestack-sjc-dfw"
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk/notes.txt").write_text("hello\n")
    r = cli("diff", "-s", str(site), "--against", str(tmp_path / "junk"))
    assert r.code == 1 and r.out == ""
    assert r.err == (f"regionctl: error: --against {tmp_path}/junk: not a render of the site (expected "
                     f"{tmp_path}/junk/dfw/etc/cinder/cinder.conf, as 'regionctl render -o {tmp_path}/junk' writes "
                     "it); a deployed tree is one region's: name it with -r REGION\n")
    r = cli("diff", "-s", str(site), "--against", str(tmp_path / "junk"), "-r", "dfw")
    assert r.code == 1
    assert r.err.startswith(f"regionctl: error: --against {tmp_path}/junk: neither a render of the site (expected ")
    assert "nor a deployed tree of region 'dfw'" in r.err and r.err.count("\n") == 1


def test_binary_file_in_the_tree(cli, tmp_path: Path) -> None:
    site = EXAMPLES / "genestack-sjc-dfw"
    assert cli("render", "-s", str(site), "-o", str(tmp_path)).code == 0
    conf = tmp_path / "sjc/etc/nova/nova.conf"
    conf.write_bytes(b"[DEFAULT]\nx = 1\n\x00\x01\x02binary")
    r = cli("diff", "-s", str(site), "--against", str(tmp_path))
    assert (r.code, r.out) == (1, "")
    assert r.err == (f"regionctl: error: {conf}:3: error: a binary file where regionctl renders text: remove it, "
                     "or point --against at another tree\n")


def test_broken_ini_in_the_tree(cli, tmp_path: Path) -> None:
    site = EXAMPLES / "genestack-sjc-dfw"
    assert cli("render", "-s", str(site), "-o", str(tmp_path)).code == 0
    conf = tmp_path / "dfw/etc/nova/nova.conf"
    conf.write_text("[DEFAULT]\nno assignment here\n")
    r = cli("diff", "-s", str(site), "--against", str(tmp_path))
    assert r.code == 1
    assert r.err == (f"regionctl: error: {conf}:2: error: not INI that oslo.config can read (No ':' or '=' found in "
                     "assignment): fix the file, or point the diff at another tree\n")


def test_against_and_rev_together(cli, tmp_path: Path) -> None:
    r = cli("diff", "-s", str(EXAMPLES / "two-regions"), "--against", str(tmp_path), "--rev", "HEAD")
    assert (r.code, r.err) == (1, "regionctl: error: --against and --rev both given: compare with one of them\n")


# ---- colour only on a terminal ------------------------------------------------------------------


def test_colour_only_on_a_terminal(tmp_path: Path) -> None:
    import pty

    site = committed(EXAMPLES / "genestack-sjc-dfw", tmp_path / "site")
    edit(site / "values/nova.yaml", "ram_allocation_ratio: 1.0", "ram_allocation_ratio: 1.5")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[1] / "src"),
                                                                       os.environ.get("PYTHONPATH")]))}
    piped = run_process(["diff", "-s", str(site)], env=env)
    assert piped.code == 0 and "\x1b[" not in piped.out and "1.0 -> 1.5" in piped.out
    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "regionctl", "diff", "-s", str(site)], stdout=slave,
                         stderr=slave, env=env, close_fds=True)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    assert p.wait(timeout=60) == 0
    os.close(master)
    text = out.decode()
    assert re.search(r"\x1b\[31m1\.0\x1b\[0m -> \x1b\[32m1\.5\x1b\[0m", text), text


def test_region_removed_and_added_against_a_render(cli, tmp_path: Path) -> None:
    from conftest import SITE

    site = make_site(tmp_path / "site")
    assert cli("render", "-s", str(site), "-o", str(tmp_path / "out")).code == 0
    (site / "site.yaml").write_text(SITE.replace("  Two:", "  Three:").replace("192.0.2.2", "192.0.2.3"))
    shutil.move(site / "regions/Two", site / "regions/Three")
    r = cli("diff", "-s", str(site), "--against", str(tmp_path / "out"), "--stat", "--detailed-exitcode")
    assert r.code == 2, r.err
    rows = [line.split() for line in r.out.splitlines()[:-1]]
    three = [row for row in rows if row[0] == "Three"]
    two = [row for row in rows if row[0] == "Two"]
    assert three and all(row[2:] == ["1", "added"] for row in three)
    assert two and all(row[2:] == ["1", "removed"] for row in two)
    assert {row[1] for row in two} == {row[1] for row in three} >= {"etc/nova/nova.conf", "etc/nova/nova-compute.conf"}
    r = cli("diff", "-s", str(site), "--against", str(tmp_path / "out"), "-r", "One", "--detailed-exitcode")
    assert (r.code, r.out) == (0, f"No changes: the render matches {tmp_path / 'out'}.\n")  # Two is not looked at


def test_mask_text_masks_every_password_of_a_cluster_url() -> None:
    from regionctl.site.secrets import mask_text

    assert mask_text("rabbit://u:pw-one@h1:5672,u:pw-two@h2:5672/") == "rabbit://u:********@h1:5672,u:********@h2:5672/"
    assert mask_text("mysql+pymysql://nova:s3@db/nova") == "mysql+pymysql://nova:********@db/nova"
    assert mask_text("rabbit://u:a,b@h1:5672/") == "********"  # a ',' in it: nothing of it is shown


def test_site_not_committed_yet(cli, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "README").write_text("x\n")
    git(repo, "add", "README")
    git(repo, "commit", "-qm", "first")
    site = make_site(repo / "prod")
    commit = git(repo, "rev-parse", "HEAD").strip()[:12]
    r = cli("diff", "-s", str(site))
    assert (r.code, r.out) == (1, "")
    assert r.err == (f"regionctl: error: HEAD:prod/site.yaml: error: the site has no site.yaml at revision HEAD "
                     f"({commit}): pick a revision where it existed\n")


def test_duplicate_yaml_key_in_the_tree_names_no_value(cli, tmp_path: Path) -> None:
    site = EXAMPLES / "genestack-sjc-dfw"
    assert cli("render", "-s", str(site), "-o", str(tmp_path), "--format", "kolla").code == 0
    pw = tmp_path / "sjc/passwords.yml"
    pw.write_text(pw.read_text() + "rabbitmq_password: dup-S3cret-1\nrabbitmq_password: dup-S3cret-2\n")
    r = cli("diff", "-s", str(site), "--against", str(tmp_path), "--format", "kolla")
    assert r.code == 1 and "dup-S3cret" not in r.out + r.err
    line = len(pw.read_text().splitlines()) - 1  # the first key written again (the render has one already)
    assert r.err == (f'regionctl: error: {pw}:{line}: error: not YAML (found duplicate key "rabbitmq_password"): '
                     "fix the file, or point the diff at another tree\n")
