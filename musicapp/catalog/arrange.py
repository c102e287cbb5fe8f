"""From a score in music21's corpus to timed notes for each stem of one demo song."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from musicapp.catalog import accompaniment as acc
from musicapp.catalog.accompaniment import EPS, Bar, Chord, Meter, Note
from musicapp.catalog.recipe import Arrangement, Kit, SongSpec, Voice
from musicapp.core import InvalidInput

VELOCITY = {"melody": 100, "harmony": 76, "bass": 92}


@dataclass(frozen=True)
class Track:
    """The notes of one stem, in seconds: (start, end, key, velocity)."""

    voice: Voice
    role: str
    kit: Kit | None
    events: tuple[tuple[float, float, int, int], ...]


@dataclass(frozen=True)
class Arranged:
    key: str  # e.g. "F# minor"
    minor: bool
    length_s: float  # up to the end of the last bar kept, before the release tail
    tracks: tuple[Track, ...]
    beats_per_bar: int = 4
    downbeat_s: float = 0.0  # the first full bar's start: a pickup bar comes before it
    # The score's own time signature and the length of a quarter note at the song's tempo:
    # what catalog/scores.py needs to write these notes back as a score.
    time_signature: tuple[int, int] = (4, 4)
    quarter_s: float = 0.5


def arrange(
    spec: SongSpec, arrangement: Arrangement, kits: dict[str, Kit], min_s: float, max_s: float
) -> Arranged:
    """Parse the score, arrange it and keep whole bars: min_s to max_s seconds (looped if short)."""
    score = _parse(spec)
    meter = _meter(score)
    sec_per_ql = 60.0 / (spec.tempo * meter.beat_ql)
    if score.highestTime * sec_per_ql < max_s:
        score = _expand_repeats(score)
    parts = [(p, ns) for p in score.parts if (ns := _notes(p))]
    if not parts:
        raise InvalidInput(f"demo song {spec.id}: the score {spec.source} has no notes")
    bars = _bars(parts[0][0])
    pass_ql = max(bars[-1].start + bars[-1].length, float(score.highestTime))
    key = score.analyze("key")
    minor = key.mode == "minor"
    if arrangement.parts:
        voiced = _voice_parts(spec, parts, arrangement)
    else:
        voiced = _band(parts, bars, meter, key.tonic.pitchClass, minor, arrangement, kits)

    loops = max(1, math.ceil(min_s / (pass_ql * sec_per_ql)))
    bar_ends = [b.start + b.length + i * pass_ql for i in range(loops) for b in bars]
    fitting = [e for e in bar_ends if e * sec_per_ql <= max_s + EPS]
    cut_ql = max(fitting) if fitting else bar_ends[0]
    tracks = []
    for voice, role, kit, notes in voiced:
        events = []
        for i in range(loops):
            for n in notes:
                start = n.start + i * pass_ql
                if start >= cut_ql - EPS:
                    continue
                end = min(start + n.length, cut_ql)
                events.append((start * sec_per_ql, end * sec_per_ql, n.pitch, n.velocity))
        if events:  # a voice that rests through the whole excerpt is no stem
            tracks.append(Track(voice, role, kit, tuple(sorted(events))))
    name = key.tonic.name.replace("-", "b")
    # A first bar shorter than the meter's is a pickup: the first downbeat comes after it.
    first_full = next((b.start for b in bars if b.length >= meter.bar_ql - EPS), bars[0].start)
    return Arranged(
        f"{name} {key.mode}",
        minor,
        cut_ql * sec_per_ql,
        tuple(tracks),
        beats_per_bar=max(1, meter.beats),
        downbeat_s=first_full * sec_per_ql,
        time_signature=(meter.numerator, meter.denominator),
        quarter_s=sec_per_ql,
    )


def _parse(spec: SongSpec) -> Any:
    from music21 import corpus, stream

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # music21 warns about many harmless encoding quirks
        # forceSource: parse the file itself and leave no pickles in music21's scratch folder.
        score = corpus.parse(spec.source, number=spec.number, forceSource=True)
    if isinstance(score, stream.Opus):
        score = score.scores[0]
    return score


def _expand_repeats(score: Any) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return score.expandRepeats()
    except Exception:  # music21 raises several kinds on repeat marks it cannot follow
        return score


def _meter(score: Any) -> Meter:
    from music21 import meter

    ts = score.recurse().getElementsByClass(meter.TimeSignature).first()
    if ts is None:
        ts = meter.TimeSignature("4/4")
    return Meter(
        bar_ql=float(ts.barDuration.quarterLength),
        beat_ql=float(ts.beatDuration.quarterLength),
        beats=int(ts.beatCount),
        division=int(ts.beatDivisionCount) or 2,
        numerator=int(ts.numerator),
        denominator=int(ts.denominator),
    )


def _bars(part: Any) -> list[Bar]:
    from music21 import stream

    bars = [
        Bar(float(m.offset), float(m.duration.quarterLength))
        for m in part.getElementsByClass(stream.Measure)
        if m.duration.quarterLength > 0
    ]
    return bars or [Bar(0.0, float(part.highestTime))]


def _notes(part: Any) -> list[Note]:
    """The part's notes with tied notes joined (by hand: music21's stripTies deep-copies)."""
    from music21 import harmony

    out: list[Note] = []
    open_ties: dict[int, list[float]] = {}  # MIDI key -> [start, end] of a tie in progress
    for el in part.flatten().notes:
        # Chord symbols are Chord objects in music21, but they are annotations, not notes.
        if isinstance(el, harmony.Harmony) or el.duration.isGrace or el.quarterLength <= 0:
            continue
        start = float(el.offset)
        end = start + float(el.quarterLength)
        for n in el.notes if el.isChord else [el]:
            key = n.pitch.midi
            tie = n.tie.type if n.tie is not None else None
            if tie in ("stop", "continue") and key in open_ties:
                open_ties[key][1] = end
                if tie == "stop":
                    s, e = open_ties.pop(key)
                    out.append(Note(s, e - s, key, 0))
            elif tie == "start":
                open_ties[key] = [start, end]
            else:
                out.append(Note(start, end - start, key, 0))
    out.extend(Note(s, e - s, key, 0) for key, (s, e) in open_ties.items())
    return sorted(out, key=lambda n: (n.start, n.pitch))


def _chord_symbols(part: Any) -> list[Chord]:
    from music21 import harmony

    out: list[Chord] = []
    for cs in part.flatten().getElementsByClass(harmony.ChordSymbol):
        if isinstance(cs, harmony.NoChord) or not cs.pitches:
            continue
        root = cs.root().pitchClass
        tones = (root, *sorted({p.pitchClass for p in cs.pitches} - {root}))
        if not out or out[-1].tones != tones:
            out.append(Chord(float(cs.offset), root, tones))
    return out


def _with_velocity(notes: Sequence[Note], velocity: int) -> list[Note]:
    return [Note(n.start, n.length, n.pitch, velocity) for n in notes]


def _mean_pitch(notes: Sequence[Note]) -> float:
    return sum(n.pitch for n in notes) / len(notes)


def _voice_parts(
    spec: SongSpec, parts: Sequence[tuple[Any, list[Note]]], arrangement: Arrangement
) -> list[tuple[Voice, str, Kit | None, list[Note]]]:
    voices = arrangement.parts
    if len(parts) != len(voices):
        raise InvalidInput(
            f"demo song {spec.id}: the score has {len(parts)} parts, "
            f"arrangement {arrangement.name} has {len(voices)} voices"
        )
    notes = [ns for _, ns in parts]
    if arrangement.order == "pitch":
        # Humdrum files list the lowest voice first; the voices are given highest first.
        notes.sort(key=lambda ns: -_mean_pitch(ns))
    last = len(voices) - 1
    out: list[tuple[Voice, str, Kit | None, list[Note]]] = []
    for i, (voice, ns) in enumerate(zip(voices, notes, strict=True)):
        role = voice.role or ("melody" if i == 0 else "bass" if i == last else "harmony")
        out.append((voice, role, None, _with_velocity(ns, VELOCITY[role] - 6)))
    return out


def _band(
    parts: Sequence[tuple[Any, list[Note]]],
    bars: list[Bar],
    meter: Meter,
    tonic: int,
    minor: bool,
    arrangement: Arrangement,
    kits: dict[str, Kit],
) -> list[tuple[Voice, str, Kit | None, list[Note]]]:
    # A lead sheet or a tune: the highest part is the melody; chords are the score's own chord
    # symbols where it has them, else estimated from the melody.
    part, notes = max(parts, key=lambda pn: _mean_pitch(pn[1]))
    shift = arrangement.melody.transpose if arrangement.melody else 0
    melody = [Note(n.start, n.length, n.pitch + shift, VELOCITY["melody"]) for n in notes]
    chords = _chord_symbols(part)
    if len(chords) < 2:
        chords = acc.estimate_chords(melody, bars, meter, tonic, minor)
    assert arrangement.melody is not None
    out: list[tuple[Voice, str, Kit | None, list[Note]]] = [
        (arrangement.melody, "melody", None, melody)
    ]
    for voice in arrangement.harmony:
        ns = acc.harmony_notes(chords, bars, meter, voice.style, tonic, VELOCITY["harmony"])
        out.append((voice, "harmony", None, ns))
    if arrangement.bass is not None:
        out.append((arrangement.bass, "bass", None, acc.bass_notes(chords, bars, meter)))
    if arrangement.drums is not None:
        kit = kits[arrangement.drums.kit]
        out.append((arrangement.drums, "rhythm", kit, acc.drum_notes(bars, meter, kit)))
    return out
