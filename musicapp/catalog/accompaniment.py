"""Harmony, bass and drum parts built from a melody's chords and the meter (times in quarter notes)."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from musicapp.catalog.recipe import Kit

EPS = 1e-6


@dataclass(frozen=True)
class Note:
    start: float  # quarter notes from the start of the piece
    length: float
    pitch: int  # MIDI key
    velocity: int


@dataclass(frozen=True)
class Meter:
    bar_ql: float  # a full bar, in quarter notes
    beat_ql: float
    beats: int  # beats in a bar: 2 in 6/8, 4 in 4/4, 1 in 3/8
    division: int  # pulses in a beat: 3 in compound meters, else 2
    numerator: int = 4  # the time signature as written (6/8, 3/4...)
    denominator: int = 4

    @property
    def pulse_ql(self) -> float:
        return self.beat_ql / self.division


@dataclass(frozen=True)
class Bar:
    start: float
    length: float  # shorter than Meter.bar_ql for a pickup (anacrusis) or a closing bar


@dataclass(frozen=True)
class Chord:
    start: float
    root: int  # pitch class
    tones: tuple[int, ...]  # pitch classes, root first


MAJOR, MINOR = (0, 4, 7), (0, 3, 7)
# (degree above the tonic, triad, prior): the chords a folk accompanist reaches for first, plus
# the flat seventh (major keys) and major fourth (minor keys) that modal tunes ask for.
_CANDIDATES = {
    False: (
        (0, MAJOR, 0.35),
        (7, MAJOR, 0.25),
        (5, MAJOR, 0.2),
        (9, MINOR, 0.1),
        (2, MINOR, 0.08),
        (4, MINOR, 0.0),
        (10, MAJOR, 0.0),
    ),
    True: (
        (0, MINOR, 0.35),
        (7, MAJOR, 0.2),
        (3, MAJOR, 0.15),
        (10, MAJOR, 0.15),
        (5, MINOR, 0.15),
        (8, MAJOR, 0.1),
        (5, MAJOR, 0.0),
    ),
}


def beat_times(bar: Bar, meter: Meter) -> Iterator[tuple[float, int]]:
    """(time, beat index) of the beats in a bar; a pickup bar has only its last beats."""
    shift = bar.length - meter.bar_ql  # negative in a pickup: its beats are right-aligned
    for k in range(meter.beats):
        t = bar.start + shift + k * meter.beat_ql
        if t >= bar.start - EPS and t < bar.start + bar.length - EPS:
            yield t, k


def pulse_times(bar: Bar, meter: Meter) -> Iterator[tuple[float, int]]:
    """(time, pulse index) of every subdivision of every beat in a bar."""
    shift = bar.length - meter.bar_ql
    for j in range(meter.beats * meter.division):
        t = bar.start + shift + j * meter.pulse_ql
        if t >= bar.start - EPS and t < bar.start + bar.length - EPS:
            yield t, j


def estimate_chords(
    melody: Sequence[Note], bars: Sequence[Bar], meter: Meter, tonic: int, minor: bool
) -> list[Chord]:
    """One diatonic triad per half bar (per bar in short meters), the one the melody fits best."""
    per_bar = 2 if meter.beats == 4 or (meter.beats == 2 and meter.bar_ql >= 3) else 1
    slot_ql = meter.bar_ql / per_bar
    slots = []
    for bar in bars:
        shift = bar.length - meter.bar_ql
        for i in range(per_bar):
            s = max(bar.start, bar.start + shift + i * slot_ql)
            e = bar.start + shift + (i + 1) * slot_ql
            if e > s + EPS:
                slots.append((s, e))
    chords: list[Chord] = []
    previous: Chord | None = None
    for n, (s, e) in enumerate(slots):
        chord: Chord | None
        if n == len(slots) - 1:
            triad = MINOR if minor else MAJOR
            chord = Chord(s, tonic, tuple((tonic + d) % 12 for d in triad))
        else:
            chord = _best_chord(melody, s, e, tonic, minor, previous) or previous
        if chord is None:
            continue
        if previous is None or chord.tones != previous.tones:
            chords.append(Chord(s, chord.root, chord.tones))
        previous = chord
    return chords


def _best_chord(
    melody: Sequence[Note], s: float, e: float, tonic: int, minor: bool, previous: Chord | None
) -> Chord | None:
    weights: dict[int, float] = {}
    for note in melody:
        overlap = min(e, note.start + note.length) - max(s, note.start)
        if overlap > EPS:
            accent = 1.5 if abs(note.start - s) < EPS else 1.0
            pc = note.pitch % 12
            weights[pc] = weights.get(pc, 0.0) + overlap * accent
    total = sum(weights.values())
    if total <= 0:
        return None
    best, best_score = None, float("-inf")
    for degree, triad, prior in _CANDIDATES[minor]:
        root = (tonic + degree) % 12
        tones = tuple((root + d) % 12 for d in triad)
        fit = sum(w if pc in tones else -0.5 * w for pc, w in weights.items()) / total
        score = fit + 0.3 * weights.get(root, 0.0) / total + prior
        if previous is not None and tones == previous.tones:
            score += 0.15  # harmony that changes on every slot sounds restless
        if score > best_score:
            best, best_score = Chord(s, root, tones), score
    return best


def chord_at(chords: Sequence[Chord], t: float) -> Chord:
    starts = [c.start for c in chords]
    return chords[max(0, bisect.bisect_right(starts, t + EPS) - 1)]


def voicing(chord: Chord, low: int, count: int) -> list[int]:
    """`count` chord tones stacked upwards from the root's first pitch at or above `low`."""
    pitch = low + (chord.root - low) % 12
    out = [pitch]
    i = 1
    while len(out) < count:
        pc = chord.tones[i % len(chord.tones)]
        pitch = out[-1] + 1 + (pc - out[-1] - 1) % 12
        out.append(pitch)
        i += 1
    return out


