"""The ``openstack`` CLI plugin: ``--os-scope`` / ``OS_SCOPE`` and ``--os-scope-mode`` on every command.

Registered as a regular ``openstack.cli.extension`` entry point. python-openstackclient calls
each plugin's :func:`build_option_parser` when it builds its global options; this one adds the
two options and sets openstacksdk's ``vendor_hook`` (a documented config key, read from the
parsed options like any ``--os-*`` one) to :func:`connection_hook`. osc-lib builds its
keystoneauth Session, then an openstacksdk Connection on the same session, which calls the hook
before any request (the token request included) is sent: the hook attaches the scope there. No
code of the CLI is replaced.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from regionctl.client.session import MODES, attach_scope
from regionctl.errors import UserError
from regionctl.scope.grammar import ScopeError, parse

API_NAME = "regionctl_scope"
API_VERSION_OPTION = "os_regionctl_scope_api_version"
API_VERSIONS = ("1",)
DEFAULT_API_VERSION = "1"
HOOK = "regionctl.client.osc:connection_hook"


def make_client(instance: Any) -> Any:
    """The plugin has no API client of its own: its work is done on the CLI's session."""
    return None


#: the fault of the scope given, reported by the hook (argparse would print usage and exit 2)
_invalid: list[str] = []
INVALID = "invalid"


def _scope_arg(text: str) -> str:
    """The compact form: openstacksdk runs ``str.format`` on every config value, so no braces."""
    try:
        return parse(text).to_compact() or INVALID
    except ScopeError as exc:
        _invalid.append(str(exc))
        return INVALID


class _ScopeAction(argparse.Action):
    """``--os-scope`` given: the hook is needed (set only then, so a clouds.yaml profile's own
    ``vendor_hook`` stays in force for commands without a scope)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values)
        namespace.vendor_hook = HOOK


def build_option_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--os-scope", metavar="<scope>", type=_scope_arg, action=_ScopeAction,
                        default=os.environ.get("OS_SCOPE") or None,
                        help="Which region or cloud serves each service type, e.g. "
                             "'{\"image\": \"RegionTwo\"}' or image=RegionTwo (Env: OS_SCOPE)")
    parser.add_argument("--os-scope-mode", metavar="<mode>", choices=MODES,
                        default=os.environ.get("OS_SCOPE_MODE") or "header",
                        help="header: send the scope to the site's routers; direct: look each service "
                             "up in the scoped region of the catalog (Env: OS_SCOPE_MODE)")
    parser.add_argument(f"--{API_VERSION_OPTION.replace('_', '-')}", default=DEFAULT_API_VERSION,
                        help=argparse.SUPPRESS)
    if os.environ.get("OS_SCOPE"):
        parser.set_defaults(vendor_hook=HOOK)
    return parser


def connection_hook(conn: Any) -> None:
    """openstacksdk vendor hook: attach ``--os-scope`` to the Connection's (the CLI's) session."""
    config = conn.config.config
    text = config.get("scope")
    if not text:
        return
    if text == INVALID:
        raise UserError(f"--os-scope: {_invalid[-1] if _invalid else 'the scope is empty'}")
    try:
        attach_scope(conn, text, mode=config.get("scope_mode") or "header")
    except ScopeError as exc:
        raise UserError(f"--os-scope: {exc}") from None
