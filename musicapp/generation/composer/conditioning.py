"""What a reference gives the composer: its key, meter, tempo, instruments, melody and rhythm.

Read from a score (catalog/scores.py gives a catalogue song's; transcribe.py makes one from a
recording). Each level of the composing engine takes some of these: the song level all of them
(continue in the reference's key, meter, tempo and instruments), the parameter level the melody
of one reference and the rhythm or instruments of another, the temporal level those of the
material around the range it fills. The key is found the Krumhansl-Schmuckler way: the
pitch-class histogram (weighted by duration) correlated with a major and a minor key profile in
all twelve transpositions, the best one wins (Krumhansl and Kessler's profiles). Roles come from the catalogue's stems where the score's
tracks are named as them (the demo), else from the register: drum tracks are drums, the highest
sounding track the melody, the lowest the bass, the rest harmony.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from musicapp.core import InvalidInput, Stem

if TYPE_CHECKING:
    from symusic.core import ScoreTick

ROLES = ("melody", "harmony", "bass", "drums")
# The catalogue calls a drum stem's role "rhythm"; the composer calls the part "drums".
_STEM_ROLE = {"melody": "melody", "harmony": "harmony", "bass": "bass", "rhythm": "drums"}
_NAME_HINTS = (
    ("drums", ("drum", "perc", "bodhran", "kit")),
    ("bass", ("bass",)),
    ("melody", ("melody", "lead", "vocal", "voice", "soprano", "cantus")),
)
# Krumhansl & Kessler (1982) probe-tone ratings, tonic first. Against the catalogue's Song.key
# (music21's analysis, Aarden-Essen profiles) they agree on 20 of the recipe's first 30 songs,
# most others a fifth apart; Aarden-Essen's would agree on 28 but call a plain C major scale
# A minor, and a reference's key must survive the plainest tune.
MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
# Onset positions are kept to a twelfth of a quarter note: exact for sixteenths and triplets.
GRID_PER_QUARTER = 12


@dataclass(frozen=True)
class Key:
    tonic: int  # pitch class, 0 = C
    mode: str  # "major" or "minor"
    fit: float  # the correlation of the histogram with this key's profile, -1..1

    @property
    def name(self) -> str:
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"


@dataclass(frozen=True)
class Part:
    """One track of a reference: what plays it and what it does."""

    index: int  # the track's position in the score
    name: str
    program: int  # General MIDI program (a drum track: its kit)
    is_drum: bool
    role: str  # one of ROLES
    notes: int
    mean_pitch: float


@dataclass(frozen=True)
class MelodyNote:
    start_q: float  # quarter notes from the score's start
    length_q: float
    pitch: int


@dataclass(frozen=True)
class ReferenceFeatures:
    key: Key
    meter: tuple[int, int]  # the time signature, e.g. (6, 8)
    tempo_qpm: float  # quarter notes a minute
    parts: tuple[Part, ...]
    melody: tuple[MelodyNote, ...]  # the melody track's top voice
    rhythm: tuple[tuple[float, ...], ...]  # per bar: the melody's onsets, quarters into the bar

    @property
    def bar_q(self) -> float:
        return self.meter[0] * 4.0 / self.meter[1]

    def program_of(self, role: str) -> int | None:
        """The General MIDI program of the first part with this role, or None."""
        return next((p.program for p in self.parts if p.role == role), None)


def features_of(score: ScoreTick, stems: Sequence[Stem] = ()) -> ReferenceFeatures:
    """Everything a reference's score gives the composer. `stems` are the catalogue song's
    stems: a track named as one takes its role from it."""
    if score.note_num() == 0:
        raise InvalidInput("reference score: it has no notes")
    parts = tuple(parts_of(score, stems))
    meter = meter_of(score)
    melody = melody_line(score, parts)
    return ReferenceFeatures(
        key=detect_key(score),
        meter=meter,
        tempo_qpm=float(score.tempos[0].qpm) if len(score.tempos) else 120.0,
        parts=parts,
        melody=melody,
        rhythm=rhythm_of(melody, meter[0] * 4.0 / meter[1]),
    )


def meter_of(score: ScoreTick) -> tuple[int, int]:
    """The first time signature (4/4 when the file gives none, as MIDI assumes)."""
    if len(score.time_signatures) == 0:
        return (4, 4)
    ts = score.time_signatures[0]
    return (int(ts.numerator), int(ts.denominator))


def pitch_histogram(score: ScoreTick) -> np.ndarray:
    """Twelve pitch-class weights: each pitched note's length in quarters (drums left out)."""
    hist = np.zeros(12)
    for track in score.tracks:
        if track.is_drum:
            continue
        for note in track.notes:
            hist[note.pitch % 12] += max(note.duration, 1)
    return hist / max(score.ticks_per_quarter, 1)


def key_profile(key: Key) -> np.ndarray:
    """The key's profile over pitch classes 0..11 (C first)."""
    base = np.array(MAJOR_PROFILE if key.mode == "major" else MINOR_PROFILE)
    return np.roll(base, key.tonic)


