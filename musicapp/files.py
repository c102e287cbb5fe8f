"""Writing a small file all at once: nobody ever reads half of it, and a crash leaves either the
old file or the new one.

The data goes to a temporary file beside the target (same file system), is synced, then renamed
over the target (``write_atomic``) or linked into place only when nothing is there yet
(``write_once``: the first of two writers wins, as a key made at first start must be). The
folder is synced afterwards so the rename itself survives a power cut. The mode is set when the
temporary file is created (0600 for keys), never widened on the way.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def _temporary(path: Path, data: bytes, mode: int) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _sync_folder(folder: Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not every platform opens folders (Windows): the rename stands on its own
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """``data`` at ``path``, replacing what was there, all at once."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def write_once(path: Path, data: bytes, mode: int = 0o600) -> bool:
    """``data`` at ``path`` unless a file is there already; True when this call wrote it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path, data, mode)
    try:
        os.link(tmp, path)
        wrote = True
    except FileExistsError:
        wrote = False  # another process made it first: theirs is the one
    finally:
        tmp.unlink(missing_ok=True)
    _sync_folder(path.parent)
    return wrote
