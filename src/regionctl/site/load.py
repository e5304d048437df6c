"""Loading a site directory: site.yaml into the model, every values file into a layer.

Loading never raises for bad input: what is wrong is returned as problems, so ``validate`` can
report everything at once.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap

from regionctl.site import layout, limits
from regionctl.site.age import Identities, find_identities
from regionctl.site.encrypted import Sealed, open_layer
from regionctl.site.secrets import KNOWN, remember_tree
from regionctl.site.merge import Merged, merge
from regionctl.site.model import Site
from regionctl.site.problems import Problem, error
from regionctl.site.provenance import Branch, Layer, Tree
from regionctl.site.secrets import mask_text, mask_urls, secret_path, url_has_password
from regionctl.site.yamlio import YamlDoc, node_at, read_yaml, to_plain, to_tree


@dataclass
class LoadedSite:
    """A site as read from disk: the model (None when site.yaml is unusable) and its layers."""

    paths: layout.SitePaths
    site: Site | None
    doc: YamlDoc | None
    layers: dict[str, Tree] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: what the floors above derive from this load once (endpoints, ...), keyed by their name
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: SOPS-encrypted files this process did not open (no key for them, or secrets not wanted).
    sealed: dict[str, Sealed] = field(default_factory=dict)
    #: SOPS-encrypted files that were opened: rel -> their recipients.
    encrypted: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def shown(self, rel: str) -> str:
        return self.paths.shown(rel)

    def line(self, *loc: Any) -> int:
        """Line of a path in site.yaml, e.g. ``line("regions", "RegionOne", "parent")``."""
        if self.doc is None:
            return 0
        return node_at(self.doc.data, tuple(loc))[0]

    @property
    def site_file(self) -> str:
        return self.shown(layout.SITE_FILE)

    def layers_for(self, region: str, service: str, base: list[Tree] | None = None) -> list[Tree]:
        """``base`` (defaults, derived wiring) then the site's files, lowest precedence first."""
        files = [self.layers[f.rel] for f in layout.layer_files(region, service) if f.rel in self.layers]
        return list(base or []) + files

    def resolve(self, region: str, service: str, base: list[Tree] | None = None) -> Merged:
        return merge(self.layers_for(region, service, base))

    @cached_property
    def region_dirs(self) -> list[str]:
        entries, _ = list_dir(self.paths.path(layout.REGIONS_DIR), self.shown(layout.REGIONS_DIR), "")
        return [p.name for p in entries or [] if p.is_dir() and not p.name.startswith(".")]


def load(site_dir: str | Path, *, secrets: bool = True, shown_as: str | None = None) -> LoadedSite:
    """``shown_as``: how problems and origins name the site, when not as ``site_dir``.

    ``secrets=False`` leaves SOPS-encrypted files sealed (the catalog needs no secrets).
    """
    paths = layout.SitePaths.of(site_dir, shown_as)
    if not paths.root.exists():
        raise SiteNotFound(f"{paths.root}: no such directory: pass the site with -s/--site, or create one with 'regionctl init'")
    if not paths.root.is_dir():
        raise SiteNotFound(f"{paths.root}: is not a directory: -s/--site takes the site directory")
    doc, problems = read_yaml(paths.path(layout.SITE_FILE), paths.shown(layout.SITE_FILE))
    if doc is None and problems and problems[0].message == "file not found":
        problems = [error(paths.shown(layout.SITE_FILE), 0,
                          "file not found: a site needs site.yaml (create one with 'regionctl init DIR')")]
    site = _model(doc, problems) if doc is not None else None
    most = limits.current().regions
    if site is not None and doc is not None and len(site.regions) > most:
        problems.append(error(paths.shown(layout.SITE_FILE), node_at(doc.data, ("regions",))[0],
                              f"declares {len(site.regions)} regions, over the limit of {most}: "
                              f"split the site, or raise {limits.ENV['regions']}"))
        site = None
    loaded = LoadedSite(paths, site, doc, problems=problems)
    _load_layers(loaded, secrets)
    for tree in loaded.layers.values():
        remember_tree(tree)
    return loaded


