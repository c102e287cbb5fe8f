"""What an audit answers: who is really in a piece of audio, found from the audio alone.

An audit corroborates attribution by design, it never replaces it: royalties follow the
by-design provenance; the audit is logged beside it (an ``audit`` ledger event) and where the
two disagree the user and the rights administrator can see it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FINGERPRINT = "fingerprint"  # material reused outright, found by its landmarks
EMBEDDING = "embedding"  # stylistic and structural likeness, found by segment embeddings
DETECTORS = (FINGERPRINT, EMBEDDING)


@dataclass(frozen=True)
class Candidate:
    """One catalogue segment a segment of the audited audio may come from.

    ``probability`` is calibrated (fitted on audits whose truth is known, see
    ``attribution/calibration.py``), not a raw cosine: over many candidates given 0.8, about 80 %
    are right. ``pitch_shift`` (semitones) and ``tempo_ratio`` (audited tempo / song tempo) say
    how the material was changed, when the fingerprints could tell (else 0 and 1.0).
    """

    song_id: str
    start_s: float  # in the song
    end_s: float
    probability: float
    detector: str
    score: float = 0.0  # the detector's own figure (votes or cosine), for the curious
    pitch_shift: int = 0
    tempo_ratio: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "song_id": self.song_id,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "probability": round(self.probability, 4),
            "detector": self.detector,
            "score": round(self.score, 4),
            "pitch_shift": self.pitch_shift,
            "tempo_ratio": round(self.tempo_ratio, 4),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Candidate:
        return cls(
            str(d["song_id"]),
            float(d["start_s"]),
            float(d["end_s"]),
            float(d["probability"]),
            str(d["detector"]),
            float(d.get("score", 0.0)),
            int(d.get("pitch_shift", 0)),
            float(d.get("tempo_ratio", 1.0)),
        )


@dataclass(frozen=True)
class Segment:
    """One segment (a second, or a bar when the tempo is known) of the audited audio: its top-K
    candidates, best first, and its influence vector (song id -> weight, summing to at most 1;
    the rest is ``unattributed``: nothing of the catalogue was found there)."""

    start_s: float
    end_s: float
    candidates: tuple[Candidate, ...]
    influence: Mapping[str, float]

    @property
    def unattributed(self) -> float:
        return max(0.0, 1.0 - sum(self.influence.values()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "candidates": [c.to_dict() for c in self.candidates],
            "influence": {k: round(v, 4) for k, v in self.influence.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Segment:
        return cls(
            float(d["start_s"]),
            float(d["end_s"]),
            tuple(Candidate.from_dict(c) for c in d["candidates"]),
            {str(k): float(v) for k, v in d["influence"].items()},
        )


@dataclass(frozen=True)
class Finding:
    """A catalogue recording found outright in the audio (fingerprints): where in the audio,
    where in the song, how it was changed, and how sure the audit is."""

    song_id: str
    start_s: float  # in the audited audio
    end_s: float
    song_start_s: float  # in the song
    song_end_s: float
    probability: float
    pitch_shift: int = 0
    tempo_ratio: float = 1.0

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "song_id": self.song_id,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "song_start_s": round(self.song_start_s, 3),
            "song_end_s": round(self.song_end_s, 3),
            "probability": round(self.probability, 4),
            "pitch_shift": self.pitch_shift,
            "tempo_ratio": round(self.tempo_ratio, 4),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Finding:
        return cls(
            str(d["song_id"]),
            float(d["start_s"]),
            float(d["end_s"]),
            float(d["song_start_s"]),
            float(d["song_end_s"]),
            float(d["probability"]),
            int(d.get("pitch_shift", 0)),
            float(d.get("tempo_ratio", 1.0)),
        )


# The audit of a user's file that finds nothing outright says it does not clear the file: an
# excerpt mixed under other music is usually missed (docs/audit.md, stop 38).
NOTHING_FOUND = (
    "nothing of the catalogue was found outright, which does not clear the audio: a catalogue "
    "recording mixed under other music is usually missed (docs/audit.md)"
)


@dataclass(frozen=True)
class AuditResult:
    """The audit of one piece of audio against the catalogue.

    ``influence`` is the whole piece's influence vector (song id -> share, summing to at most 1,
    the rest ``unattributed``), from the segments' decompositions weighted by their length.
    ``findings`` are the recordings found outright. ``embedder`` names the embeddings used (CLAP,
    or the embedded audio features), ``catalogue_songs`` how many songs the index held.
    """

    duration_s: float
    sample_rate: int
    segments: tuple[Segment, ...]
    influence: Mapping[str, float]
    findings: tuple[Finding, ...] = ()
    method: str = "fingerprints + decomposition"
    embedder: str = ""
    catalogue_songs: int = 0
    notes: tuple[str, ...] = ()
    elapsed_s: float = field(default=0.0, compare=False)

    @property
    def unattributed(self) -> float:
        return max(0.0, 1.0 - sum(self.influence.values()))

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The k songs with the largest share, largest first (ties by song id)."""
        ranked = sorted(self.influence.items(), key=lambda kv: (-kv[1], kv[0]))
        return [(s, v) for s, v in ranked if v > 0][:k]

    def found_songs(self) -> set[str]:
        return {f.song_id for f in self.findings}

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration_s": round(self.duration_s, 3),
            "sample_rate": self.sample_rate,
            "method": self.method,
            "embedder": self.embedder,
            "catalogue_songs": self.catalogue_songs,
            "influence": {k: round(v, 4) for k, v in self.influence.items()},
            "unattributed": round(self.unattributed, 4),
            "findings": [f.to_dict() for f in self.findings],
            "segments": [s.to_dict() for s in self.segments],
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AuditResult:
        return cls(
            duration_s=float(d["duration_s"]),
            sample_rate=int(d["sample_rate"]),
            segments=tuple(Segment.from_dict(s) for s in d.get("segments", ())),
            influence={str(k): float(v) for k, v in d["influence"].items()},
            findings=tuple(Finding.from_dict(f) for f in d.get("findings", ())),
            method=str(d.get("method", "")),
            embedder=str(d.get("embedder", "")),
            catalogue_songs=int(d.get("catalogue_songs", 0)),
            notes=tuple(str(n) for n in d.get("notes", ())),
        )


