"""The output formats of ``regionctl render``: each a function from a region's values to files.

A format module exposes ``render_region(loaded, values) -> list[RenderedFile]`` and is listed
here; the CLI knows nothing else about it.
"""

from __future__ import annotations

import importlib
from typing import Callable

from regionctl.render.files import RenderedFile
from regionctl.resolve.values import RegionValues
from regionctl.site.load import LoadedSite
from regionctl.site.problems import Problem

Renderer = Callable[[LoadedSite, RegionValues], list[RenderedFile]]

#: format name -> module holding its ``render_region``
FORMATS: dict[str, str] = {
    "plain": "regionctl.render.plain",
    "kolla": "regionctl.render.kolla",
    "helm": "regionctl.render.helm",
    "haproxy": "regionctl.render.haproxy",
}

#: format name -> "module:function" of the checks that format adds to validate's (a deployer's
#: checks validate runs only for a site that says it uses that deployer)
CHECKS: dict[str, str] = {
    "kolla": "regionctl.check.deployers:check_kolla_render",
}


def checks(name: str, loaded: LoadedSite) -> list[Problem]:
    """The problems rendering ``name`` adds to validate's."""
    if name not in CHECKS:
        return []
    module, func = CHECKS[name].split(":")
    found: list[Problem] = getattr(importlib.import_module(module), func)(loaded)
    return found


def available() -> list[str]:
    out = []
    for name, module in FORMATS.items():
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:
            continue
        out.append(name)
    return out


def renderer(name: str) -> Renderer:
    return importlib.import_module(FORMATS[name]).render_region  # type: ignore[no-any-return]
