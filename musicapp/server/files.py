"""The server's data folder and secret files: 0700 and 0600, set at creation, checked at start.

The data folder holds the SQLite database (bearer-token hashes, every ledger event, consent
history) and ``server_key.pem``, the key that signs tree heads and receipts: whoever reads it can
sign as this server for every client that pinned it. So the folder is 0700 and every file in it
0600 from the moment it exists (SQLite gives its -wal and -shm files the mode of the database,
so the database is created empty at 0600 before SQLite first opens it). At each start a folder
or file found more open is tightened, with a warning naming it (the files directly in the
folder, not those below), except the signing key: it may
already have been copied, so the server refuses to start until its owner has looked (as ssh
refuses a private key others can read).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from musicapp.server.errors import ApiError

DIR_MODE = 0o700
FILE_MODE = 0o600
OPEN_BITS = 0o077
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")

log = logging.getLogger(__name__)


class UnsafeFile(ApiError):
    """A secret file others can read, or one whose mode cannot be fixed; names the file."""

    def __init__(self, detail: str) -> None:
        super().__init__(500, detail)


def sqlite_path(database_url: str) -> Path | None:
    """The database file of a SQLite URL, or None (another database, or in memory)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _tighten(path: Path, mode: int, fixed: list[str]) -> None:
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode) or not st.st_mode & OPEN_BITS:
        return
    was = stat.S_IMODE(st.st_mode)
    try:
        path.chmod(mode)
    except OSError as exc:
        raise UnsafeFile(
            f"{path}: mode {was:04o} lets other users read it and it cannot be changed ({exc}); "
            f"run: chmod {mode:o} {path}"
        ) from None
    log.warning("%s: mode %04o let other users read it; now %04o", path, was, mode)
    fixed.append(str(path))


def _check_key(key_path: Path) -> None:
    try:
        st = key_path.stat()
    except FileNotFoundError:
        return  # signing.load_or_create_key writes it 0600
    if st.st_mode & OPEN_BITS:
        raise UnsafeFile(
            f"{key_path}: the server's signing key has mode {stat.S_IMODE(st.st_mode):04o}, so "
            f"other users may have read it; check who could, then run: chmod 600 {key_path}"
        )


def secure_data_dir(
    data_dir: Path, key_path: Path, database_url: str, *more_keys: Path
) -> list[str]:
    """Create or check the data folder, keys and SQLite files; returns the paths it tightened.

    ``more_keys``: other secret keys checked like the signing key (the CA's, ``ca.py``)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if os.name == "nt":
        return []  # no POSIX modes: the folder's ACL is the operator's to set
    fixed: list[str] = []
    for path in (key_path, *more_keys):
        _check_key(path)
    database = sqlite_path(database_url)
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        try:
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        except FileExistsError:
            pass
        for path in [database, *(Path(f"{database}{s}") for s in SQLITE_SIDE_FILES)]:
            if path.exists():
                _tighten(path, FILE_MODE, fixed)
    _tighten(data_dir, DIR_MODE, fixed)
    # Files beside them too, but not down the tree: a folder given by mistake (a home folder)
    # must not have every file under it changed; 0700 on the folder already keeps others out.
    for path in sorted(data_dir.iterdir()):
        if path.is_file() and not path.is_symlink():
            _tighten(path, FILE_MODE, fixed)
    return fixed
