"""The parts of apply that need no Keystone: what waits for what, when to retry, saved plans (pure)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from test_catalog_core import AUTH, as_live, small

from regionctl.catalog.apply import dependencies
from regionctl.catalog.model import Catalog, Endpoint, Region, Service
from regionctl.catalog.plan import Change, plan
from regionctl.catalog.planfile import document, fingerprint, plan_of, stale_reason
from regionctl.catalog.retry import RetryPolicy, maybe_sent, parse_retry_after


def label(c: Change) -> str:
    s = c.subject
    what = s.id if isinstance(s, Region) else (f"{s.type}/{s.name}" if isinstance(s, Service) else s.label())
    return f"{c.op} {what}"


def waits_for(changes: tuple[Change, ...]) -> dict[str, list[str]]:
    deps = dependencies(changes)
    return {label(c): sorted(label(changes[j]) for j in deps[i]) for i, c in enumerate(changes)}


def test_from_empty_only_what_keystone_needs_is_ordered() -> None:
    p = plan(small(), Catalog(auth_url=AUTH))
    assert waits_for(p.changes) == {
        "create R1": [],
        "create R2": ["create R1"],  # parent first
        "create compute/nova": [],
        "create identity/keystone": [],
        "create R1 identity/keystone public": ["create R1", "create identity/keystone"],
        "create R2 identity/keystone public": ["create R2", "create identity/keystone"],
        "create R2 compute/nova public": ["create R2", "create compute/nova"],
    }


def test_an_endpoint_under_an_existing_service_in_an_existing_region_waits_for_nothing() -> None:
    live = as_live(small(), AUTH)
    want = replace(small(), endpoints=small().endpoints + (
        Endpoint("compute", "nova", "internal", "R2", "http://192.0.2.2:8774/v2.1"),))
    p = plan(want, live)
    assert waits_for(p.changes) == {"create R2 compute/nova internal": []}




@pytest.fixture(autouse=True)
def _endpoint_labels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Endpoint deletes read better as 'region id' than as their whole identity."""
    real = label

    def short(c: Change) -> str:
        if c.op == "delete" and isinstance(c.old, Endpoint):
            return f"delete {c.old.region} {c.old.id}"
        return real(c)

    monkeypatch.setitem(globals(), "label", short)


def test_deletes_order_with_labels() -> None:
    live = Catalog((Region("Keep"), Region("A", "", None, True), Region("B", "", "A", True)),
                   (Service("image", "glance", "svc-img"),),
                   (Endpoint("image", "glance", "public", "B", "http://192.0.2.5:9292", id="e1", service_id="svc-img"),),
                   auth_url=AUTH)
    p = plan(Catalog((Region("Keep"), Region("New", "", "Keep"))), live, prune=True)
    assert waits_for(p.changes) == {
        "create New": [],
        "delete B e1": ["create New"],
        "delete image/glance": ["create New", "delete B e1"],
        "delete B": ["create New", "delete B e1"],
        "delete A": ["create New", "delete B"],  # after its children (and so what is in them)
    }


# ---- retries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("attempt,elapsed,retry_after,expected", [
    (1, 0.0, None, (0.125, 0.25)),  # first wait: 0.25 s with jitter
    (3, 0.0, None, (0.5, 1.0)),  # doubling
    (7, 0.0, None, (4.0, 8.0)),  # capped at 8 s
    (1, 0.0, 2.0, (2.0, 2.0)),  # Retry-After as given
    (1, 29.9, None, None),  # past the 30 s budget: give up
    (1, 0.0, 31.0, None),  # told to wait beyond the budget: give up
    (8, 0.0, None, None),  # out of attempts
])
def test_retry_waits(attempt: int, elapsed: float, retry_after: float | None,
                     expected: tuple[float, float] | None) -> None:
    got = RetryPolicy().wait(attempt, elapsed, retry_after, random.Random(7))
    if expected is None:
        assert got is None
    else:
        assert got is not None and expected[0] <= got <= expected[1]


def test_no_retries_when_the_budget_is_zero() -> None:
    assert RetryPolicy(budget=0).wait(1, 0.0) is None


@pytest.mark.parametrize("value,seconds", [("3", 3.0), ("0", 0.0), (None, None), ("soon", None),
                                           ("Wed, 02 Dec 2026 06:00:10 GMT", 10.0)])
def test_retry_after(value: str | None, seconds: float | None) -> None:
    import email.utils

    now = email.utils.parsedate_to_datetime("Wed, 02 Dec 2026 06:00:00 GMT").timestamp()
    assert parse_retry_after(value, now) == seconds


@pytest.mark.parametrize("text,sent", [
    ("Unable to establish connection to http://127.0.0.1:1/v3/regions: HTTPConnectionPool(host='127.0.0.1', "
     "port=1): Max retries exceeded (Caused by NewConnectionError(': Failed to establish a new connection: "
     "[Errno 111] Connection refused'))", False),
    ("Unable to establish connection to http://127.0.0.1:1/v3/regions: ('Connection aborted.', "
     "RemoteDisconnected('Remote end closed connection without response'))", True),
    ("Unable to establish connection to http://127.0.0.1:1/v3: [Errno 104] Connection reset by peer", True),
    ("Request to http://127.0.0.1:1/v3/endpoints timed out", True),
])
def test_whether_a_failed_request_may_have_been_sent(text: str, sent: bool) -> None:
    assert maybe_sent(text) is sent


# ---- saved plans -------------------------------------------------------------------------------


def test_saved_plan_round_trips_to_the_same_changes() -> None:
    live = as_live(small(), AUTH)
    wrong = replace(live.endpoints[2], url="http://192.0.2.9:8774/v2.1")
    live = replace(live, endpoints=(wrong, replace(wrong, id="dup"), *live.endpoints[:2]))
    want = replace(small(), regions=small().regions + (Region("R3", "three", "R2"),),
                   endpoints=small().endpoints + (Endpoint("compute", "nova", "public", "R3", "http://192.0.2.3"),))
    p = plan(want, live, prune=True)
    assert {c.op for c in p.changes} == {"create", "update", "delete"}
    doc = document(p, live, f"{AUTH} as admin", "/site", "sha256:x")
    again = plan_of(doc, live, "plan.json")
    assert again.changes == p.changes
    assert again.prune and stale_reason(doc, live) is None


def test_stale_reason_names_what_changed() -> None:
    live = as_live(small(), AUTH)
    doc = document(plan(small(), live), live, "x", None, None)
    moved = replace(live, endpoints=(replace(live.endpoints[0], url="http://192.0.2.8/v3"),) + live.endpoints[1:],
                    regions=live.regions + (Region("Extra"),))
    assert stale_reason(doc, moved) == "region Extra added, endpoint ep0 (R1 public) url changed"
    assert fingerprint(moved) != fingerprint(live)
    assert fingerprint(replace(live, endpoints=live.endpoints[::-1])) == fingerprint(live)  # order-free
