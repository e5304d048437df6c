"""Writing files and trees whole or not at all: a temp file (or dir) beside the target, then rename.

A tree (``write_tree``) has checked names, fixed modes, and each top directory swapped in by rename:
``render -o OUT`` owns ``OUT/<region>/``. Every region's new directory is built first, in a work
directory inside OUT (``OUT/.regionctl-work-*``, so renames stay on one filesystem), and only then
swapped with the old one: ``renameat2(RENAME_EXCHANGE)`` where the kernel has it (one atomic step),
else two renames that a later run can undo. A ``kill -9`` at any moment leaves each region's
directory either the old tree or the new one, never a mix, and never a temp file inside it; the
next run removes the work directory a killed run left (restoring an old tree it had moved away).

Names are checked before anything is written: no part may be empty, ``.``, ``..``, hold a NUL or
a control character, so nothing lands outside OUT whatever a site names its regions; the built
paths are checked again, resolved, against the work directory. Modes do not depend on the umask:
files 0600 (secret) or 0644, directories 0700 when anything under them is secret, else 0755.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import secrets
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

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
    site). Files named ``secrets.yaml`` are mode 0600 and the directories holding them 0700,
    everything else 0644/0755, whatever the umask; a name that would leave ``target`` (a region
    called ``../x`` in an imported catalog) is refused before anything is written.
    """
    if target.exists() and not target.is_dir():
        raise UserError(f"{target}: exists and is not a directory: {hint}")
    if target.is_dir() and any(target.iterdir()):
        raise UserError(f"{target}: directory is not empty: {command} writes only into a new or empty directory")
    parent = target.resolve().parent
    if not parent.is_dir():
        raise UserError(f"{parent}: no such directory: create it first")
    tree = [TreeFile(rel, text, rel.rsplit("/", 1)[-1] == "secrets.yaml") for rel, text in files.items()]
    for f in tree:
        safe_parts(f.rel)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    try:
        build(tmp, tree)
        os.chmod(tmp, SECRET_DIR if any(f.secret for f in tree) else PLAIN_DIR)
        if target.is_dir():
            target.rmdir()
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# -- trees -----------------------------------------------------------------------------------------

WORK_PREFIX = ".regionctl-work-"
NAME_MAX = 255
SECRET_DIR, PLAIN_DIR = 0o700, 0o755


@dataclass(frozen=True)
class TreeFile:
    rel: str  # "<top>/etc/nova/nova.conf"
    content: str | bytes  # bytes: a file copied as is
    secret: bool
    executable: bool = False

    @property
    def mode(self) -> int:
        mode = 0o600 if self.secret else 0o644
        return mode | (0o100 if self.secret else 0o111) if self.executable else mode


def name_problem(name: str) -> str | None:
    """Why ``name`` can't be one path component under OUT, or None when it can."""
    if name in ("", ".", ".."):
        return f"'{name}' is not a name a directory can have"
    if "/" in name:
        return "it holds a '/', so it would make a path, not one directory"
    if "\x00" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "it holds a NUL or control character"
    if len(name.encode("utf-8", "surrogateescape")) > NAME_MAX:
        return f"it is longer than {NAME_MAX} bytes"
    return None


def safe_parts(rel: str) -> tuple[str, ...]:
    """``rel`` as path components that stay under the directory they are joined to, or a UserError."""
    parts = tuple(rel.split("/"))
    for part in parts:
        why = name_problem(part)
        if why:
            raise UserError(f"refusing to write {rel!r}: {why}; nothing was written")
    return parts


def dir_modes(files: Iterable[TreeFile]) -> dict[tuple[str, ...], int]:
    """Each directory of the tree (by its parts, the root as ()) and its mode."""
    modes: dict[tuple[str, ...], int] = {}
    for f in files:
        parts = safe_parts(f.rel)
        for i in range(len(parts)):
            d = parts[:i]
            if f.secret or modes.get(d) == SECRET_DIR:
                modes[d] = SECRET_DIR
            else:
                modes.setdefault(d, PLAIN_DIR)
    return modes


