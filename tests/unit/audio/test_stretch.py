"""Time stretching keeps pitch and reaches the target length; pitch shifting keeps the length."""

import numpy as np
import pytest

from musicapp.audio import AudioError
from musicapp.audio.stretch import pitch_shift, time_stretch
from musicapp.testing.synth import SR, tone


def dominant_hz(audio):
    x = audio[0] * np.hanning(audio.shape[1])
    return np.argmax(np.abs(np.fft.rfft(x))) * SR / audio.shape[1]


@pytest.mark.parametrize("factor", [0.8, 1.25, 0.5])
def test_stretch_keeps_the_pitch_and_reaches_the_target_length(factor):
    x = np.repeat(tone(440, 2.0), 2, axis=0)
    target = int(x.shape[1] * factor)
    y = time_stretch(x, target)
    assert y.shape == (2, target) and y.dtype == np.float32
    assert dominant_hz(y) == pytest.approx(440, abs=2)
    middle = y[:, target // 4 : 3 * target // 4]
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


def test_stretching_a_click_train_moves_the_clicks_with_it():
    x = np.zeros((1, SR * 2), dtype=np.float32)
    x[0, :: SR // 2] = 1.0  # clicks every 0.5 s
    y = time_stretch(x, int(SR * 2 * 0.8))
    env = np.convolve(np.abs(y[0]), np.ones(160) / 160, mode="same")
    peaks = [
        int(np.argmax(env[int(i * 0.4 * SR) - 800 : int(i * 0.4 * SR) + 800])) - 800
        for i in (1, 2, 3)
    ]
    assert max(abs(p) for p in peaks) < 0.02 * SR


def test_pitch_shift_moves_by_semitones_and_keeps_length():
    x = tone(440, 1.5)
    up = pitch_shift(x, 12)
    assert up.shape == x.shape
    assert dominant_hz(up) == pytest.approx(880, rel=0.01)
    assert dominant_hz(pitch_shift(x, -2)) == pytest.approx(440 * 2 ** (-2 / 12), rel=0.01)


def test_a_stretch_with_a_pitch_change_does_both():
    y = time_stretch(tone(440, 1.0), int(0.7 * SR), semitones=3)
    assert y.shape == (1, int(0.7 * SR))
    assert dominant_hz(y) == pytest.approx(440 * 2**0.25, rel=0.01)


def test_bad_targets_and_tiny_inputs():
    with pytest.raises(AudioError):
        time_stretch(tone(440, 0.1), 0)
    assert time_stretch(np.zeros((2, 100), dtype=np.float32), 37).shape == (2, 37)
