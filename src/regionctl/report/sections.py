"""The report's sections: each a function from the data to one :class:`Section` (or None: not shown).

``report.page.SECTIONS`` lists them in page order; a feature adds its section by writing one
more function here (or in its own module) and appending it there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from regionctl.report.markup import Child, Html, join, tag
from regionctl.report.model import (
    CatalogEntry,
    CatalogMatrix,
    LiveCatalog,
    OverrideRow,
    RegionView,
    ReportData,
    Setting,
    Source,
)


@dataclass(frozen=True)
class Links:
    """How a FILE of the site becomes a link: ``root`` is prepended to relative names.

    The CLI sets it to the way from the report's directory to where the command ran, so the links
    open the site's files when the report sits beside the site (or in a code review checkout).
    """

    root: str = ""
    site: str = ""  # the site directory as shown: stripped from link texts

    def href(self, file: str) -> str:
        if file.startswith("/"):
            return "file://" + file
        return (self.root.rstrip("/") + "/" + file) if self.root else file

    def short(self, source: Source) -> str:
        """FILE:LINE with the site directory left out (the page header names it)."""
        prefix = self.site.rstrip("/") + "/" if self.site and self.site != "." else ""
        text = str(source)
        return text[len(prefix):] if prefix and text.startswith(prefix) else text

    def source(self, source: Source | None, cls: str = "src") -> Html:
        if source is None:
            return Html("")
        if source.file.startswith("<"):  # <built-in>
            return tag("span", {"class": cls, "data-source": str(source)}, source.layer or source.file)
        return tag("a", {"class": cls, "href": self.href(source.file), "title": str(source),
                         "data-source": str(source)}, self.short(source))


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    body: Html
    badge: str = ""  # shown beside the title in the page's navigation, e.g. "2 errors"
    tone: str = ""  # error | warning | ok: the badge's colour


SectionFn = Callable[[ReportData, Links], "Section | None"]


def anchor(region: str) -> str:
    """A region's element ID: the name with anything but [A-Za-z0-9_.-] spelled as _hex."""
    return "region-" + re.sub(r"[^A-Za-z0-9_.-]", lambda m: f"_{ord(m.group()):x}", region)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _filter_key(*parts: object) -> str:
    return " ".join(str(p) for p in parts if p).lower()


def _region_link(name: str | None) -> Html:
    if name is None:
        return tag("span", {"class": "muted"}, "all regions")
    return tag("a", {"href": "#" + anchor(name), "class": "region-link"}, name)


# ---- problems -----------------------------------------------------------------------------------


def problems_section(data: ReportData, links: Links) -> Section:
    """validate's findings, errors first, each linked to its file and to the region it concerns."""
    intro: list[Child] = []
    if not data.site_usable:
        intro.append(tag("p", {"class": "callout error"},
                         "site.yaml could not be read into the site model, so there are no regions, overrides or "
                         "catalog to draw until the errors below are fixed."))
    if not data.problems:
        return Section("problems", "Problems", tag("p", {"class": "callout ok"},
                       "validate finds no problems: the site renders and its catalog can be planned."),
                       "none", "ok")
    ordered = sorted(data.problems, key=lambda p: (not p.problem.is_error, p.problem.file, p.problem.line,
                                                    p.message))
    rows = []
    for p in ordered:
        sev = p.problem.severity.value
        src = Source(p.problem.file, p.problem.line)
        rows.append(tag("tr", {"class": sev, "data-filter": _filter_key(sev, p.region, src, p.message),
                               "data-region": p.region or ""},
                        tag("td", {}, tag("span", {"class": f"badge {sev}"}, sev)),
                        tag("td", {"class": "where"}, links.source(src)),
                        tag("td", {}, _region_link(p.region)),
                        tag("td", {"class": "msg"}, p.message)))
    table = tag("table", {"class": "grid problems filterable"},
                tag("thead", {}, tag("tr", {}, [tag("th", {}, h) for h in ("", "file:line", "region", "message")])),
                tag("tbody", {}, rows))
    badge = ", ".join(x for x in (_plural(data.errors, "error") if data.errors else "",
                                  _plural(data.warnings, "warning") if data.warnings else "") if x)
    return Section("problems", "Problems", join(intro + [tag("div", {"class": "scroll"}, table)]), badge,
                   "error" if data.errors else "warning")


