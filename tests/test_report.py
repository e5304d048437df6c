"""`regionctl report`: the page's data (override map from provenance, problems per region), and
the page itself: escaped, secret-free, deterministic, written for broken sites too.

The page in a real browser is tests/test_report_browser.py; the live column against a real
Keystone is the last test here.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from conftest import EXAMPLES, SECRETS, SITE, make_site
from dom import Element, parse

from regionctl.report.gather import gather
from regionctl.report.markup import esc, tag
from regionctl.site.load import load
from regionctl.site.provenance import walk
from regionctl.check.validate import validate

EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "site.yaml").is_file())

BASE_NOVA = """\
conf:
  nova:
    DEFAULT:
      cpu_allocation_ratio: 2.0
      ram_allocation_ratio: 1.5
      debug: true
"""

TWO_NOVA = """\
conf:
  nova:
    DEFAULT:
      cpu_allocation_ratio: 6.0
      ram_allocation_ratio: 1.5
      debug: null
"""

TWO_SECRETS = SECRETS + """\
conf:
  nova:
    neutron:
      metadata_proxy_shared_secret: meta-secret-two
"""

HOSTILE = SITE.replace("  Two:\n", "  Two:\n    description: \"<script>alert('two')</script> & <b>co</b>\"\n")


def site_secrets(site: Path) -> set[str]:
    """Every value of every region's secrets file."""
    found = set()
    for rel, tree in load(site).layers.items():
        if rel.endswith("/secrets.yaml"):
            found |= {str(v.value) for _, v in walk(tree) if v.value not in (None, "")}
    return found


def overrides_site(tmp_path: Path, site: str = SITE) -> Path:
    return make_site(tmp_path / "site", site, {"values/nova.yaml": BASE_NOVA, "regions/Two/nova.yaml": TWO_NOVA,
                                               "regions/Two/secrets.yaml": TWO_SECRETS})


def data_of(site: Path):
    loaded = load(site)
    return gather(loaded, validate(loaded))


def write_report(cli, site: Path, out: Path, *extra: str):
    r = cli("report", "-s", str(site), "-o", str(out), *extra)
    return r, (out.read_text() if out.exists() else "")


# ---- the override map: computed from each value's history ----------------------------------------


def test_genestack_override_row_from_provenance() -> None:
    data = data_of(EXAMPLES / "genestack-sjc-dfw")
    site = str(EXAMPLES / "genestack-sjc-dfw")
    assert [r.option for r in data.overrides] == ["nova.conf [DEFAULT] cpu_allocation_ratio"]
    row = data.overrides[0]
    assert (row.base.text, str(row.base.source), row.base.state) == ("3.0", f"{site}/values/nova.yaml:5", "base")
    got = {r: (s.text, str(s.source), s.state) for r, s in row.regions.items()}
    assert got == {"sjc": ("8.0", f"{site}/regions/sjc/nova.yaml:4", "override"),
                   "dfw": ("4.0", f"{site}/regions/dfw/nova.yaml:4", "override")}


