"""`regionctl catalog ...` and `regionctl dev-keystone`: the Keystone catalog as code."""

from __future__ import annotations

import click


@click.group()
def catalog() -> None:
    """The shared Keystone catalog as code: plan, apply, show, import."""