# ---- regions ------------------------------------------------------------------------------------


def _card(r: RegionView, links: Links) -> Html:
    badges: list[Child] = []
    if r.identity:
        badges.append(tag("span", {"class": "badge identity", "title": "hosts the shared Keystone"}, "identity"))
    if r.errors:
        badges.append(tag("a", {"class": "badge error", "href": "#problems"}, _plural(r.errors, "error")))
    if r.warnings:
        badges.append(tag("a", {"class": "badge warning", "href": "#problems"}, _plural(r.warnings, "warning")))
    head = tag("div", {"class": "card-head"}, tag("h3", {}, r.name), badges)
    body: list[Child] = [head]
    sub = [r.description] if r.description else []
    if r.parent:
        sub.append(f"parent {r.parent}")
    if sub:
        body.append(tag("p", {"class": "desc"}, " · ".join(sub)))
    if r.addresses:
        body.append(tag("dl", {"class": "addr"}, [
            join([tag("dt", {}, iface), tag("dd", {}, tag("code", {}, text))]) for iface, text in r.addresses]))
    else:
        body.append(tag("p", {"class": "muted"}, "no addresses"))
    if r.services:
        body.append(tag("ul", {"class": "chips"}, [
            tag("li", {"class": "chip svc" + (" identity" if s.name == "keystone" else ""),
                       "title": ", ".join(s.types) or s.name}, s.name) for s in r.services]))
    else:
        body.append(tag("p", {"class": "muted"}, "runs no services"))
    if r.infra:
        body.append(tag("dl", {"class": "addr infra"}, [
            join([tag("dt", {}, kind), tag("dd", {}, tag("code", {}, text))]) for kind, text in r.infra]))
    foot: list[Child] = [links.source(r.source)]
    foot += [links.source(f) for f in r.files]
    if r.nodes:
        foot.append(tag("span", {"class": "muted"}, _plural(r.nodes, "node")))
    body.append(tag("div", {"class": "files"}, foot))
    cls = "card" + (" identity" if r.identity else "") + (" has-errors" if r.errors else "")
    return tag("div", {"class": cls, "id": anchor(r.name), "data-region": r.name}, body)


def _tree(name: str, data: ReportData, links: Links, drawn: set[str]) -> Html:
    drawn.add(name)
    r = data.regions[name]
    kids = [c for c in r.children if c in data.regions and c not in drawn]
    sub = tag("ul", {"class": "tree"}, [_tree(c, data, links, drawn) for c in kids]) if kids else Html("")
    return tag("li", {}, _card(r, links), sub)


def regions_section(data: ReportData, links: Links) -> Section | None:
    """The regions as a tree of parents and children, one box per cloud (Keystone)."""
    if not data.regions:
        return None
    drawn: set[str] = set()
    boxes = []
    for cloud in data.clouds:
        title = cloud.name or "The site's Keystone"
        where: list[Child] = [f"in region {cloud.identity_region}" if cloud.identity_region
                              else "no single identity region"]
        if cloud.identity_url:
            where = [tag("code", {}, cloud.identity_url), " ", where[0]]
        items = [_tree(root, data, links, drawn) for root in cloud.roots if root in data.regions]
        boxes.append(tag("div", {"class": "cloud", "data-cloud": cloud.name or ""},
                         tag("div", {"class": "cloud-head"}, tag("strong", {}, title), " ", tag("span", {"class": "muted"}, where)),
                         tag("ul", {"class": "tree top"}, items)))
    rest = [n for n in data.regions if n not in drawn]
    if rest:  # in a parent cycle: no root leads to them
        boxes.append(tag("div", {"class": "cloud"},
                         tag("div", {"class": "cloud-head"}, tag("strong", {}, "Not reachable from a root"), " ",
                             tag("span", {"class": "muted"}, "(their parents form a cycle)")),
                         tag("ul", {"class": "tree top"}, [_tree(n, data, links, drawn) for n in rest if n not in drawn])))
    return Section("regions", "Regions", join(boxes), _plural(len(data.regions), "region"))


