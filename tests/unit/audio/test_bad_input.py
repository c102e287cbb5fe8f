"""Bad and unusual input files: each is read or refused with a message naming the file."""

import struct

import numpy as np
import pytest
import soundfile as sf

from musicapp.audio.io import AudioError, audio_info, load_audio, read_audio, to_channels

SR = 32000


def sine(freq, sr, dur_s=1.0, channels=1, amp=0.5):
    t = np.arange(int(sr * dur_s)) / sr
    return np.repeat((amp * np.sin(2 * np.pi * freq * t))[None], channels, axis=0).astype(
        np.float32
    )


def peak_hz(mono, sr):
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(mono.size)))
    return np.argmax(spectrum) * sr / mono.size


def test_mono_is_duplicated_to_stereo(tmp_path):
    path = tmp_path / "mono.wav"
    sf.write(path, sine(440, SR)[0], SR)
    audio = load_audio(path, SR)
    assert audio.shape == (2, SR) and np.array_equal(audio[0], audio[1])


def test_six_channels_are_downmixed_without_clipping_or_dropping_the_centre(tmp_path):
    path = tmp_path / "surround.wav"
    x = np.zeros((6, SR), np.float32)
    x[2] = sine(440, SR)[0] * 2  # centre only (peak 1.0)
    sf.write(path, x.T, SR, subtype="FLOAT")
    audio = load_audio(path, SR)
    assert audio.shape == (2, SR)
    assert np.allclose(audio[0], audio[1]) and 0.2 < np.max(np.abs(audio)) <= 1.0
    quad = to_channels(
        np.stack([sine(440, SR)[0], np.zeros(SR), sine(440, SR)[0], np.zeros(SR)]), 2
    )
    assert np.max(np.abs(quad[0])) > 0.4 and np.max(np.abs(quad[1])) == 0  # L/R pairs kept


@pytest.mark.parametrize("rate", [8000, 96000, 44101])  # 44101: an odd ratio
def test_low_and_high_sample_rates_are_resampled_keeping_pitch_and_length(tmp_path, rate):
    path = tmp_path / f"at{rate}.wav"
    sf.write(path, sine(440, rate, 2.0, 2).T, rate)
    info = audio_info(path)
    assert (info.sample_rate, info.channels) == (rate, 2) and info.duration_s == pytest.approx(2)
    audio = load_audio(path, SR)
    assert audio.shape == (2, 2 * SR)
    assert abs(peak_hz(audio[0], SR) - 440) < 1.0
    # Nothing folds back: outside the tone's neighbourhood the spectrum is far below it.
    spectrum = np.abs(np.fft.rfft(audio[0] * np.hanning(audio.shape[1])))
    freqs = np.fft.rfftfreq(audio.shape[1], 1 / SR)
    assert spectrum[np.abs(freqs - 440) > 50].max() < 1e-3 * spectrum.max()


@pytest.mark.parametrize("fmt", ["FLAC", "OGG", "MP3"])
def test_compressed_formats_decode(tmp_path, fmt):
    path = tmp_path / f"tone.{fmt.lower()}"
    sf.write(path, sine(440, 44100, 1.0, 2).T, 44100, format=fmt)
    audio = load_audio(path, SR)
    assert audio.shape[0] == 2 and audio.shape[1] == pytest.approx(SR, abs=SR * 0.1)
    assert abs(peak_hz(audio[0], SR) - 440) < 3.0


def test_zero_length_files_are_refused_by_name(tmp_path):
    empty = tmp_path / "zero-bytes.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match=r"zero-bytes\.wav.*empty"):
        read_audio(empty)
    no_frames = tmp_path / "no-frames.wav"
    sf.write(no_frames, np.zeros((0, 2), np.float32), SR)
    with pytest.raises(AudioError, match=r"no-frames\.wav.*no samples"):
        load_audio(no_frames, SR)


def test_text_named_wav_and_missing_file_are_refused_by_name(tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("this is a shopping list, not a recording\n" * 20)
    with pytest.raises(AudioError, match=r"notes\.wav.*cannot be read"):
        read_audio(text)
    with pytest.raises(AudioError, match=r"gone\.flac.*not found"):
        audio_info(tmp_path / "gone.flac")
    with pytest.raises(AudioError, match="is not a file"):
        read_audio(tmp_path)


def test_a_corrupt_header_is_refused_by_name(tmp_path):
    good = tmp_path / "good.wav"
    sf.write(good, sine(440, SR, 0.5, 2).T, SR)
    data = bytearray(good.read_bytes())
    for name, offset, junk in [
        ("magic.wav", 0, b"RIFX"[::-1]),  # not a RIFF file any more
        ("format.wav", 20, struct.pack("<HH", 0x7777, 0)),  # unknown codec, 0 channels
        ("rate.wav", 24, struct.pack("<I", 3)),  # 3 Hz
    ]:
        bad = tmp_path / name
        bad.write_bytes(bytes(data[:offset] + junk + data[offset + len(junk) :]))
        with pytest.raises(AudioError, match=name.replace(".", r"\.")):
            read_audio(bad)


def two_hour_wav(path, sr=8000):
    """A valid 2-hour mono 16-bit WAV, written as a header and a sparse hole: no time, no disk."""
    n_bytes = 2 * 3600 * sr * 2
    header = b"RIFF" + struct.pack("<I", 36 + n_bytes) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sr, sr * 2, 2, 16)
    header += b"data" + struct.pack("<I", n_bytes)
    with open(path, "wb") as f:
        f.write(header)
        f.truncate(len(header) + n_bytes)


def test_a_two_hour_file_is_measured_without_decoding_and_refused_over_the_limit(tmp_path):
    path = tmp_path / "two-hours.wav"
    two_hour_wav(path)
    info = audio_info(path)
    assert info.duration_s == pytest.approx(7200)
    with pytest.raises(AudioError, match=r"two-hours\.wav: lasts 2:00:00, longer than the 20:00"):
        read_audio(path, max_duration_s=1200)
    with pytest.raises(AudioError, match="two-hours.wav"):
        load_audio(path, SR, max_duration_s=1200)
