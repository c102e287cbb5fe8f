"""Notes, parts and the humanising that turns written beats into played seconds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

BEATS_PER_BAR = 4


@dataclass(frozen=True)
class Note:
    """A written note: where it falls in beats from the start, how long, which key, how hard.

    offset_ms is a deliberate displacement that stays fixed (the strings of a strum)."""

    beat: float
    beats: float
    key: int
    velocity: int
    offset_ms: float = 0.0


@dataclass(frozen=True)
class Part:
    """One instrument's notes and how it is played: which stem it belongs to and how loosely."""

    name: str  # unique in its song, e.g. "guitar-left-open"
    stem: str  # the stem file it ends up in: guitar, bass, drums, keys
    program: int  # General MIDI program, or the drum kit's preset number when drums is set
    notes: tuple[Note, ...]
    drums: bool = False
    jitter_ms: float = 4.0  # standard deviation of the timing error
    velocity_sd: float = 6.0
    push_ms: float = 0.0  # constant lateness (+) or rush (-): a laid-back snare is late


Event = tuple[float, float, int, int]  # (start_s, end_s, key, velocity), as played


def bar_s(bpm: float) -> float:
    return BEATS_PER_BAR * 60.0 / bpm


def swung(beat: float, swing: float) -> float:
    """Move off-beat sixteenths later: swing 0.5 is straight, 0.6 a clear shuffle feel."""
    frac = beat % 0.5
    if abs(frac - 0.25) < 1e-6:
        return beat + (swing - 0.5) * 0.5
    return beat


def humanise(part: Part, bpm: float, swing: float, rng: np.random.Generator) -> list[Event]:
    """Play a part: swing, a player's timing error (clipped at 2.5 sd) and velocity spread."""
    spb = 60.0 / bpm
    events: list[Event] = []
    for note in part.notes:
        err = np.clip(rng.normal(0.0, part.jitter_ms), -2.5 * part.jitter_ms, 2.5 * part.jitter_ms)
        start = swung(note.beat, swing) * spb + (note.offset_ms + part.push_ms + err) / 1000
        end_err = rng.normal(0.0, part.jitter_ms) / 1000
        end = max(start + 0.03, (note.beat + note.beats) * spb + end_err)
        velocity = int(np.clip(round(note.velocity + rng.normal(0.0, part.velocity_sd)), 1, 127))
        events.append((max(0.0, start), end, note.key, velocity))
    return events


def strum(
    beat: float,
    beats: float,
    keys: Sequence[int],
    velocity: int,
    down: bool = True,
    spread_ms: float = 7.0,
) -> list[Note]:
    """A strummed chord: strings hit one after another, low to high on a down stroke; the
    strings hit last are a little softer on the way down, the thin ones louder on the way up."""
    order = list(keys) if down else list(reversed(keys))
    return [
        Note(beat, beats, key, velocity - (2 * i if down else 0), offset_ms=i * spread_ms)
        for i, key in enumerate(order)
    ]


def repeat_bars(bars: Iterable[list[Note]]) -> tuple[Note, ...]:
    """Bars written from beat 0 each, laid end to end."""
    out: list[Note] = []
    for i, bar in enumerate(bars):
        out += [
            Note(n.beat + i * BEATS_PER_BAR, n.beats, n.key, n.velocity, n.offset_ms) for n in bar
        ]
    return tuple(out)
