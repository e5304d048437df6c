"""Writing rendered files: each whole or not at all (temp file in the same directory, then rename)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from regionctl.errors import UserError


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise UserError(f"{path.parent}: cannot write ({exc.strerror}): choose another -o/--out") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(f.fileno(), mode)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise UserError(f"{path}: cannot write ({exc.strerror}): choose another -o/--out") from None
        raise
