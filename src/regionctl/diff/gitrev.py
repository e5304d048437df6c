"""The site as it was at a git revision, read from git's objects (no checkout, no stash).

The files under the site's path at the commit are written into a scratch directory; problems and
origins name them ``REV:path`` (``HEAD~1:examples/x/values/nova.yaml:5``), as ``git show`` does.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from regionctl.errors import UserError


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C"}
    try:
        return subprocess.run(["git", "-c", "core.quotepath=off", *args], cwd=cwd, input=stdin,
                              capture_output=True, env=env, check=False)
    except FileNotFoundError:
        raise UserError("--rev needs git, which is not installed: install git, or diff --against a render") from None


def _first_line(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    return text.splitlines()[0] if text else "git failed"


def extract(site: Path, rev: str, into: Path) -> tuple[Path, str, str]:
    """Write the site at ``rev`` under ``into``; returns (its directory, how to show it, the commit)."""
    if not site.is_dir():
        raise UserError(f"{site}: no such directory: pass the site with -s/--site")
    top = _git(site, "rev-parse", "--show-toplevel", "--show-prefix")
    if top.returncode != 0:
        raise UserError(f"{site}: not in a git repository ({_first_line(top.stderr)}), so --rev has nothing to "
                        "read: commit the site to git, or diff --against a render")
    lines = top.stdout.decode().splitlines()
    root, prefix = Path(lines[0]), (lines[1] if len(lines) > 1 else "")
    if rev.startswith("-"):
        raise UserError(f"--rev {rev}: not a commit in {root}: name a branch, tag or commit (see 'git log')")
    found = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if found.returncode != 0:
        raise UserError(f"--rev {rev}: not a commit in {root}: name a branch, tag or commit (see 'git log')")
    commit = found.stdout.decode().strip()
    listing = _git(root, "ls-tree", "-r", "-z", "--full-tree", commit, "--", prefix or ".")
    if listing.returncode != 0:
        raise UserError(f"--rev {rev}: cannot list the commit ({_first_line(listing.stderr)})")
    entries = []
    for item in listing.stdout.split(b"\0"):
        if not item:
            continue
        meta, _, raw_name = item.partition(b"\t")
        mode, kind, sha = meta.decode().split()
        entries.append((mode, kind, sha, raw_name.decode("utf-8", "surrogateescape")))
    shown_as = f"{rev}:{prefix.rstrip('/')}" if prefix else f"{rev}:"
    if not any(name[len(prefix):] == "site.yaml" for _, kind, _, name in entries if kind == "blob"):
        raise UserError(f"{shown_as}{'/' if prefix else ''}site.yaml: error: the site has no site.yaml at "
                        f"revision {rev} ({commit[:12]}): pick a revision where it existed")
    blobs = [(m, s, n) for m, k, s, n in entries if k == "blob"]
    contents = _cat(root, [s for _, s, _ in blobs])
    dest = into / "site"
    for (mode, sha, name), data in zip(blobs, contents):
        target = dest / name[len(prefix):]
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":
            link = os.fsdecode(data)
            inside = os.path.normpath(os.path.join(os.path.dirname(name[len(prefix):]), link))
            if os.path.isabs(link) or inside.startswith(".."):
                raise UserError(f"{shown_as}{'/' if prefix else ''}{name[len(prefix):]}: error: a symlink out of the "
                                f"site (-> {link}), which a revision cannot be read through: make it a file")
            os.symlink(link, target)
        else:
            target.write_bytes(data)
    dest.mkdir(parents=True, exist_ok=True)
    return dest, shown_as, commit


def _cat(root: Path, shas: list[str]) -> list[bytes]:
    """Every blob's bytes from one ``git cat-file --batch``."""
    if not shas:
        return []
    done = _git(root, "cat-file", "--batch", stdin=("\n".join(shas) + "\n").encode())
    if done.returncode != 0:
        raise UserError(f"git cat-file failed: {_first_line(done.stderr)}")
    out, raw, pos = [], done.stdout, 0
    for _ in shas:
        end = raw.index(b"\n", pos)
        size = int(raw[pos:end].split()[2])
        out.append(raw[end + 1:end + 1 + size])
        pos = end + 1 + size + 1
    return out
