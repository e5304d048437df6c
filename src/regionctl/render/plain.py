"""The plain renderer: each region's files as they live under /etc on a host (pure)."""

from __future__ import annotations

from regionctl.openstack.services import DASHBOARD_SERVICE, SERVICES
from regionctl.resolve.endpoints import identity_urls
from regionctl.render.files import RenderedFile, header
from regionctl.render.ini import render_ini
from regionctl.render.paste import scope_paste
from regionctl.render.sources import SecretRule, ini_sources
from regionctl.resolve.values import ConfFile, RegionValues
from regionctl.site.load import LoadedSite
from regionctl.site.provenance import walk
from regionctl.site.secrets import is_secret


def file_holds_secret(conf: ConfFile) -> bool:
    return any(is_secret(("conf", conf.conf_key) + path, v) for path, v in walk(conf.merged.tree))


def _secret_rule(conf_key: str) -> SecretRule:
    return lambda path, value: is_secret(("conf", conf_key) + path, value)


def render_region(loaded: LoadedSite, values: RegionValues) -> list[RenderedFile]:
    assert loaded.site is not None
    head = header(loaded.site_file)
    region = loaded.site.regions[values.region]
    out = []
    for conf in values.files.values():
        svc = SERVICES[conf.service]
        text = render_ini(conf.merged.tree, head)
        sources = ini_sources(conf.merged.tree, conf.merged.deleted, _secret_rule(conf.conf_key))
        out.append(RenderedFile(f"{values.region}/etc/{svc.etc}/{conf.filename}", text, file_holds_secret(conf),
                                sources))
    if region.runs(DASHBOARD_SERVICE):
        out.append(RenderedFile(f"{values.region}/etc/{SERVICES[DASHBOARD_SERVICE].etc}/local_settings.py",
                                horizon_settings(loaded, values.region), False))
    out += [RenderedFile(f"{values.region}/etc/{etc}/{name}.regionctl-scope", text, False)
            for etc, name, text in scope_paste(loaded, values.region)]
    return sorted(out, key=lambda f: f.rel)


def horizon_settings(loaded: LoadedSite, region: str) -> str:
    """Horizon talks to its cloud's Keystone; the catalog lists every region it can switch to.

    Where the site has several clouds, Horizon's AVAILABLE_REGIONS lists each cloud's Keystone, so
    one dashboard logs in to any of them.
    """
    assert loaded.site is not None
    site = loaded.site
    urls = identity_urls(loaded, region)
    keystone = urls.get("public") or next(iter(urls.values()), "")
    regions = site.regions_of(site.cloud_of(region))
    lines = [
        header(loaded.site_file).rstrip("\n"),
        "# One Keystone serves every region of this cloud: Horizon offers the regions its catalog lists,",
        f"# {', '.join(regions)}, in the region switcher of its header.",
        f"OPENSTACK_KEYSTONE_URL = {keystone!r}",
        "OPENSTACK_ENDPOINT_TYPE = 'publicURL'",
        f"DEFAULT_SERVICE_REGIONS = {{'*': {region!r}}}",
        f"REGIONCTL_REGIONS = {regions!r}",
    ]
    if len(site.cloud_names()) > 1:
        keystones = []
        for cloud in site.cloud_names():
            home = site.identity_regions(cloud)
            found = identity_urls(loaded, home[0]) if home else {}
            url = found.get("public") or next(iter(found.values()), "")
            if url:
                keystones.append((url, cloud))
        lines += ["# Several clouds, each with its own Keystone: the login form offers each.",
                  f"AVAILABLE_REGIONS = {keystones!r}"]
    return "\n".join(lines + [""])
