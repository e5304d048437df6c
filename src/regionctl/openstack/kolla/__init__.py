"""kolla-ansible's variables as data: every name its group_vars/all defines (tools/gen_kolla_vars.py).

A site's ``kolla:`` values go into globals.yml unchanged, so a misspelt name would be ignored by
kolla without a word; ``validate`` checks them against this list. The default is kept where it
is a plain value (``network_interface: eth0``), None where kolla computes it.
"""

from __future__ import annotations

import functools
import json
from importlib import resources


@functools.cache
def _data() -> dict[str, object]:
    text = resources.files(__package__).joinpath("variables.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def variables() -> dict[str, object]:
    """variable -> kolla's plain default (None where it is an expression)."""
    found = _data()["variables"]
    assert isinstance(found, dict)
    return found


def source() -> str:
    """Which kolla-ansible release the names were read from."""
    return str(_data()["source"])
