"""The catalog's pure core: desired catalog, plan rules, drift, import round trips. No network."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from regionctl.catalog.desired import desired_catalog
from regionctl.catalog.drift import compare, matrix
from regionctl.catalog.importer import site_from_catalogs, write_site
from regionctl.catalog.live import policy_for
from regionctl.catalog.model import Catalog, Endpoint, Region, Service
from regionctl.catalog.plan import plan
from regionctl.errors import UserError
from regionctl.check.site import check_all
from regionctl.site.load import load

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

KS_PUBLIC = "http://10.24.63.248:5000/v3"
KS_ADMIN = "http://10.24.63.248:35357/v3"

#: Seed 003's `openstack endpoint list`, row for row.
SEED_003 = [
    ("AR", "keystone", "identity", "public", KS_PUBLIC),
    ("AR", "keystone", "identity", "internal", KS_PUBLIC),
    ("AR", "keystone", "identity", "admin", KS_ADMIN),
    ("OSR1", "keystone", "identity", "public", KS_PUBLIC),
    ("OSR1", "keystone", "identity", "internal", KS_PUBLIC),
    ("OSR1", "keystone", "identity", "admin", KS_ADMIN),
    ("OSR2", "keystone", "identity", "public", KS_PUBLIC),
    ("OSR2", "keystone", "identity", "internal", KS_PUBLIC),
    ("OSR2", "keystone", "identity", "admin", KS_ADMIN),
]


def site_of(name: str):  # noqa: ANN201 - a pydantic Site
    loaded = load(EXAMPLES / name)
    assert loaded.site is not None
    return loaded.site


def as_live(cat: Catalog, auth_url: str | None = None) -> Catalog:
    """A desired catalog as Keystone would list it: with IDs."""
    services = tuple(replace(s, id=f"svc-{s.type}") for s in cat.services)
    sid = {s.key: s.id for s in services}
    endpoints = tuple(replace(e, id=f"ep{i}", service_id=sid[(e.type, e.name)]) for i, e in enumerate(cat.endpoints))
    return Catalog(cat.regions, services, endpoints, auth_url=auth_url)


def rows(cat: Catalog) -> list[tuple[str, str, str, str, str]]:
    return [(e.region, e.name, e.type, e.interface, e.url) for e in cat.endpoints]


# ---- desired -----------------------------------------------------------------------------------


def test_admin_region_identity_endpoints_are_seed_003_table() -> None:
    cat = desired_catalog(site_of("admin-region"))
    assert [r for r in rows(cat) if r[2] == "identity"] == SEED_003


def test_admin_region_desired_catalog_whole() -> None:
    cat = desired_catalog(site_of("admin-region"))
    assert cat.regions == (Region("AR", "Administrative region (Keystone, Horizon)", None),
                           Region("OSR1", "OpenStack region 1", "AR"),
                           Region("OSR2", "OpenStack region 2", "AR"))
    assert [s.key for s in cat.services] == [("cloudformation", "heat-cfn"), ("compute", "nova"),
                                             ("identity", "keystone"), ("image", "glance"), ("network", "neutron"),
                                             ("orchestration", "heat"), ("placement", "placement"),
                                             ("volumev3", "cinderv3")]
    own = [r for r in rows(cat) if r[2] != "identity"]
    expected = []
    for region, host in (("OSR1", "10.24.64.248"), ("OSR2", "10.24.65.248")):
        for name, type_, tail in (("heat-cfn", "cloudformation", ":8000/v1"), ("nova", "compute", ":8774/v2.1"),
                                  ("glance", "image", ":9292"), ("neutron", "network", ":9696"),
                                  ("heat", "orchestration", ":8004/v1/%(tenant_id)s"),
                                  ("placement", "placement", ":8778"),
                                  ("cinderv3", "volumev3", ":8776/v3/%(project_id)s")):
            for iface in ("public", "internal"):
                expected.append((region, name, type_, iface, f"http://{host}{tail}"))
    assert own == expected
    assert len(cat.endpoints) == 9 + 28


def test_regions_parents_first_even_when_declared_after() -> None:
    from regionctl.site.model import Site

    site = Site.model_validate({"regions": {
        "Leaf": {"parent": "Mid", "addresses": {"public": "http://192.0.2.3"}, "services": {"nova": None}},
        "Mid": {"parent": "Root", "addresses": {"public": "http://192.0.2.2"}, "services": {"nova": None}},
        "Root": {"addresses": {"public": "http://192.0.2.1"}, "services": {"keystone": None}},
    }})
    cat = desired_catalog(site)
    assert [r.id for r in cat.regions] == ["Root", "Mid", "Leaf"]
    assert [e.region for e in cat.endpoints if e.type == "identity"] == ["Root"] * 2 + ["Mid"] * 2 + ["Leaf"] * 2


# ---- plan --------------------------------------------------------------------------------------

AUTH = "http://127.0.0.1:5000/v3"


def small() -> Catalog:
    """Two regions, identity in both, compute in R2."""
    return Catalog(
        (Region("R1", "one"), Region("R2", "two", "R1")),
        (Service("compute", "nova"), Service("identity", "keystone")),
        (Endpoint("identity", "keystone", "public", "R1", AUTH),
         Endpoint("identity", "keystone", "public", "R2", AUTH),
         Endpoint("compute", "nova", "public", "R2", "http://192.0.2.2:8774/v2.1")),
    )


def ops(p) -> list[tuple[str, str, str]]:  # noqa: ANN001
    out = []
    for c in p.changes:
        s = c.subject
        label = s.id if isinstance(s, Region) else (f"{s.type}/{s.name}" if isinstance(s, Service) else s.label())
        out.append((c.op, c.kind, label))
    return out


def test_plan_from_empty_creates_parents_first_then_services_then_endpoints() -> None:
    p = plan(small(), Catalog(auth_url=AUTH))
    assert ops(p) == [
        ("create", "region", "R1"), ("create", "region", "R2"),
        ("create", "service", "compute/nova"), ("create", "service", "identity/keystone"),
        ("create", "endpoint", "R1 identity/keystone public"),
        ("create", "endpoint", "R2 identity/keystone public"),
        ("create", "endpoint", "R2 compute/nova public"),
    ]
    assert all(c.new.managed for c in p.changes if isinstance(c.new, Region))
    assert p.unchanged == 0 and p.has_changes


def test_plan_converged_is_empty() -> None:
    live = as_live(small(), AUTH)
    p = plan(small(), live)
    assert p.changes == () and p.not_pruned == () and p.unchanged == 2 + 2 + 3
    assert p.summary() == "Plan: 0 to create, 0 to update in place, 0 to delete, 7 unchanged."


def test_url_change_is_update_in_place_keeping_id() -> None:
    live = as_live(small(), AUTH)
    want = small()
    moved = replace(want.endpoints[2], url="http://192.0.2.22:8774/v2.1")
    want = replace(want, endpoints=want.endpoints[:2] + (moved,))
    p = plan(want, live)
    (c,) = p.changes
    assert (c.op, c.old.id, c.new.id, c.old.url, c.new.url) == (
        "update", "ep2", "ep2", "http://192.0.2.2:8774/v2.1", "http://192.0.2.22:8774/v2.1")
    assert c.to_dict() == {"op": "update", "kind": "endpoint", "region": "R2", "type": "compute", "name": "nova",
                           "interface": "public", "id": "ep2",
                           "old": {"url": "http://192.0.2.2:8774/v2.1", "enabled": True},
                           "new": {"url": "http://192.0.2.22:8774/v2.1", "enabled": True}}


def test_same_service_and_interface_in_another_region_is_not_a_match() -> None:
    """Seed 003's kolla bug: matching on service + interface overwrote the first region."""
    live = as_live(replace(small(), endpoints=small().endpoints[:2]), AUTH)
    p = plan(small(), live)
    assert ops(p) == [("create", "endpoint", "R2 compute/nova public")]


