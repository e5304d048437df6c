"""Two patches of one set that change the same lines in an order that cannot apply (pure).

Read from the diffs alone, before any package is at hand. For a file, each patch is compared with
the one before it that touches the same file. A later hunk is consistent with the earlier patch
if either

* it was made on top of it: where its old lines overlap the earlier hunk's new lines, they are
  the same text; or
* it was made beside it (on the unpatched file): it reads no line the earlier patch removes, and
  nothing is inserted inside its span (``patch`` then finds it, with an offset).

A hunk that is neither conflicts. ``regionctl patches check`` is the real test, on the real files.
"""

from __future__ import annotations

from dataclasses import dataclass

from regionctl.patches.diff import FilePatch, Hunk, Patch


@dataclass(frozen=True)
class Conflict:
    later: Patch
    hunk: Hunk
    path: str
    earlier: Patch


def _on_top(hunk: Hunk, before: FilePatch) -> bool:
    old = hunk.old_lines
    for h in before.hunks:
        new = h.new_lines
        lo, hi = max(hunk.old_start, h.new_start), min(hunk.old_start + len(old), h.new_start + len(new))
        for pos in range(lo, hi):
            if old[pos - hunk.old_start] != new[pos - h.new_start]:
                return False
    return True


def _beside(hunk: Hunk, before: FilePatch) -> bool:
    start, end = hunk.old_start, hunk.old_start + len(hunk.old_lines)
    for h in before.hunks:
        removed, inserted = h.changes()
        if any(start <= p < end for p in removed) or any(start < p < end for p in inserted):
            return False
    return True


def conflicts(ordered: list[Patch]) -> list[Conflict]:
    """Conflicts in a set applied in this order, each named at the later patch's hunk."""
    out: list[Conflict] = []
    last: dict[str, tuple[Patch, FilePatch]] = {}
    for patch in ordered:
        for fp in patch.files:
            key = fp.old or fp.path
            prev = last.get(key)
            if prev is not None and fp.old is not None:
                for hunk in fp.hunks:
                    if not _on_top(hunk, prev[1]) and not _beside(hunk, prev[1]):
                        out.append(Conflict(patch, hunk, fp.path, prev[0]))
                        break
            last[fp.path] = (patch, fp)
    return out
