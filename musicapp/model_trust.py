"""The local trust list: weight files the user vouched for with `musicapp models import --trust`.

Some published files have no full sha256 anywhere the publisher vouches for (see
`models/manifest.toml`). musicapp refuses them until the user imports one explicitly with
`--trust`; that records the file's sha256, size, who and when in a JSON list *beside* the models
folder (`<models>.trust.json`), not inside it, so a models folder copied from someone else never
carries their trust decisions with it. Entries are only ever added: trusting a new version adds
a line, and the old one stays on record.
"""

from __future__ import annotations

import getpass
import json
import os
import stat
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from musicapp.core import InvalidInput

TRUST_VERSION = 1


def trust_path(models_dir: Path) -> Path:
    """Where the trust list of a models folder lives: next to it, named after it."""
    models_dir = Path(models_dir)
    return models_dir.with_name(models_dir.name + ".trust.json")


@dataclass(frozen=True)
class TrustEntry:
    """One file the user trusted: the manifest path it fills and the exact bytes (sha256, size)."""

    path: str
    sha256: str
    size: int
    model: str
    trusted_by: str
    trusted_at: str
    imported_from: str


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers): the uid still says who
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown user"


class TrustList:
    """The trust list of one models folder, read once; `add` appends and rewrites it atomically."""

    def __init__(self, path: Path, entries: list[TrustEntry]) -> None:
        self.path = path
        self.entries = entries

    @classmethod
    def load(cls, models_dir: Path) -> TrustList:
        """Read the list (empty when there is none). A list others can write is refused: anyone
        who can add a line could make musicapp load their file."""
        path = trust_path(models_dir)
        try:
            st = path.stat()
        except FileNotFoundError:
            return cls(path, [])
        except OSError as exc:
            raise InvalidInput(f"model trust list {path}: {exc}") from exc
        if os.name == "posix" and st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            mode = stat.S_IMODE(st.st_mode)
            raise InvalidInput(
                f"model trust list {path} is writable by other users (mode {mode:04o}); "
                f"nothing in it is trusted until you fix that: chmod 600 {path}"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != TRUST_VERSION:
                raise ValueError(f"unknown version {data.get('version')!r}")
            entries = [TrustEntry(**row) for row in data["entries"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidInput(f"model trust list {path} is unreadable: {exc}") from exc
        return cls(path, entries)

    def trusted(self, rel_path: str, sha256: str) -> TrustEntry | None:
        """The entry trusting exactly these bytes at this manifest path, if any."""
        for entry in reversed(self.entries):
            if entry.path == rel_path and entry.sha256 == sha256:
                return entry
        return None

    def has_path(self, rel_path: str) -> bool:
        """Whether any version of this manifest path was ever trusted (so hashing can decide)."""
        return any(e.path == rel_path for e in self.entries)

    def add(
        self, rel_path: str, sha256: str, size: int, model: str, imported_from: Path
    ) -> TrustEntry:
        """Record a trusted file (who and when are filled in) and write the list, mode 0600."""
        entry = TrustEntry(
            path=rel_path,
            sha256=sha256,
            size=size,
            model=model,
            trusted_by=_current_user(),
            trusted_at=datetime.now(UTC).isoformat(timespec="seconds"),
            imported_from=str(imported_from),
        )
        self.entries.append(entry)
        body = {"version": TRUST_VERSION, "entries": [asdict(e) for e in self.entries]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.unlink(
                missing_ok=True
            )  # O_EXCL below: the mode is the one given, never a leftover's
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(body, f, indent=2)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise InvalidInput(f"could not write the model trust list {self.path}: {exc}") from exc
        return entry