def test_disabled_endpoint_is_enabled_in_place() -> None:
    live = as_live(small(), AUTH)
    live = replace(live, endpoints=live.endpoints[:2] + (replace(live.endpoints[2], enabled=False),))
    (c,) = plan(small(), live).changes
    assert (c.op, c.old.enabled, c.new.enabled, c.new.id) == ("update", False, True, "ep2")


def test_region_description_and_parent_updates() -> None:
    live = as_live(small(), AUTH)
    live = replace(live, regions=(Region("R1", ""), Region("R2", "two", None)))
    p = plan(small(), live)
    assert [(c.op, c.old.description, c.new.description, c.old.parent, c.new.parent) for c in p.changes] == [
        ("update", "", "one", None, None), ("update", "two", "two", None, "R1")]


def test_extra_endpoints_deleted_only_with_prune_and_only_in_managed_regions() -> None:
    live = as_live(small(), AUTH)
    extra = (Endpoint("image", "glance", "public", "R2", "http://192.0.2.2:9292", id="x1", service_id="svc-image"),
             Endpoint("image", "glance", "public", "Other", "http://192.0.2.9:9292", id="x2", service_id="svc-image"))
    live = replace(live, regions=live.regions + (Region("Other"),),
                   services=live.services + (Service("image", "glance", "svc-image"),),
                   endpoints=live.endpoints + extra)
    p = plan(small(), live)
    assert p.changes == ()
    assert [(c.op, c.old.id, c.reason) for c in p.not_pruned] == [("delete", "x1", "not in the site")]
    assert not p.has_changes and p.drifted, "--detailed-exitcode exits 2 for what is held back, too"
    assert not plan(small(), as_live(small(), AUTH)).drifted
    p = plan(small(), live, prune=True)
    assert [(c.op, c.kind, c.old.id) for c in p.changes] == [("delete", "endpoint", "x1")]
    # the glance service keeps an endpoint in the unmanaged region: not deleted
    assert "region(s) in Keystone but not in the site, not created by regionctl, left alone: Other" in p.notes


