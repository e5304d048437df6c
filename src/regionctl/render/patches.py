"""A region's patch sets as the deployers take them (pure); helm.py and kolla.py call these.

Each service's set is one directory: the patches as the site has them, ``series`` (their order),
``packages`` (the service's distributions, its own first: the start-up script logs their versions
and finds site-packages by the first) and ``apply-patches.sh``, the start-up script (package data
of regionctl.patches).

* helm: ``OUT/<region>/manifests/<service>-patches.yaml``, a ConfigMap ``<service>-patches``
  holding that directory (``kubectl apply -f`` it before the chart), and in the chart's values
  ``pod.mounts`` mounting it at ``/<service>-patches`` in every container that runs the
  service's code (openstack/pypackages.py HELM_PATCH_MOUNTS);
* kolla: ``OUT/<region>/config/<service>/patches/``, under ``node_custom_config``.
"""

from __future__ import annotations

import importlib.resources
import json
import re

from regionctl.openstack.pypackages import HELM_PATCH_MOUNTS, dists
from regionctl.patches.validate import SitePatches, load_patches
from regionctl.render.files import RenderedFile
from regionctl.site.load import LoadedSite
from regionctl.site.provenance import Branch, Layer, Origin, Tree, Value

SCRIPT = "apply-patches.sh"
SERIES = "series"
PACKAGES = "packages"
MANIFESTS_DIR = "manifests"
KOLLA_DIR = "patches"
_PRINTABLE = re.compile(r"^[\t\n\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*$")


def startup_script() -> str:
    return importlib.resources.files("regionctl.patches").joinpath(SCRIPT).read_text(encoding="utf-8")


def mount_path(service: str) -> str:
    return f"/{service}-patches"


def configmap_name(service: str) -> str:
    return f"{service}-patches"


_last: list[tuple[LoadedSite, str, SitePatches]] = []


def _region_patches(loaded: LoadedSite, region: str) -> SitePatches:
    """One region's patches, read once for all the charts of a render of that region."""
    if _last and _last[0][0] is loaded and _last[0][1] == region:
        return _last[0][2]
    found = load_patches(loaded, [region])
    _last[:] = [(loaded, region, found)]
    return found


def patch_dir(patches: SitePatches, region: str, service: str) -> dict[str, str]:
    """File name -> text of one service's patch directory in one region (empty: no patches)."""
    chosen = patches.region_set(region, service)
    if not chosen:
        return {}
    files = {f.name: p.text for f, p in chosen}
    files[SERIES] = "".join(f"{f.name}\n" for f, _ in chosen)
    files[PACKAGES] = "".join(f"{d}\n" for d in dists(service))
    files[SCRIPT] = startup_script()
    return files


def _block(key: str, text: str) -> list[str]:
    """``key: |2`` and the text indented: every byte kept (chomping says how the text ends)."""
    if not _PRINTABLE.match(text):
        return [f"  {json.dumps(key)}: {json.dumps(text)}"]
    if not text.endswith("\n"):
        chomp, body = "-", text
    else:
        chomp, body = ("+" if text.endswith("\n\n") else ""), text[:-1]
    lines = [f"  {json.dumps(key)}: |2{chomp}"]
    lines += [f"    {ln}" if ln else "" for ln in body.split("\n")]
    return lines


def configmap(loaded: LoadedSite, region: str, service: str, files: dict[str, str], sources: list[str]) -> str:
    head = [f"# Rendered by regionctl from {loaded.site_file}; edit the site's patches, not this file.",
            f"# The hot-fix patches of {service} in region {region}, from:"]
    head += [f"#   {s}" for s in sources]
    head += [f"# kubectl apply -f this before the chart; its values mount it at {mount_path(service)}, where the",
             f"# service's start-up must run: sh {mount_path(service)}/{SCRIPT} (it refuses to let a patch",
             "# that does not apply through). The containers need a writable site-packages for it.",
             "apiVersion: v1",
             "kind: ConfigMap",
             "metadata:",
             f"  name: {configmap_name(service)}",
             "  labels:",
             "    app.kubernetes.io/managed-by: regionctl",
             "  annotations:",
             f"    regionctl/region: {json.dumps(region)}",
             "data:"]
    for name in sorted(files):
        head += _block(name, files[name])
    return "\n".join(head) + "\n"


def helm_files(loaded: LoadedSite, region: str) -> list[RenderedFile]:
    """The ConfigMap manifest of every service of ``region`` that has patches."""
    patches = _region_patches(loaded, region)
    out = []
    for service in patches.services(region):
        files = patch_dir(patches, region, service)
        if files:
            sources = [loaded.shown(f.rel) for f, _ in patches.region_set(region, service)]
            out.append(RenderedFile(f"{region}/{MANIFESTS_DIR}/{configmap_name(service)}.yaml",
                                    configmap(loaded, region, service, files, sources), False))
    return out


def helm_values(loaded: LoadedSite, region: str, service: str) -> Tree:
    """``pod.mounts`` for the chart: the ConfigMap in every container running the service's code."""
    chosen = _region_patches(loaded, region).region_set(region, service)
    tree: Tree = Branch()
    if not chosen or service not in HELM_PATCH_MOUNTS:
        return tree
    origin = Origin(loaded.shown(chosen[0][0].rel), 0, Layer.DERIVED)
    name = configmap_name(service)
    volume = [{"name": name, "configMap": {"name": name, "defaultMode": 0o444}}]
    mount = [{"name": name, "mountPath": mount_path(service), "readOnly": True}]
    mounts: Tree = Branch()
    for component in HELM_PATCH_MOUNTS[service]:
        mounts[component] = Branch({component: Branch({"volumes": Value(volume, origin),
                                                       "volumeMounts": Value(mount, origin)})})
    tree["pod"] = Branch({"mounts": mounts})
    return tree


def kolla_files(loaded: LoadedSite, region: str, config_dir: str) -> list[RenderedFile]:
    """Each service's patch directory under ``node_custom_config``: ``config/<service>/patches/``."""
    patches = _region_patches(loaded, region)
    out = []
    for service in patches.services(region):
        for name, text in sorted(patch_dir(patches, region, service).items()):
            out.append(RenderedFile(f"{region}/{config_dir}/{service}/{KOLLA_DIR}/{name}", text, False))
    return out
