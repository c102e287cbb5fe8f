"""Tone matching: a guitar part through two amp chains, one matched toward the other."""

import numpy as np
import pedalboard as pb
import pytest
from scipy import signal

from musicapp.audio.io import AudioError
from musicapp.audio.loudness import (
    SILENCE_LUFS,
    aligned_mono,
    integrated_lufs,
    is_silent,
    normalise_lufs,
)
from musicapp.audio.tone import (
    PEAK,
    ToneTarget,
    _drive,
    log_spectral_distance,
    match_tone,
    spectral_envelope,
    tone_profile,
)

SR = 32000


def pluck(freq, dur_s, rng):
    """One Karplus-Strong string: a noise burst circulating in a damped delay line."""
    n, period = int(dur_s * SR), int(round(SR / freq))
    excitation = np.zeros(n)
    excitation[:period] = signal.lfilter([0.5], [1, -0.5], rng.uniform(-1, 1, period))
    feedback = np.zeros(period + 2)
    feedback[[0, period, period + 1]] = [1.0, -0.498, -0.498]
    return signal.lfilter([1.0], feedback, excitation)


def guitar_part(dur_s=8.0, seed=0):
    """A riff of plucked power chords (root + fifth), stereo."""
    rng = np.random.default_rng(seed)
    roots = [82.41, 98.0, 110.0, 123.47, 146.83, 164.81]
    out, t = np.zeros(int(dur_s * SR)), 0.0
    while t < dur_s - 0.3:
        root, s = rng.choice(roots), int(t * SR)
        note = pluck(root, 1.0, rng) + 0.7 * pluck(root * 1.5, 1.0, rng)
        note = note[: out.size - s]
        out[s : s + note.size] += note * rng.uniform(0.5, 1.0)
        t += rng.choice([0.25, 0.5])
    out *= 0.5 / np.max(np.abs(out))
    return np.stack([out, out]).astype(np.float32)


AMP_A = pb.Pedalboard(
    [pb.HighpassFilter(120), pb.Distortion(10), pb.LowShelfFilter(250, -6), pb.Compressor(-20, 3)]
)
AMP_B = pb.Pedalboard(
    [pb.Distortion(25), pb.PeakFilter(800, 6, 1.0), pb.LowpassFilter(4000), pb.Gain(-10)]
)
AMP_C = pb.Pedalboard(
    [pb.HighpassFilter(200), pb.Distortion(5), pb.HighShelfFilter(3000, 6), pb.Gain(-3)]
)


@pytest.fixture(scope="module")
def amps():
    dry = guitar_part()
    return {name: chain(dry, SR) for name, chain in (("a", AMP_A), ("b", AMP_B), ("c", AMP_C))}


def test_matching_amp_a_toward_amp_b_more_than_halves_the_spectral_distance(amps):
    a, b = amps["a"], amps["b"]
    before = log_spectral_distance(a, b, SR)
    out, report = match_tone(a, SR, [(b, 1.0)])
    after = log_spectral_distance(out, b, SR)
    assert before > 6.0  # the two amps really sound different
    assert after <= 0.5 * before, (before, after)
    assert report.drive_db > 0  # B is far more saturated than A: a drive stage was fitted
    crest_a, crest_b = tone_profile(a, SR).crest_db, tone_profile(b, SR).crest_db
    assert abs(tone_profile(out, SR).crest_db - crest_b) < 0.5 * abs(crest_a - crest_b)
    assert out.shape == a.shape and out.dtype == np.float32
    assert np.max(np.abs(out)) <= PEAK + 1e-6
    assert integrated_lufs(out, SR) == pytest.approx(integrated_lufs(b, SR), abs=1.5)


def test_a_fifty_fifty_blend_of_two_references_lands_between_them(amps):
    a, b, c = amps["a"], amps["b"], amps["c"]
    out, _ = match_tone(a, SR, [(b, 1.0), (c, 1.0)])
    between = log_spectral_distance(b, c, SR)
    to_b, to_c = log_spectral_distance(out, b, SR), log_spectral_distance(out, c, SR)
    assert to_b < between and to_c < between, (to_b, to_c, between)
    _, eb = spectral_envelope(b, SR)
    _, ec = spectral_envelope(c, SR)
    _, eo = spectral_envelope(out, SR)
    inside = (eo >= np.minimum(eb, ec) - 2.0) & (eo <= np.maximum(eb, ec) + 2.0)
    assert inside.mean() >= 0.75, inside.mean()
    # Leaning the weights toward B moves the result toward B.
    leaning, _ = match_tone(a, SR, [(b, 4.0), (c, 1.0)])
    assert log_spectral_distance(leaning, b, SR) < to_b


def test_wet_mixes_the_untouched_input_back(amps):
    a, b = amps["a"], amps["b"]
    same, _ = match_tone(a, SR, [ToneTarget(tone_profile(b, SR))], wet=0.0)
    assert np.array_equal(same, a)
    full = log_spectral_distance(match_tone(a, SR, [(b, 1.0)])[0], b, SR)
    half = log_spectral_distance(match_tone(a, SR, [(b, 1.0)], wet=0.5)[0], b, SR)
    assert full < half < log_spectral_distance(a, b, SR)
    with pytest.raises(AudioError, match="wet"):
        match_tone(a, SR, [(b, 1.0)], wet=1.5)


def test_drive_can_be_switched_off(amps):
    _, report = match_tone(amps["a"], SR, [(amps["b"], 1.0)], drive=False)
    assert report.drive_db == 0


