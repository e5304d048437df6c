"""The report in a real browser: Debian's headless Chromium loads the report of every example
(and of a broken, hostile site), once each; the tests read the DOM it left, its console, and the
screenshot it took (kept in the session's tmp dir as ``report-pages/<name>.png``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from chromium import INSTALL_HINT, Page, chromium, load, png_size
from conftest import EXAMPLES, SITE, make_site
from dom import Element, parse

from regionctl.cli.main import main
from regionctl.site.load import load as load_site

pytestmark = pytest.mark.browser

EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "site.yaml").is_file())
WIDTH, HEIGHT = 1280, 1800
HOSTILE = SITE.replace("    parent: One\n", "    parent: One\n    description: \"<script>alert('x')</script>\"\n"
                       "    infra:\n      database: db.two\n").replace("  One:\n", "  One:\n    parent: Nowhere\n")


@dataclass
class Loaded:
    site: Path
    html: str
    page: Page

    @property
    def dom(self) -> Element:
        return parse(self.page.dom)


def _report(site: Path, out: Path) -> int:
    try:
        main(["report", "-s", str(site), "-o", str(out)])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Loaded]:
    """Every example's report and the hostile site's, each loaded by Chromium once."""
    if chromium() is None:
        pytest.skip(INSTALL_HINT)
    work = tmp_path_factory.mktemp("report-pages")
    sites = {name: EXAMPLES / name for name in EXAMPLE_NAMES}
    sites["hostile"] = make_site(work / "hostile-site", HOSTILE)
    out = {}
    for name, site in sites.items():
        html = work / f"{name}.html"
        code = _report(site, html)
        assert code == (1 if name == "hostile" else 0), name
        out[name] = Loaded(site, html.read_text(), load(html, work, WIDTH, HEIGHT))
    return out


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_example_in_the_browser(pages: dict[str, Loaded], example: str) -> None:
    got = pages[example]
    assert got.page.console == [], "no console messages (errors, CSP violations, fetches)"
    dom = got.dom
    regions = list(load_site(got.site).site.regions)  # type: ignore[union-attr]
    cards = [e for e in dom.find_all("div") if e.has_class("card")]
    assert [c.attrs["data-region"] for c in cards] == regions
    assert [c.find("h3").text() for c in cards] == regions
    assert [r.attrs["data-region"] for r in dom.find("div", class_="matrix site").find_all("tr")
            if "data-region" in r.attrs] == regions
    assert "hidden" not in dom.find("input", id="filter").attrs, "the page's script ran (its CSP hash is right)"
    assert png_size(got.page.screenshot) == (WIDTH, HEIGHT)
    assert got.page.screenshot.stat().st_size > 20_000, "a screenshot with something on it"


def test_override_row_in_the_browser(pages: dict[str, Loaded]) -> None:
    dom = pages["genestack-sjc-dfw"].dom
    row = dom.find("tr", data_option="nova.conf [DEFAULT] cpu_allocation_ratio")
    site = str(EXAMPLES / "genestack-sjc-dfw")  # as the report was asked for: -s with this path
    cells = {td.attrs.get("data-region", "base"): (td.find("code").text(), td.find("a").attrs["data-source"],
                                                    td.find("a").text())
             for td in row.find_all("td")}
    assert cells == {
        "base": ("3.0", f"{site}/values/nova.yaml:5", "values/nova.yaml:5"),
        "sjc": ("8.0", f"{site}/regions/sjc/nova.yaml:4", "regions/sjc/nova.yaml:4"),
        "dfw": ("4.0", f"{site}/regions/dfw/nova.yaml:4", "regions/dfw/nova.yaml:4"),
    }
    assert [td.attrs["data-state"] for td in row.find_all("td")] == ["base", "override", "override"]


def test_hostile_site_in_the_browser(pages: dict[str, Loaded]) -> None:
    got = pages["hostile"]
    assert got.page.console == []
    dom = got.dom
    assert len(dom.find_all("script")) == 1, "the description's <script> is text, not an element"
    assert dom.find("div", id="region-Two").find("p", class_="desc").text().startswith("<script>alert('x')</script>")
    sections = [s.attrs["id"] for s in dom.find_all("section")]
    assert sections[0] == "problems"
    errors = dom.find("section", id="problems").find_all("tr", class_="error")
    assert [(tr.attrs["data-region"], tr.find("td", class_="where").text()) for tr in errors][:1] == [("One", "site.yaml:4")]