def test_override_states_deleted_same_inherited_secret(tmp_path: Path) -> None:
    site = overrides_site(tmp_path)
    rows = {r.option: r for r in data_of(site).overrides}
    # derived options built from secrets (passwords, connections) and credentials are not overrides
    assert sorted(rows) == ["nova.conf [DEFAULT] cpu_allocation_ratio", "nova.conf [DEFAULT] debug",
                            "nova.conf [DEFAULT] ram_allocation_ratio",
                            "nova.conf [neutron] metadata_proxy_shared_secret"]

    def cells(option: str) -> dict[str, tuple[str, str, str]]:
        row = rows[option]
        out = {r: (s.text, str(s.source or ""), s.state) for r, s in row.regions.items()}
        out["base"] = (row.base.text, str(row.base.source or ""), row.base.state)
        return out

    assert cells("nova.conf [DEFAULT] cpu_allocation_ratio") == {
        "base": ("2.0", f"{site}/values/nova.yaml:4", "base"),
        "One": ("2.0", f"{site}/values/nova.yaml:4", "inherited"),
        "Two": ("6.0", f"{site}/regions/Two/nova.yaml:4", "override")}
    assert cells("nova.conf [DEFAULT] debug") == {
        "base": ("true", f"{site}/values/nova.yaml:6", "base"),
        "One": ("true", f"{site}/values/nova.yaml:6", "inherited"),
        "Two": ("", f"{site}/regions/Two/nova.yaml:6", "deleted")}
    assert cells("nova.conf [DEFAULT] ram_allocation_ratio")["Two"] == (
        "1.5", f"{site}/regions/Two/nova.yaml:5", "same")
    assert cells("nova.conf [neutron] metadata_proxy_shared_secret") == {
        "base": ("", "", "unset"), "One": ("", "", "unset"),
        "Two": ("(secret)", f"{site}/regions/Two/secrets.yaml:20", "override")}
    assert rows["nova.conf [neutron] metadata_proxy_shared_secret"].secret


# ---- problems: linked to their region ----------------------------------------------------------


def test_problems_name_their_region(tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", SITE.replace("    parent: One\n", "    parent: Nowhere\n"),
                     {"regions/Two/cinder.yaml": "conf: {}\n"})
    found = {(str(p.problem), p.region) for p in data_of(site).problems}
    assert (f"{site}/site.yaml:13: error: parent region 'Nowhere' of 'Two' is not declared: "
            "declare it under 'regions:' or fix the name", "Two") in found
    assert (f"{site}/regions/Two/cinder.yaml: warning: region 'Two' does not run cinder; this file is ignored: "
            "add the service to the region or remove the file", "Two") in found


# ---- the page ----------------------------------------------------------------------------------


def test_markup_escapes_text_and_attributes() -> None:
    assert tag("td", {"title": "\"><script>"}, "<script>alert(1)</script>", esc("&")) == (
        '<td title="&quot;&gt;&lt;script&gt;">&lt;script&gt;alert(1)&lt;/script&gt;&amp;</td>')


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_example_report_has_no_secret_and_is_deterministic(cli, tmp_path: Path, example: str) -> None:
    r, html = write_report(cli, EXAMPLES / example, tmp_path / "a.html")
    assert r.code == 0, r.err
    secrets = site_secrets(EXAMPLES / example)
    assert secrets
    assert sorted(s for s in secrets if s in html) == []
    _, again = write_report(cli, EXAMPLES / example, tmp_path / "a.html")
    assert again == html, "the same site gives the same bytes"
    doc = parse(html)
    regions = list(load(EXAMPLES / example).site.regions)  # type: ignore[union-attr]
    assert [e.attrs["data-region"] for e in doc.find_all("div") if e.has_class("card")] == regions
    assert "http" not in "".join(e.attrs.get("src", "") for e in doc.iter()), "nothing is fetched"


def test_report_escapes_values_and_names(cli, tmp_path: Path) -> None:
    site = overrides_site(tmp_path, HOSTILE)
    (site / "regions/Two/nova.yaml").write_text(TWO_NOVA + "    vnc:\n      novncproxy_base_url: \"<script>x()</script>\"\n")
    r, html = write_report(cli, site, tmp_path / "r.html")
    assert r.code == 1, "the value is no URL: one error (nova.conf; nova-compute.conf inherits it), quoting it"
    assert html.count("<script") == 1, "the page's own script only"
    assert "&lt;script&gt;alert(&#x27;two&#x27;)&lt;/script&gt; &amp; &lt;b&gt;co&lt;/b&gt;" in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html
    cell = overrides_cell(parse(html), "nova.conf [vnc] novncproxy_base_url", "Two")
    assert cell.find("code").text() == "<script>x()</script>"
    messages = [td.text() for td in parse(html).find_all("td", class_="msg")]
    assert messages == ["nova.conf [vnc] novncproxy_base_url: expected a URL (scheme://host/...), got '<script>x()</script>'"]
    assert "meta-secret-two" not in html


