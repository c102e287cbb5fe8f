"""Rights holders and split versions in the catalogue's tables: read in force, appended, never edited.

A song's first splits are the rows of `splits` (version 1, in force from when it was added).
A change is a new version in `split_versions` (migrations._v_split_versions), in force from its
effective time; the latest version in force is the song's splits. A generation records the
royalties it computed in its ledger event, so a later version changes new takes only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from musicapp.catalog import rows
from musicapp.core import ConsentRecord, InvalidInput, RightsHolder, Split, check_splits


@dataclass(frozen=True)
class SplitVersion:
    """One version of a song's splits: from when it is in force, and where it came from."""

    version: int
    effective_from: datetime
    splits: tuple[Split, ...]
    source: str = ""  # e.g. "manifest.csv line 3"
    event_id: str = ""  # the ledger event that recorded the change


def timestamp(at: datetime) -> str:
    """One text form for times compared in SQL (always with microseconds, in UTC)."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def splits_of(
    db: Database, ids: list[str], at: datetime | None = None
) -> dict[str, tuple[Split, ...]]:
    """Each song's splits in force at `at` (None: the latest version), by song id."""
    marks = ",".join("?" * len(ids))
    out: dict[str, list[Split]] = {i: [] for i in ids}
    for r in db.query(
        "SELECT s.song_id, s.share, h.id, h.name, h.kind FROM splits s "
        f"JOIN holders h ON h.id = s.holder_id WHERE s.song_id IN ({marks}) "
        "ORDER BY s.song_id, s.position",
        ids,
    ):
        out[r["song_id"]].append(_split(r))
    when = "" if at is None else "AND v.effective_from <= ?"
    newer: dict[str, list[Split]] = {}
    for r in db.query(
        "SELECT sv.song_id, sv.share, h.id, h.name, h.kind FROM split_versions sv "
        f"JOIN holders h ON h.id = sv.holder_id WHERE sv.song_id IN ({marks}) AND sv.version = "
        f"(SELECT MAX(v.version) FROM split_versions v WHERE v.song_id = sv.song_id {when}) "
        "ORDER BY sv.song_id, sv.position",
        [*ids, *([] if at is None else [timestamp(at)])],
    ):
        newer.setdefault(r["song_id"], []).append(_split(r))
    out.update(newer)
    return {i: tuple(s) for i, s in out.items()}


def _split(r: dict[str, Any]) -> Split:
    return Split(RightsHolder(r["id"], r["name"], r["kind"]), r["share"])


def split_history(db: Database, song_id: str) -> list[SplitVersion]:
    """Every version of a song's splits, oldest first (version 1: as it was added)."""
    added = db.execute("SELECT added_at FROM songs WHERE id = ?", [song_id]).fetchone()
    if added is None:
        raise InvalidInput(f"unknown song id {song_id!r}")
    first = splits_of_version(db, song_id, 1)
    out = [SplitVersion(1, datetime.fromisoformat(added[0]), first)]
    found = db.execute(
        "SELECT DISTINCT version, effective_from, source, event_id FROM split_versions "
        "WHERE song_id = ? ORDER BY version",
        [song_id],
    ).fetchall()
    for version, effective, source, event_id in found:
        splits = splits_of_version(db, song_id, version)
        out.append(
            SplitVersion(version, datetime.fromisoformat(effective), splits, source, event_id)
        )
    return out


def splits_of_version(db: Database, song_id: str, version: int) -> tuple[Split, ...]:
    table = "splits s" if version == 1 else "split_versions s"
    where = "" if version == 1 else "AND s.version = ?"
    found = db.query(
        f"SELECT s.share, h.id, h.name, h.kind FROM {table} JOIN holders h ON h.id = s.holder_id "
        f"WHERE s.song_id = ? {where} ORDER BY s.position",
        [song_id, *([] if version == 1 else [version])],
    )
    return tuple(_split(r) for r in found)


def insert_holders(db: Database, song_id: str, splits: tuple[Split, ...]) -> None:
    """Add the splits' holders the catalogue does not know; a known id must keep its name."""
    for split in splits:
        h = split.holder
        known = db.execute("SELECT name, kind FROM holders WHERE id = ?", [h.id]).fetchone()
        if known is None:
            db.execute(
                "INSERT INTO holders (id, name, kind) VALUES (?, ?, ?)", [h.id, h.name, h.kind]
            )
        elif tuple(known) != (h.name, h.kind):
            raise InvalidInput(
                f"song {song_id}: rights holder {h.id} is {known[0]!r} ({known[1]}) in the "
                f"catalogue, not {h.name!r} ({h.kind})"
            )


def add_split_version(
    db: Database,
    song_id: str,
    splits: tuple[Split, ...],
    effective_from: datetime,
    source: str,
    event_id: str,
) -> int:
    """Append a new version of a song's splits; return its number."""
    check_splits(song_id, splits)
    insert_holders(db, song_id, splits)
    latest = db.execute(
        "SELECT MAX(version) FROM split_versions WHERE song_id = ?", [song_id]
    ).fetchone()[0]
    version = int(latest or 1) + 1
    now = timestamp(datetime.now(UTC))
    db.conn.executemany(
        "INSERT INTO split_versions (song_id, version, holder_id, share, position, "
        "effective_from, recorded_at, source, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                song_id,
                version,
                s.holder.id,
                s.share,
                i,
                timestamp(effective_from),
                now,
                source,
                event_id,
            )
            for i, s in enumerate(splits)
        ],
    )
    return version


def local_consent(db: Database, song_id: str) -> dict[str, ConsentRecord]:
    """The newest local consent version (the demo's, a manifest's) of each holder of a song."""
    found = db.query(
        "SELECT * FROM consent c WHERE song_id = ? AND version = "
        "(SELECT MAX(version) FROM consent v WHERE v.song_id = c.song_id "
        "AND v.holder_id = c.holder_id)",
        [song_id],
    )
    return {r["holder_id"]: rows.consent_from_row(r) for r in found}


def chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
