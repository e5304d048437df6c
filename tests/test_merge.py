"""Helm's merge rules, one row per case (compare Helm's coalesce table tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from regionctl.site.merge import merge
from regionctl.site.provenance import Layer, lookup, plain
from regionctl.site.yamlio import read_yaml, to_tree


def layer(tmp_path: Path, name: str, text: str):
    p = tmp_path / name
    p.write_text(text)
    doc, problems = read_yaml(p, name)
    assert not problems, problems
    return to_tree(doc.data, name, Layer.BASE)


CASES = [
    # (id, layers, expected plain result, expected warning substrings)
    ("later scalar wins", ["a: 1\n", "a: 2\n"], {"a": 2}, []),
    ("disjoint keys kept", ["a: 1\n", "b: 2\n"], {"a": 1, "b": 2}, []),
    ("maps merge recursively", ["m:\n  x: 1\n  y: 1\n", "m:\n  y: 2\n  z: 2\n"], {"m": {"x": 1, "y": 2, "z": 2}}, []),
    ("list replaces list", ["l: [1, 2, 3]\n", "l: [4]\n"], {"l": [4]}, []),
    ("null deletes key", ["a: 1\nb: 2\n", "a: null\n"], {"b": 2}, []),
    ("nested null deletes nested key", ["m:\n  x: 1\n  y: 2\n", "m:\n  x: ~\n"], {"m": {"y": 2}}, []),
    ("null deletes a whole map", ["m:\n  x: 1\nk: 1\n", "m: null\n"], {"k": 1}, []),
    ("null for an absent key is a no-op", ["a: 1\n", "b: null\n"], {"a": 1}, []),
    ("null inside a new map is dropped", ["a: 1\n", "m:\n  x: null\n  y: 1\n"], {"a": 1, "m": {"y": 1}}, []),
    ("map over scalar replaces, warns", ["a: 1\n", "a:\n  x: 1\n"], {"a": {"x": 1}},
     ["l1.yaml:1: warning: a: a map here replaces the value set at l0.yaml:1"]),
    ("scalar over map replaces, warns", ["a:\n  x: 1\n", "\na: 5\n"], {"a": 5},
     ["l1.yaml:2: warning: a: a value here replaces the map set at l0.yaml:1"]),
    ("list over map replaces, warns", ["a:\n  x: 1\n", "a: [1]\n"], {"a": [1]},
     ["l1.yaml:1: warning: a: a value here replaces the map set at l0.yaml:1"]),
    ("three layers, last wins", ["a: 1\n", "a: 2\n", "a: 3\n"], {"a": 3}, []),
    ("three layers, delete then set again", ["a: 1\n", "a: null\n", "a: 3\n"], {"a": 3}, []),
    ("empty later layer changes nothing", ["a: 1\n", "{}\n"], {"a": 1}, []),
    ("openstack-helm conf shape", [
        "conf:\n  nova:\n    DEFAULT:\n      cpu_allocation_ratio: 4.0\n      debug: false\n",
        "conf:\n  nova:\n    DEFAULT:\n      cpu_allocation_ratio: 8.0\n"],
     {"conf": {"nova": {"DEFAULT": {"cpu_allocation_ratio": 8.0, "debug": False}}}}, []),
]


@pytest.mark.parametrize("texts,expected,warns", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_merge_rules(tmp_path: Path, texts, expected, warns) -> None:
    layers = [layer(tmp_path, f"l{i}.yaml", t) for i, t in enumerate(texts)]
    result = merge(layers)
    assert plain(result.tree) == expected
    got = [str(w) for w in result.warnings]
    assert len(got) == len(warns), got
    for w, want in zip(got, warns):
        assert w.startswith(want), w


def test_provenance_through_three_layers(tmp_path: Path) -> None:
    a = layer(tmp_path, "base.yaml", "conf:\n  nova:\n    DEFAULT:\n      x: 1\n")
    b = layer(tmp_path, "mid.yaml", "# comment\nconf:\n  nova:\n    DEFAULT:\n      x: 2\n")
    c = layer(tmp_path, "top.yaml", "\n\nconf:\n  nova:\n    DEFAULT:\n      x: 3\n")
    v = lookup(merge([a, b, c]).tree, ("conf", "nova", "DEFAULT", "x"))
    assert v is not None and not isinstance(v, dict)
    assert [(h.value, str(h.origin)) for h in v.history()] == [
        (1, "base.yaml:4"), (2, "mid.yaml:5"), (3, "top.yaml:6")]


def test_deletion_is_remembered_with_history(tmp_path: Path) -> None:
    a = layer(tmp_path, "a.yaml", "m:\n  x: 1\n")
    b = layer(tmp_path, "b.yaml", "m:\n  x: null\n")
    out = merge([a, b])
    gone = out.deleted[("m", "x")]
    assert [str(h.origin) for h in gone.history()] == ["a.yaml:2", "b.yaml:2"]
    assert gone.value is None


def test_set_again_after_delete_keeps_history(tmp_path: Path) -> None:
    out = merge([layer(tmp_path, "a.yaml", "x: 1\n"), layer(tmp_path, "b.yaml", "x: null\n"),
                 layer(tmp_path, "c.yaml", "x: 3\n")])
    v = out.tree["x"]
    assert [(h.value, h.origin.file) for h in v.history()] == [(1, "a.yaml"), (None, "b.yaml"), (3, "c.yaml")]
    assert ("x",) not in out.deleted


def test_merge_does_not_mutate_layers(tmp_path: Path) -> None:
    a = layer(tmp_path, "a.yaml", "m:\n  x: 1\n")
    b = layer(tmp_path, "b.yaml", "m:\n  y: 2\n")
    merge([a, b])
    assert plain(a) == {"m": {"x": 1}}
