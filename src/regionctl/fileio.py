"""Writing files and directories whole or not at all: a temp file (or dir) beside the target, then rename."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

from regionctl.errors import UserError


def replace_file(path: Path, text: str | bytes, mode: int = 0o644) -> None:
    """Write ``path`` whole or not at all (temp file beside it, then rename); OSError is the caller's.

    The temp file is created 0600 and gets ``mode`` before any byte is written, so a private
    file (a password, a key) is never readable by others, not even half written.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_atomic(path: Path, text: str | bytes, mode: int = 0o644) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{path.parent}: cannot write ({exc.strerror}): choose another -o/--out") from None
    try:
        replace_file(path, text, mode)
    except OSError as exc:
        where = path.parent if not os.access(path.parent, os.W_OK) else path
        raise UserError(f"{where}: cannot write ({exc.strerror}): choose another -o/--out") from None


def symlink_atomic(target: Path, dest: Path) -> None:
    """Point ``dest`` at ``target``: a new link beside it, then one rename over the old one."""
    tmp = dest.parent / f".{dest.name}.regionctl-{secrets.token_hex(4)}"
    try:
        os.symlink(target, tmp)
        os.replace(tmp, dest)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise UserError(f"{dest}: cannot link ({exc.strerror}): check the permissions of {dest.parent}") from None


def write_dir_atomic(target: Path, files: dict[str, str], command: str, hint: str = "choose a new directory") -> None:
    """Write a new directory of ``files`` whole or not at all: a temp dir beside it, then one rename.

    ``target`` must not exist or be empty (``init`` and ``catalog import`` never overwrite a
    site). Files named ``secrets.yaml`` are mode 0600.
    """
    if target.exists() and not target.is_dir():
        raise UserError(f"{target}: exists and is not a directory: {hint}")
    if target.is_dir() and any(target.iterdir()):
        raise UserError(f"{target}: directory is not empty: {command} writes only into a new or empty directory")
    parent = target.resolve().parent
    if not parent.is_dir():
        raise UserError(f"{parent}: no such directory: create it first")
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    try:
        for rel, text in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            if path.name == "secrets.yaml":
                path.chmod(0o600)
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
        if target.is_dir():
            target.rmdir()
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
