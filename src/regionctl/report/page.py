"""The page: one self-contained HTML file (inline CSS, a few lines of JS, no fetches), built purely.

``build_page(data)`` draws every function of :data:`SECTIONS` in order; a feature adds its section
by appending one function. A Content-Security-Policy allows exactly the page's own style and
script (by hash) and nothing from anywhere: a value that slipped through unescaped could not run,
and a page that tried to fetch would say so in the browser's console (the tests watch it).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Sequence

from regionctl.report.markup import Child, Html, join, tag
from regionctl.report.model import ReportData
from regionctl.report.sections import (
    Links,
    Section,
    SectionFn,
    catalog_section,
    overrides_section,
    problems_section,
    regions_section,
)

#: The page, top to bottom. Problems come first, so a broken site shows what is wrong at once.
SECTIONS: list[SectionFn] = [problems_section, regions_section, overrides_section, catalog_section]

CSS = """
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg: #f6f8fa; --card: #fff;
  --accent: #0969da; --id: #8250df; --id-bg: #fbefff; --err: #cf222e; --err-bg: #ffebe9;
  --warn: #9a6700; --warn-bg: #fff8c5; --ok: #1a7f37; --ok-bg: #dafbe1; --ovr-bg: #fff4d6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 "DejaVu Sans", "Liberation Sans", system-ui, sans-serif;
  color: var(--fg); background: var(--bg); }