def test_service_deleted_with_its_last_endpoint() -> None:
    live = as_live(small(), AUTH)
    live = replace(live, services=live.services + (Service("image", "glance", "svc-image"),),
                   endpoints=live.endpoints + (Endpoint("image", "glance", "public", "R2", "http://192.0.2.2:9292",
                                                        id="x1", service_id="svc-image"),))
    p = plan(small(), live, prune=True)
    assert [(c.op, c.kind, c.old.id, c.reason) for c in p.changes] == [
        ("delete", "endpoint", "x1", "not in the site"), ("delete", "service", "svc-image", "no endpoint left")]


def test_identity_endpoint_reaching_our_keystone_is_kept_in_every_region() -> None:
    """Issue 18: not only the client's region: any identity endpoint at the Keystone we talk to."""
    live = replace(as_live(small(), AUTH), auth_region="R1")
    want = replace(small(), services=small().services[1:], endpoints=small().endpoints[:1])
    p = plan(want, live, prune=True)
    assert [(c.op, c.kind, c.old.id) for c in p.changes] == [("delete", "endpoint", "ep2"),
                                                             ("delete", "service", "svc-compute")]
    assert p.notes == (f"endpoint R2 identity/keystone public {AUTH} (not in the site) is kept: "
                       "regionctl authenticated through it",)


OTHER_KEYSTONE = "http://192.0.2.250:5000/v3"


