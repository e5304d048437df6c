"""Printing records the way every command does: -f table|json|yaml|value. Only the CLI prints."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from typing import Any, Iterator, Sequence

import click
from rich.console import Console
from rich.table import Table
from ruamel.yaml import YAML

from regionctl.site.secrets import KNOWN

FORMATS = ("table", "json", "yaml", "value")


def format_option(default: str = "table") -> Any:
    return click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default=default, show_default=True,
                        help="Output format for records.")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def emit(records: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] | None = None, title: str | None = None) -> None:
    cols = list(columns or (records[0].keys() if records else []))
    if fmt == "json":
        click.echo(json.dumps(list(records), indent=2, default=str))
    elif fmt == "yaml":
        y = YAML(typ="safe", pure=True)
        y.default_flow_style = False
        buf = io.StringIO()
        y.dump([dict(r) for r in records], buf)
        click.echo(buf.getvalue(), nl=False)
    elif fmt == "value":
        for r in records:
            click.echo(" ".join(_cell(r.get(c)) for c in cols))
    else:
        table = Table(title=title, show_lines=False, header_style="bold")
        for c in cols:
            table.add_column(c)
        for r in records:
            table.add_row(*(_cell(r.get(c)) for c in cols))
        console().print(table)


def console(stderr: bool = False) -> Console:
    """A console that is quiet about colours and widths when piped."""
    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    return Console(file=stream, highlight=False, soft_wrap=not tty, width=None if tty else 200,
                   no_color=not tty)


class MaskingStream(io.TextIOBase):
    """A text stream that masks every known secret (in all its forms) before writing it on."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def write(self, text: str) -> int:  # type: ignore[override]
        if not isinstance(text, str):
            raise TypeError("MaskingStream takes text")
        self.inner.write(KNOWN.mask(text))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return bool(self.inner.isatty())

    def fileno(self) -> int:
        return int(self.inner.fileno())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.inner, "encoding", None) or "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.inner, "errors", None)


@contextlib.contextmanager
def masked_output() -> Iterator[None]:
    """sys.stdout and sys.stderr masked for the duration: the CLI is the only printer, this its one gate."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = MaskingStream(saved[0]), MaskingStream(saved[1])  # type: ignore[assignment]
    try:
        yield
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        sys.stdout, sys.stderr = saved
