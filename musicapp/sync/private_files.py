"""Modes of the client's secret-bearing files: the sync state (and its WAL and SHM, which hold the
bearer token too), the device key and archived states are 0600 in a 0700 folder.

Set when the files are made, and checked each time they are opened: a mode that lets other
users in (a copy, a restore from backup, an older version that made the WAL 0644) is fixed
when this user owns the file, and refused with a message saying what to do when it cannot be.
POSIX only: other systems keep a user's data private by their own means.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

from musicapp.core import InvalidInput

log = logging.getLogger(__name__)

FILE_MODE, DIR_MODE = 0o600, 0o700
_POSIX = os.name == "posix"


def _make_private(path: Path, mode: int, what: str, exposed: bool) -> None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    current = stat.S_IMODE(st.st_mode)
    if not current & 0o077:
        return
    try:
        os.chmod(path, mode)
    except OSError as exc:
        raise InvalidInput(
            f"{path}: {what} can be read by other users (mode {current:04o}) and musicapp "
            f"cannot change that ({exc.strerror or exc}); make it private (chmod "
            f"{mode:o} {path}) or use a data folder of your own"
        ) from None
    if exposed:  # the file's contents were open to others: its token may be known
        log.warning(
            "%s: %s could be read by other users (mode %04o); made it %04o. If others can "
            "log in to this computer, start over with the rights server to get a new token.",
            path,
            what,
            current,
            mode,
        )
    else:
        log.info("%s: made %s private (mode %04o, was %04o)", path, what, mode, current)


def private_dir(path: Path) -> None:
    """Create ``path`` (and parents) if missing; make it 0700 (fixed, or InvalidInput)."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if _POSIX:
        _make_private(path, DIR_MODE, "the folder holding this computer's sync secrets", False)


def private_file(path: Path) -> None:
    """Make an existing ``path`` 0600 (fixed, or InvalidInput); a missing one is left alone."""
    if _POSIX:
        _make_private(path, FILE_MODE, "a file holding this computer's sync secrets", True)


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 from the first byte, if it does not exist.

    SQLite gives a database's WAL and SHM files the database file's mode, so a state file
    made 0600 here never has a readable WAL beside it.
    """
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
