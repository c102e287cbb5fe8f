"""Rendering timed notes to mono audio with tinysoundfont and pretty_midi's General MIDI soundfont."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from musicapp.catalog.mix import Audio
from musicapp.config import CATALOGUE_RATE
from musicapp.core import InvalidInput

DRUM_CHANNEL = 9
DRUM_BANK = 128  # where a SoundFont keeps its percussion kits
# Notes are released slightly early so that repeated notes are heard as separate notes.
RELEASE_GAP_S = 0.03
# Peak level of each stem by role: the melody on top, the accompaniment under it.
ROLE_PEAK = {"melody": 0.6, "harmony": 0.42, "bass": 0.55, "rhythm": 0.45}


def soundfont_path() -> Path:
    """TimGM6mb.sf2, the small General MIDI soundfont that pretty_midi ships."""
    import pretty_midi

    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not path.is_file():
        raise InvalidInput(f"soundfont {path}: not found; reinstall pretty_midi")
    return path


@functools.cache
def _synth() -> tuple[Any, int]:
    # One synthesizer per process: loading the soundfont costs more than rendering a short stem.
    import tinysoundfont

    synth = tinysoundfont.Synth(gain=0, samplerate=CATALOGUE_RATE)
    return synth, synth.sfload(str(soundfont_path()))


def instrument_name(program: int) -> str:
    import pretty_midi

    return str(pretty_midi.program_to_instrument_name(program))


def render(
    events: Sequence[tuple[float, float, int, int]],
    n_samples: int,
    program: int = 0,
    drum_preset: int | None = None,
) -> Audio:
    """Play (start_s, end_s, key, velocity) notes on one instrument: float32 mono (n_samples,).

    With drum_preset set, the notes are keys of that General MIDI drum kit.
    """
    synth, sfid = _synth()
    synth.sounds_off(0)
    synth.sounds_off(DRUM_CHANNEL)
    if drum_preset is None:
        chan = 0
        synth.program_select(chan, sfid, 0, program)
    else:
        chan = DRUM_CHANNEL
        synth.program_select(chan, sfid, DRUM_BANK, drum_preset, is_drums=True)
    stereo = play_notes(synth, chan, events, n_samples, CATALOGUE_RATE).T
    mono: Audio = stereo.mean(axis=1).astype(np.float32)
    return mono


def play_notes(
    synth: Any,
    chan: int,
    events: Sequence[tuple[float, float, int, int]],
    n: int,
    rate: int,
    release_gap_s: float = RELEASE_GAP_S,
) -> npt.NDArray[Any]:
    """Play (start_s, end_s, key, velocity) notes on a tinysoundfont channel already set to its
    instrument: float32 stereo (2, n). Notes are released `release_gap_s` early, so a key
    struck again is heard struck again."""
    # (sample, 0 for off / 1 for on, key, velocity): at equal times offs go first, so a note
    # that ends where the same key starts again does not cut the new one short.
    timeline: list[tuple[int, int, int, int]] = []
    for start, end, key, velocity in events:
        on = round(start * rate)
        off = round(max(start + 0.02, end - release_gap_s) * rate)
        if on >= n:
            continue
        timeline.append((on, 1, key, max(1, min(127, velocity))))
        timeline.append((min(off, n), 0, key, 0))
    timeline.sort()
    chunks = []
    pos = 0
    for at, kind, key, velocity in timeline:
        if at > pos:
            chunks.append(np.frombuffer(synth.generate(at - pos), dtype=np.float32))
            pos = at
        if kind:
            synth.noteon(chan, key, velocity)
        else:
            synth.noteoff(chan, key)
    if n > pos:
        chunks.append(np.frombuffer(synth.generate(n - pos), dtype=np.float32))
    stereo = np.concatenate(chunks).reshape(-1, 2) if chunks else np.zeros((0, 2), np.float32)
    return np.ascontiguousarray(stereo.T)


def normalise(audio: Audio, role: str) -> Audio:
    """Scale a stem so its peak sits at its role's level (silence stays silence)."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak == 0.0:
        return audio
    return (audio * (ROLE_PEAK.get(role, 0.5) / peak)).astype(np.float32)