@pytest.mark.parametrize("url,auth,resolved,kept", [
    ("http://127.0.0.1:5000/v3", AUTH, {}, True),
    ("http://localhost:5000/v3", AUTH, {}, True),
    ("HTTP://LocalHost:5000/v3/", AUTH, {}, True),
    ("http://127.0.0.1:5000", AUTH, {}, True),  # unversioned
    ("http://127.0.0.1:5000/v3", "http://localhost:5000", {}, True),
    ("http://[::1]:5000/v3", "http://localhost:5000/v3", {}, True),
    ("http://[0:0:0:0:0:0:0:1]:5000/v3", "http://[::1]:5000/v3", {}, True),
    ("http://[::ffff:127.0.0.1]:5000/v3", AUTH, {}, True),
    ("http://127.0.0.1/v3", "http://127.0.0.1:80/v3", {}, True),  # default port
    ("https://id.example.com/v3", "https://10.0.0.5:443/v3", {"id.example.com": frozenset({"10.0.0.5"})}, True),
    ("http://127.0.0.1:5001/v3", AUTH, {}, False),  # another port
    ("https://127.0.0.1:5000/v3", AUTH, {}, False),  # another scheme
    ("http://127.0.0.2:5000/v3", AUTH, {}, False),  # another address
    ("http://127.0.0.1:5000/identity/v3", AUTH, {}, False),  # another path
    ("http://id.example.com:5000/v3", AUTH, {}, False),  # a name that did not resolve to it
    ("not a url", AUTH, {}, False),
])
def test_prune_recognises_our_keystone_by_address(url: str, auth: str, resolved: dict, kept: bool) -> None:
    want = Catalog((Region("R1"),), (Service("identity", "keystone"),),
                   (Endpoint("identity", "keystone", "internal", "R1", "http://192.0.2.1:5000/v3"),))
    live = Catalog((Region("R1"),), (Service("identity", "keystone", "svc-id"),),
                   (Endpoint("identity", "keystone", "internal", "R1", "http://192.0.2.1:5000/v3", id="keep",
                             service_id="svc-id"),
                    Endpoint("identity", "keystone", "admin", "R1", url, id="ep-x", service_id="svc-id")),
                   auth_url=auth, auth_region="Elsewhere", resolved=resolved)
    p = plan(want, live, prune=True)
    assert [c.old.id for c in p.changes] == ([] if kept else ["ep-x"])
    assert bool(p.notes) == kept


def test_prune_keeps_the_v3_root_found_under_an_unversioned_auth_url() -> None:
    live = Catalog((Region("R1"),), (Service("identity", "keystone", "svc-id"),),
                   (Endpoint("identity", "keystone", "public", "R1", "http://192.0.2.9:5000/v3", id="ep",
                             service_id="svc-id"),),
                   auth_url="http://keystone.local:5000", self_urls=("http://192.0.2.9:5000/v3",))
    assert plan(Catalog((Region("R1"),)), live, prune=True).changes == ()


def test_protected_identity_endpoint_is_never_deleted() -> None:
    live = as_live(small(), AUTH)
    want = replace(small(), endpoints=small().endpoints[1:])  # R1's identity endpoint not wanted
    p = plan(want, live, prune=True)
    assert p.changes == ()
    assert p.notes == (f"endpoint R1 identity/keystone public {AUTH} (not in the site) is kept: "
                       "regionctl authenticated through it",)
    # the same endpoint at another URL than the one we authenticated with is deleted
    p = plan(want, live, prune=True, protected_url="http://127.0.0.1:1/v3")
    assert [(c.op, c.old.id) for c in p.changes] == [("delete", "ep0")]


def test_duplicates_reported_and_reduced_to_one_with_prune() -> None:
    live = as_live(small(), AUTH)
    wrong = replace(live.endpoints[2], id="dupA", url="http://192.0.2.99:8774/v2.1")
    same = replace(live.endpoints[2], id="dupB")
    live = replace(live, endpoints=(wrong,) + live.endpoints + (same,))
    p = plan(small(), live)
    assert p.changes == ()
    assert [(c.old.id, c.reason) for c in p.not_pruned] == [("dupA", "duplicate of ep2"), ("dupB", "duplicate of ep2")]
    assert "2 duplicate endpoint(s) found: 'apply --prune' reduces each to one" in p.notes
    p = plan(small(), live, prune=True)
    assert [(c.op, c.old.id) for c in p.changes] == [("delete", "dupA"), ("delete", "dupB")]