def overrides_cell(doc: Element, option: str, region: str) -> Element:
    row = doc.find("tr", data_option=option)
    return row.find("td", data_region=region)


def test_invalid_site_report_shows_problems_first(cli, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", SITE.replace("    parent: One\n", "    parent: Nowhere\n"),
                     {"values/nova.yaml": "conf:\n  nova:\n    database:\n      connection: mysql://nova:plain-pw-leak@db/nova\n"})
    out = tmp_path / "r.html"
    r, html = write_report(cli, site, out)
    assert r.code == 1
    assert r.err.splitlines()[-1] == f"wrote {out}: 2 region(s), 0 overridden option(s), 2 error(s), 0 warning(s)"
    doc = parse(html)
    assert [s.attrs["id"] for s in doc.find_all("section")] == ["problems", "regions", "overrides", "catalog"]
    rows = doc.find("section", id="problems").find_all("tr", class_="error")
    assert [(r.find("td", class_="where").text(), r.attrs["data-region"]) for r in rows] == [
        ("site.yaml:13", "Two"), ("values/nova.yaml:4", "")]
    link = rows[0].find("a", class_="region-link")
    assert link.attrs["href"] == "#region-Two" and doc.find("div", id="region-Two")
    assert rows[0].find("a", class_="src").attrs["data-source"] == f"{site}/site.yaml:13"
    assert "plain-pw-leak" not in html


def test_unusable_site_yaml_still_gets_a_report(cli, tmp_path: Path) -> None:
    site = make_site(tmp_path / "site", "format: 1\nregions: [\n")
    r, html = write_report(cli, site, tmp_path / "r.html")
    assert r.code == 1
    doc = parse(html)
    assert [s.attrs["id"] for s in doc.find_all("section")] == ["problems"]
    assert "site.yaml could not be read" in doc.find("section", id="problems").text()
    assert doc.find("section", id="problems").find_all("tr", class_="error")


