"""``regionctl init``: a small working site whose comments teach the layout."""

from __future__ import annotations

import secrets
from pathlib import Path

from regionctl.fileio import write_dir_atomic
from regionctl.openstack.services import database_users, service_users
from regionctl.site.sopsconfig import starter_config

SERVICE_USERS = service_users()
DATABASES = database_users()

SITE_YAML = """\
# yaml-language-server: $schema=site.schema.json
# The inventory: every region once. `regionctl schema > site.schema.json` gives editors completion.
format: 1
release: "2026.2"          # the OpenStack release the site targets (option checks use it)
service_users: shared      # one nova/neutron/... user for all regions: same password everywhere

regions:
  RegionOne:
    description: First region; hosts the shared Keystone and Horizon
    addresses:             # a base URL, a host/VIP, or a template like https://{name}.example.com
      public: http://192.0.2.10
      internal: http://10.0.1.10
    services:              # what this region runs; `keystone` marks the identity region
      keystone:
      horizon:
      nova:
      placement:
      neutron:
      glance:
      cinder:
  RegionTwo:
    description: Second region; authenticates against RegionOne's Keystone
    parent: RegionOne
    addresses:
      public: http://198.51.100.10
      internal: http://10.0.2.10
    services:
      nova:
      placement:
      neutron:
      glance:
      cinder:
"""

GLOBAL_YAML = """\
# Base values for every service in every region (openstack-helm shape: conf: FILE: SECTION: key).
# Precedence, lowest first: values/global.yaml < values/<service>.yaml
#   < regions/<region>/global.yaml < regions/<region>/<service>.yaml < regions/<region>/secrets.yaml
conf: {}
"""

NOVA_YAML = """\
# Base values for nova in every region. A Genestack or openstack-helm override file fits as is.
conf:
  nova:
    DEFAULT:
      cpu_allocation_ratio: 4.0
"""

REGION_NOVA_YAML = """\
# RegionTwo's overrides for nova: later layers win, maps merge, lists replace, null deletes.
conf:
  nova:
    DEFAULT:
      cpu_allocation_ratio: 8.0
"""


def _secrets_yaml(region: str, identity: bool, shared: dict[str, str]) -> str:
    lines = [
        f"# {region}'s secrets: kept apart from plain values, masked in every output.",
        "# Encrypt it before committing: regionctl secrets encrypt (recipients from .sops.yaml).",
        "passwords:",
    ]
    if identity:
        lines.append(f"  keystone_admin: {secrets.token_urlsafe(18)}")
    lines.append("  service_users:          # shared users: the same password in every region")
    lines += [f"    {u}: {shared[u]}" for u in SERVICE_USERS]
    lines.append("  databases:              # per database user (nova's covers nova, nova_api, nova_cell0)")
    lines += [f"    {d}: {secrets.token_urlsafe(18)}" for d in DATABASES if identity or d != "keystone"]
    lines.append(f"  messaging: {secrets.token_urlsafe(18)}")
    return "\n".join(lines) + "\n"


def starter_files(recipients: list[str] | None = None) -> dict[str, str]:
    shared = {u: secrets.token_urlsafe(18) for u in SERVICE_USERS}
    return {
        ".sops.yaml": starter_config(["RegionOne", "RegionTwo"], {}, list(recipients or [])),
        "site.yaml": SITE_YAML,
        "values/global.yaml": GLOBAL_YAML,
        "values/nova.yaml": NOVA_YAML,
        "regions/RegionOne/secrets.yaml": _secrets_yaml("RegionOne", True, shared),
        "regions/RegionTwo/nova.yaml": REGION_NOVA_YAML,
        "regions/RegionTwo/secrets.yaml": _secrets_yaml("RegionTwo", False, shared),
        ".gitignore": "# rendered output\nout/\n",
    }


def write_starter(target: Path, recipients: list[str] | None = None) -> list[str]:
    """Write the starter site to ``target`` whole, or not at all; ``recipients`` go in .sops.yaml."""
    files = starter_files(recipients)
    write_dir_atomic(target, files, "init")
    return sorted(files)