def test_duplicates_with_no_right_url_keep_first_and_update_it() -> None:
    live = as_live(small(), AUTH)
    a = replace(live.endpoints[2], id="a", url="http://192.0.2.98:8774/v2.1")
    b = replace(live.endpoints[2], id="b", url="http://192.0.2.99:8774/v2.1")
    live = replace(live, endpoints=live.endpoints[:2] + (a, b))
    p = plan(small(), live, prune=True)
    assert [(c.op, c.subject.id) for c in p.changes] == [("update", "a"), ("delete", "b")]


def test_duplicate_service_deleted_when_its_endpoints_go() -> None:
    live = as_live(small(), AUTH)
    twin = Service("compute", "nova", "svc-twin")
    dup = replace(live.endpoints[2], id="d", service_id="svc-twin")
    live = replace(live, services=live.services + (twin,), endpoints=live.endpoints + (dup,))
    p = plan(small(), live, prune=True)
    assert [(c.op, c.kind, c.old.id) for c in p.changes] == [("delete", "endpoint", "d"),
                                                             ("delete", "service", "svc-twin")]


def test_removed_region_pruned_only_when_regionctl_created_it() -> None:
    full = small()
    live = as_live(full, AUTH)
    live = replace(live, regions=(full.regions[0], replace(full.regions[1], managed=True)))
    without_r2 = Catalog(full.regions[:1], full.services[1:], full.endpoints[:1])
    p = plan(without_r2, live, prune=True, protected_url=OTHER_KEYSTONE)
    assert [(c.op, c.kind, c.subject.id if c.kind != "endpoint" else c.old.id) for c in p.changes] == [
        ("delete", "endpoint", "ep1"), ("delete", "endpoint", "ep2"), ("delete", "service", "svc-compute"),
        ("delete", "region", "R2")]
    # a region nobody marked as regionctl's stays, and is reported
    unmarked = replace(live, regions=full.regions)
    p = plan(without_r2, unmarked, prune=True)
    assert p.changes == ()
    assert p.notes == ("region(s) in Keystone but not in the site, not created by regionctl, left alone: R2",)


def test_region_with_foreign_child_is_not_deleted() -> None:
    """Keystone deletes child regions with their parent: never let that happen behind the site's back."""
    full = small()
    live = as_live(full, AUTH)
    live = replace(live, regions=(full.regions[0], replace(full.regions[1], managed=True), Region("Kid", "", "R2")))
    p = plan(Catalog(full.regions[:1], full.services[1:], full.endpoints[:1]), live, prune=True,
             protected_url=OTHER_KEYSTONE)
    assert [c.kind for c in p.changes] == ["endpoint", "endpoint", "service"]
    assert "region 'R2' left the site but is kept: region(s) Kid below it stay" in p.notes


def test_region_deletes_children_first() -> None:
    live = Catalog((Region("Keep"), Region("A", "", None, True), Region("B", "", "A", True),
                    Region("C", "", "B", True)), (), (), auth_url=AUTH)
    p = plan(Catalog((Region("Keep"),)), live, prune=True)
    assert [c.old.id for c in p.changes] == ["C", "B", "A"]


def test_plan_json_shape() -> None:
    p = plan(small(), Catalog(auth_url=AUTH))
    d = p.to_dict()
    assert d["summary"] == {"create": 7, "update": 0, "delete": 0, "unchanged": 0, "not_pruned": 0}
    assert d["changes"][1] == {"op": "create", "kind": "region", "id": "R2", "description": "two", "parent": "R1"}
    assert d["changes"][4] == {"op": "create", "kind": "endpoint", "region": "R1", "type": "identity",
                               "name": "keystone", "interface": "public", "id": None, "url": AUTH}