# ---- overrides ----------------------------------------------------------------------------------

_STATE_NOTE = {"same": "same as base", "deleted": "deleted (null)", "unset": "unset", "absent": "not run here"}


def _setting(s: Setting, links: Links, region: str | None) -> Html:
    attrs: dict[str, object] = {"class": f"set {s.state}", "data-state": s.state}
    if region is not None:
        attrs["data-region"] = region
    parts: list[Child] = []
    if s.text:
        parts.append(tag("code", {"class": "val"}, s.text))
    elif s.state in ("deleted", "unset", "absent"):
        parts.append(tag("span", {"class": "none"}, "—" if s.state != "deleted" else "deleted"))
    note = _STATE_NOTE.get(s.state) if s.text else None
    if note:
        parts.append(tag("span", {"class": "note"}, note))
    if s.source is not None:
        parts.append(links.source(s.source))
    return tag("td", attrs, parts)


def overrides_section(data: ReportData, links: Links) -> Section | None:
    """Every option some region sets differently from the base: each region's value and where."""
    if not data.site_usable:
        return None
    regions = list(data.regions)
    if not data.overrides:
        body = tag("p", {"class": "callout"}, "No region overrides anything: every region takes the base values.")
        return Section("overrides", "Override map", body, "none")
    head = tag("tr", {}, tag("th", {}, "option"), tag("th", {}, "base"),
               [tag("th", {}, _region_link(r)) for r in regions])
    groups: dict[str, list[OverrideRow]] = {}
    for row in data.overrides:
        groups.setdefault(row.service, []).append(row)
    bodies = []
    for service, rows in groups.items():
        trs = [tag("tr", {"class": "group"}, tag("th", {"colspan": 2 + len(regions)}, service))]
        for row in rows:
            touched = [r for r, s in row.regions.items() if s.state in ("override", "deleted", "same")]
            trs.append(tag("tr", {"data-option": row.option, "data-filter": _filter_key(row.option, *touched)},
                           tag("th", {"class": "opt", "scope": "row"}, tag("code", {}, row.option),
                               tag("span", {"class": "badge secret"}, "secret") if row.secret else None),
                           _setting(row.base, links, None),
                           [_setting(row.regions.get(r, Setting("", None, "absent")), links, r) for r in regions]))
        bodies.append(tag("tbody", {"data-service": service}, trs))
    legend = tag("p", {"class": "legend"},
                 tag("span", {"class": "key override"}, "set by the region"), " ",
                 tag("span", {"class": "key same"}, "set again to the base value"), " ",
                 tag("span", {"class": "key deleted"}, "deleted by the region (null)"), " ",
                 tag("span", {"class": "key inherited"}, "the base or derived value"),
                 " Credentials (passwords:) are per region by design and not listed.")
    table = tag("table", {"class": "grid overrides filterable"}, tag("thead", {}, head), bodies)
    return Section("overrides", "Override map", join([legend, tag("div", {"class": "scroll"}, table)]),
                   _plural(len(data.overrides), "option"))


# ---- catalog ------------------------------------------------------------------------------------

_SHORT = {"public": "pub", "internal": "int", "admin": "adm"}
_MARK = {"changed": "~", "missing": "+", "extra": "−", "duplicate": "!"}
_STATE_TEXT = {"ok": "as in the site", "changed": "another URL or disabled", "missing": "missing from Keystone",
               "extra": "in Keystone, not in the site", "duplicate": "duplicates in Keystone",
               "unmanaged": "in a region the site does not manage", "live": "live", "site": "the site's"}


