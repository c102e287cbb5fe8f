"""Humanised notes played on sampled instruments (FluidR3 through tinysoundfont), part by part."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import signal

from musicapp.catalog.synth import play_notes
from recordings.parts import Event

DRUM_CHANNEL = 9
DRUM_BANK = 128
RELEASE_GAP_S = 0.02  # release a little early so repeated notes are heard as separate notes
ANTI_IMAGE_HZ = 15000.0


class Renderer:
    """One tinysoundfont synthesizer at one sample rate with the soundfont loaded once."""

    def __init__(self, soundfont: Path, rate: int) -> None:
        import tinysoundfont

        self.rate = rate
        self.synth = tinysoundfont.Synth(gain=0, samplerate=rate)
        self.sfid = self.synth.sfload(str(soundfont))
        self.anti_image = signal.butter(8, ANTI_IMAGE_HZ, "lowpass", fs=rate, output="sos")

    def render(
        self, events: Sequence[Event], n: int, program: int, drums: bool = False
    ) -> np.ndarray:
        """The events on one instrument (or drum kit preset): float32 stereo (2, n)."""
        synth, chan = self.synth, DRUM_CHANNEL if drums else 0
        synth.sounds_off(0)
        synth.sounds_off(DRUM_CHANNEL)
        bank = DRUM_BANK if drums else 0
        synth.program_select(chan, self.sfid, bank, program, is_drums=drums)
        out = play_notes(synth, chan, events, n, self.rate, RELEASE_GAP_S)
        if drums:
            return out.copy()
        # The synth's interpolation leaves faint images of transposed samples at 16-22 kHz, where
        # a real string instrument has nothing: filter them out (cymbals keep their air).
        return signal.sosfilt(self.anti_image, out, axis=-1).astype(np.float32)
