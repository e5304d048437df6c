"""What the deployers would refuse, found before rendering: ``validate`` reports it with FILE:LINE.

openstack-helm: a region with nodes must have a node for every component of every chart it runs
(render --format helm places each pod by node labels).
"""

from __future__ import annotations

from regionctl.openstack.deployers import HELM_CHARTS, ROLE_PLACEMENTS, chosen_placement, roles_providing
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
