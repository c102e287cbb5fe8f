"""Small songs, consent and training sets for the training tests (no catalogue, no music21)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from musicapp.core import ConsentRecord, Permission, RightsHolder, Song, Split, Use
from musicapp.training.corpus import SONG, TrainingItem, TrainingSet
from musicapp.training.public_domain import tokens_sha256
from musicapp.training.run import TrainOptions

T0 = datetime(2024, 1, 1, tzinfo=UTC)
NOW = datetime(2025, 6, 1, tzinfo=UTC)
ALL = frozenset(Permission)
NO_TRAINING = ALL - {Permission.MODEL_TRAINING}
USES = frozenset(Use)

ANA = RightsHolder("h-ana", "Ana")
BEN = RightsHolder("h-ben", "Ben")


def song(song_id: str, *holders: RightsHolder) -> Song:
    share = 1.0 / len(holders) if holders else 1.0
    return Song(
        song_id, song_id.title(), "Artist", "Album", "Folk",
        splits=tuple(Split(h, share) for h in holders),
    )  # fmt: skip


def consent(
    song_id: str, holder: RightsHolder, version: int = 1, permissions=ALL, at=T0, revoked=None
) -> ConsentRecord:
    return ConsentRecord(song_id, holder.id, version, permissions, USES, at, revoked_at=revoked)


def tiny_sequences(n: int = 6, length: int = 90) -> list[list[int]]:
    """Token-like sequences with a pattern a model can start to learn."""
    return [[1, *((i * 5 + j * 3) % 120 + 3 for j in range(length)), 2] for i in range(n)]


def tiny_set(song_ids: tuple[str, ...] = ("song-a", "song-b"), at: datetime = NOW) -> TrainingSet:
    """A training set of these songs, each held by Ana under consent version 1."""
    seqs = tiny_sequences(len(song_ids))
    items = tuple(
        TrainingItem(sid, SONG, sid, (("h-ana", 1),), len(s), tokens_sha256(s))
        for sid, s in zip(song_ids, seqs, strict=True)
    )
    return TrainingSet(items, (), at, tuple(seqs))


# A tiny random model: for wiring tests only (seconds on a CPU), never for music.
TINY = TrainOptions(
    epochs=1, d_model=16, n_layers=1, n_heads=2, context=32, batch=4, public_domain=0,
    songs_only=True, device="cpu",
)  # fmt: skip


@dataclass
class FakeConsentTables:
    records: list[ConsentRecord] = field(default_factory=list)

    def consent_records(self, song_ids=None) -> list[ConsentRecord]:
        wanted = None if song_ids is None else set(song_ids)
        return [r for r in self.records if wanted is None or r.song_id in wanted]


@dataclass
class FakeCatalog:
    """What marks.refresh_marks reads of a catalogue: songs by id and consent records."""

    by_id: dict[str, Song]
    consent: FakeConsentTables

    def songs(self, ids, at=None) -> dict[str, Song]:
        return {i: self.by_id[i] for i in ids if i in self.by_id}


def later(days: int) -> datetime:
    return T0 + timedelta(days=days)