def key_fit(hist: np.ndarray, key: Key) -> float:
    """The correlation of a pitch-class histogram with a key's profile (0 for no notes)."""
    if not np.any(hist) or np.all(hist == hist[0]):
        return 0.0
    return float(np.corrcoef(hist, key_profile(key))[0, 1])


def detect_key(score: ScoreTick) -> Key:
    """The best-fitting of the 24 major and minor keys (Krumhansl-Kessler profiles)."""
    hist = pitch_histogram(score)
    if not np.any(hist):
        raise InvalidInput("reference score: it has no pitched notes, so no key")
    best = max(
        (Key(t, m, key_fit(hist, Key(t, m, 0.0))) for m in ("major", "minor") for t in range(12)),
        key=lambda k: k.fit,
    )
    return best


def parts_of(score: ScoreTick, stems: Sequence[Stem] = ()) -> list[Part]:
    """Each track with notes, with its role: the stem's of the same name, a name hint, or
    the register (highest melody, lowest bass, the rest harmony); drum tracks are drums."""
    by_stem = {s.name: _STEM_ROLE.get(s.role, "harmony") for s in stems}
    found: list[Part] = []
    for i, track in enumerate(score.tracks):
        if len(track.notes) == 0:
            continue
        mean = float(np.mean([n.pitch for n in track.notes]))
        role = "drums" if track.is_drum else by_stem.get(track.name, "")
        if not role:
            lower = track.name.lower()
            role = next((r for r, words in _NAME_HINTS if any(w in lower for w in words)), "")
            role = "" if role == "drums" else role  # only the drum channel makes drums
        found.append(
            Part(
                i, track.name, int(track.program), bool(track.is_drum), role, len(track.notes), mean
            )
        )
    pitched = [p for p in found if not p.is_drum]
    if pitched and not any(p.role == "melody" for p in pitched):
        free = [p for p in pitched if not p.role] or pitched
        top = max(free, key=lambda p: p.mean_pitch)
        found[found.index(top)] = _with_role(top, "melody")
    pitched = [p for p in found if not p.is_drum]
    free = [p for p in pitched if not p.role]
    if free and len(pitched) > 1 and not any(p.role == "bass" for p in pitched):
        low = min(free, key=lambda p: p.mean_pitch)
        found[found.index(low)] = _with_role(low, "bass")
    return [p if p.role else _with_role(p, "harmony") for p in found]


def _with_role(part: Part, role: str) -> Part:
    return Part(
        part.index, part.name, part.program, part.is_drum, role, part.notes, part.mean_pitch
    )


def melody_line(score: ScoreTick, parts: Sequence[Part] | None = None) -> tuple[MelodyNote, ...]:
    """The melody track's top voice: at each onset its highest note, cut where the next begins."""
    parts = parts_of(score) if parts is None else parts
    melody = next((p for p in parts if p.role == "melody"), None)
    if melody is None:
        return ()
    return top_voice(score, melody.index)


def top_voice(score: ScoreTick, track_index: int) -> tuple[MelodyNote, ...]:
    """One track's skyline: the highest note at each onset, lasting until the next onset."""
    tpq = score.ticks_per_quarter
    highest: dict[int, tuple[int, int]] = {}  # onset tick -> (pitch, end tick)
    for n in score.tracks[track_index].notes:
        if n.time not in highest or n.pitch > highest[n.time][0]:
            highest[n.time] = (n.pitch, n.time + n.duration)
    onsets = sorted(highest)
    line = []
    for i, t in enumerate(onsets):
        pitch, end = highest[t]
        if i + 1 < len(onsets):
            end = min(end, onsets[i + 1])
        line.append(MelodyNote(t / tpq, max(end - t, 1) / tpq, pitch))
    return tuple(line)


def rhythm_of(line: Sequence[MelodyNote], bar_q: float) -> tuple[tuple[float, ...], ...]:
    """Per bar, the onsets in quarters from the bar's start (on a 1/12-quarter grid); bars
    with no onset are empty, so the pattern keeps the piece's length."""
    if not line or bar_q <= 0:
        return ()
    bars = int(line[-1].start_q // bar_q) + 1
    out: list[list[float]] = [[] for _ in range(bars)]
    for note in line:
        bar = int(note.start_q // bar_q)
        at = round((note.start_q - bar * bar_q) * GRID_PER_QUARTER) / GRID_PER_QUARTER
        if not out[bar] or out[bar][-1] != at:
            out[bar].append(at)
    return tuple(tuple(b) for b in out)


def contour(
    line: Sequence[MelodyNote], step_q: float = 0.25, length_q: float | None = None
) -> np.ndarray:
    """The melody's pitch sampled every `step_q` quarters from its first onset (a rest holds the
    last pitch): the curve the contour correlation compares."""
    if not line:
        return np.zeros(0)
    start = line[0].start_q
    end = line[-1].start_q + line[-1].length_q if length_q is None else start + length_q
    times = start + np.arange(0.0, max(end - start, step_q), step_q)
    starts = np.array([n.start_q for n in line])
    idx = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(line) - 1)
    return np.array([line[i].pitch for i in idx], dtype=float)
