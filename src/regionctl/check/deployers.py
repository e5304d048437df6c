"""What the deployers would refuse, found before rendering: ``validate`` reports it with FILE:LINE.

openstack-helm: a region with nodes must have a node for every component of every chart it runs
(render --format helm places each pod by node labels).

kolla-ansible: a site's ``kolla:`` values are kolla's own variables and none regionctl writes from
site.yaml; and, for a site that deploys with kolla (it has a ``kolla:`` key; render --format kolla
checks every site), each region sets what kolla cannot guess (``network_interface``) and regions
whose VIPs share a segment have distinct keepalived router ids.
"""

from __future__ import annotations

import difflib
import ipaddress

from regionctl.openstack import kolla as kolla_data
from regionctl.openstack.deployers import (
    HELM_CHARTS,
    HELM_DIR,
    KOLLA_DERIVED,
    KOLLA_KEY,
    KOLLA_REGION_NEEDS,
    KOLLA_SEGMENT_PREFIX,
    KOLLA_VRID_VAR,
    ROLE_PLACEMENTS,
    chosen_placement,
    roles_providing,
)
from regionctl.resolve.kolla import Vip, global_files, internal_vip, kolla_values, site_gives_vip, targets_kolla
from regionctl.site import layout
from regionctl.site.carried import carried, genestack_rel
from regionctl.site.load import LoadedSite
from regionctl.site.problems import Problem, error, warning
from regionctl.site.provenance import Branch, Value, origin_of


def check_helm_placement(loaded: LoadedSite) -> list[Problem]:
    site = loaded.site
    assert site is not None
    out = []
    for rname, region in site.regions.items():
        if not region.nodes:
            continue
        provides = {p for n in region.nodes for r in n.roles for p in ROLE_PLACEMENTS.get(r, ())}
        line = loaded.line("regions", rname, "nodes")
        for service in region.services:
            chart = HELM_CHARTS.get(service)
            if chart is None:
                continue
            for path, placement in chart.components:
                if chosen_placement(placement, provides) is None:
                    out.append(error(loaded.site_file, line,
                                     f"region '{rname}' has no node with role {roles_providing(placement)}, so the "
                                     f"{chart.chart} chart's labels.{path} pods could run nowhere: give a node "
                                     "that role (render --format helm needs it)"))
                    break  # one line per chart: the first component that cannot run
    return out


# -- kolla-ansible ----------------------------------------------------------------------------

VIP_VARS = ("kolla_internal_vip_address", "kolla_external_vip_address")


