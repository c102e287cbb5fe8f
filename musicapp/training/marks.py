"""Revocation marks: a model trained on a song whose training consent was later withdrawn.

Marks are computed on demand, from the ledger and the catalogue's current consent, rather than
hooked into every path new consent arrives by (local edits, imports, the rights server's feed):
whatever brought the new version, the next look (``musicapp train status``, the training room,
the composing engine as it loads) sees it. For each model this ledger knows (its ``training``
events, and ``model_installed`` for the shipped one), each song it learned from and each holder
of that song: if the holder's consent in force now no longer allows model training (revoked,
a version without the flag, or none at all), the model is marked with a ``model_marked`` event
naming the model, the song, the holder and the version that withdrew it.

Idempotent: a mark is logged once per (model, song, holder, withdrawing version); a later
version that withdraws again (after consent was given back) is a new mark. Two processes that
refresh at the same instant could both log one; readers fold duplicates (``marks``).

A marked model is not deleted or disabled here: the mark is the record that the song's holder
withdrew, ``musicapp train`` leaves the song out of the next model, and what a marked model
may still do is the engine's policy (see docs/training.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from musicapp.core import ConsentRecord, Permission, Song
from musicapp.core.consent import current_record

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.ledger import Ledger


@dataclass(frozen=True)
class TrainedModel:
    """A model this ledger knows of: trained here (``training``) or installed (shipped)."""

    model_id: str
    training_event_id: str
    origin: str  # "trained" or "installed"
    logged_at: str
    consent_versions: dict[str, dict[str, int]]
    weights_sha256: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Mark:
    """One withdrawal: ``holder_id``'s consent ``consent_version`` (0: none in force) no longer
    allows training on ``song_id``, which ``model_id`` learned from under ``trained_version``."""

    model_id: str
    training_event_id: str
    song_id: str
    holder_id: str
    consent_version: int
    trained_version: int
    reason: str
    event_id: str = ""

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.model_id, self.song_id, self.holder_id, self.consent_version)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "training_event_id": self.training_event_id,
            "song_id": self.song_id,
            "holder_id": self.holder_id,
            "consent_version": self.consent_version,
            "trained_version": self.trained_version,
            "reason": self.reason,
            "event_id": self.event_id,
        }


def trained_models(ledger: Ledger) -> list[TrainedModel]:
    """Every model of this ledger, oldest first (a model installed twice is listed once)."""
    from musicapp.ledger.kinds import MODEL_INSTALLED, TRAINING

    found: dict[str, TrainedModel] = {}
    for event in ledger.events(TRAINING):
        p = event.payload
        found.setdefault(
            str(p["model_id"]),
            TrainedModel(
                str(p["model_id"]),
                event.id,
                "trained",
                event.ts,
                _versions(p),
                str(p["weights"]["sha256"]),
                p,
            ),  # fmt: skip
        )
    for event in ledger.events(MODEL_INSTALLED):
        p = event.payload
        training = p.get("training", {})
        found.setdefault(
            str(p["model_id"]),
            TrainedModel(
                str(p["model_id"]),
                str(p["training_event_id"]),
                "installed",
                event.ts,
                _versions(training),
                str(p["weights_sha256"]),
                training,
            ),  # fmt: skip
        )
    return sorted(found.values(), key=lambda m: m.logged_at)


def _versions(payload: dict[str, Any]) -> dict[str, dict[str, int]]:
    raw = payload.get("consent_versions", {})
    return {str(s): {str(h): int(v) for h, v in hv.items()} for s, hv in raw.items()}


def logged_marks(ledger: Ledger) -> list[Mark]:
    """The marks already in the ledger, oldest first, duplicates folded."""
    from musicapp.ledger.kinds import MODEL_MARKED

    out: dict[tuple[str, str, str, int], Mark] = {}
    for event in ledger.events(MODEL_MARKED):
        p = event.payload
        mark = Mark(
            str(p["model_id"]), str(p["training_event_id"]), str(p["song_id"]),
            str(p["holder_id"]), int(p["consent_version"]), int(p["trained_version"]),
            str(p.get("reason", "")), event.id,
        )  # fmt: skip
        out.setdefault(mark.key, mark)
    return list(out.values())


def withdrawals(
    models: Sequence[TrainedModel],
    songs: dict[str, Song],
    records: Sequence[ConsentRecord],
    at: datetime,
) -> list[Mark]:
    """The marks the current consent calls for (logged or not), model by model, song by song.
    A song no longer in the catalogue is not a withdrawal of consent, and is not marked."""
    out: list[Mark] = []
    for model in models:
        for song_id, trained in sorted(model.consent_versions.items()):
            song = songs.get(song_id)
            if song is None:
                continue
            holders = dict.fromkeys([*trained, *(s.holder.id for s in song.splits)])
            for holder_id in holders:
                rec = current_record(records, song_id, holder_id, at)
                why = _withdrawn(rec, at)
                if why:
                    out.append(
                        Mark(
                            model.model_id,
                            model.training_event_id,
                            song_id,
                            holder_id,
                            rec.version if rec is not None else 0,
                            trained.get(holder_id, 0),
                            why,
                        )  # fmt: skip
                    )
    return out


def _withdrawn(rec: ConsentRecord | None, at: datetime) -> str:
    if rec is None:
        return "no consent in force (default deny)"
    if rec.is_revoked(at):
        return f"consent version {rec.version} revoked it"
    if Permission.MODEL_TRAINING not in rec.permissions:
        return f"consent version {rec.version} does not allow model training"
    return ""


def refresh_marks(ledger: Ledger, catalog: CatalogStore, at: datetime | None = None) -> list[Mark]:
    """Log each mark the current consent calls for that the ledger does not hold yet; returns
    the new ones (with their event ids)."""
    from musicapp.ledger.kinds import MODEL_MARKED
    from musicapp.ledger.training_kinds import model_marked_payload

    models = trained_models(ledger)
    if not models:
        return []
    at = at or datetime.now(UTC)
    ids = sorted({s for m in models for s in m.consent_versions})
    songs = catalog.songs(ids)
    records = catalog.consent.consent_records(ids)
    seen = {m.key for m in logged_marks(ledger)}
    new: list[Mark] = []
    for mark in withdrawals(models, songs, records, at):
        if mark.key in seen:
            continue
        seen.add(mark.key)
        payload = model_marked_payload(
            model_id=mark.model_id,
            training_event_id=mark.training_event_id,
            song_id=mark.song_id,
            holder_id=mark.holder_id,
            consent_version=mark.consent_version,
            trained_version=mark.trained_version,
            reason=mark.reason,
        )
        event = ledger.append(MODEL_MARKED, dict(payload))
        new.append(replace(mark, event_id=event.id))
    return new