def _accompanied(bars: Sequence[Bar], meter: Meter) -> Iterator[Bar]:
    # The band comes in on the first full bar: a tune's pickup notes are played alone.
    for i, bar in enumerate(bars):
        if i == 0 and bar.length < meter.bar_ql - EPS:
            continue
        yield bar


def harmony_notes(
    chords: Sequence[Chord],
    bars: Sequence[Bar],
    meter: Meter,
    style: str,
    tonic: int,
    velocity: int = 72,
) -> list[Note]:
    """A chordal part in one of recipe.HARMONY_STYLES."""
    out: list[Note] = []
    for bar in _accompanied(bars, meter):
        end = bar.start + bar.length
        if style == "drone":
            for p in voicing(Chord(bar.start, tonic, (tonic, (tonic + 7) % 12)), 45, 3):
                out.append(Note(bar.start, bar.length, p, velocity - 10))
            continue
        if style == "block":
            times = sorted({bar.start} | {c.start for c in chords if bar.start < c.start < end})
            for t, t_next in zip(times, [*times[1:], end], strict=True):
                for p in voicing(chord_at(chords, t), 55, 3):
                    out.append(Note(t, t_next - t, p, velocity - 8))
            continue
        if style in ("strum", "afterbeat"):
            for t, k in beat_times(bar, meter):
                if style == "afterbeat" and k == 0 and meter.beats > 1:
                    continue
                tones = voicing(chord_at(chords, t), 52 if style == "strum" else 55, 4)
                length = meter.beat_ql * (0.9 if style == "strum" else 0.45)
                v = velocity if k == 0 else velocity - 12
                for i, p in enumerate(tones):  # a downstroke: low strings first
                    out.append(Note(t + 0.02 * i, length - 0.02 * i, p, v))
            continue
        pattern = (0, 2, 1, 3, 2, 1) if style == "arpeggio" else (0, 1, 2, 1)
        for t, j in pulse_times(bar, meter):
            chord = chord_at(chords, t)
            if style == "arpeggio":
                tones = voicing(chord, 48, 4)
            else:  # "fifths": root, fifth and octave, as a yangqin or dulcimer plays them
                tones = voicing(Chord(t, chord.root, (chord.root, (chord.root + 7) % 12)), 55, 3)
            v = velocity if j % meter.division == 0 else velocity - 10
            out.append(
                Note(t, meter.pulse_ql * 2, tones[pattern[j % len(pattern)] % len(tones)], v)
            )
    return out


def bass_notes(
    chords: Sequence[Chord], bars: Sequence[Bar], meter: Meter, velocity: int = 90
) -> list[Note]:
    """Roots on the downbeat, the fifth on the middle beat, a new root wherever the chord changes."""
    hits: list[tuple[float, int]] = []
    last: Chord | None = None
    middle = meter.beats // 2 if meter.beats in (2, 4) else -1
    for bar in _accompanied(bars, meter):
        for t, k in beat_times(bar, meter):
            chord = chord_at(chords, t)
            root = 36 + (chord.root - 36) % 12
            if last is None or chord.tones != last.tones or k == 0:
                hits.append((t, root))
            elif k == middle:
                hits.append((t, root + 7 if root + 7 <= 50 else root - 5))
            last = chord
    ends = [t for t, _ in hits[1:]] + [bars[-1].start + bars[-1].length if bars else 0.0]
    return [
        Note(t, max(0.1, (min(end, t + meter.bar_ql) - t) * 0.9), p, velocity)
        for (t, p), end in zip(hits, ends, strict=True)
    ]


def drum_notes(bars: Sequence[Bar], meter: Meter, kit: Kit) -> list[Note]:
    """A groove from the meter: downbeats, backbeats and a pulse on every subdivision."""
    out: list[Note] = []
    for bar in _accompanied(bars, meter):
        for t, j in pulse_times(bar, meter):
            hits = []
            if j % meter.division == 0:
                k = j // meter.division
                if k == 0 or (meter.beats == 4 and k == 2):
                    hits.append(kit.downbeat)
                elif meter.beats in (2, 4):
                    hits.append(kit.backbeat)
                elif meter.beats == 3:
                    hits.append((kit.backbeat[0], int(kit.backbeat[1] * 0.75)))
                if kit.pulse_on_beats:
                    hits.append(kit.pulse)
            else:
                hits.append(kit.pulse)
            out.extend(Note(t, 0.25, key, vel) for key, vel in hits)
    return out