def build(root: Path, files: list[TreeFile]) -> None:
    """Write ``files`` under the new, empty directory ``root`` (modes fixed, each file synced)."""
    base = os.path.realpath(root)
    modes = dir_modes(files)
    for d in sorted(modes, key=len):
        if d:
            os.mkdir(root.joinpath(*d), 0o700)
    for f in files:
        path = root.joinpath(*safe_parts(f.rel))
        if not os.path.realpath(path).startswith(base + os.sep):
            raise UserError(f"refusing to write {f.rel!r}: it resolves outside the output directory")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), f.mode)
            out.write(f.content if isinstance(f.content, bytes) else f.content.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
    for d, mode in modes.items():
        os.chmod(root.joinpath(*d), mode)


# -- swapping directories ------------------------------------------------------------------------

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _renameat2() -> object | None:
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    except OSError:
        return None


_RENAMEAT2 = _renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step; False where the kernel or filesystem can't."""
    if _RENAMEAT2 is None or os.environ.get("REGIONCTL_NO_RENAME_EXCHANGE"):
        return False
    fn = _RENAMEAT2
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)  # type: ignore[operator]
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_in(new: Path, target: Path, old: Path) -> None:
    """Make ``new`` be ``target``; whatever was at ``target`` ends up at ``old`` (or nowhere)."""
    if not os.path.lexists(target):
        os.rename(new, target)
        return
    if exchange(new, target):
        os.rename(new, old)  # ``new`` now holds the old tree
        return
    os.rename(target, old)  # a kill right here leaves target missing: recover() puts old back
    os.rename(new, target)


def recover(out: Path) -> None:
    """Undo what a killed run left in ``out``: restore trees it had moved away, remove its work dirs."""
    try:
        entries = [e for e in os.listdir(out) if e.startswith(WORK_PREFIX)]
    except OSError:
        return
    for entry in entries:
        work = out / entry
        old = work / "old"
        if old.is_dir():
            for name in os.listdir(old):
                if not os.path.lexists(out / name):
                    os.rename(old / name, out / name)
        shutil.rmtree(work, ignore_errors=True)


def _check_out(out: Path) -> None:
    if os.path.lexists(out) and not out.is_dir():
        raise UserError(f"{out}: exists and is not a directory: choose another -o/--out")


def _lock(out: Path) -> int:
    """An exclusive lock on ``out`` itself (released by the kernel however the process ends)."""
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise UserError(f"{out}: another regionctl is writing here right now: wait for it to finish") from None
    return fd


def write_tree(out: Path, files: list[TreeFile], tops: Iterable[str]) -> None:
    """Replace each ``OUT/<top>`` by the ``files`` under it (a top with no files becomes empty)."""
    tops = list(dict.fromkeys(tops))
    for top in tops:
        why = name_problem(top)
        if why:
            raise UserError(f"'{top}' cannot be a directory under {out}: {why}; nothing was written")
    by_top: dict[str, list[TreeFile]] = {t: [] for t in tops}
    for f in files:
        top = safe_parts(f.rel)[0]
        if top not in by_top:
            raise UserError(f"refusing to write {f.rel!r}: it is outside the directories being replaced")
        by_top[top].append(f)
    _check_out(out)
    for top in tops:
        target = out / top
        if target.is_symlink():
            raise UserError(f"{target}: is a symlink: regionctl replaces only the directories it writes; "
                            "remove the link, or choose another -o/--out")
        if os.path.lexists(target) and not target.is_dir():
            raise UserError(f"{target}: exists and is not a directory: move it away, or choose another -o/--out")
    secret = any(f.secret for f in files)
    try:
        if not out.exists():
            out.mkdir(parents=True)
            os.chmod(out, SECRET_DIR if secret else PLAIN_DIR)
        lock = _lock(out)
    except OSError as exc:
        raise UserError(f"{out}: cannot write ({exc.strerror}): choose another -o/--out") from None
    try:
        recover(out)
        work = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=out))
        try:
            (work / "new").mkdir()
            (work / "old").mkdir()
            for top, group in by_top.items():
                root = work / "new" / top
                os.mkdir(root, 0o700)
                build(root, [TreeFile("/".join(safe_parts(f.rel)[1:]), f.content, f.secret, f.executable)
                             for f in group])
                os.chmod(root, SECRET_DIR if any(f.secret for f in group) else PLAIN_DIR)
            for top in by_top:
                swap_in(work / "new" / top, out / top, work / "old" / top)
            _fsync_dir(out)
        except OSError as exc:
            raise UserError(f"{exc.filename or out}: cannot write ({exc.strerror}): choose another -o/--out") \
                from None
        finally:
            shutil.rmtree(work, ignore_errors=True)
    finally:
        os.close(lock)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)
