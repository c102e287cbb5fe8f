"""Provenance of a generated output: each reference's share and a timeline of who sounds where."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from musicapp.core.model import InvalidInput, Song

SHARE_TOLERANCE = 1e-6
# The source id of the user's own audio in shares and timelines (audio and temporal levels). It
# can never be a song id (catalogue ids start with a letter or digit), and it owns no royalties:
# the user is not a rights holder of their own edit's references.
USER_SOURCE = "@user"
USER_INDEX = -1  # SourceShare.reference_index of the user's own audio


@dataclass(frozen=True)
class SourceShare:
    """The share of the output owed to one reference of the request, or (reference_index
    USER_INDEX, song_id USER_SOURCE) the share that is the user's own audio."""

    reference_index: int
    song_id: str
    share: float

    @property
    def is_user(self) -> bool:
        return self.song_id == USER_SOURCE


@dataclass(frozen=True)
class TimelineSlot:
    """Which songs sound in [start_s, end_s) of the output, with their fraction of it."""

    start_s: float
    end_s: float
    sources: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Provenance:
    """Shares summing to 1 (per reference, and the user's own audio where it is audible), a
    timeline where the engine can tell, who made it, and notes the user should read (why shares
    differ from the weights, how far references were stretched, what was resampled)."""

    shares: tuple[SourceShare, ...]
    timeline: tuple[TimelineSlot, ...] = ()
    engine: str = ""
    model: str = ""
    device: str = "cpu"
    method: str = ""
    notes: tuple[str, ...] = ()
    # Training-data attribution of a trained engine's take (``attribution/tda/take.py``): the
    # model, the pool's policy, the estimate {song: weight} under "songs", the top items.
    training: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.shares:
            raise InvalidInput("provenance: no shares")
        if any(s.share < 0 or math.isnan(s.share) for s in self.shares):
            raise InvalidInput("provenance: a share is negative or not a number")
        total = sum(s.share for s in self.shares)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise InvalidInput(f"provenance: shares add up to {total:.6f}, not 1")

    def song_shares(self) -> dict[str, float]:
        """Shares added up per song (a song may be referenced twice, e.g. melody and timbre);
        the user's own audio is not a song and is left out (see user_share)."""
        out: dict[str, float] = {}
        for s in self.shares:
            if not s.is_user:
                out[s.song_id] = out.get(s.song_id, 0.0) + s.share
        return out

    def training_estimate(self) -> dict[str, float]:
        """{song: weight} the training pool is paid by under the "estimate" policy (empty
        when the engine learned from no one, or no song scored above zero)."""
        songs = (self.training or {}).get("songs") or {}
        return {str(k): float(v) for k, v in songs.items()}

    @property
    def user_share(self) -> float:
        """How much of the output is the user's own audio (0 when none of it is audible)."""
        return sum(s.share for s in self.shares if s.is_user)

    def to_dict(self) -> dict[str, Any]:
        out = self._to_dict()
        if self.training is not None:
            out["training"] = dict(self.training)
            # What the royalties read (royalties/events.py), client and server alike.
            out["training_attribution"] = self.training_estimate()
        return out

    def _to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "model": self.model,
            "device": self.device,
            "method": self.method,
            "notes": list(self.notes),
            "shares": [
                {"reference": s.reference_index, "song_id": s.song_id, "share": round(s.share, 9)}
                for s in self.shares
            ],
            "timeline": [
                {
                    "start_s": round(t.start_s, 3),
                    "end_s": round(t.end_s, 3),
                    "sources": [[sid, round(f, 6)] for sid, f in t.sources],
                }
                for t in self.timeline
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Provenance:
        return cls(
            shares=tuple(
                SourceShare(int(s["reference"]), str(s["song_id"]), float(s["share"]))
                for s in data["shares"]
            ),
            timeline=tuple(
                TimelineSlot(
                    float(t["start_s"]),
                    float(t["end_s"]),
                    tuple((str(sid), float(f)) for sid, f in t["sources"]),
                )
                for t in data.get("timeline", ())
            ),
            engine=str(data.get("engine", "")),
            model=str(data.get("model", "")),
            device=str(data.get("device", "cpu")),
            method=str(data.get("method", "")),
            notes=tuple(str(n) for n in data.get("notes", ())),
            training=dict(data["training"]) if isinstance(data.get("training"), dict) else None,
        )


def normalise(values: Sequence[float]) -> tuple[float, ...]:
    """Scale non-negative values so they sum to 1; raise if they sum to nothing."""
    total = float(sum(values))
    if total <= 0 or math.isnan(total):
        raise InvalidInput("cannot normalise: the values add up to zero")
    return tuple(float(v) / total for v in values)


def allocate(weights: Sequence[float], units: int) -> tuple[int, ...]:
    """Split `units` whole units in proportion to weights (largest remainder, ties to the first).

    Every weight > 0 gets at least one unit when there are enough units to go round.
    """
    if units < 0:
        raise InvalidInput("cannot allocate a negative number of units")
    fractions = normalise(weights)
    exact = [f * units for f in fractions]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: units - sum(counts)]:
        counts[i] += 1
    if units >= len(weights):
        for i, c in enumerate(counts):
            if c == 0:
                donor = max(range(len(counts)), key=lambda j: (counts[j], -j))
                counts[donor] -= 1
                counts[i] = 1
    return tuple(counts)


