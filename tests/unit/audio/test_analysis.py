"""Tempo, beats, downbeats, chroma and key alignment on audio made by code."""

import numpy as np
import pytest

from musicapp.audio.analysis import (
    analyse,
    bar_features,
    chroma,
    estimate_tempo,
    key_shift,
    onset_strength,
)
from musicapp.testing.synth import SR, click_track, synth_stems, tone


def test_tempo_of_a_120_bpm_click_track_is_within_2_percent():
    clicks, _ = click_track(120, 20)
    env, rate = onset_strength(clicks, SR)
    assert estimate_tempo(env, rate) == pytest.approx(120, rel=0.02)
    assert analyse(clicks, SR).tempo_bpm == pytest.approx(120, rel=0.02)


@pytest.mark.parametrize("bpm", [84.0, 97.0, 123.4, 140.0])
def test_other_tempi_and_beats_line_up_with_the_clicks(bpm):
    clicks, times = click_track(bpm, 20)
    result = analyse(clicks, SR)
    assert result.tempo_bpm == pytest.approx(bpm, rel=0.02)
    # Every tracked beat sits on a click (within 20 ms) and nearly every click has a beat.
    gaps = np.abs(result.beats_s[:, None] - times[None, :]).min(axis=1)
    assert gaps.max() < 0.02
    assert len(result.beats_s) >= len(times) - 2


def test_bars_start_on_the_accented_beat():
    clicks, times = click_track(120, 20, start_s=0.25)
    result = analyse(clicks, SR)
    downbeats = times[::4]
    gaps = np.abs(result.bars_s[:-1, None] - downbeats[None, :]).min(axis=1)
    assert gaps.max() < 0.02
    assert np.allclose(np.diff(result.bars_s), 2.0, atol=0.03)


def test_a_song_with_stems_has_its_tempo_and_downbeats_found():
    stems = synth_stems(100, 24, seed=3)
    mix = sum(stems.values())
    result = analyse(mix, SR)
    assert result.tempo_bpm == pytest.approx(100, rel=0.02)
    bar = 2.4
    assert np.all(np.abs(result.bars_s / bar - np.round(result.bars_s / bar)) < 0.02 / bar)


def test_a_tempo_hint_is_trusted():
    clicks, _ = click_track(120, 12)
    result = analyse(clicks, SR, tempo_hint=60.0)
    assert result.tempo_bpm == 60.0 and result.from_hint


def test_silence_and_short_audio_still_give_one_bar_at_least():
    result = analyse(np.zeros((2, SR)), SR)
    assert result.n_bars >= 1 and result.bars_s[-1] <= 1.0 + 1e-6


def test_chroma_of_a440_is_a_and_key_shift_matches_rolled_profiles():
    c, _ = chroma(tone(440, 1.0), SR)
    assert int(np.argmax(c.mean(axis=1))) == 9  # C=0 ... A=9
    major = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], dtype=float)  # C major scale
    d_major = np.roll(major, 2)
    assert key_shift(d_major, major) == -2
    assert key_shift(major, d_major) == 2
    a_minor = major  # same pitch classes: nothing to move
    assert key_shift(a_minor, major) == 0


def test_bar_features_describe_every_bar():
    stems = synth_stems(120, 10, seed=1)
    mix = sum(stems.values())
    bars = np.arange(0, 10.01, 2.0)
    f = bar_features(mix, SR, bars)
    assert len(f) == 5 and f.chroma_start.shape == (5, 12) and f.timbre.shape == (5, 12)
    assert np.all(f.rms > 0)


def test_triple_time_is_found_and_a_catalogue_meter_and_downbeat_are_trusted():
    waltz, times = click_track(150, 20, beats_per_bar=3)
    result = analyse(waltz, SR)
    assert result.beats_per_bar == 3
    assert np.allclose(np.diff(result.bars_s), 3 * 60 / 150, atol=0.03)
    plain, times = click_track(120, 12, accent=False)
    hinted = analyse(plain, SR, tempo_hint=120, beats_per_bar=3, downbeat_s=times[2])
    assert hinted.beats_per_bar == 3
    assert np.min(np.abs(hinted.bars_s - times[2])) < 0.02
    assert np.allclose(np.diff(hinted.bars_s), 1.5, atol=0.03)


def test_bars_can_be_regrouped_and_folded():
    clicks, times = click_track(120, 20)
    result = analyse(clicks, SR)
    double = result.bars(4, factor=2.0)  # four beats at 240 BPM: half bars
    assert np.allclose(np.diff(double), 1.0, atol=0.03)
    half = result.bars(4, factor=0.5)  # four beats at 60 BPM: two bars
    assert np.allclose(np.diff(half), 4.0, atol=0.03)
    assert np.min(np.abs(half[:, None] - times[::4][None, :]), axis=1).max() < 0.02
