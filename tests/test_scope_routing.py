"""The routing data (pure): where each scope value sends each API, for one Keystone and, through
the clouds seam, for several."""

from __future__ import annotations

from regionctl.scope import clouds as clouds_mod
from regionctl.scope import routing
from regionctl.site.model import Cloud, Site


def site(keystones: tuple[str, ...] = ("R1",)) -> Site:
    regions = {}
    for i, r in enumerate(("R1", "R2", "R3"), start=2):
        services = {s: None for s in ("nova", "glance")}
        if r in keystones:
            services = {"keystone": None, **services}
        regions[r] = {"addresses": {"public": f"http://127.0.0.{i}"}, "router": {"servers": [f"127.0.1.{i}"]},
                      "services": services}
    return Site.model_validate({"format": 1, "regions": regions})


def test_one_keystone_every_region_name_reaches_it() -> None:
    plan = routing.plan_router(site(), "R1")
    assert plan.names == ("R1", "R2", "R3") and plan.problems == []
    assert {k: v for k, v in plan.choices.items() if k.startswith("public/identity/")} == {
        "public/identity/R1": "R1_identity_public",
        "public/identity/R2": "R2_identity_public",
        "public/identity/R3": "R3_identity_public",
    }
    backends = {b.name: b for b in plan.backends}
    assert all(backends[f"{r}_identity_public"].local for r in ("R1", "R2", "R3"))
    remote = backends["R2_compute_public"]
    assert (remote.local, remote.servers, remote.host_header) == (False, (routing.Server("127.0.0.3", 8774),),
                                                                  "127.0.0.3:8774")
    assert backends["R1_compute_public"].servers == (routing.Server("127.0.1.2", 8774),)


def test_region_without_keystone_has_no_identity_frontend() -> None:
    plan = routing.plan_router(site(), "R2")
    assert [f.name for f in plan.frontends] == ["fe_compute_public", "fe_image_public"]


def test_cloud_names_pick_their_keystone() -> None:
    """site.yaml clouds: CloudOne (R1 with its Keystone, R2) and CloudTwo (R3 with its own)."""
    two = site(("R1", "R3")).model_copy(update={"clouds": {"CloudOne": Cloud(), "CloudTwo": Cloud()}})
    regions = {r: spec.model_copy(update={"cloud": "CloudTwo" if r == "R3" else "CloudOne"})
               for r, spec in two.regions.items()}
    two = two.model_copy(update={"regions": regions})
    assert [(c.name, c.regions, c.identity_region) for c in clouds_mod.clouds(two)] == [
        ("CloudOne", ("R1", "R2"), "R1"), ("CloudTwo", ("R3",), "R3")]
    plan = routing.plan_router(two, "R1")
    assert plan.names == ("R1", "R2", "R3", "CloudOne", "CloudTwo")
    choices = plan.choices
    assert choices["public/identity/CloudTwo"] == "R3_identity_public"  # CloudTwo's Keystone, remote
    assert choices["public/identity/CloudOne"] == "R1_identity_public"
    assert choices["public/identity/R2"] == "R2_identity_public"  # R2's identity is CloudOne's Keystone
    assert choices["public/compute/CloudTwo"] == "R3_compute_public"
    backends = {b.name: b for b in plan.backends}
    assert not backends["R3_identity_public"].local
    assert backends["R3_identity_public"].host_header == "127.0.0.4:5000"
    assert backends["R2_identity_public"].local


def test_a_cloud_named_like_a_region_is_refused() -> None:
    s = site().model_copy(update={"clouds": {"R2": Cloud()}})
    s = s.model_copy(update={"regions": {r: spec.model_copy(update={"cloud": "R2"}) for r, spec in s.regions.items()}})
    assert routing.plan_router(s, "R1").problems == [
        (("regions", "R2"), "'R2' names both a region and a cloud: a scope could mean either; rename one")]
