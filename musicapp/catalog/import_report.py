"""What an import did with each song: imported, rights updated, unchanged or failed, and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ImportedFile:
    path: str
    song_id: str
    format: str
    replaces: str | None = None  # the song an earlier version of this path became
    note: str = ""
    stems: tuple[str, ...] = ()  # the stems attached to it
    event_id: str = ""  # the ledger event that recorded its rights


@dataclass(frozen=True)
class UpdatedSong:
    """A song already in the catalogue whose rights a manifest row changed."""

    path: str
    song_id: str
    where: str  # the manifest row
    changes: tuple[str, ...]  # "rights: Ann Archer 0.5 → 0.6", "consent v2 added for …"
    event_id: str  # the ledger event that recorded the change before it took effect


@dataclass(frozen=True)
class UnchangedFile:
    path: str
    song_id: str
    note: str = ""
    where: str = ""  # the manifest row, when one describes it


@dataclass(frozen=True)
class FailedFile:
    path: str
    reason: str


@dataclass
class ImportReport:
    """What an import did with each file."""

    imported: list[ImportedFile] = field(default_factory=list)
    updated: list[UpdatedSong] = field(default_factory=list)
    unchanged: list[UnchangedFile] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "counts": {
                "imported": len(self.imported),
                "updated": len(self.updated),
                "unchanged": len(self.unchanged),
                "failed": len(self.failed),
            },
            "imported": [asdict(f) for f in self.imported],
            "updated": [asdict(f) for f in self.updated],
            "unchanged": [asdict(f) for f in self.unchanged],
            "failed": [asdict(f) for f in self.failed],
        }

    def summary(self) -> str:
        """One line of counts, then a line per song imported or updated, per manifest row
        unchanged, and per failure with its reason."""
        lines = [
            f"Imported {len(self.imported)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, failed {len(self.failed)}."
        ]
        for f in self.imported:
            extra = [f"stems: {', '.join(f.stems)}"] if f.stems else []
            extra += [f.note] if f.note else []
            lines.append(f"  + {f.song_id}  {f.path}" + (f" ({'; '.join(extra)})" if extra else ""))
        for u in self.updated:
            lines.append(f"  ~ {u.song_id}  {u.path} ({u.where}): {'; '.join(u.changes)}")
        for n in self.unchanged:
            if n.where:
                lines.append(f"  = {n.song_id}  {n.path} ({n.where}): {n.note}")
        lines += [f"  ! {f.path}: {f.reason}" for f in self.failed]
        return "\n".join(lines)
