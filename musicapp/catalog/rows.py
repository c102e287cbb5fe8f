"""Conversion between the core types and the rows of the catalogue's tables."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from musicapp.core import ConsentRecord, Permission, Song, Split, Stem, Use


def song_row(
    song: Song, duration_s: float, mix_gain: float, stem_layout: str, mix_file: str
) -> dict[str, Any]:
    return {
        "id": song.id,
        "title": song.title,
        "artist": song.artist,
        "album": song.album,
        "genre": song.genre,
        "subgenre": song.subgenre,
        "year": song.year,
        "era": song.era,
        "country": song.country,
        "region": song.region,
        "instruments": json.dumps(list(song.instruments)),
        "moods": json.dumps(list(song.moods)),
        "duration_s": duration_s,
        "tempo_bpm": song.tempo_bpm,
        "beats_per_bar": song.beats_per_bar,
        "downbeat_s": song.downbeat_s,
        "key": song.key,
        "mix_gain": mix_gain,
        "added_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        "sample_rate": song.sample_rate,
        "stem_layout": stem_layout,
        "mix_file": mix_file,
    }


def split_rows(song: Song) -> Iterator[dict[str, Any]]:
    for i, s in enumerate(song.splits):
        yield {"song_id": song.id, "holder_id": s.holder.id, "share": s.share, "position": i}


def stem_rows(song: Song) -> Iterator[dict[str, Any]]:
    for i, s in enumerate(song.stems):
        yield {
            "song_id": song.id,
            "name": s.name,
            "instrument": s.instrument,
            "family": s.family,
            "role": s.role,
            "position": i,
        }


def song_from_row(r: dict[str, Any], splits: tuple[Split, ...], stems: tuple[Stem, ...]) -> Song:
    return Song(
        id=r["id"],
        title=r["title"],
        artist=r["artist"],
        album=r["album"],
        genre=r["genre"],
        subgenre=r["subgenre"],
        year=r["year"],
        era=r["era"],
        country=r["country"],
        region=r["region"],
        instruments=tuple(json.loads(r["instruments"])),
        moods=tuple(json.loads(r["moods"])),
        duration_s=r["duration_s"],
        tempo_bpm=r["tempo_bpm"],
        beats_per_bar=r["beats_per_bar"],
        downbeat_s=r["downbeat_s"],
        key=r["key"],
        splits=splits,
        stems=stems,
        sample_rate=r["sample_rate"],
    )


def consent_row(rec: ConsentRecord) -> dict[str, Any]:
    return {
        "song_id": rec.song_id,
        "holder_id": rec.holder_id,
        "version": rec.version,
        "permissions": json.dumps(sorted(p.value for p in rec.permissions)),
        "uses": json.dumps(sorted(u.value for u in rec.uses)),
        "effective_from": rec.effective_from.isoformat(),
        "revoked_at": rec.revoked_at.isoformat() if rec.revoked_at else None,
        "recorded_at": datetime.now(UTC).isoformat(),
    }


def consent_from_row(r: dict[str, Any]) -> ConsentRecord:
    return ConsentRecord(
        song_id=r["song_id"],
        holder_id=r["holder_id"],
        version=r["version"],
        permissions=frozenset(Permission(p) for p in json.loads(r["permissions"])),
        uses=frozenset(Use(u) for u in json.loads(r["uses"])),
        effective_from=datetime.fromisoformat(r["effective_from"]),
        revoked_at=datetime.fromisoformat(r["revoked_at"]) if r["revoked_at"] else None,
    )
