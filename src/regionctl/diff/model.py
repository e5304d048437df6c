"""The values a diff is made of: two trees of files in, a list of typed changes out.

A :class:`Change` carries only what may be printed: a secret's value never gets this far, its
``old``/``new`` are masked before a Change is made.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from regionctl.render.sources import Sources


class Kind(str, enum.Enum):
    CHANGED = "changed"
    ADDED = "added"
    REMOVED = "removed"  # the site set it before and does no more (or a null removes it)
    UNMANAGED = "unmanaged"  # in the old tree, and the site never set it: deploying removes it
    FILE_ADDED = "file added"
    FILE_REMOVED = "file removed"  # a file regionctl rendered, which the site renders no more
    FILE_UNMANAGED = "file unmanaged"  # a file beside the rendered ones that regionctl never wrote
    KEPT = "kept"  # a key the site doesn't set, in a file the deployer merges into (kolla's passwords.yml)


#: kinds that deploying the new render changes something for (an unmanaged file is left alone)
DEPLOY_CHANGES = frozenset({Kind.CHANGED, Kind.ADDED, Kind.REMOVED, Kind.UNMANAGED, Kind.FILE_ADDED, Kind.FILE_REMOVED})


@dataclass(frozen=True)
class FileSide:
    """One file of one side. ``text`` None: listed only (a file beside a deployed tree's ones).

    ``sources`` (rendered sides only) name each key's origin; ``managed``: regionctl wrote it (its
    header); ``secret_file``: it may hold secrets (0600, or a secrets file by name); ``shown``: how
    to name it in messages (the deployed path, ``HEAD~1`` render, ...).
    """

    text: str | None
    shown: str
    sources: Sources = field(default_factory=dict)
    managed: bool = True
    secret_file: bool = False
    lines_known: bool = False  # the old side is a real file: its line numbers mean something
    merged: bool = False  # the deployer merges this file into its own (keys the site doesn't set stay)


#: ``<region>/<path inside the region directory>`` -> file
Files = dict[str, FileSide]


@dataclass(frozen=True)
class Change:
    region: str
    file: str  # inside the region's directory: etc/nova/nova.conf, helm-configs/nova/...
    kind: Kind
    section: str | None = None  # INI files
    key: str | None = None  # option, YAML key path (dotted), or "line N"
    old: object = None  # printable: masked when secret; None when absent
    new: object = None
    secret: bool = False
    origin: str | None = None  # the site FILE:LINE that makes the new side so
    old_origin: str | None = None  # where the old side's value came from, when known
    where: str | None = None  # the old value's place in the old tree (deployed FILE:LINE)

    def record(self) -> dict[str, object]:
        return {"region": self.region, "file": self.file, "kind": self.kind.value, "section": self.section,
                "key": self.key, "old": self.old, "new": self.new, "secret": self.secret, "origin": self.origin,
                "old_origin": self.old_origin, "where": self.where}
