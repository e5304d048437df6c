"""What the deployers would refuse, found before rendering: ``validate`` reports it with FILE:LINE.

openstack-helm: a region with nodes must have a node for every component of every chart it runs
(render --format helm places each pod by node labels).
"""

from __future__ import annotations

from regionctl.openstack.deployers import HELM_CHARTS, HELM_DIR, ROLE_PLACEMENTS, chosen_placement, roles_providing
from regionctl.site.carried import carried, genestack_rel
from regionctl.site.load import LoadedSite
from regionctl.site.problems import Problem, error


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
