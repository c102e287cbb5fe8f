"""Levels in the concat engine: weights realised as shares, and no level steps at joins."""

import numpy as np
import pytest

from musicapp.core import GenerationRequest, Reference
from musicapp.generation.base import Conditioning, Material
from musicapp.generation.concat import CROSSFADE_S, ConcatEngine
from musicapp.generation.levels import EDGE_S, balance, level_db, share_notes
from musicapp.jobs import CancelToken
from musicapp.testing.synth import SR, synth_material, synth_song


def sustained(index, ref, bpm, seed, seconds=32.0):
    """A held organ-like chord that swells and fades by up to 12 dB within each bar and runs on
    across its own bar lines without a step: bars taken out of order would jump at the joins."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    root = 110.0 * 2 ** (rng.integers(0, 7) / 12)
    tone = sum(np.sin(2 * np.pi * root * k * t + rng.uniform(0, 6)) / k for k in (1, 2, 3, 4, 5))
    bar = int(round(4 * 60.0 / bpm * SR))
    at_lines = rng.uniform(-12, 0, n // bar + 2)  # dB at each bar line, glided between
    env = 10 ** (np.interp(np.arange(n) / bar, np.arange(len(at_lines)), at_lines) / 20)
    mono = (0.2 * tone * env).astype(np.float32)
    mix = np.stack([mono, 0.9 * mono])
    song = synth_song(ref.song_id, bpm, seconds, stems=())
    return Material(index, ref, song, SR, mix, {}, tempo_bpm=bpm, beats_per_bar=4, downbeat_s=0.0)


def join_steps(audio, points):
    e, xf = int(EDGE_S * SR), int(CROSSFADE_S * SR)
    return np.array(
        [
            abs(level_db(audio[:, b + xf : b + xf + e]) - level_db(audio[:, b - xf - e : b - xf]))
            for b in points
            if b - xf - e >= 0 and b + xf + e <= audio.shape[1]
        ]
    )


def test_joins_carry_the_level_across_instead_of_jumping():
    engine = ConcatEngine()
    steps = []
    for seed in range(3):
        refs = (Reference("a"), Reference("b"))
        mats = [sustained(0, refs[0], 120, seed * 2), sustained(1, refs[1], 120, seed * 2 + 1)]
        cond = Conditioning(mats, SR)
        request = GenerationRequest(refs, duration_s=30, seed=seed, options={"key_align": "off"})
        plan = engine.plan(request, cond, lambda p: None, CancelToken())
        out = engine.render(plan, request, cond, lambda p: None, CancelToken()).audio
        steps += join_steps(out, plan.bounds[1:-2]).tolist()
    # The sources jump by up to 12 dB at every bar line; the take glides across its joins.
    assert np.median(steps) < 1.0
    assert np.quantile(steps, 0.9) < 4.0  # the largest are held to a 6 dB correction


def test_balance_moves_shares_to_the_weights_within_its_limit():
    # One reference's bars are 4x quieter in energy: a gain of +3 dB each way fixes it.
    b = balance(np.array([1.0, 4.0]), [1, 1])
    got = b.gains**2 * np.array([1.0, 4.0])
    assert got[0] / got.sum() == pytest.approx(0.5)
    assert not b.limited.any()
    # 1000x is past what a gain within 6 dB may do: the take says so, naming the reference.
    b = balance(np.array([1.0, 1000.0]), [1, 1])
    assert b.gains.max() == pytest.approx(10 ** (6 / 20)) and b.limited.all()
    got = b.gains**2 * np.array([1.0, 1000.0])
    notes = share_notes(got / got.sum(), [1, 1], ["whisper", "roar"], b, n_bars=16)
    assert notes[0].startswith("whisper has 2% of the take for a weight of 50%")  # 4 vs 250
    assert "quieter" in notes[0]
    b = balance(np.array([1.0, 1.0, 1.0, 0.0]), [1, 1, 1, 1])
    notes = share_notes([1 / 3, 1 / 3, 1 / 3, 0.0], [1, 1, 1, 1], list("abcd"), b, n_bars=3)
    assert any(n.startswith("d has 0%") for n in notes)
    assert share_notes([0.5, 0.5], [1, 1], list("ab"), balance(np.ones(2), [1, 1]), 16) == ()


def test_shares_follow_the_weights_on_varied_synthetic_songs():
    rng = np.random.default_rng(7)
    engine = ConcatEngine()
    diffs = []
    for t in range(10):
        k = int(rng.integers(2, 5))
        w = rng.choice([0.5, 1.0, 1.0, 2.0, 3.0], size=k)
        refs = tuple(Reference(f"r{i}", weight=float(w[i])) for i in range(k))
        mats = [
            synth_material(
                i,
                refs[i],
                bpm=float(rng.choice([90, 104, 120, 132])),
                root_midi=int(rng.integers(55, 67)),
                seed=int(rng.integers(1000)),
                duration_s=24.0,
                drums=bool(rng.random() < 0.7),
            )
            for i in range(k)
        ]
        request = GenerationRequest(refs, duration_s=20, seed=t)
        result = engine.generate(request, Conditioning(mats, SR), lambda p: None, CancelToken())
        shares = np.array([s.share for s in result.provenance.shares])
        diffs += np.abs(shares - w / w.sum()).tolist()
    assert np.mean(diffs) <= 0.10