@dataclass(frozen=True)
class Agreement:
    """One song's share by design (what the engine knows it used) beside the audit's estimate."""

    song_id: str
    by_design: float
    audit: float
    found_outright: bool  # the fingerprints found its recording in the take

    @property
    def difference(self) -> float:
        return self.audit - self.by_design


@dataclass(frozen=True)
class Comparison:
    """By-design attribution beside the audit: per song, and what disagrees.

    A song disagrees when it is declared but the audit does not find it (``missed``), when the
    fingerprints find a recording that was not declared (``undeclared``: material reused
    outright; likeness alone never makes a song undeclared), or when the shares differ by more
    than ``tolerance``.
    """

    rows: tuple[Agreement, ...]
    missed: tuple[str, ...]
    undeclared: tuple[str, ...]
    share_l1: float  # sum of |audit - by design| over songs and the unattributed rest
    tolerance: float
    # The engine wrote new notes (core.NOTE_ENGINES): the references shaped the take but none
    # of their recordings is in it, so only a recording found outright (undeclared) disagrees.
    new_notes: bool = False

    @property
    def agrees(self) -> bool:
        if self.new_notes:
            return not self.undeclared
        return (
            not self.missed
            and not self.undeclared
            and all(abs(r.difference) <= self.tolerance for r in self.rows)
        )


@dataclass(frozen=True)
class AuditStatus:
    """What the audit can answer with: songs in the catalogue and in its index, the embeddings."""

    songs: int
    indexed: int
    embedder: str
    fingerprints: str  # which fingerprinting, in words
    notes: tuple[str, ...] = ()
