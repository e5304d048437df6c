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

Renderer = Callable[[LoadedSite, RegionValues], list[RenderedFile]]

#: format name -> module holding its ``render_region``
FORMATS: dict[str, str] = {
    "plain": "regionctl.render.plain",
    "kolla": "regionctl.render.kolla",
    "helm": "regionctl.render.helm",
    "haproxy": "regionctl.render.haproxy",
}


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
