"""A region's patch set applied, in order, to a scratch copy of the real package files (GNU patch).

For each patch, with ``--fuzz=0`` (a hunk must match exactly, as the start-up script requires):

* ``patch --dry-run`` succeeds: it **applies**; it is applied to the scratch copy, so the next
  patch of the set is checked on top of it;
* otherwise ``patch -R --dry-run`` succeeds: it is **already applied** (the release has the fix);
* otherwise it **fails**, named with the hunk and the file ``patch`` rejected.

The version checked against is each outcome's ``package``; a ``Versions:`` pin in the header
that does not list it makes the outcome a **pin mismatch**: the patch must be looked at again for
that version before it ships.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from regionctl.errors import UserError
from regionctl.openstack.pypackages import dists
from regionctl.patches.diff import Patch, dist_key
from regionctl.patches.environment import Environment

APPLIES = "applies"
ALREADY = "already applied"
FAILS = "fails"
PATCH_OPTS = ["-p1", "--fuzz=0", "--force", "--batch", "--no-backup-if-mismatch", "--reject-file=-",
              "--quoting-style=literal"]
_FILE = re.compile(r"^(?:checking|patching) file (.+)$")
_HUNK = re.compile(r"^Hunk #(\d+) FAILED at (\d+)")


@dataclass(frozen=True)
class Outcome:
    region: str
    service: str
    patch: Patch
    status: str
    package: str  # "nova 34.0.0": what it was checked against
    detail: str = ""
    line: int = 0  # the failing hunk's line in the patch file
    pin_mismatch: str = ""  # what the Versions line pins, where it does not hold this version

    @property
    def ok(self) -> bool:
        return self.status != FAILS and not self.pin_mismatch

    @property
    def name(self) -> str:
        return self.patch.file.rsplit("/", 1)[-1]


def gnu_patch() -> str:
    exe = shutil.which("patch")
    if exe is None:
        raise UserError("GNU patch is not installed: install it (apt-get install patch); the start-up script needs it too")
    return exe


def _run(exe: str, args: list[str], patch: Patch, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([exe, *PATCH_OPTS, *args, "-d", str(cwd)], input=patch.text, capture_output=True,
                          text=True, env={**os.environ, "LC_ALL": "C"}, timeout=120)


def _failure(patch: Patch, output: str) -> tuple[str, int]:
    """What ``patch`` rejected first, as (detail, line of the hunk in the patch file)."""
    current = ""
    for ln in output.splitlines():
        m = _FILE.match(ln)
        if m:
            current = m.group(1)
            continue
        m = _HUNK.match(ln)
        if m:
            number = int(m.group(1))
            fp = next((f for f in patch.files if f.path == current or f.old == current), None)
            hunk = next((h for h in fp.hunks if h.number == number), None) if fp else None
            where = f" ({hunk.header})" if hunk else ""
            return f"hunk #{number}{where} of {current} does not apply", hunk.line if hunk else 0
        if "can't find file to patch" in ln or "No file to patch" in ln:
            fp = next((f for f in patch.files if f.old), None)
            return f"{fp.old if fp else 'a file it changes'} does not exist", fp.line if fp else 0
    last = (output.strip().splitlines() or ["patch failed"])[-1]
    return last, 0


def _pin(patch: Patch, env: Environment, service: str) -> str:
    for dist in dists(service):
        pinned = patch.header.versions.get(dist_key(dist))
        have = env.version(dist)
        if pinned and have is not None and have not in pinned:
            return f"its Versions line pins {', '.join(f'{dist}=={v}' for v in pinned)}"
    return ""


def check_set(region: str, service: str, patches: list[Patch], env: Environment) -> list[Outcome]:
    """Outcomes in order; the scratch copy holds only the files the set touches, and is removed."""
    exe = gnu_patch()
    main = dists(service)[0]
    package = f"{main} {env.version(main) or '(not installed)'}"
    scratch = Path(tempfile.mkdtemp(prefix="regionctl-patches-"))
    try:
        for patch in patches:
            for rel in (r for fp in patch.files for r in (fp.old, fp.new) if r is not None):
                src, dst = env.site_packages / rel, scratch / rel
                if src.is_file() and not dst.exists():
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dst)
        out: list[Outcome] = []
        for patch in patches:
            pin = _pin(patch, env, service)
            if _run(exe, ["--dry-run"], patch, scratch).returncode == 0:
                applied = _run(exe, [], patch, scratch)
                if applied.returncode != 0:  # pragma: no cover - the dry run said it would
                    detail, line = _failure(patch, applied.stdout + applied.stderr)
                    out.append(Outcome(region, service, patch, FAILS, package, detail, line, pin))
                else:
                    out.append(Outcome(region, service, patch, APPLIES, package, pin_mismatch=pin))
            elif _run(exe, ["-R", "--dry-run"], patch, scratch).returncode == 0:
                out.append(Outcome(region, service, patch, ALREADY, package,
                                   "its reverse applies: the release has it; remove the patch", pin_mismatch=pin))
            else:
                forward = _run(exe, ["--dry-run"], patch, scratch)
                detail, line = _failure(patch, forward.stdout + forward.stderr)
                out.append(Outcome(region, service, patch, FAILS, package, detail, line, pin))
        return out
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def check_sets(sets: dict[tuple[str, str], list[Patch]], env: Environment) -> list[Outcome]:
    """Every region's sets; a set several regions share (the base patches) is applied once."""
    done: dict[tuple[str, tuple[str, ...]], list[Outcome]] = {}
    out: list[Outcome] = []
    for (region, service), patches in sets.items():
        key = (service, tuple(p.file for p in patches))
        if key not in done:
            done[key] = check_set(region, service, patches, env)
        out += [replace(o, region=region) for o in done[key]]
    return out
