"""Momentary and short-term loudness (EBU R128) along a recording, for the take panel's meter
while it plays: a steady tone reads its integrated loudness, a quiet passage after a loud one
reads quiet at once (momentary) and later in the 3 s window (short-term)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from musicapp.audio.loudness import SILENCE_LUFS, LoudnessTrack, integrated_lufs


def test_a_steady_tone_reads_its_integrated_loudness_at_every_frequency() -> None:
    sr = 48000
    t = np.arange(sr * 4) / sr
    for freq in (60.0, 997.0, 8000.0):  # across the K-weighting's shelf and high pass
        tone = (0.2 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        stereo = np.stack([tone, tone])
        track = LoudnessTrack(stereo, sr)
        assert track.at(2.0) == pytest.approx(integrated_lufs(stereo, sr), abs=0.05)
        assert track.at(3.5, 3.0) == pytest.approx(integrated_lufs(stereo, sr), abs=0.05)


def test_momentary_follows_a_drop_at_once_and_short_term_lags() -> None:
    sr = 44100
    t = np.arange(sr * 6) / sr
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    tone[: 3 * sr] *= 0.5  # loud for 3 s
    tone[3 * sr :] *= 0.05  # then 20 dB down
    track = LoudnessTrack(tone[None], sr)
    loud, quiet = track.at(2.9), track.at(3.5)
    assert loud - quiet == pytest.approx(20.0, abs=0.1)
    assert track.at(3.5, 3.0) > quiet + 10  # the 3 s window still holds the loud part
    assert track.at(0.0) == SILENCE_LUFS and track.at(99.0) == pytest.approx(quiet, abs=0.1)


def test_a_real_recording_reads_near_its_integrated_loudness(recordings) -> None:
    audio, sr = sf.read(recordings / "song-b" / "mix.flac", dtype="float32", always_2d=True)
    audio = audio.T
    track = LoudnessTrack(audio, sr)
    duration = audio.shape[1] / sr
    readings = [track.at(s, 3.0) for s in np.arange(3.0, duration, 0.5)]
    # Short-term readings of music scatter around the integrated (gated) loudness.
    assert np.median(readings) == pytest.approx(integrated_lufs(audio, sr), abs=2.0)
    assert sr == 48000 and audio.shape[0] == 2