def holder_shares(provenance: Provenance, songs: Mapping[str, Song]) -> dict[str, float]:
    """Royalty share per rights holder: reference share x the holder's split of that song.

    The user's own audio owes nobody, so the holders' shares add up to 1 - user_share."""
    out: dict[str, float] = {}
    for song_id, share in provenance.song_shares().items():
        song = songs.get(song_id)
        if song is None or not song.splits:
            raise InvalidInput(f"royalties: song {song_id} has no known rights holders")
        for split in song.splits:
            out[split.holder.id] = out.get(split.holder.id, 0.0) + share * split.share
    return out


def assign_user_share(
    provenance: Provenance, origins: Sequence[tuple[int, str, float]]
) -> Provenance:
    """Give the part of the user's audio that is catalogue audio to the songs it came from.

    `origins` holds (reference index, song id, fraction of the user's audio that is that song's)
    for the references the studio found in the user's audio; the fractions add up to at most 1.
    The user keeps the rest of their share, in the shares and in every timeline slot.
    """
    if not origins:
        return provenance
    total = sum(f for _i, _s, f in origins)
    if total > 1.0 + SHARE_TOLERANCE or any(f < 0 for _i, _s, f in origins):
        raise InvalidInput("provenance: the user's audio is given away more than once")
    user = provenance.user_share
    shares = [s for s in provenance.shares if not s.is_user]
    shares += [SourceShare(i, sid, user * f) for i, sid, f in origins]
    if user * (1.0 - total) > 0 or not shares:
        shares.append(SourceShare(USER_INDEX, USER_SOURCE, max(0.0, user * (1.0 - total))))
    slots = []
    for slot in provenance.timeline:
        sources: dict[str, float] = {}
        for sid, f in slot.sources:
            if sid != USER_SOURCE:
                sources[sid] = sources.get(sid, 0.0) + f
                continue
            for _i, song_id, g in origins:
                sources[song_id] = sources.get(song_id, 0.0) + f * g
            if total < 1.0:
                sources[USER_SOURCE] = sources.get(USER_SOURCE, 0.0) + f * (1.0 - total)
        ordered = tuple(sorted(((k, v) for k, v in sources.items() if v > 0), key=lambda x: -x[1]))
        slots.append(TimelineSlot(slot.start_s, slot.end_s, ordered))
    return replace(provenance, shares=tuple(shares), timeline=tuple(slots))
