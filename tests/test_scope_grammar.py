"""The scope grammar: both forms, names as Keystone allows them, errors with position and reason,
fuzzed; and the routers' regular expressions accept exactly what the grammar accepts."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regionctl.scope.grammar import MAX_BYTES, NAME_MAX, Scope, ScopeError, from_mapping, parse
from regionctl.scope.patterns import COMPACT_FORM, JSON_FORM, extract, first_error
from regionctl.check.site import REGION_NAME

TYPES = {"compute", "image", "network", "placement", "identity", "volumev3", "block-storage"}
NAMES = {"RegionOne", "RegionTwo", "sjc-1.example", "dfw_2", "CloudTwo"}


def test_both_forms_are_one_scope() -> None:
    a = parse('{"compute": "RegionOne", "image": "RegionTwo"}', types=TYPES, names=NAMES)
    b = parse("compute=RegionOne, image = RegionTwo", types=TYPES, names=NAMES)
    assert a == b == Scope((("compute", "RegionOne"), ("image", "RegionTwo")))
    assert a.to_json() == '{"compute":"RegionOne","image":"RegionTwo"}'
    assert a.to_compact() == "compute=RegionOne,image=RegionTwo"
    assert parse(a.to_json()) == parse(a.to_compact()) == a


def test_names_with_hyphens_and_dots_and_volume_types() -> None:
    s = parse("block-storage=sjc-1.example,volumev3=dfw_2", types=TYPES, names=NAMES)
    assert s.target("block-storage", "here") == "sjc-1.example"
    assert s.target("compute", "here") == "here"  # a missing type is the local region


def test_empty_scope_is_all_local() -> None:
    assert parse("") == parse("{ }") == parse("  ") == Scope()


@pytest.mark.parametrize("text, position, reason", [
    ('{"compute": "RegionOne",}', 25, "expected '\"' before a service type, found '}'"),
    ('{"compute": 1}', 13, "the value of compute must be a quoted region or cloud name, found '1'"),
    ('{"compute": {"a": "b"}}', 13, "the value of compute must be a region or cloud name, not an object or list"),
    ('{compute: "x"}', 2, "expected '\"' before a service type (keys are quoted strings), found 'c'"),
    ('{"c\\u006fmpute": "x"}', 4, "escapes are not allowed in a scope: write names as they are"),
    ('{"compute": "RegionOne"} x', 26, "unexpected 'x' after the scope's closing '}'"),
    ("compute=RegionOne;image=RegionTwo", 18, "expected ',' after 'compute=RegionOne', found ';'"),
    ("compute=", 9, "expected a region or cloud name for compute (letters, digits, '.', '_', '-'), "
                    "found the end of the scope"),
    ("compute=Région", 10, "expected ',' after 'compute=R', found character U+00E9"),
    ("compute=RegionOne,compute=RegionTwo", 19, "service type 'compute' is given twice"),
    ("comptue=RegionOne", 1, "unknown service type 'comptue': the catalog has block-storage, compute, identity, "
                             "image, network, placement, volumev3"),
    ("image=RegionThree", 7, "unknown region or cloud 'RegionThree' for image: the site declares CloudTwo, "
                             "RegionOne, RegionTwo, dfw_2, sjc-1.example"),
])
def test_errors_say_where_and_why(text: str, position: int, reason: str) -> None:
    with pytest.raises(ScopeError) as exc:
        parse(text, types=TYPES, names=NAMES)
    assert (exc.value.position + 1, exc.value.reason) == (position, reason)
    assert str(exc.value) == f"scope:{position}: {reason}"


def test_size_cap() -> None:
    big = ",".join(f"t{i}=RegionOne" for i in range(200))
    assert len(big) > MAX_BYTES
    with pytest.raises(ScopeError, match=f"bytes: at most {MAX_BYTES} are accepted"):
        parse(big)
    with pytest.raises(ScopeError, match=f"at most {NAME_MAX}"):
        parse("compute=" + "a" * 256)


def test_name_rule_is_the_sites_region_rule() -> None:
    """A scope can name every region validate accepts, and nothing validate refuses."""
    from regionctl.scope.grammar import NAME
    assert NAME == REGION_NAME.pattern.strip("^$").replace("[A-Za-z0-9._-]*", "[A-Za-z0-9._-]*")
    assert re.fullmatch(NAME, "a-b.c_d") and not re.fullmatch(NAME, "-a")


def test_from_mapping_checks_too() -> None:
    assert from_mapping({"compute": "RegionOne"}, names=NAMES).to_compact() == "compute=RegionOne"
    with pytest.raises(ScopeError):
        from_mapping({"compute": "Nowhere"}, names=NAMES)
    with pytest.raises(ScopeError):
        from_mapping(["compute"])  # type: ignore[arg-type]


hostile = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300),
    st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
                 lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                 max_leaves=20).map(json.dumps),
    st.lists(st.tuples(st.sampled_from(sorted(TYPES) + ["x", "", "é"]),
                       st.sampled_from(sorted(NAMES) + ["", "-", "a b", "\\u0041"])), max_size=6)
    .map(lambda pairs: ",".join(f"{k}={v}" for k, v in pairs)),
    st.integers(),
    st.none(),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(hostile)
def test_fuzz_only_scope_errors(text: object) -> None:
    try:
        s = parse(text, types=TYPES, names=NAMES)  # type: ignore[arg-type]
    except ScopeError as exc:
        assert exc.reason and exc.position >= 0
        return
    assert all(k in TYPES and v in NAMES for k, v in s)
    assert parse(s.to_json(), types=TYPES, names=NAMES) == s


# -- the routers' patterns accept exactly the grammar --------------------------------------------

pieces = st.sampled_from(['{', '}', '"', ':', ',', '=', ' ', '\t', "compute", "image", "RegionOne", "Region-Two",
                          "Two", "x", "[", "]", "1", "\\", "é", "!", "-", "."])
pair_json = st.tuples(st.sampled_from(sorted(TYPES) + ["bogus"]), st.sampled_from(sorted(NAMES) + ["Nope"])) \
    .map(lambda p: f'"{p[0]}" : "{p[1]}"')


@settings(max_examples=400)
@given(st.one_of(
    st.lists(pieces, max_size=16).map("".join),
    st.lists(pair_json, max_size=4).map(lambda ps: "{" + ", ".join(ps) + "}"),
    st.lists(st.tuples(st.sampled_from(sorted(TYPES) + ["bogus"]), st.sampled_from(sorted(NAMES) + ["Nope"])),
             max_size=4).map(lambda ps: ",".join(f"{k}={v}" for k, v in ps)),
))
def test_router_patterns_agree_with_the_grammar(text: str) -> None:
    try:
        scope = parse(text, types=TYPES, names=NAMES)
    except ScopeError:
        scope = None
    verdict = first_error(text, TYPES, NAMES)
    assert (verdict is None) == (scope is not None), text
    assert verdict != "invalid scope", text  # a refused scope always gets its reason
    if scope is not None:  # and the router reads each type's name as the grammar does
        for t in TYPES:
            assert re.sub(extract(t), r"\1", text, count=1) == scope.as_dict().get(t, ""), (text, t)


def test_patterns_are_anchored_forms() -> None:
    assert re.search(JSON_FORM, '{"a": "b"}') and not re.search(JSON_FORM, '{"a": "b"} {')
    assert re.search(COMPACT_FORM, "a=b, c=d") and not re.search(COMPACT_FORM, "a=b,")
    assert first_error("compute=RegionOne,compute=RegionOne", TYPES, NAMES) == "service type 'compute' is given twice"
    assert first_error("image=Nope", TYPES, NAMES) == "unknown region or cloud 'Nope'"
