"""What every renderer returns: files relative to OUT, each with its text and whether it is secret."""

from __future__ import annotations

from dataclasses import dataclass, field

from regionctl.render.sources import Sources


@dataclass(frozen=True)
class RenderedFile:
    rel: str  # relative to the output directory: <region>/etc/nova/nova.conf
    text: str
    secret: bool  # holds a secret: written mode 0600
    sources: Sources = field(default_factory=dict, compare=False)  # key -> origin, for diff

    @property
    def mode(self) -> int:
        return 0o600 if self.secret else 0o644


def header(site_file: str, *lines: str) -> str:
    """The comment every rendered file starts with: where it came from, then ``lines``."""
    return "".join(f"# {line}\n" for line in (f"Rendered by regionctl from {site_file}; edit the site, not this file.",
                                              *lines))
