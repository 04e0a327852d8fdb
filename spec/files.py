"""Files written so that nothing is lost: atomic replacement, dated backups, private modes.

Every file ethvoip writes for a user goes through :func:`atomic_write`: the bytes go to a
temporary file in the same directory (created ``0600`` by :func:`tempfile.mkstemp`, so a
secret is never readable by others, not even for an instant), are fsynced, then renamed
over the target, and the directory is fsynced so that the rename survives a power cut.  A
reader, or a crash at any point, sees the old file or the new one, never a mix, and no
temporary file stays behind.

:func:`backup` keeps a file about to be replaced under a dated name that never clobbers an
earlier backup; :func:`private_files` makes files that a library creates itself (SQLite's
database, ``-wal``, ``-shm`` and journal files) owner-only; :func:`check_dir_writable` and
:func:`check_file_writable` refuse a bad path before any work is done.

It lives in the spec layer only because every layer writes files; it knows nothing of
protocols.
"""

from __future__ import annotations

import datetime
import json
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ethvoip.spec.errors import ConfigError

#: Owner read/write only: the mode of every file that holds a secret.
PRIVATE = 0o600
#: Owner read/write, others read: generated artefacts (verdict records, traces).
PUBLIC = 0o644


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: Path, data: bytes | str, *, mode: int = PRIVATE, exclusive: bool = False
) -> Path:
    """Replace ``path`` with ``data`` atomically and durably; the file gets ``mode``.

    On any failure (including KeyboardInterrupt) the old file is untouched and the
    temporary file is removed.  ``str`` data is written as UTF-8.  ``exclusive``: never
    replace, raise :class:`FileExistsError` if ``path`` exists (checked by ``link``, which
    refuses an existing name atomically: no window between a check and the write).
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    directory = path.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
            out.flush()
            os.fsync(out.fileno())
            if mode != PRIVATE:  # mkstemp made it 0600; widen only for non-secrets
                os.fchmod(out.fileno(), mode)
        if exclusive:
            os.link(tmp, path)
            tmp.unlink()
        else:
            os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            tmp.unlink()
        raise
    # The rename itself must be durable too: fsync the directory entry.
    _fsync_dir(directory)
    return path


def write_private(path: Path, data: dict[str, Any], *, exclusive: bool = False) -> None:
    """Write JSON readable by the owner only, atomically, on disk when this returns.

    ``exclusive``: fail with :class:`FileExistsError` instead of replacing a file.
    """
    text = json.dumps(data, indent=2, sort_keys=True)
    atomic_write(path, text, mode=PRIVATE, exclusive=exclusive)


def backup(path: Path, now: datetime.datetime) -> Path:
    """Keep a copy of ``path`` as ``<name>.<UTC time>.bak`` (``.1.bak``, ... if taken).

    A copy, not a hard link: a later in-place edit of the original must not reach the
    backup.  Created exclusively (``O_EXCL``: an existing backup is never overwritten, even
    by a concurrent run), with the original's mode, fsynced before this returns.
    """
    stamp = now.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    data = path.read_bytes()
    file_mode = stat.S_IMODE(path.stat().st_mode)
    for n in range(1000):
        name = f"{path.name}.{stamp}.bak" if n == 0 else f"{path.name}.{stamp}.{n}.bak"
        target = path.with_name(name)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode & PRIVATE)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            with suppress(FileNotFoundError):
                target.unlink()
            raise
        _fsync_dir(path.parent)
        return target
    raise ConfigError(f"{path}: 1000 backups made at {stamp} already: clean up the folder")


# The umask is per process: serialise the callers that change it.
_UMASK_LOCK = threading.Lock()


@contextmanager
def private_files() -> Iterator[None]:
    """While inside, every file this process creates is owner-only (umask 077).

    For files that a library creates on its own (SQLite makes ``-wal``, ``-shm`` and
    ``-journal`` files beside the database whenever it needs them).
    """
    with _UMASK_LOCK:
        old = os.umask(0o077)
        try:
            yield
        finally:
            os.umask(old)


def check_dir_writable(path: Path, what: str) -> None:
    """Refuse a ``path`` that is not, and cannot become, a folder this user may write in."""
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"{what} {path} is a file, not a folder: name a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(f"{what} {path} is not writable by this user: name another")
        return
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {path} cannot be created ({parent} is not writable)")


def check_file_writable(path: Path, what: str) -> None:
    """Refuse a ``path`` that cannot be (re)written as a regular file."""
    if path.is_dir():
        raise ConfigError(f"{what} {path} is a folder: name a file")
    parent = path.parent
    if not parent.is_dir():
        raise ConfigError(f"{what} {path}: the folder {parent} does not exist: create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {path}: the folder {parent} is not writable by this user")