def test_silent_input_and_bad_weights_are_refused(amps):
    with pytest.raises(AudioError, match="silent"):
        match_tone(np.zeros((2, SR * 2), np.float32), SR, [(amps["b"], 1.0)])
    with pytest.raises(AudioError, match="weights"):
        match_tone(amps["a"], SR, [(amps["b"], 0.0)])
    with pytest.raises(AudioError, match="target 2 is silent"):
        match_tone(amps["a"], SR, [(amps["b"], 1.0), (np.zeros((2, SR), np.float32), 1.0)])
    with pytest.raises(AudioError, match="no target"):
        match_tone(amps["a"], SR, [])


def test_the_drive_stage_is_pedalboards_distortion_curve():
    x = np.random.default_rng(1).normal(0, 0.1, (2, 4000)).astype(np.float32)
    level = 10 * np.log10(np.mean(x.astype(np.float64) ** 2))
    ours = _drive(x, 18.0, level)
    calibrated = x * np.float32(10 ** ((-20.0 - level) / 20))
    assert np.allclose(ours, pb.Distortion(18.0)(calibrated, SR), atol=1e-5)


def test_loudness_follows_bs1770_for_a_sine():
    t = np.arange(SR * 3) / SR
    sine = np.stack([0.1 * np.sin(2 * np.pi * 997 * t)] * 2).astype(np.float32)
    assert integrated_lufs(sine, SR) == pytest.approx(-20.0, abs=0.2)
    assert integrated_lufs(normalise_lufs(sine, SR, -14.0), SR) == pytest.approx(-14.0, abs=0.1)
    assert integrated_lufs(np.zeros((2, SR), np.float32), SR) == -70.0
    assert np.isfinite(integrated_lufs(sine[:, :100], SR))  # shorter than one gating block


def test_a_more_compressed_target_gets_a_compressor_and_drive_stays_out():
    dry = guitar_part(seed=2)
    sections = np.repeat([1.0, 0.25, 0.6, 0.12], dry.shape[1] // 4 + 1)[: dry.shape[1]]
    dynamic = dry * sections.astype(np.float32)  # loud and quiet passages, 20 dB apart
    squashed = pb.Pedalboard([pb.Compressor(-30, 8, 5, 100), pb.Gain(12)])(dynamic, SR)
    out, report = match_tone(dynamic, SR, [(squashed, 1.0)])
    assert report.compressor_ratio > 1 and report.drive_db == 0
    spread = {k: tone_profile(v, SR).spread_db for k, v in (("in", dynamic), ("ref", squashed))}
    assert abs(tone_profile(out, SR).spread_db - spread["ref"]) < 0.25 * (
        spread["in"] - spread["ref"]
    )
    _, unmatched = match_tone(dynamic, SR, [(squashed, 1.0)], dynamics_match=False)
    assert unmatched.compressor_ratio == 1


def flipped(audio):
    """Stereo with the right channel's polarity inverted (R = -L for a centred take)."""
    return np.stack([audio[0], -audio[1]])


def test_phase_inverted_stereo_is_loud_and_only_silence_in_every_channel_is_silent():
    t = np.arange(SR * 2) / SR
    sine = (0.1 * np.sin(2 * np.pi * 997 * t)).astype(np.float32)
    inverted = np.stack([sine, -sine])
    assert integrated_lufs(inverted.mean(axis=0), SR) == SILENCE_LUFS  # what a mono sum hears
    assert not is_silent(inverted, SR)
    assert np.allclose(aligned_mono(inverted), sine)  # the analysis hears one side, not nothing
    assert np.allclose(aligned_mono(np.stack([sine, 0.5 * sine])), 0.75 * sine)  # plain mean
    assert integrated_lufs(inverted, SR) == pytest.approx(-20.0, abs=0.2)
    assert not is_silent(np.stack([sine, np.zeros_like(sine)]), SR)  # one side playing
    assert is_silent(np.zeros((2, SR), np.float32), SR)
    hiss = np.random.default_rng(0).normal(0, 1e-5, (2, SR)).astype(np.float32)  # -100 dBFS
    assert is_silent(hiss, SR)


def test_a_phase_inverted_di_is_tone_matched_as_the_upright_one_keeping_its_channels(amps):
    dry = guitar_part(seed=3)
    upright, _ = match_tone(dry, SR, [(amps["b"], 1.0)])
    out, report = match_tone(flipped(dry), SR, [(amps["b"], 1.0)])
    assert out.shape == dry.shape
    assert np.allclose(out[1], -out[0], atol=1e-4)  # still R = -L: nothing summed or dropped
    assert np.allclose(out[0], upright[0], atol=1e-3)  # the same processing as the upright take
    before = log_spectral_distance(dry[:1], amps["b"][:1], SR)
    assert log_spectral_distance(out[:1], amps["b"][:1], SR) < 0.5 * before
    assert report.gain_db != 0


def test_a_phase_inverted_reference_has_the_tone_of_the_upright_one(amps):
    upright, inverted = tone_profile(amps["b"], SR), tone_profile(flipped(amps["b"]), SR)
    assert np.allclose(inverted.envelope_db, upright.envelope_db, atol=0.01)
    assert inverted.loudness_lufs == pytest.approx(upright.loudness_lufs, abs=0.01)
    assert inverted.crest_db == pytest.approx(upright.crest_db, abs=0.01)
