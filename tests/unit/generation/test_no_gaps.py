"""Bars that run into a reference's silent tail must not leave holes in the output."""

import dataclasses

import numpy as np

from musicapp.core import Reference
from musicapp.testing.synth import SR


def with_silent_tail(material, tail_s):
    """The material with its last `tail_s` seconds silenced, as a rendered song's release tail."""
    n = int(tail_s * SR)
    mix = material.mix.copy()
    mix[:, -n:] = 0.0
    stems = {k: v.copy() for k, v in material.stems.items()}
    for v in stems.values():
        v[:, -n:] = 0.0
    return dataclasses.replace(material, mix=mix, stems=stems)


def test_output_has_no_silent_stretch_when_references_end_in_silence(make_cond, generate):
    refs = [Reference("a", weight=0.5), Reference("b", weight=0.5)]
    cond = make_cond(refs, {"bpm": 100, "duration_s": 12}, {"bpm": 72, "duration_s": 12, "seed": 3})
    cond = dataclasses.replace(cond, materials=[with_silent_tail(m, 1.3) for m in cond.materials])
    for seed in range(4):
        out = generate(refs, cond, duration_s=20.0, seed=seed).audio.mean(axis=0)
        hop = SR // 4
        levels = np.array(
            [np.sqrt(np.mean(out[i : i + hop] ** 2)) for i in range(0, len(out) - hop, hop)]
        )
        # Not a single quarter second falls 30 dB below the piece's typical level.
        assert levels.min() > 0.03 * np.median(levels), (seed, np.argmin(levels) / 4)