# ---- errors name the Keystone policy -----------------------------------------------------------


@pytest.mark.parametrize("method,path,rule", [
    ("GET", "/regions", "identity:list_regions"),
    ("GET", "/services", "identity:list_services"),
    ("GET", "/endpoints", "identity:list_endpoints"),
    ("POST", "/regions", "identity:create_region"),
    ("PATCH", "/regions/OSR1", "identity:update_region"),
    ("DELETE", "/regions/OSR1", "identity:delete_region"),
    ("POST", "/services", "identity:create_service"),
    ("PATCH", "/services/abc", "identity:update_service"),
    ("DELETE", "/services/abc", "identity:delete_service"),
    ("POST", "/endpoints", "identity:create_endpoint"),
    ("PATCH", "/endpoints/abc", "identity:update_endpoint"),
    ("DELETE", "/endpoints/abc", "identity:delete_endpoint"),
    ("GET", "/users", None),
])
def test_policy_for(method: str, path: str, rule: str | None) -> None:
    assert policy_for(method, path) == rule


# ---- drift -------------------------------------------------------------------------------------


def test_drift_states_and_matrix() -> None:
    live = as_live(small(), AUTH)
    changed = replace(live.endpoints[2], url="http://192.0.2.99:8774/v2.1")
    extra = Endpoint("compute", "nova", "internal", "R2", "http://x:8774/v2.1", id="e", service_id="svc-compute")
    dup = replace(live.endpoints[1], id="dup")
    live = replace(live, endpoints=(live.endpoints[0], live.endpoints[1], changed, extra, dup))
    want = replace(small(), endpoints=small().endpoints + (
        Endpoint("compute", "nova", "admin", "R2", "http://192.0.2.2:8774/v2.1"),))
    cells = compare(live, want)
    assert [(c.region, c.type, c.interface, c.state) for c in cells] == [
        ("R1", "identity", "public", "ok"),
        ("R2", "compute", "public", "changed"),
        ("R2", "compute", "internal", "extra"),
        ("R2", "compute", "admin", "missing"),
        ("R2", "identity", "public", "duplicate"),
    ]
    columns, rows_ = matrix(cells)
    assert columns == ["region", "identity", "compute"]
    assert rows_ == [["R1", "pub", ""], ["R2", "pub!", "pub~ int- adm+"]]


# ---- import ------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", ["admin-region", "two-regions", "genestack-sjc-dfw"])
def test_import_round_trip(example: str, tmp_path: Path) -> None:
    """Every example, listed by Keystone and imported, gives back the same catalog."""
    want = desired_catalog(site_of(example))
    result = site_from_catalogs([("cloud", as_live(want, AUTH))])
    assert result.warnings == []
    write_site(tmp_path / "imported", result.files)
    loaded = load(tmp_path / "imported")
    assert [str(p) for p in check_all(loaded) if p.is_error] == []
    assert loaded.site is not None
    got = desired_catalog(loaded.site)
    assert got.regions == want.regions
    assert sorted(got.endpoints, key=lambda e: e.key) == sorted(want.endpoints, key=lambda e: e.key)
    assert plan(got, as_live(want, AUTH)).changes == ()


def test_import_admin_region_site_text() -> None:
    want = desired_catalog(site_of("admin-region"))
    text = site_from_catalogs([("cloud", as_live(want, AUTH))]).files["site.yaml"]
    body = text[text.index("format:"):]
    assert body.startswith("""format: 1
service_users: shared
regions:
  AR:
    description: Administrative region (Keystone, Horizon)
    addresses:
      public: http://10.24.63.248
    services:
      keystone:
        urls:
          identity:
            admin: http://10.24.63.248:35357/v3
  OSR1:
    description: OpenStack region 1
    parent: AR
    addresses:
      public: http://10.24.64.248
    services:
      nova:
      placement:
""")


