"""What ``regionctl dev-keystone`` prints: how to reach the Keystone it started, password masked."""

from __future__ import annotations

import shlex
from typing import IO

import click

from regionctl.devkeystone import Running


def banner(r: Running) -> str:
    """The OS_* variables and the clouds.yaml entry, with the password replaced by where it is kept."""
    dk = r.keystone
    q = shlex.quote
    shown_env = [f"  export {k}={q(v)}" if k != "OS_PASSWORD" else f'  export OS_PASSWORD="$(cat {q(str(r.password_file))})"'
                 for k, v in dk.env().items()]
    masked_clouds = dk.clouds_yaml(r.cloud).replace(dk.password, "********")
    workers = f", {dk.workers} worker processes" if dk.workers > 1 else ""
    return (
        f"Keystone {r.version} for region {dk.region} at {dk.url} "
        f"(up in {r.seconds:.1f}s, pid {dk.pid}{workers})\n"
        f"  data:  {dk.data_dir}\n"
        f"  log:   {dk.log_file}\n"
        f"Use it from another shell with these variables (also in {r.openrc}; "
        f"the password stays in {r.password_file}):\n" + "\n".join(shown_env) + "\n"
        f"or this clouds.yaml entry (written with its password to {r.clouds}; "
        f"export OS_CLIENT_CONFIG_FILE={q(str(r.clouds))} OS_CLOUD={q(r.cloud)}):\n"
        + "".join(f"  {line}\n" for line in masked_clouds.splitlines())
        + "then e.g. `openstack region list`. Ctrl-C stops it."
    )


def print_banner(r: Running, out: IO[str] | None = None) -> None:
    click.echo(banner(r), file=out)


def print_stopping(out: IO[str] | None = None) -> None:
    click.echo("\nstopping dev keystone...", file=out)
