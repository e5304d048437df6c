"""Where the scope middleware goes in each service's paste pipelines, as data (issue 15).

Each row: the service's paste file (in its /etc directory), and the pipelines that serve its API
with Keystone auth, as the release's stock file spells them. The filter is inserted right after
``http_proxy_to_wsgi`` (so it sees the client's real address first) and before ``authtoken``.
``tests/test_client_paste.py`` checks every row against the services' real api-paste files.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the paste filter's name in every pipeline, and its factory
FILTER = "regionctl_scope"
FACTORY = "regionctl.client.propagate:filter_factory"
AFTER = "http_proxy_to_wsgi"


@dataclass(frozen=True)
class Pipeline:
    section: str  # e.g. composite:openstack_compute_api_v21
    key: str  # the option holding the pipeline (``keystone`` for the auth strategy)
    stock: str  # the filters and app as the release ships them


@dataclass(frozen=True)
class PasteFile:
    service: str
    file: str  # name in the service's /etc directory
    pipelines: tuple[Pipeline, ...]


_NOVA = "cors http_proxy_to_wsgi compute_req_id faultwrap request_log sizelimit osprofiler authtoken keystonecontext"
_GLANCE = "cors http_proxy_to_wsgi versionnegotiation osprofiler authtoken context"
_CINDER = "request_id cors http_proxy_to_wsgi faultwrap sizelimit osprofiler authtoken keystonecontext apiv3"

PASTE: dict[str, PasteFile] = {p.service: p for p in (
    PasteFile("nova", "api-paste.ini", (
        Pipeline("composite:openstack_compute_api_v21", "keystone", f"{_NOVA} osapi_compute_app_v21"),
        Pipeline("composite:openstack_compute_api_v21_legacy_v2_compatible", "keystone",
                 f"{_NOVA} legacy_v2_compatible osapi_compute_app_v21"),
    )),
    PasteFile("neutron", "api-paste.ini", (
        Pipeline("composite:neutronapi_v2_0", "keystone",
                 "cors http_proxy_to_wsgi request_id catch_errors osprofiler authtoken keystonecontext extensions "
                 "neutronapiapp_v2_0"),
    )),
    PasteFile("glance", "glance-api-paste.ini", (
        Pipeline("composite:api", "keystone", f"{_GLANCE} rootapp"),
        Pipeline("composite:api", "keystone+caching", f"{_GLANCE} cache rootapp"),
        Pipeline("composite:api", "keystone+cachemanagement", f"{_GLANCE} cache cachemanage rootapp"),
    )),
    PasteFile("cinder", "api-paste.ini", (
        Pipeline("composite:openstack_volume_api_v3", "keystone", _CINDER),
        Pipeline("composite:openstack_volume_api_v3", "keystone_nolimit", _CINDER),
    )),
)}


def with_filter(pipeline: str) -> str:
    """The pipeline with the scope filter inserted after ``http_proxy_to_wsgi`` (first when absent)."""
    parts = pipeline.split()
    if FILTER in parts:
        return pipeline
    at = parts.index(AFTER) + 1 if AFTER in parts else 0
    return " ".join(parts[:at] + [FILTER] + parts[at:])