def list_dir(path: Path, shown: str, holds: str = "values files") -> tuple[list[Path] | None, list[Problem]]:
    """A site directory's entries, sorted; a missing one is empty, anything else wrong a problem.

    ``values/`` as a file, a symlink loop or an unreadable directory would otherwise drop every
    value in it without a word.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return None, [error(shown, 0, "is a symlink to nothing: fix or remove the link")]
        return [], []
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, [error(shown, 0, "is a symlink loop: fix or remove the link")]
        return None, [error(shown, 0, f"cannot be read ({exc.strerror}): fix it")]
    except ValueError:
        return None, [error(shown, 0, "the path holds a NUL byte: fix the name")]
    if not stat.S_ISDIR(st.st_mode):
        return None, [error(shown, 0, f"is not a directory: the site keeps {holds} there; "
                                      "move it away and make a directory of that name")]
    try:
        return sorted(path.iterdir()), []
    except PermissionError:
        return None, [error(shown, 0, "cannot be listed (permission denied): fix its permissions")]
    except OSError as exc:
        return None, [error(shown, 0, f"cannot be listed ({exc.strerror}): fix it")]


class SiteNotFound(Exception):
    """The site directory itself is missing: nothing to validate, one line to print."""


def _model(doc: YamlDoc, problems: list[Problem]) -> Site | None:
    if doc.data is None:
        problems.append(error(doc.display, 1, "is empty: declare the regions (see 'regionctl init')"))
        return None
    if not isinstance(doc.data, CommentedMap):
        kind = "a list" if isinstance(doc.data, list) else f"a {type(doc.data).__name__}"
        problems.append(error(doc.display, 1, f"expected a map with 'regions:', found {kind}"))
        return None
    try:
        return Site.model_validate(to_plain(doc.data))
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(_pydantic_problem(doc, err))
        return None


def _pydantic_problem(doc: YamlDoc, err: Any) -> Problem:
    loc = tuple(err["loc"])
    # Union members add their type name to the location; keep the data path only.
    data_loc = tuple(k for k in loc if not (isinstance(k, str) and ("[" in k or k in {"str", "dict", "ServiceSpec"})))
    line, exists = node_at(doc.data, data_loc)
    where = ".".join(str(k) for k in data_loc) or "top level"
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = ".".join(str(k) for k in data_loc[:-1]) or "the top level"
        msg = f"unknown key '{data_loc[-1]}' in {parent}: remove it or fix its spelling (see 'regionctl schema')"
    elif kind == "missing":
        msg = f"{where}: required key missing: add it"
    elif kind == "literal_error":
        msg = f"{where}: {err['msg'].lower()}, got {_short(err.get('input'), data_loc)}"
    else:
        msg = f"{where}: {err['msg'].lower()}, got {_short(err.get('input'), data_loc)}"
    return error(doc.display, line, msg)


def _short(value: Any, loc: tuple[Any, ...] = ()) -> str:
    """The input pydantic rejected, as an error may quote it: masked if it could be secret."""
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    if secret_path(tuple(str(k) for k in loc), value) or mask_urls(str(value)) != str(value):
        return f"{mask_text(value)!r}" if url_has_password(value) else "a value that is masked (it may be secret)"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _load_layers(loaded: LoadedSite, secrets: bool = True) -> None:
    """Parse every values file that exists; record problems for broken ones; decrypt SOPS files."""
    found: list[Identities] = []

    def identities() -> Identities:
        if not found:
            found.append(find_identities())
        return found[0]

    names: list[tuple[str, Layer]] = []
    entries, problem = list_dir(loaded.paths.path(layout.VALUES_DIR), loaded.shown(layout.VALUES_DIR))
    loaded.problems += problem
    names += [(f"{layout.VALUES_DIR}/{p.name}", Layer.BASE) for p in entries or []]
    _, problem = list_dir(loaded.paths.path(layout.REGIONS_DIR), loaded.shown(layout.REGIONS_DIR),
                          "one directory per region")
    loaded.problems += problem
    for region in loaded.region_dirs:
        rel_dir = f"{layout.REGIONS_DIR}/{region}"
        entries, problem = list_dir(loaded.paths.path(rel_dir), loaded.shown(rel_dir))
        loaded.problems += problem
        for p in entries or []:
            layer = Layer.SECRET if p.name == layout.SECRETS + layout.EXT else Layer.REGION
            names.append((f"{rel_dir}/{p.name}", layer))
    names = [(rel, layer) for rel, layer in names if rel.endswith(layout.EXT)]
    most = limits.current().site_files
    if len(names) > most:
        loaded.problems.append(error(loaded.shown(layout.REGIONS_DIR), 0,
                                     f"the site has {len(names)} values files, over the limit of {most}: "
                                     f"split the site, or raise {limits.ENV['site_files']}"))
        return
    for rel, layer in names:
        shown = loaded.shown(rel)
        doc, problems = read_yaml(loaded.paths.path(rel), shown)
        loaded.problems += problems
        if doc is None:
            continue
        outcome = open_layer(doc, identities, secrets)
        loaded.problems += outcome.problems
        if outcome.sealed is not None:
            loaded.sealed[rel] = outcome.sealed
            loaded.layers[rel] = Branch()
        if outcome.opened is not None:
            loaded.encrypted[rel] = tuple(outcome.opened.meta.recipients)
            for value in outcome.opened.secret_values:
                KNOWN.add(value)
        if outcome.doc is None:
            continue
        if doc.data is None:
            loaded.layers[rel] = Branch()
        elif isinstance(doc.data, CommentedMap):
            loaded.layers[rel] = to_tree(doc.data, shown, Layer.SECRET if outcome.opened else layer)
        else:
            kind = "a list" if isinstance(doc.data, list) else "a single value"
            loaded.problems.append(error(shown, 1, f"expected a map of values (like 'conf: ...'), found {kind}"))
