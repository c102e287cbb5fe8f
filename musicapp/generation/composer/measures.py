"""Is a take new, and does it follow its conditioning? Measures on scores, and piano rolls.

A listening substitute for the composing engine (issue 18). Novelty against the training set:
each pitched track reduced to its top voice and written as (interval to the previous note,
duration) steps, so a copy is found whatever key it was moved to; the longest run of steps a
take shares verbatim with any training song, in notes, and the share of the take's interval
n-grams (n = 4 and 8) found anywhere in the training set. Conditioning, against the references:
whether the take's key (Krumhansl-Schmuckler) and meter are the references', how well its pitch
histogram fits the references' key, and the correlation of its melody's contour with a
reference melody (the parameter level's prompt), both sampled on a sixteenth-note grid.
`piano_roll_png` draws a score with matplotlib (the `plots` extra), off screen.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from musicapp.generation.composer.conditioning import (
    MelodyNote,
    ReferenceFeatures,
    contour,
    detect_key,
    key_fit,
    meter_of,
    pitch_histogram,
    top_voice,
)

if TYPE_CHECKING:
    from symusic.core import ScoreTick

Step = tuple[int, int]  # (semitones from the previous note, duration in 1/12 quarters)
GRID_PER_QUARTER = 12
NGRAM_SIZES = (4, 8)


@dataclass(frozen=True)
class Novelty:
    longest_copy_notes: int  # the longest note run shared verbatim with one training song
    longest_copy_song: str  # which song ("" when nothing is shared)
    ngram_overlap: dict[int, float]  # n -> share of the take's interval n-grams seen in training


@dataclass(frozen=True)
class Following:
    key: str  # the take's key
    key_match: bool  # the same key as the references'
    key_fit: float  # the take's pitch histogram against the references' key profile, -1..1
    meter_match: bool
    contour_correlation: float | None  # None without a melody to compare with


def lines(score: ScoreTick) -> list[list[MelodyNote]]:
    """Each pitched track's top voice (drums have no intervals)."""
    return [
        list(top_voice(score, i))
        for i, track in enumerate(score.tracks)
        if not track.is_drum and len(track.notes) > 1
    ]


def steps(line: Sequence[MelodyNote]) -> list[Step]:
    """(interval, duration) of each note after the first: the line up to transposition."""
    return [
        (b.pitch - a.pitch, round(b.length_q * GRID_PER_QUARTER))
        for a, b in zip(line, line[1:], strict=False)
    ]


def song_steps(score: ScoreTick) -> list[list[Step]]:
    return [steps(line) for line in lines(score)]


def longest_copy(
    take: Sequence[Sequence[Step]], training: dict[str, list[list[Step]]]
) -> tuple[int, str]:
    """(notes, song) of the longest step run the take shares with one training song's line.

    k shared steps are k + 1 notes. Binary search on the run length with sets of hashed runs:
    a run of length k shared means every shorter one is too."""
    longest = max((len(s) for s in take), default=0)
    found, song = 0, ""
    lo, hi = 1, longest
    while lo <= hi:
        k = (lo + hi) // 2
        runs = {tuple(s[i : i + k]) for s in take for i in range(len(s) - k + 1)}
        hit = _first_song_with(runs, k, training)
        if hit:
            found, song, lo = k, hit, k + 1
        else:
            hi = k - 1
    return (found + 1 if found else 0), song


def _first_song_with(
    runs: set[tuple[Step, ...]], k: int, training: dict[str, list[list[Step]]]
) -> str:
    for name, seqs in training.items():
        for s in seqs:
            if any(tuple(s[i : i + k]) in runs for i in range(len(s) - k + 1)):
                return name
    return ""


def interval_ngrams(seqs: Iterable[Sequence[Step]], n: int) -> set[tuple[int, ...]]:
    out: set[tuple[int, ...]] = set()
    for s in seqs:
        iv = [step[0] for step in s]
        out.update(tuple(iv[i : i + n]) for i in range(len(iv) - n + 1))
    return out


