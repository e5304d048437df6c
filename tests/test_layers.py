"""The package is one way down: each floor imports only the floors below it (docs/architecture.md).

A new package must be given its floor here, which is the moment to ask where it belongs.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "regionctl"

#: lowest first; packages on one floor do not import each other
FLOORS: list[set[str]] = [
    {"errors", "__init__", "__version__"},
    {"fileio"},
    {"openstack", "devkeystone"},
    {"site"},
    {"resolve"},
    {"patches", "scope"},
    {"check", "client"},
    {"render", "catalog"},
    {"diff", "report"},
    {"cli"},
    {"__main__"},
]


def _floor(part: str) -> int:
    for i, names in enumerate(FLOORS):
        if part in names:
            return i
    raise AssertionError(f"regionctl.{part} has no floor: add it to FLOORS in tests/test_layers.py "
                         "and to docs/architecture.md")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "regionctl":
                names = [f"regionctl.{a.name}" for a in node.names]
            out += [(node.lineno, n) for n in names if n.startswith("regionctl.")]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("regionctl.")]
    return out


def test_every_import_goes_down() -> None:
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        here = rel.parts[0].removesuffix(".py")
        for line, name in _imports(path):
            there = name.split(".")[1]
            if there == here:
                continue
            if _floor(there) >= _floor(here):
                wrong.append(f"src/regionctl/{rel}:{line}: {here} imports {name}, which is not below it")
    assert wrong == []


def test_openstack_knowledge_imports_nothing_else() -> None:
    found = [f"{p.relative_to(SRC)}:{line}: {name}" for p in sorted((SRC / "openstack").rglob("*.py"))
             for line, name in _imports(p) if not name.startswith("regionctl.openstack")]
    assert found == []