def test_links_reach_the_site_files_from_the_report(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_site(tmp_path / "site", files={"values/nova.yaml": BASE_NOVA, "regions/Two/nova.yaml": TWO_NOVA})
    monkeypatch.chdir(tmp_path)
    r, html = write_report(cli, Path("site"), Path("out/deep/r.html"))
    assert r.code == 0, r.err
    cell = overrides_cell(parse(html), "nova.conf [DEFAULT] cpu_allocation_ratio", "Two")
    link = cell.find("a", class_="src")
    assert (link.text(), link.attrs["href"]) == ("regions/Two/nova.yaml:4", "../../site/regions/Two/nova.yaml")
    assert (tmp_path / "out/deep" / link.attrs["href"]).is_file()


# ---- --catalog ---------------------------------------------------------------------------------


def no_cloud_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str]) -> None:
    for key in list(os.environ):
        if key.startswith("OS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "no-clouds.yaml"))
    for k, v in env.items():
        monkeypatch.setenv(k, v)


def test_unreachable_keystone_leaves_the_live_column_out(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v3"
    no_cloud_env(monkeypatch, tmp_path, {"OS_AUTH_URL": url, "OS_USERNAME": "admin", "OS_PASSWORD": "pw-not-shown",
                                         "OS_PROJECT_NAME": "admin", "OS_USER_DOMAIN_NAME": "Default",
                                         "OS_PROJECT_DOMAIN_NAME": "Default"})
    r, html = write_report(cli, EXAMPLES / "genestack-sjc-dfw", tmp_path / "r.html", "--catalog")
    assert r.code == 0, r.err
    why = (f"cannot reach Keystone at {url} (connection refused): "
           "check that it runs and that OS_AUTH_URL / clouds.yaml auth_url is right")
    assert r.err.splitlines()[-1] == f"regionctl: warning: live catalog left out: {why}"
    doc = parse(html)
    assert doc.find("p", class_="callout warning live-error").text() == f"Live catalog not shown: {why}"
    assert [m.attrs["class"] for m in doc.find_all("div") if m.has_class("matrix")] == ["matrix site"]
    assert "pw-not-shown" not in html


def test_no_cloud_configured_says_so_in_one_line(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_cloud_env(monkeypatch, tmp_path, {})
    r, html = write_report(cli, EXAMPLES / "two-regions", tmp_path / "r.html", "--catalog")
    assert r.code == 0, r.err
    line = parse(html).find("p", class_="callout warning live-error").text()
    assert line.startswith("Live catalog not shown: ") and "OS_AUTH_URL" in line
    assert "\n" not in line


@pytest.mark.keystone
def test_live_catalog_beside_the_site_with_drift(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 dev_keystone) -> None:
    from test_catalog_keystone import reset, use_env

    from regionctl.catalog.live import connect

    use_env(monkeypatch, dev_keystone.env(), tmp_path)
    reset(dev_keystone)
    try:
        site = EXAMPLES / "genestack-sjc-dfw"
        assert cli("catalog", "apply", "-s", str(site), "--yes").code == 0
        ks = connect()
        live = ks.read()
        by_key = {e.key: e for e in live.endpoints}
        gone = by_key[("compute", "nova", "public", "dfw")]
        moved = by_key[("image", "glance", "internal", "sjc")]
        ks.call("DELETE", f"/endpoints/{gone.id}")
        ks.call("PATCH", f"/endpoints/{moved.id}", {"endpoint": {"url": "https://glance.old.example.com"}})
        r, html = write_report(cli, site, tmp_path / "r.html", "--catalog")
        assert r.code == 0, r.err
        doc = parse(html)
        live_m = doc.find("div", class_="matrix live")
        assert dev_keystone.url in live_m.find("h3").text()
        chips = {(row.attrs["data-region"], td.attrs["data-type"], c.attrs["data-interface"]): c.attrs["class"]
                 for row in live_m.find_all("tr") if "data-region" in row.attrs
                 for td in row.find_all("td") for c in td.find_all("span")}
        assert chips[("dfw", "compute", "public")] == "ep missing"
        assert chips[("sjc", "image", "internal")] == "ep changed"
        assert chips[("sjc", "image", "public")] == "ep ok"
        assert chips[(dev_keystone.region, "identity", "public")] == "ep unmanaged"
        drift = [[td.text() for td in tr.find_all("td")] for tr in doc.find("table", class_="grid drift filterable")
                 .find_all("tr") if "data-filter" in tr.attrs]
        assert drift == [
            ["~ changed", "sjc", "image/glance", "internal", "https://glance.old.example.com",
             "https://glance.internal.sjc.example.com"],
            ["+ missing", "dfw", "compute/nova", "public", "—", "https://nova.api.dfw.example.com/v2.1"]]
    finally:
        use_env(monkeypatch, dev_keystone.env(), tmp_path)
        reset(dev_keystone)


def test_bad_arguments_are_one_line(cli, tmp_path: Path) -> None:
    r = cli("report", "-s", str(tmp_path / "nope"), "-o", str(tmp_path / "r.html"))
    assert (r.code, r.err) == (1, f"regionctl: error: {tmp_path / 'nope'}: no such directory: pass the site with "
                                  "-s/--site, or create one with 'regionctl init'\n")
    assert not (tmp_path / "r.html").exists()
    (tmp_path / "taken").mkdir()
    r = cli("report", "-s", str(EXAMPLES / "two-regions"), "-o", str(tmp_path / "taken"))
    assert (r.code, r.err.splitlines()[-1]) == (
        2, f"Error: Invalid value for '-o' / '--out': File '{tmp_path / 'taken'}' is a directory.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"], "no temp file left behind"
