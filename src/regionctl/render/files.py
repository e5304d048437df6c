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
    data: bytes | None = None  # a file copied as is (text is then its lossy decoding, for display)
    executable: bool = False  # copied from an executable file (Genestack's kustomize.sh post-renderer)

    @property
    def mode(self) -> int:
        mode = 0o600 if self.secret else 0o644
        return mode | (0o100 if self.secret else 0o111) if self.executable else mode

    @property
    def content(self) -> str | bytes:
        """What is written: the bytes of a copied file, else the text."""
        return self.data if self.data is not None else self.text


def header(site_file: str, *lines: str) -> str:
    """The comment every rendered file starts with: where it came from, then ``lines``."""
    return "".join(f"# {line}\n" for line in (f"Rendered by regionctl from {site_file}; edit the site, not this file.",
                                              *lines))