def _hint(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_kolla_keys(loaded: LoadedSite) -> list[Problem]:
    """Every ``kolla:`` key is a kolla-ansible variable regionctl does not write itself."""
    known = kolla_data.variables()
    names = sorted(known)
    out: list[Problem] = []
    allowed = {global_files("")[0]} | {global_files(r)[1] for r in loaded.region_dirs}
    for rel, tree in sorted(loaded.layers.items()):
        node = tree.get(KOLLA_KEY)
        if node is None and KOLLA_KEY not in tree:
            continue
        shown = loaded.shown(rel)
        o = origin_of(node) if node is not None else None
        line = o.line if o else 0
        if rel not in allowed:
            out.append(error(shown, line, f"{KOLLA_KEY}: is read from {global_files('')[0]} and "
                                          f"{layout.REGIONS_DIR}/<region>/{layout.GLOBAL}{layout.EXT} only, so it "
                                          "would be ignored here: move it to one of them"))
            continue
        if isinstance(node, Value):
            if node.value is not None:
                out.append(error(shown, line, f"{KOLLA_KEY}: expected a map of kolla-ansible variables "
                                              "(kolla: network_interface: eth1)"))
            continue
        region = rel.split("/")[1] if rel.startswith(layout.REGIONS_DIR + "/") else None
        for var, value in (node or Branch()).items():
            vo = origin_of(value)
            vline = vo.line if vo else line
            if var not in known:
                out.append(error(shown, vline, f"{KOLLA_KEY}.{var}: kolla-ansible ({kolla_data.source()}) has no "
                                               f"variable '{var}'{_hint(var, names)}, so it would be ignored: fix "
                                               "its name or remove it"))
            elif var in KOLLA_DERIVED:
                out.append(error(shown, vline, f"{KOLLA_KEY}.{var}: regionctl writes {var} from "
                                               f"{KOLLA_DERIVED[var]}: set it there, not here"))
            elif var in VIP_VARS:
                out += _vip_var(loaded, shown, vline, var, region)
    return out


def _vip_var(loaded: LoadedSite, shown: str, line: int, var: str, region: str | None) -> list[Problem]:
    if region is None:
        return [error(shown, line, f"{KOLLA_KEY}.{var}: a VIP is one region's: set it in "
                                   f"{layout.REGIONS_DIR}/<region>/{layout.GLOBAL}{layout.EXT}")]
    if loaded.site is None or region not in loaded.site.regions:
        return []
    address = site_gives_vip(loaded, region, var)
    if address:
        which = "internal" if var == "kolla_internal_vip_address" else "public"
        return [error(shown, line, f"{KOLLA_KEY}.{var}: site.yaml regions.{region}.addresses already gives the "
                                   f"{which} address ({address}), and regionctl writes {var} from it: remove this one")]
    return []


def check_kolla_regions(loaded: LoadedSite, force: bool = False) -> list[Problem]:
    """What kolla would deploy wrong without a word; for a site that deploys with kolla (or ``force``)."""
    site = loaded.site
    if site is None or not (force or targets_kolla(loaded)):
        return []
    defaults = kolla_data.variables()
    out: list[Problem] = []
    vrids: dict[str, tuple[str, str, int]] = {}
    for rname in site.regions:
        values = kolla_values(loaded, rname).tree
        rline = loaded.line("regions", rname)
        for var in KOLLA_REGION_NEEDS:
            if var not in values:
                out.append(warning(loaded.site_file, rline,
                                   f"region '{rname}' sets no kolla {var}, so kolla-ansible uses its default "
                                   f"'{defaults.get(var)}' ({kolla_data.source()}): set {KOLLA_KEY}.{var} in "
                                   f"{global_files(rname)[1]} (or {global_files(rname)[0]} for every region)"))
        node = values.get(KOLLA_VRID_VAR)
        if isinstance(node, Value):
            vrids[rname] = (str(node.value), node.origin.file, node.origin.line)
        else:
            vrids[rname] = (str(defaults.get(KOLLA_VRID_VAR)), "", 0)
    vips = {r: v for r in site.regions if (v := internal_vip(loaded, r)) is not None}
    seen: list[str] = []
    for rname, vip in vips.items():
        for other in seen:
            if _segment(vip) != _segment(vips[other]) or vrids[rname][0] != vrids[other][0]:
                continue
            vrid, file, line = vrids[rname]
            why = f"set to {vrid} in both" if file else f"kolla's default {vrid} in both"
            out.append(warning(file or vip.file, line or vip.line,
                               f"regions '{other}' and '{rname}' have internal VIPs in one segment "
                               f"({vips[other].address} and {vip.address}, {_segment(vip)}) and the same "
                               f"{KOLLA_VRID_VAR} ({why}): their keepalived instances would take each other's VIP "
                               f"on a shared network; set a distinct {KOLLA_KEY}.{KOLLA_VRID_VAR} in "
                               f"{global_files(rname)[1]}"))
            break
        seen.append(rname)
    return out


def _segment(vip: Vip) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(f"{vip.address}/{KOLLA_SEGMENT_PREFIX[vip.address.version]}", strict=False)


def check_kolla(loaded: LoadedSite) -> list[Problem]:
    return check_kolla_keys(loaded) + check_kolla_regions(loaded)


def check_kolla_render(loaded: LoadedSite) -> list[Problem]:
    """render --format kolla: the region checks whether or not the site has a ``kolla:`` key."""
    return check_kolla_keys(loaded) + check_kolla_regions(loaded, force=True)
def check_genestack_dirs(loaded: LoadedSite) -> list[Problem]:
    """``regions/<r>/genestack/``: no links or special files, and no values for a chart regionctl renders.

    Genestack's ``install-<svc>.sh`` passes every ``helm-configs/<svc>/*.yaml`` to helm: a carried
    file there would be a values layer nobody checks, or (for a chart the region does not run) a
    stale one.
    """
    site = loaded.site
    assert site is not None
    out: list[Problem] = []
    for rname in site.regions:
        if rname not in loaded.region_dirs:
            continue  # no directory (or a name no directory can have: check_region_names says so)
        found = carried(loaded, rname)
        out += found.problems
        for f in found.files:
            parts = f.rel.split("/")
            if len(parts) < 3 or parts[0] != HELM_DIR or parts[1] not in HELM_CHARTS:
                continue
            shown = loaded.shown(f"{genestack_rel(rname)}/{f.rel}")
            chart = parts[1]
            if site.regions[rname].runs(chart):
                out.append(error(shown, 0, f"regionctl renders the {chart} chart's values into {HELM_DIR}/{chart}/, "
                                           "where helm would take this file unchecked too: put its values in "
                                           f"values/{chart}.yaml or regions/{rname}/{chart}.yaml"))
            else:
                out.append(error(shown, 0, f"region '{rname}' does not run {chart}, but Genestack's "
                                           f"install-{chart}.sh would pass this file to helm: remove it"))
    return out