def ngram_overlap(
    take: Sequence[Sequence[Step]], training: dict[str, list[list[Step]]], n: int
) -> float:
    """The share of the take's distinct interval n-grams that occur in some training song."""
    mine = interval_ngrams(take, n)
    if not mine:
        return 0.0
    seen = interval_ngrams((s for seqs in training.values() for s in seqs), n)
    return len(mine & seen) / len(mine)


def novelty(take: ScoreTick, training: dict[str, ScoreTick]) -> Novelty:
    """How much of the take is copied from the training songs (song id -> score)."""
    own = song_steps(take)
    theirs = {name: song_steps(s) for name, s in training.items()}
    notes, song = longest_copy(own, theirs)
    return Novelty(notes, song, {n: ngram_overlap(own, theirs, n) for n in NGRAM_SIZES})


def contour_correlation(
    a: Sequence[MelodyNote], b: Sequence[MelodyNote], step_q: float = 0.25
) -> float:
    """Pearson correlation of two melodies' pitch curves over their common length from each
    one's first onset (1 for the same shape at any transposition, negative for an inversion;
    0 when either is flat or empty)."""
    if not a or not b:
        return 0.0
    length = min(
        a[-1].start_q + a[-1].length_q - a[0].start_q, b[-1].start_q + b[-1].length_q - b[0].start_q
    )
    ca, cb = contour(a, step_q, length), contour(b, step_q, length)
    n = min(len(ca), len(cb))
    ca, cb = ca[:n], cb[:n]
    if n < 2 or np.std(ca) == 0 or np.std(cb) == 0:
        return 0.0
    return float(np.corrcoef(ca, cb)[0, 1])


def following(
    take: ScoreTick,
    take_melody: Sequence[MelodyNote],
    references: ReferenceFeatures,
    melody_reference: Sequence[MelodyNote] = (),
) -> Following:
    """How the take keeps to its references' key and meter and (at the parameter level) to
    the reference melody's contour."""
    key = detect_key(take)
    ref = references.key
    return Following(
        key=key.name,
        key_match=(key.tonic, key.mode) == (ref.tonic, ref.mode),
        key_fit=key_fit(pitch_histogram(take), ref),
        meter_match=meter_of(take) == references.meter,
        contour_correlation=(
            contour_correlation(take_melody, melody_reference) if melody_reference else None
        ),
    )


def _pyplot() -> Any:
    try:
        # imported by name: the frozen app leaves matplotlib out (packaging/musicapp.spec)
        mpl = importlib.import_module("matplotlib")
        mpl.use("Agg")
        return importlib.import_module("matplotlib.pyplot")
    except ImportError:
        raise RuntimeError("piano rolls need matplotlib: pip install 'musicapp[plots]'") from None


def piano_roll_png(score: ScoreTick, path: Path, title: str) -> Path:
    """A piano roll of the score (one colour per track, time in quarter notes) as a PNG."""
    plt = _pyplot()
    tpq = score.ticks_per_quarter
    fig, ax = plt.subplots(figsize=(9.6, 3.6), dpi=110)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, track in enumerate(score.tracks):
        if len(track.notes) == 0:
            continue
        colour = colours[i % len(colours)]
        by_key: dict[int, list[tuple[float, float]]] = {}
        for n in track.notes:
            by_key.setdefault(n.pitch, []).append((n.time / tpq, max(n.duration, 1) / tpq))
        for key, spans in by_key.items():  # one call a key: thousands of notes stay quick
            ax.broken_barh(spans, (key - 0.4, 0.8), facecolors=colour)
        label = (
            f"{track.name or 'track'} ({'drums' if track.is_drum else f'program {track.program}'})"
        )
        ax.plot([], [], color=colour, linewidth=6, label=label)
    num, den = meter_of(score)
    bar_q = num * 4.0 / den
    end_q = score.end() / tpq
    for x in np.arange(0.0, end_q + bar_q, bar_q):
        ax.axvline(x, color="#dddddd", linewidth=0.6, zorder=0)
    ax.set_xlabel(f"quarter notes (bars of {num}/{den})")
    ax.set_ylabel("MIDI key")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
