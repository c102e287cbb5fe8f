"""A composed score played as audio: one stem per track, mixed as the demo's songs are.

The same soundfont renderer as the demo catalogue (catalog/synth.py: tinysoundfont and
TimGM6mb), at the catalogue's rate, each stem levelled by its role and spread across the stereo
field by catalog/mix.py under one peak-safe gain. So a take sounds like its references: with
`instruments` (role -> General MIDI program, from the references' conditioning) each track
plays on its reference's instrument for that role, whatever program the model wrote.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from musicapp.catalog import mix
from musicapp.catalog.mix import Audio
from musicapp.config import CATALOGUE_RATE
from musicapp.core import InvalidInput, Stem
from musicapp.generation.composer.conditioning import Part, parts_of

if TYPE_CHECKING:
    from symusic.core import ScoreTick

TAIL_S = 1.5  # the last notes' release
_STEM_ROLE = {"drums": "rhythm"}  # the catalogue's name for a drum stem's role


@dataclass(frozen=True)
class RenderedScore:
    mix: Audio  # float32 (2, n) at `rate`
    stems: dict[str, Audio]  # stem name -> float32 mono (n,), before its pan
    stem_list: tuple[Stem, ...]  # in track order, with roles
    rate: int


def render_score(
    score: ScoreTick,
    instruments: Mapping[str, int] | None = None,
    stems: Sequence[Stem] = (),
    length_s: float | None = None,
) -> RenderedScore:
    """Play every track with notes on its instrument: the mix and one mono stem per track.

    `instruments` maps a role (melody, harmony, bass, drums) to the program to play it with;
    `stems` (a catalogue song's) name the tracks' roles as in conditioning.parts_of; the length
    is the last note's end plus a release tail unless `length_s` is given.
    """
    from musicapp.catalog.synth import instrument_name, normalise, render

    parts = parts_of(score, stems)
    if not parts:
        raise InvalidInput("composed score: it has no notes to render")
    timed: Any = score.to("second")
    end_s = max(float(timed.end()), 0.0) + TAIL_S if length_s is None else length_s
    if end_s <= 0:
        raise InvalidInput(f"render: length {end_s:g} s must be above 0")
    n = round(end_s * CATALOGUE_RATE)
    names = _stem_names(parts)
    audio: dict[str, Audio] = {}
    stem_list = []
    for part, name in zip(parts, names, strict=True):
        program = part.program
        if instruments and part.role in instruments:
            program = int(instruments[part.role])
        if not 0 <= program <= 127:
            raise InvalidInput(f"render: program {program} for {part.role} is not 0-127")
        events = [
            (float(x.time), float(x.time + x.duration), int(x.pitch), int(x.velocity))
            for x in timed.tracks[part.index].notes
        ]
        role = _STEM_ROLE.get(part.role, part.role)
        drum_preset = program if part.is_drum else None
        audio[name] = normalise(
            render(events, n, 0 if part.is_drum else program, drum_preset), role
        )
        instrument = "drum kit" if part.is_drum else instrument_name(program)
        stem_list.append(Stem(name, instrument, "drums" if part.is_drum else "composed", role))
    tracks = [audio[s.name] for s in stem_list]
    gains = mix.stereo_gains(stem_list)
    raw = mix.mixdown(tracks, gains)
    out = mix.mixdown(tracks, gains, mix.peak_safe_gain(raw))
    return RenderedScore(out, audio, tuple(stem_list), CATALOGUE_RATE)


def _stem_names(parts: Sequence[Part]) -> list[str]:
    """Each track's stem name: its own, else its role; made unique with a number."""
    names: list[str] = []
    for part in parts:
        base = (
            "".join(c if c.isalnum() or c in "-_" else "-" for c in part.name.strip()) or part.role
        )
        name, i = base, 2
        while name in names:
            name, i = f"{base}-{i}", i + 1
        names.append(name)
    return names


def as_program_map(parts: Sequence[Part]) -> dict[str, int]:
    """role -> program of the first part with that role: a reference's instruments."""
    out: dict[str, int] = {}
    for part in parts:
        out.setdefault(part.role, part.program)
    return out
