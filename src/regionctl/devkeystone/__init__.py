"""A real Keystone, embedded: for trying regionctl out and for tests.

regionctl talks to Keystone (regions, endpoints, the catalog). Mocking that
API hides exactly the mistakes regionctl exists to catch, so the dev setup and
the test suite run the real thing: Keystone from PyPI (``regionctl[keystone]``)
with SQLite and key repositories inside one data directory, served on
127.0.0.1 only.

The package, one idea per module: ``datadir`` (the data directory, keystone.conf, password,
state, lock), ``handle`` (:class:`DevKeystone`, a running server), ``launcher`` (prepare,
start, run in the foreground: the parent side) and ``server`` (the child:
``python -m regionctl.devkeystone serve``, the only place Keystone is imported). What
``regionctl dev-keystone`` prints is in ``regionctl.cli.devkeystone``.

Expected failures raise :class:`DevKeystoneError` with a message that says
what to do; callers print ``str(error)``, never a traceback.
"""

from regionctl.devkeystone.datadir import (
    CONF_DIR,
    CONF_FILE,
    CREDENTIAL_DIR,
    DB_FILE,
    DEFAULT_REGION,
    DOMAIN,
    FERNET_DIR,
    HOST,
    INSTALL_HINT,
    LOCK_FILE,
    LOG_FILE,
    PASSWORD_FILE,
    POLICY_DIR,
    POLICY_FILE,
    PROJECT,
    START_TIMEOUT,
    STATE_FILE,
    STOP_TIMEOUT,
    USERNAME,
    DevKeystoneError,
)
from regionctl.devkeystone.handle import DevKeystone
from regionctl.devkeystone.launcher import (
    MAX_WORKERS,
    Running,
    Spec,
    keystone_available,
    prepare,
    run_foreground,
    run_several,
    start,
    workers_available,
)

__all__ = [
    "CONF_DIR",
    "CONF_FILE",
    "CREDENTIAL_DIR",
    "DB_FILE",
    "DEFAULT_REGION",
    "DOMAIN",
    "FERNET_DIR",
    "HOST",
    "INSTALL_HINT",
    "LOCK_FILE",
    "LOG_FILE",
    "MAX_WORKERS",
    "PASSWORD_FILE",
    "POLICY_DIR",
    "POLICY_FILE",
    "PROJECT",
    "START_TIMEOUT",
    "STATE_FILE",
    "STOP_TIMEOUT",
    "USERNAME",
    "DevKeystone",
    "DevKeystoneError",
    "Running",
    "Spec",
    "keystone_available",
    "prepare",
    "run_foreground",
    "run_several",
    "start",
    "workers_available",
]