def _chip(e: CatalogEntry, several_names: bool) -> Html:
    label = (f"{e.name}:" if several_names else "") + _SHORT.get(e.interface, e.interface) + _MARK.get(e.state, "")
    title = f"{e.interface} {e.url or '(none)'}"
    if e.state not in ("site", "live", "ok") and e.site_url and e.site_url != e.url:
        title += f" (site: {e.site_url})"
    title += f": {_STATE_TEXT.get(e.state, e.state)}" if e.state != "site" else ""
    return tag("span", {"class": f"ep {e.state}", "title": title, "data-interface": e.interface}, label)


def _matrix(m: CatalogMatrix, caption: Child, cls: str) -> Html:
    names: dict[str, set[str]] = {}
    for (_, t), entries in m.cells.items():
        names.setdefault(t, set()).update(e.name for e in entries)
    head = tag("tr", {}, tag("th", {}, "region"), [tag("th", {}, t) for t in m.types])
    rows = []
    for region in m.regions:
        cells = [tag("td", {"data-type": t},
                     [_chip(e, len(names.get(t, ())) > 1) for e in m.cells.get((region, t), ())]) for t in m.types]
        rows.append(tag("tr", {"data-region": region}, tag("th", {"scope": "row"}, region), cells))
    return tag("div", {"class": f"matrix {cls}"}, tag("h3", {}, caption),
               tag("div", {"class": "scroll"}, tag("table", {"class": "grid catalog"}, tag("thead", {}, head),
                                                   tag("tbody", {}, rows))))


def _drift_table(live: LiveCatalog) -> Html:
    if not live.drift:
        return tag("p", {"class": "callout ok"}, "No drift: Keystone matches the site.")
    rows = [tag("tr", {"class": e.state, "data-filter": _filter_key(region, t, e.name, e.interface, e.state)},
                tag("td", {}, tag("span", {"class": f"ep {e.state}"}, _MARK.get(e.state, "") + " " + e.state)),
                tag("td", {}, region), tag("td", {}, f"{t}/{e.name}"), tag("td", {}, e.interface),
                tag("td", {}, tag("code", {}, e.url or "—")), tag("td", {}, tag("code", {}, e.site_url or "—")))
            for region, t, e in live.drift]
    head = tag("tr", {}, [tag("th", {}, h) for h in ("drift", "region", "service", "interface", "Keystone", "site")])
    return tag("div", {"class": "scroll"}, tag("table", {"class": "grid drift filterable"}, tag("thead", {}, head),
                                               tag("tbody", {}, rows)))


def catalog_section(data: ReportData, links: Links) -> Section | None:
    """The site's catalog as regions x service types; with --catalog the live one beside it."""
    if data.catalog is None:
        return None
    parts: list[Child] = []
    badge, tone = _plural(sum(len(v) for v in data.catalog.cells.values()), "endpoint"), ""
    site = _matrix(data.catalog, "The site", "site")
    live = data.live
    if live is not None and live.matrix is not None:
        caption = join(["Keystone ", tag("code", {}, live.where or "")])
        parts.append(tag("div", {"class": "side-by-side"}, site, _matrix(live.matrix, caption, "live")))
        parts.append(tag("p", {"class": "legend"}, [join([tag("span", {"class": f"ep {s}"}, f"{m} {s}"), " "])
                                                  for s, m in _MARK.items()],
                         tag("span", {"class": "ep unmanaged"}, "in a region the site does not manage"), " ",
                         "Hover an interface for its URL."))
        parts.append(_drift_table(live))
        if live.drift:
            badge, tone = _plural(len(live.drift), "drifted endpoint"), "warning"
    else:
        parts.append(site)
        if live is not None:
            parts.append(tag("p", {"class": "callout warning live-error"}, "Live catalog not shown: ", live.error or ""))
        parts.append(tag("p", {"class": "legend"}, "pub, int, adm: the public, internal and admin endpoints. "
                         "Hover one for its URL."))
    return Section("catalog", "Catalog", join(parts), badge, tone)
