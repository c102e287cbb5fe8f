"""Audio file I/O: clear errors naming the file, atomic writes, resampling, channel conversion."""

import numpy as np
import pytest
import soundfile as sf

from musicapp.audio import AudioError, read_audio, resample, to_channels, write_wav
from musicapp.core import InvalidInput
from musicapp.testing.synth import tone


def test_missing_unreadable_and_empty_files_are_named(tmp_path):
    with pytest.raises(AudioError, match="nope.wav.*not found"):
        read_audio(tmp_path / "nope.wav")
    junk = tmp_path / "junk.wav"
    junk.write_text("not audio at all")
    with pytest.raises(AudioError, match="junk.wav.*cannot be read"):
        read_audio(junk)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros((0, 2), dtype=np.float32), 32000)
    with pytest.raises(AudioError, match="empty.wav.*no samples"):
        read_audio(empty)
    assert issubclass(AudioError, InvalidInput)


def test_write_then_read_round_trips_without_leaving_temporary_files(tmp_path):
    audio = np.stack([tone(440, 0.5)[0], tone(660, 0.5)[0]])
    path = write_wav(tmp_path / "sub" / "out.wav", audio, 32000)
    back, sr = read_audio(path)
    assert sr == 32000 and back.shape == audio.shape and back.dtype == np.float32
    assert np.max(np.abs(back - audio)) < 1e-3  # 16-bit quantisation
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.wav"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = write_wav(tmp_path / "out.wav", tone(440, 0.1), 32000)
    before = path.read_bytes()
    with pytest.raises(AudioError):
        write_wav(path, np.zeros((2, 0), dtype=np.float32), 32000)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]


def test_resample_keeps_pitch_and_scales_length():
    x = tone(440, 1.0, sr=32000)
    y = resample(x, 32000, 44100)
    assert y.shape == (1, 44100) and y.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(y[0] * np.hanning(y.shape[1])))
    assert abs(np.argmax(spectrum) * 44100 / y.shape[1] - 440) < 2
    assert np.array_equal(resample(x, 32000, 32000), x)
    with pytest.raises(AudioError):
        resample(x, 0, 32000)


def test_to_channels():
    mono = tone(440, 0.1)
    stereo = to_channels(mono, 2)
    assert stereo.shape == (2, mono.shape[1]) and np.array_equal(stereo[0], stereo[1])
    back = to_channels(np.stack([stereo[0], -stereo[1]]), 1)
    assert back.shape == (1, mono.shape[1]) and np.allclose(back, 0)
    assert to_channels(mono[0], 1).shape == (1, mono.shape[1])  # 1-D is taken as mono
    with pytest.raises(AudioError):
        to_channels(mono, 0)
