"""A session-wide real Keystone for tests; conftest.py imports the fixture (once, so one Keystone).

    from keystone_fixture import dev_keystone  # noqa: F401

Starting Keystone costs ~3 s on two cores, so one instance serves the whole
session. Tests that use it should be marked ``@pytest.mark.keystone``; without
Keystone installed they are skipped, with the install hint as the reason.
Tests must not stop it or change the admin password: to test restarts or
crashes, start a private one with ``regionctl.devkeystone.start`` on another
data dir.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from regionctl.devkeystone import (
    DEFAULT_REGION,
    INSTALL_HINT,
    DevKeystone,
    DevKeystoneError,
    keystone_available,
    start,
)


@pytest.fixture(scope="session")
def dev_keystone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevKeystone]:
    """One Keystone on a free 127.0.0.1 port, data in a session tmp dir, region ``RegionOne``."""
    if not keystone_available():
        pytest.skip(INSTALL_HINT)
    data_dir = tmp_path_factory.mktemp("dev-keystone")
    try:
        dk = start(data_dir, region=DEFAULT_REGION)
    except DevKeystoneError as e:
        # Installed but not starting is a real failure, not a reason to skip.
        pytest.fail(f"dev keystone: {e}", pytrace=False)
    try:
        yield dk
    finally:
        dk.stop()