def test_import_genestack_infers_templates() -> None:
    want = desired_catalog(site_of("genestack-sjc-dfw"))
    text = site_from_catalogs([("cloud", as_live(want, AUTH))]).files["site.yaml"]
    assert "public: https://{name}.api.sjc.example.com" in text
    assert "internal: https://{name}.internal.dfw.example.com" in text
    assert "urls:" not in text


def test_import_irregular_catalog_is_exact_and_warns(tmp_path: Path) -> None:
    """Unknown types, foreign names, odd interfaces, missing identity copies: all said out loud."""
    live = Catalog(
        (Region("One"), Region("Two", "second", "One")),
        (Service("identity", "keystone", "k"), Service("compute", "nova", "n"),
         Service("object-store", "swift", "s"), Service("image", "images", "g")),
        (Endpoint("identity", "keystone", "public", "One", "https://id.example.com/v3", id="1", service_id="k"),
         Endpoint("identity", "keystone", "internal", "One", "http://10.0.0.1:5000/v3", id="2", service_id="k"),
         Endpoint("compute", "nova", "public", "Two", "https://nova.two.example.com:8443/v2.1", id="3", service_id="n"),
         Endpoint("compute", "nova", "admin", "Two", "http://10.0.0.2:8774/v2.1", id="4", service_id="n"),
         Endpoint("object-store", "swift", "public", "Two", "http://10.0.0.2:8080/v1/AUTH_%(tenant_id)s",
                  id="5", service_id="s"),
         Endpoint("image", "images", "public", "Two", "http://10.0.0.2:9292", id="6", service_id="g")),
        auth_url="https://id.example.com/v3",
    )
    result = site_from_catalogs([("cloud 'x'", live)])
    assert result.warnings == [
        "region 'Two': object-store/swift public http://10.0.0.2:8080/v1/AUTH_%(tenant_id)s: "
        "a service type regionctl does not know: not imported",
        "region 'Two': image/images public http://10.0.0.2:9292: registered as 'images', the site's glance uses "
        "'glance': not imported",
        "region 'Two' has no identity endpoints: the site registers them in every region, so plan will create them",
    ]
    write_site(tmp_path / "s", result.files)
    loaded = load(tmp_path / "s")
    assert [str(p) for p in check_all(loaded) if p.is_error] == []
    assert loaded.site is not None
    got = desired_catalog(loaded.site)
    p = plan(got, live)
    assert ops(p) == [("create", "endpoint", "Two identity/keystone public"),
                      ("create", "endpoint", "Two identity/keystone internal")]
    assert [(c.kind, c.old.id) for c in p.not_pruned] == [("endpoint", "5"), ("endpoint", "6"),
                                                          ("service", "s"), ("service", "g")]


def test_import_of_two_keystones_is_a_site_of_two_clouds() -> None:
    """Issue 13: each Keystone's catalog becomes a cloud (named after its clouds.yaml entry)."""
    a = as_live(desired_catalog(site_of("admin-region")), AUTH)
    b = as_live(desired_catalog(site_of("genestack-sjc-dfw")), "http://127.0.0.1:5001/v3")
    result = site_from_catalogs([("cloud 'a'", a), ("cloud 'b'", b)])
    assert result.regions == 5
    assert result.warnings == []
    doc = yaml.safe_load(result.files["site.yaml"])
    assert doc["clouds"] == {"a": {"os_cloud": "a"}, "b": {"os_cloud": "b"}}
    assert {r: v["cloud"] for r, v in doc["regions"].items()} == {
        "AR": "a", "OSR1": "a", "OSR2": "a", "sjc": "b", "dfw": "b"}
    assert [r for r, v in doc["regions"].items() if "keystone" in v["services"]] == ["AR", "sjc"]


def test_import_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f").write_text("")
    with pytest.raises(UserError, match="directory is not empty"):
        write_site(tmp_path / "x", {"site.yaml": ""})
