"""explain (provenance, masking) and init (a working starter, refusal to clobber)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from conftest import EXAMPLES, SECRETS, make_site


def test_explain_genestack_ratio_per_region(cli) -> None:
    site = EXAMPLES / "genestack-sjc-dfw"
    r = cli("explain", "-s", str(site), "-r", "sjc", "-r", "dfw", "nova.conf:DEFAULT.cpu_allocation_ratio")
    assert r.code == 0
    assert r.out.splitlines() == [
        "sjc: nova.conf [DEFAULT] cpu_allocation_ratio = 8.0",
        f"  {site}/values/nova.yaml:5       base    3.0",
        f"  {site}/regions/sjc/nova.yaml:4  region  8.0   <- final",
        "dfw: nova.conf [DEFAULT] cpu_allocation_ratio = 4.0",
        f"  {site}/values/nova.yaml:5       base    3.0",
        f"  {site}/regions/dfw/nova.yaml:4  region  4.0   <- final",
    ]


def test_explain_values_path_form_and_json(cli) -> None:
    site = EXAMPLES / "genestack-sjc-dfw"
    r = cli("explain", "-s", str(site), "-r", "dfw", "-f", "json", "conf.nova.DEFAULT.cpu_allocation_ratio")
    records = json.loads(r.out)
    assert [(x["value"], x["set_at"], x["layer"]) for x in records] == [
        (3.0, f"{site}/values/nova.yaml:5", "base"), (4.0, f"{site}/regions/dfw/nova.yaml:4", "region")]


def test_explain_masks_secrets(cli) -> None:
    site = EXAMPLES / "two-regions"
    for path in ("nova.conf:neutron.metadata_proxy_shared_secret", "nova:passwords.service_users.nova"):
        r = cli("explain", "-s", str(site), "-r", "RegionTwo", "-f", "json", path)
        assert r.code == 0
        assert "meditech2019" not in r.out + r.err
        assert json.loads(r.out)[-1]["value"] == "********"


def test_explain_masks_plain_file_secret_history(cli, tmp_path: Path) -> None:
    """A secret overriding a value: every step of its history is masked, not only the last."""
    root = make_site(tmp_path / "s", files={
        "regions/Two/secrets.yaml": SECRETS + "conf:\n  nova:\n    database:\n      connection: mysql+pymysql://nova:hunter2@db/nova\n"})
    r = cli("explain", "-s", str(root), "-r", "Two", "nova.conf:database.connection")
    assert "hunter2" not in r.out and "mysql+pymysql://nova:********@db/nova" in r.out


def test_explain_shows_deletion(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", files={
        "values/nova.yaml": "conf:\n  nova:\n    DEFAULT:\n      debug: true\n",
        "regions/Two/nova.yaml": "conf:\n  nova:\n    DEFAULT:\n      debug: null\n"})
    r = cli("explain", "-s", str(root), "-r", "Two", "nova.conf:DEFAULT.debug")
    assert r.out.splitlines() == [
        "Two: nova.conf [DEFAULT] debug = (unset: deleted)",
        f"  {root}/values/nova.yaml:4       base    true",
        f"  {root}/regions/Two/nova.yaml:4  region  deleted (null)   <- final",
    ]


def test_explain_errors(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s")
    r = cli("explain", "-s", str(root), "-r", "Nope", "nova.conf:DEFAULT.debug")
    assert (r.code, r.err.strip()) == (1, "regionctl: error: unknown region 'Nope': the site declares One, Two")
    r = cli("explain", "-s", str(root), "-r", "Two", "nova.conf:DEFAULT.debug")
    assert (r.code, r.err.strip()) == (1, "regionctl: nova.conf [DEFAULT] debug is not set in Two")
    r = cli("explain", "-s", str(root), "-r", "Two", "cinder.conf:DEFAULT.debug")
    assert (r.code, r.err.strip()) == (1, "regionctl: error: region 'Two' does not run cinder: nothing sets cinder.conf [DEFAULT] debug there")
    r = cli("explain", "-s", str(root), "-r", "Two", "nova.conf:DEFAULT")
    assert r.err.strip() == "regionctl: error: 'nova.conf:DEFAULT' names a section, not an option: use nova.conf:DEFAULT.OPTION"
    r = cli("explain", "-s", str(root), "-r", "Two", "foo.conf:DEFAULT.debug")
    assert r.code == 1 and r.err.startswith("regionctl: error: 'foo.conf:DEFAULT.debug': unknown file or service 'foo.conf'")


def test_explain_refuses_invalid_site(cli, tmp_path: Path) -> None:
    root = make_site(tmp_path / "s", files={"values/nova.yaml": "conf: [\n"})
    r = cli("explain", "-s", str(root), "-r", "Two", "nova.conf:DEFAULT.debug")
    assert r.code == 1 and r.err.startswith(f"regionctl: error: {root}/values/nova.yaml:2: error: YAML syntax error")


def test_init_writes_a_valid_site(cli, tmp_path: Path) -> None:
    target = tmp_path / "new"
    r = cli("init", str(target))
    assert r.code == 0
    assert (target / "site.yaml").is_file()
    assert stat.S_IMODE((target / "regions/RegionOne/secrets.yaml").stat().st_mode) == 0o600
    v = cli("validate", "-s", str(target))
    assert (v.code, v.out) == (0, "")
    e = cli("explain", "-s", str(target), "-r", "RegionTwo", "nova.conf:DEFAULT.cpu_allocation_ratio")
    assert e.out.splitlines()[0] == "RegionTwo: nova.conf [DEFAULT] cpu_allocation_ratio = 8.0"


def test_init_shares_service_user_passwords(tmp_path: Path, cli) -> None:
    from ruamel.yaml import YAML
    cli("init", str(tmp_path / "n"))
    y = YAML(typ="safe")
    one = y.load((tmp_path / "n/regions/RegionOne/secrets.yaml").read_text())
    two = y.load((tmp_path / "n/regions/RegionTwo/secrets.yaml").read_text())
    assert one["passwords"]["service_users"] == two["passwords"]["service_users"]
    assert one["passwords"]["databases"]["nova"] != two["passwords"]["databases"]["nova"]


def test_init_refuses_non_empty_dir(cli, tmp_path: Path) -> None:
    target = tmp_path / "full"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    r = cli("init", str(target))
    assert r.code == 1
    assert r.err.strip() == f"regionctl: error: {target}: directory is not empty: init writes only into a new or empty directory"
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]


def test_init_into_empty_dir_and_leaves_no_temp(cli, tmp_path: Path) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    assert cli("init", str(target)).code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_schema_is_json_schema(cli) -> None:
    r = cli("schema")
    schema = json.loads(r.out)
    assert schema["title"] == "regionctl site.yaml"
    assert "regions" in schema["required"]
    assert schema["$defs"]["Region"]["additionalProperties"] is False
