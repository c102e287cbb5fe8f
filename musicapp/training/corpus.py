"""The training set: catalogue songs whose every rights holder allows model training, with a
known score, plus public-domain tunes (``public_domain.py``) when asked.

The rule for a catalogue song (default deny, as for every use of a song):

- it has registered rights holders, and for *each* of them the consent version in force now
  exists, is not revoked and includes ``Permission.MODEL_TRAINING`` (the paper's Table 1 flag;
  the flag alone decides, as in the C2PA manifest's ``cawg.training-mining``: the uses a record
  lists govern what a take may be used for, decided when the take is made);
- the rights server has not published a version for it that this machine could not read
  (``ConsentService.blocked``: such a song is refused until a later version arrives);
- its score is known (``catalog.scores.score_of``): the model learns from notes, not audio.

Every item keeps the consent versions it was admitted under, so the training event can name
them and a later version that withdraws training can be matched to the models it affects
(``marks.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musicapp.core import ConsentRecord, InvalidInput, Permission, Song
from musicapp.core.consent import current_record
from musicapp.jobs import CancelToken, Progress, ProgressCallback, no_progress, scaled
from musicapp.training import public_domain
from musicapp.training.public_domain import tokens_sha256

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore

log = logging.getLogger(__name__)

STAGE = "training set"
SONG = "song"
PUBLIC_DOMAIN = "public_domain"


@dataclass(frozen=True)
class TrainingItem:
    """One piece the model learns from: a catalogue song (with the consent versions of each of
    its holders it was admitted under) or a public-domain tune (no holder, no payment)."""

    id: str  # the song id, or "pd:<corpus path>[#<tune number>]"
    kind: str  # SONG or PUBLIC_DOMAIN
    title: str
    holders: tuple[tuple[str, int], ...]  # (holder id, consent version), sorted; () for PD
    tokens: int
    tokens_sha256: str
    source: str = ""  # corpus path of a public-domain tune
    number: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "holders": [{"holder_id": h, "consent_version": v} for h, v in self.holders],
            "tokens": self.tokens,
            "tokens_sha256": self.tokens_sha256,
        }
        if self.kind == PUBLIC_DOMAIN:
            out["source"] = self.source
            out["number"] = self.number
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingItem:
        return cls(
            str(data["id"]),
            str(data["kind"]),
            str(data.get("title", "")),
            tuple((str(h["holder_id"]), int(h["consent_version"])) for h in data["holders"]),
            int(data["tokens"]),
            str(data["tokens_sha256"]),
            str(data.get("source", "")),
            None if data.get("number") is None else int(data["number"]),
        )


@dataclass(frozen=True)
class Excluded:
    """A catalogue song left out of training, and why (in words a rights holder would use)."""

    song_id: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"song_id": self.song_id, "reason": self.reason}


@dataclass(frozen=True)
class TrainingSet:
    """The items (songs first, by id; then public-domain tunes in draw order), their token
    sequences (same order), the songs left out, and when consent was read."""

    items: tuple[TrainingItem, ...]
    excluded: tuple[Excluded, ...]
    consent_at: datetime
    sequences: tuple[list[int], ...] = field(default=(), compare=False, repr=False)

    @property
    def songs(self) -> tuple[TrainingItem, ...]:
        return tuple(i for i in self.items if i.kind == SONG)

    @property
    def public_domain(self) -> tuple[TrainingItem, ...]:
        return tuple(i for i in self.items if i.kind == PUBLIC_DOMAIN)

    @property
    def total_tokens(self) -> int:
        return sum(i.tokens for i in self.items)

    def consent_versions(self) -> dict[str, dict[str, int]]:
        """song id -> holder id -> the consent version relied on."""
        return {i.id: dict(i.holders) for i in self.songs}


def training_consent(
    song: Song, records: Sequence[ConsentRecord], at: datetime
) -> tuple[dict[str, int] | None, str]:
    """(holder id -> consent version, "") when every holder allows training at ``at``; else
    (None, the first reason it is refused)."""
    if not song.splits:
        return None, "the song has no registered rights holders (default deny)"
    versions: dict[str, int] = {}
    for split in song.splits:
        holder = split.holder
        rec = current_record(records, song.id, holder.id, at)
        if rec is None:
            return None, f"{holder.name} has not given consent (default deny)"
        if rec.is_revoked(at):
            return None, f"{holder.name} revoked consent (version {rec.version})"
        if Permission.MODEL_TRAINING not in rec.permissions:
            return None, f"{holder.name} does not allow model training (version {rec.version})"
        versions[holder.id] = rec.version
    return versions, ""


def consented_songs(
    songs: Sequence[Song],
    records: Sequence[ConsentRecord],
    at: datetime,
    blocked: Mapping[str, list[str]] | None = None,
) -> tuple[dict[str, dict[str, int]], list[Excluded]]:
    """The songs every holder lets train (song id -> holder -> version) and those left out."""
    allowed: dict[str, dict[str, int]] = {}
    excluded: list[Excluded] = []
    for song in sorted(songs, key=lambda s: s.id):
        if blocked and song.id in blocked:
            excluded.append(Excluded(song.id, blocked[song.id][0]))
            continue
        versions, why = training_consent(song, records, at)
        if versions is None:
            excluded.append(Excluded(song.id, why))
        else:
            allowed[song.id] = versions
    return allowed, excluded


def song_score(song: Song, catalog: CatalogStore) -> Any:
    """The song's score (a symusic Score), or None when its symbolic form is not known.
    The one place the training set reads scores from."""
    from musicapp.catalog.scores import score_of

    return score_of(song, catalog)


def build_training_set(
    catalog: CatalogStore,
    *,
    public_domain_count: int = 0,
    seed: int = 0,
    at: datetime | None = None,
    blocked: Mapping[str, list[str]] | None = None,
    cache_dir: Path | None = None,
    only: Sequence[str] | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> TrainingSet:
    """The training set as of ``at`` (now): the consented songs with a score, tokenised, and
    ``public_domain_count`` public-domain tunes drawn with ``seed``. ``only`` restricts the
    catalogue songs considered (a subset run, as the attribution benchmark retrains)."""
    from musicapp.generation.composer import tokens

    at = at or datetime.now(UTC)
    songs = catalog.all_songs()
    if only is not None:
        wanted = set(only)
        songs = [s for s in songs if s.id in wanted]
    records = catalog.consent.consent_records([s.id for s in songs])
    allowed, excluded = consented_songs(songs, records, at, blocked)
    by_id = {s.id: s for s in songs}
    items: list[TrainingItem] = []
    sequences: list[list[int]] = []
    song_part = scaled(progress, 0.0, 0.3 if public_domain_count else 1.0)
    for n, (song_id, versions) in enumerate(sorted(allowed.items()), start=1):
        if cancel is not None:
            cancel.check()
        song = by_id[song_id]
        try:
            score = song_score(song, catalog)
        except (InvalidInput, OSError) as exc:
            excluded.append(Excluded(song_id, f"its score could not be read: {exc}"))
            continue
        if score is None:
            excluded.append(Excluded(song_id, "no score is known for it"))
            continue
        ids = tokens.encode(score)
        items.append(
            TrainingItem(
                song_id,
                SONG,
                song.title,
                tuple(sorted(versions.items())),
                len(ids),
                tokens_sha256(ids),
            )
        )
        sequences.append(ids)
        song_part(Progress(n / max(1, len(allowed)), STAGE, f"{song_id}: {len(ids)} tokens"))
    if public_domain_count > 0:
        for tune, ids in _public_domain(
            catalog, public_domain_count, seed, cache_dir, scaled(progress, 0.3, 1.0), cancel
        ):
            items.append(
                TrainingItem(
                    tune.id,
                    PUBLIC_DOMAIN,
                    tune.title,
                    (),
                    len(ids),
                    tokens_sha256(ids),
                    tune.source,
                    tune.number,
                )  # fmt: skip
            )
            sequences.append(ids)
    excluded.sort(key=lambda e: e.song_id)
    return TrainingSet(tuple(items), tuple(excluded), at, tuple(sequences))


def _public_domain(
    catalog: CatalogStore,
    count: int,
    seed: int,
    cache_dir: Path | None,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> list[tuple[public_domain.Tune, list[int]]]:
    """Public-domain tunes, none of which the demo catalogue holds as a song of its own."""
    from musicapp.catalog.recipe import load_recipe

    recipe = load_recipe()
    avoid = {(s.source, s.number) for s in recipe.songs}
    # .mxl chorales are named without the suffix, as in the recipe.
    titles = {public_domain.fold_title(str(s.meta["title"])) for s in recipe.songs}
    titles |= {public_domain.fold_title(s.title) for s in catalog.all_songs()}
    candidates = public_domain.draw(count, seed, avoid, titles)
    return public_domain.tokenised(candidates, count, cache_dir, progress, cancel)
