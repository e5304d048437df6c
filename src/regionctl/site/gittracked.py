"""Which plain secrets files git tracks: a secret in the clear in history is a leaked secret.

The one place regionctl asks git anything; no git, or no repository, means nothing to report.
"""

from __future__ import annotations

import subprocess

from regionctl.site import layout
from regionctl.site.load import LoadedSite
from regionctl.site.problems import Problem, warning


def plain_secrets_files(loaded: LoadedSite) -> list[str]:
    """Site-relative names of the secrets files that exist and are not SOPS-encrypted."""
    return sorted(rel for rel in loaded.layers
                  if rel.endswith("/" + layout.SECRETS + layout.EXT)
                  and rel not in loaded.encrypted and rel not in loaded.sealed)


def tracked(loaded: LoadedSite, rels: list[str]) -> set[str]:
    if not rels:
        return set()
    try:
        p = subprocess.run(["git", "-C", str(loaded.paths.root), "ls-files", "-z", "--", *rels],
                           capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return set()
    if p.returncode != 0:
        return set()
    names = {n for n in p.stdout.split("\0") if n}
    # git prints paths relative to -C's directory, which is the site root.
    return {rel for rel in rels if rel in names}


def check_tracked_plain_secrets(loaded: LoadedSite) -> list[Problem]:
    out = []
    for rel in sorted(tracked(loaded, plain_secrets_files(loaded))):
        region = rel.split("/")[1]
        out.append(warning(loaded.shown(rel), 0, f"is plain text in git: regionctl secrets encrypt -r {region}"))
    return out
