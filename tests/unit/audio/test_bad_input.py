"""Bad and unusual input files: each is read or refused with a message naming the file."""

import struct

import numpy as np
import pytest
import soundfile as sf

from musicapp.audio.io import (
    MIN_AUDIO_S,
    AudioError,
    audio_info,
    check_duration,
    check_wav_header,
    load_audio,
    read_audio,
    to_channels,
    wav_header_problem,
)

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


# Damaged files a musician hands over as their own audio: each is refused by name, with what is
# wrong, before it could become a take a few milliseconds long.


def good_wav(path, seconds=2.0, channels=2, subtype="PCM_16", sr=SR):
    sf.write(path, sine(440, sr, seconds, channels).T, sr, subtype=subtype)
    return bytearray(path.read_bytes())


def with_field(data, chunk, offset, fmt, value):
    """A copy of a RIFF file's bytes with one field of `chunk` (at `offset` in its body) set."""
    at = data.find(chunk) + 8 + offset
    out = bytearray(data)
    out[at : at + struct.calcsize(fmt)] = struct.pack(fmt, value)
    return bytes(out)


def test_a_truncated_wav_is_refused_with_the_sizes(tmp_path):
    data = good_wav(tmp_path / "whole.wav")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(bytes(data[: len(data) // 3]))
    message = r"cut\.wav: truncated WAV: .*256,000 bytes, the file holds only 85,304"
    with pytest.raises(AudioError, match=message):
        read_audio(cut)
    with pytest.raises(AudioError, match=r"cut\.wav: truncated WAV"):
        audio_info(cut)  # found from the header alone, before decoding


def test_a_wav_whose_header_claims_two_gigabytes_is_refused(tmp_path):
    data = good_wav(tmp_path / "whole.wav")
    at = data.find(b"data")
    lie = tmp_path / "huge-declared-size.wav"
    lie.write_bytes(with_field(data, b"data", -4, "<I", 0x7FFFFFF0)[: at + 8 + 448])
    with pytest.raises(AudioError, match=r"huge-declared-size\.wav: truncated WAV.*2,147,483,632"):
        read_audio(lie, min_duration_s=None)


def test_a_truncated_flac_is_refused(tmp_path):
    whole = tmp_path / "whole.flac"
    sf.write(whole, np.random.default_rng(0).normal(0, 0.1, (2 * SR, 2)), SR)
    data = whole.read_bytes()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match=r"cut\.flac: truncated or damaged FLAC"):
        read_audio(cut)


def test_a_truncated_aiff_is_refused(tmp_path):
    whole = tmp_path / "whole.aiff"
    sf.write(whole, sine(440, SR, 2.0, 2).T, SR, format="AIFF")
    data = whole.read_bytes()
    cut = tmp_path / "cut.aiff"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match=r"cut\.aiff: truncated AIFF"):
        read_audio(cut)


@pytest.mark.parametrize("bits", [0, 3, 17, 48])
def test_a_wav_with_a_bad_bits_per_sample_is_refused(tmp_path, bits):
    # 17 is what makes libsndfile decode 16-bit data as 24-bit noise, a third shorter.
    data = good_wav(tmp_path / "whole.wav")
    bad = tmp_path / "bad-bits-per-sample.wav"
    bad.write_bytes(with_field(data, b"fmt ", 14, "<H", bits))
    with pytest.raises(AudioError, match=rf"bad-bits-per-sample\.wav: damaged WAV header: {bits}"):
        read_audio(bad)


def test_a_wav_whose_block_align_disagrees_with_its_sample_size_is_refused(tmp_path):
    data = good_wav(tmp_path / "whole.wav")
    bad = tmp_path / "block-align.wav"
    bad.write_bytes(with_field(data, b"fmt ", 12, "<H", 3))
    message = r"block-align\.wav: .*16-bit samples in 2 channel\(s\) take 4 bytes per frame, but"
    with pytest.raises(AudioError, match=message):
        read_audio(bad)


def test_a_wav_whose_byte_rate_disagrees_is_refused(tmp_path):
    data = good_wav(tmp_path / "whole.wav")
    bad = tmp_path / "byte-rate.wav"
    bad.write_bytes(with_field(data, b"fmt ", 8, "<I", 12345))
    with pytest.raises(AudioError, match=r"byte-rate\.wav: .*byte rate 12,345 .*128,000"):
        read_audio(bad)


def test_twelve_bit_samples_in_a_sixteen_bit_frame_are_fine(tmp_path):
    data = good_wav(tmp_path / "whole.wav")
    twelve = tmp_path / "twelve.wav"
    twelve.write_bytes(with_field(data, b"fmt ", 14, "<H", 12))
    audio, _ = read_audio(twelve)
    assert np.allclose(audio, sine(440, SR, 2.0, 2), atol=1e-3)


@pytest.mark.parametrize("fmt", ["WAV", "WAVEX", "AIFF"])
def test_every_layout_libsndfile_writes_passes_the_header_checks(tmp_path, fmt):
    x = np.random.default_rng(1).uniform(-0.5, 0.5, (SR, 2)).astype(np.float32)
    written = 0
    for subtype in sf.available_subtypes(fmt):
        for channels in (1, 2, 6):
            path = tmp_path / f"{subtype}-{channels}.{fmt.lower()}"
            try:
                sf.write(path, x[:, np.arange(channels) % 2], SR, format=fmt, subtype=subtype)
            except (sf.LibsndfileError, RuntimeError, ValueError):
                continue  # a layout this codec cannot hold
            if fmt == "AIFF" and subtype.startswith("DWVW") and channels == 1:
                continue  # libsndfile cannot read back its own mono DWVW
            audio, sr = read_audio(path)
            # ADPCM and GSM round up to whole codec blocks.
            assert audio.shape[0] == channels and SR <= audio.shape[1] < SR + 2048, path.name
            assert sr == SR
            written += 1
    assert written >= 10


def test_a_float_wav_holding_nan_is_refused_saying_where(tmp_path):
    x = sine(440, SR, 2.0, 2)
    x[1, SR // 2 :: 1000] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, x.T, SR, subtype="FLOAT")
    with pytest.raises(
        AudioError, match=r"nan\.wav: damaged, 48 samples are not numbers .*0\.500 s"
    ):
        read_audio(path)


def decoder_stops_early(monkeypatch, keep):
    """soundfile.read returning only the frames in `keep`, without an error."""
    real_read = sf.read

    def read(*args, **kwargs):
        data, rate = real_read(*args, **kwargs)
        return data[keep], rate

    monkeypatch.setattr(sf, "read", read)


def test_audio_decoding_to_fewer_frames_than_its_header_says_is_refused(tmp_path, monkeypatch):
    # libsndfile raises for the damaged files made above; a decoder that stops early without
    # an error (other libsndfile versions, other codecs) must not pass either.
    path = tmp_path / "short-read.flac"
    sf.write(path, sine(440, SR, 2.0, 2).T, SR)
    decoder_stops_early(monkeypatch, slice(0, 100))
    with pytest.raises(AudioError, match=r"short-read\.flac: truncated FLAC, .*64,000 frames"):
        read_audio(path)


def test_mp3_frame_counts_are_estimates_and_a_short_decode_is_accepted(tmp_path, monkeypatch):
    path = tmp_path / "tone.mp3"
    sf.write(path, sine(440, 44100, 2.0, 2).T, 44100, format="MP3")
    decoder_stops_early(monkeypatch, slice(0, -500))
    audio, _ = read_audio(path)
    assert audio.shape[1] > 1.9 * 44100


def test_half_a_second_is_too_short_for_a_take(tmp_path):
    path = tmp_path / "blip.wav"
    sf.write(path, sine(440, SR, 0.5).T, SR)
    with pytest.raises(AudioError, match=r"blip\.wav: too short, it lasts 0\.500 s .* 1 s"):
        read_audio(path, min_duration_s=MIN_AUDIO_S)
    with pytest.raises(AudioError, match=r"blip\.wav: too short.*for tone matching"):
        check_duration(audio_info(path), None, "tone matching", min_duration_s=MIN_AUDIO_S)
    assert read_audio(path)[0].shape == (1, SR // 2)  # no minimum unless one is asked for


def test_exactly_one_second_is_long_enough(tmp_path):
    path = tmp_path / "one-second.wav"
    sf.write(path, sine(440, 44100, 1.0).T, 44100)
    audio, sr = read_audio(path, min_duration_s=MIN_AUDIO_S)
    assert audio.shape == (1, 44100) and sr == 44100
    check_duration(audio_info(path), None, min_duration_s=MIN_AUDIO_S)


def test_the_header_check_is_callable_alone_for_the_importer(tmp_path):
    data = good_wav(tmp_path / "whole.wav")
    assert wav_header_problem(tmp_path / "whole.wav") is None
    check_wav_header(tmp_path / "whole.wav")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(bytes(data[:1000]))
    assert wav_header_problem(cut).startswith("truncated WAV: its header says")
    with pytest.raises(AudioError, match=r"cut\.wav: truncated WAV"):
        check_wav_header(cut)
    flac = tmp_path / "not-a-wav.flac"
    sf.write(flac, sine(440, SR).T, SR)
    assert wav_header_problem(flac) is None  # other formats are left to libsndfile