code, .src { font-family: "DejaVu Sans Mono", "Liberation Mono", ui-monospace, monospace; font-size: 12.5px; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
header.top { background: #24292f; color: #fff; padding: 14px 28px 12px; }
header.top h1 { margin: 0; font-size: 20px; font-weight: 600; }
header.top h1 .site { font-family: "DejaVu Sans Mono", monospace; font-weight: 400; color: #cfd6dd; }
header.top .facts { margin: 6px 0 0; color: #cfd6dd; font-size: 13px; }
header.top .facts b { color: #fff; font-weight: 600; }
nav.toc { display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: center; padding: 8px 28px;
  background: var(--card); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
nav.toc a { font-weight: 600; }
nav.toc input { margin-left: auto; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px;
  font: inherit; width: 260px; }
main { padding: 8px 28px 28px; }
section { margin: 18px 0 26px; }
section > h2 { font-size: 17px; margin: 0 0 10px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
.badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 11.5px; font-weight: 600;
  line-height: 18px; border: 1px solid transparent; vertical-align: middle; white-space: nowrap; }
.badge.identity { color: var(--id); background: var(--id-bg); border-color: #d8b9ff; }
.badge.error { color: var(--err); background: var(--err-bg); border-color: #ffcecb; }
.badge.warning { color: var(--warn); background: var(--warn-bg); border-color: #eed888; }
.badge.ok { color: var(--ok); background: var(--ok-bg); border-color: #aceebb; }
.badge.secret { color: var(--muted); background: var(--bg); border-color: var(--line); margin-left: 6px; }
nav.toc .badge { margin-left: 4px; font-weight: 500; color: var(--muted); background: var(--bg); border-color: var(--line); }
nav.toc .badge.error { color: var(--err); background: var(--err-bg); border-color: #ffcecb; font-weight: 600; }
nav.toc .badge.warning { color: var(--warn); background: var(--warn-bg); border-color: #eed888; font-weight: 600; }
nav.toc .badge.ok { color: var(--ok); background: var(--ok-bg); border-color: #aceebb; }
.muted { color: var(--muted); }
.callout { padding: 8px 12px; border-radius: 6px; border: 1px solid var(--line); background: var(--card); margin: 0 0 10px; }
.callout.ok { border-color: #aceebb; background: var(--ok-bg); }
.callout.error { border-color: #ffcecb; background: var(--err-bg); }
.callout.warning { border-color: #eed888; background: var(--warn-bg); }
.scroll { overflow-x: auto; }
table.grid { border-collapse: collapse; background: var(--card); border: 1px solid var(--line); min-width: 50%; }
table.grid th, table.grid td { border: 1px solid var(--line); padding: 5px 9px; text-align: left; vertical-align: top; }
table.grid thead th { background: var(--bg); font-size: 12.5px; color: var(--muted); font-weight: 600; }
table.grid tr.group th { background: #eaeef2; font-size: 12.5px; text-transform: uppercase; letter-spacing: .04em; }
table.problems tr.error td.msg { color: #82071e; }
table.problems td.where { white-space: nowrap; }
.cloud { border: 1px dashed #afb8c1; border-radius: 10px; padding: 10px 14px 4px; margin-bottom: 14px; background: #fbfcfd; }
.cloud-head { margin-bottom: 6px; }
ul.tree { list-style: none; margin: 0; padding: 0; }
ul.tree.top { display: flex; flex-wrap: wrap; gap: 0 18px; align-items: flex-start; }
ul.tree ul.tree { padding-left: 34px; position: relative; }
ul.tree li { position: relative; margin: 0 0 10px; }
ul.tree ul.tree > li::before { content: ""; position: absolute; left: -22px; top: 0; height: 26px; width: 18px;
  border-left: 2px solid #afb8c1; border-bottom: 2px solid #afb8c1; border-bottom-left-radius: 6px; }
ul.tree ul.tree > li:not(:last-child)::after { content: ""; position: absolute; left: -22px; top: 24px; bottom: -10px;
  border-left: 2px solid #afb8c1; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px;
  display: inline-block; min-width: 420px; max-width: 100%; box-shadow: 0 1px 2px rgba(31,35,40,.06); }
.card.identity { border-color: #c297ff; box-shadow: 0 0 0 3px var(--id-bg); }
.card.has-errors { border-color: #ff8182; }
.card-head { display: flex; gap: 8px; align-items: center; }
.card-head h3 { margin: 0; font-size: 16px; }
.card .desc { margin: 2px 0 6px; color: var(--muted); }
dl.addr { display: grid; grid-template-columns: 76px 1fr; gap: 1px 10px; margin: 6px 0; }
dl.addr dt { color: var(--muted); font-size: 12.5px; } dl.addr dd { margin: 0; }
ul.chips { list-style: none; padding: 0; margin: 6px 0; display: flex; flex-wrap: wrap; gap: 5px; }
.chip { padding: 1px 8px; border-radius: 10px; background: #ddf4ff; color: #0a3069; font-size: 12.5px; border: 1px solid #b6e3ff; }
.chip.identity { background: var(--id-bg); color: var(--id); border-color: #d8b9ff; }
.files { display: flex; flex-wrap: wrap; gap: 3px 12px; margin-top: 6px; font-size: 12px; border-top: 1px solid #eaeef2; padding-top: 5px; }
table.overrides th.opt { font-weight: 400; white-space: nowrap; }
table.overrides td.set { min-width: 150px; }
td.set code.val { display: block; font-weight: 600; word-break: break-all; }
td.set .src { display: block; font-size: 11.5px; color: var(--muted); }
td.set a.src { color: var(--accent); }
td.set .note { display: block; font-size: 11.5px; color: var(--muted); font-style: italic; }
td.set .none { color: var(--muted); }
td.set.override { background: var(--ovr-bg); }
td.set.same { background: var(--bg); }
td.set.same code.val { font-weight: 400; }
td.set.deleted { background: var(--err-bg); }
td.set.deleted .none { color: var(--err); text-decoration: line-through; font-weight: 600; }
td.set.inherited code.val, td.set.base code.val { font-weight: 400; color: #424a53; }
td.set.absent { background: repeating-linear-gradient(45deg, #fff, #fff 6px, #f3f4f6 6px, #f3f4f6 12px); }
.legend { color: var(--muted); font-size: 12.5px; margin: 6px 0 8px; }
.legend .key { display: inline-block; padding: 0 6px; border: 1px solid var(--line); border-radius: 4px; margin-right: 4px; }
.key.override { background: var(--ovr-bg); } .key.same { background: var(--bg); }
.key.deleted { background: var(--err-bg); } .key.inherited { background: var(--card); }
.side-by-side { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
.matrix h3 { font-size: 14px; margin: 0 0 6px; }
table.catalog { min-width: 0; }
table.catalog th, table.catalog td { padding: 4px 5px; }
table.catalog td { white-space: nowrap; }
.ep { display: inline-block; font-family: "DejaVu Sans Mono", monospace; font-size: 11.5px; padding: 0 4px; margin: 1px;
  border-radius: 4px; background: #eef1f4; border: 1px solid var(--line); }
.ep.site, .ep.ok, .ep.live { background: var(--ok-bg); border-color: #aceebb; }
.ep.changed { background: var(--warn-bg); border-color: #d4a72c; }
.ep.missing { background: var(--err-bg); border-color: #ff8182; }
.ep.extra { background: #fff1e5; border-color: #ffb77c; }
.ep.duplicate { background: #ffd8d3; border-color: var(--err); }
.ep.unmanaged { background: #fff; color: var(--muted); }
footer { padding: 10px 28px 24px; color: var(--muted); font-size: 12px; }
[hidden] { display: none !important; }
"""

JS = """
(function () {
  var box = document.getElementById("filter");
  if (!box) { return; }
  var rows = document.querySelectorAll("tr[data-filter]");
  box.hidden = false;
  box.addEventListener("input", function () {
    var q = box.value.trim().toLowerCase();
    for (var i = 0; i < rows.length; i++) {
      rows[i].hidden = q !== "" && rows[i].getAttribute("data-filter").indexOf(q) < 0;
    }
  });
})();
"""


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


CSP = f"default-src 'none'; style-src '{_sha256(CSS)}'; script-src '{_sha256(JS)}'; img-src data:"


def _header(data: ReportData) -> Html:
    ids = [c.identity_region for c in data.clouds if c.identity_region]
    facts: list[Child] = [tag("b", {}, str(len(data.regions))), " regions"]
    if ids:
        facts += [" · identity region ", tag("b", {}, ", ".join(ids))]
    if data.release:
        facts += [" · release ", tag("b", {}, data.release)]
    facts += [" · ", tag("b", {}, str(data.errors)), " errors, ", tag("b", {}, str(data.warnings)), " warnings"]
    return tag("header", {"class": "top"},
               tag("h1", {}, "regionctl report ", tag("span", {"class": "site"}, data.site)),
               tag("p", {"class": "facts"}, facts))


def _nav(sections: Sequence[Section]) -> Html:
    links = [tag("a", {"href": f"#{s.id}"}, s.title,
                  tag("span", {"class": f"badge {s.tone}"}, s.badge) if s.badge else None) for s in sections]
    box = tag("input", {"id": "filter", "type": "search", "placeholder": "Filter rows (option, region, file…)",
                        "aria-label": "Filter table rows", "hidden": True})
    return tag("nav", {"class": "toc"}, links, box)


def build_page(data: ReportData, links: Links | None = None, sections: Sequence[SectionFn] | None = None) -> str:
    """The whole page as one string; the same data gives the same bytes."""
    links = links or Links(site=data.site)
    drawn = [s for fn in (sections if sections is not None else SECTIONS) if (s := fn(data, links)) is not None]
    body = [tag("section", {"id": s.id}, tag("h2", {}, s.title), s.body) for s in drawn]
    head = tag("head", {},
               tag("meta", {"charset": "utf-8"}),
               tag("meta", {"http-equiv": "Content-Security-Policy", "content": CSP}),
               tag("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}),
               tag("meta", {"name": "generator", "content": f"regionctl {data.version}"}),
               tag("title", {}, f"regionctl report: {data.site}"),
               Html(f"<style>{CSS}</style>"))
    page = tag("html", {"lang": "en"}, head,
               tag("body", {}, _header(data), _nav(drawn), tag("main", {}, body),
                   tag("footer", {}, f"Written by regionctl {data.version} from the site {data.site}. "
                       "Secrets are never in this file: they show as (secret)."),
                   Html(f"<script>{JS}</script>")))
    return "<!DOCTYPE html>\n" + page + "\n"


__all__ = ["SECTIONS", "build_page", "Links", "Section", "join"]
