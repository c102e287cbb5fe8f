"""Stems of audio of any length: shorter than one FFT frame, one sample, damaged files."""

import json

import numpy as np
import pytest
import soundfile as sf

from musicapp.audio.io import AudioError
from musicapp.cli import main
from musicapp.core import InvalidInput
from musicapp.jobs import CancelToken
from musicapp.stems.fallback import NFFT, fallback_to_dir, hpss
from musicapp.stems.streaming import ArraySource, FileSource, run_chunked

RATE = 16000
LENGTHS = [1, 100, NFFT - 1, NFFT, NFFT + 1]


def noise(channels, n, seed=0):
    return (np.random.default_rng(seed).standard_normal((channels, n)) * 0.1).astype(np.float32)


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("n", LENGTHS)
def test_hpss_of_any_length_gives_two_parts_of_that_length_summing_to_the_input(n, channels):
    audio = noise(channels, n)
    parts = hpss(audio, RATE)
    assert parts.shape == (2, channels, n)
    assert np.abs(parts.sum(axis=0) - audio).max() < 1e-4


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("n", LENGTHS)
def test_fallback_stems_of_any_length_are_written_at_that_length(tmp_path, n, channels):
    audio = noise(channels, n)
    paths = fallback_to_dir(ArraySource(audio, RATE), tmp_path, lambda p: None, CancelToken())
    harmonic, _ = sf.read(paths["harmonic"], dtype="float32", always_2d=True)
    percussive, _ = sf.read(paths["percussive"], dtype="float32", always_2d=True)
    assert harmonic.shape == percussive.shape == (n, channels)
    assert np.abs(harmonic + percussive - audio.T).max() < 1e-3  # 24-bit FLAC


def test_a_last_chunk_shorter_than_a_frame_is_separated_too(tmp_path):
    # No overlap: the last window is a single sample after 0.5 s of audio.
    audio = noise(2, RATE // 2 + 1)
    paths = fallback_to_dir(
        ArraySource(audio, RATE), tmp_path, lambda p: None, CancelToken(), 0.5, 0.0
    )
    harmonic, _ = sf.read(paths["harmonic"], dtype="float32")
    percussive, _ = sf.read(paths["percussive"], dtype="float32")
    assert harmonic.shape == (RATE // 2 + 1, 2)
    assert np.abs(harmonic + percussive - audio.T).max() < 1e-3


@pytest.mark.parametrize("n", [1, NFFT - 1, NFFT + 1])
def test_demucs_separates_audio_shorter_than_a_segment_at_another_rate(tmp_path, n):
    from musicapp.stems.demucs_repo import tiny_htdemucs
    from musicapp.stems.separate import SeparationOptions, separate_to_dir

    model = tiny_htdemucs(segment=1.0)
    paths = separate_to_dir(
        model,
        ArraySource(noise(1, n), RATE),
        tmp_path,
        SeparationOptions(device="cpu"),
        lambda p: None,
        CancelToken(),
    )
    want = -(-n * int(model.samplerate) // RATE)  # the same duration at the model's rate
    for path in paths.values():
        assert sf.read(path, always_2d=True)[0].shape == (want, 2)


def test_no_audio_at_all_is_refused_by_name(tmp_path):
    empty = ArraySource(np.zeros((2, 0), np.float32), RATE, name="nothing")
    with pytest.raises(InvalidInput, match="nothing: contains no audio"):
        run_chunked(empty, hpss, ["a", "b"], tmp_path, RATE, 2, lambda p: None, CancelToken())


@pytest.mark.parametrize("n", LENGTHS)
def test_stems_command_on_short_files_exits_0_with_stems_of_their_length(
    tmp_path, monkeypatch, capsys, n
):
    monkeypatch.setenv("MUSICAPP_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("MUSICAPP_DATA_DIR", str(tmp_path / "data"))
    src = tmp_path / f"short-{n}.wav"
    sf.write(src, noise(2, n).T, RATE)
    assert main(["stems", str(src), "--out", str(tmp_path / "out"), "--json", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    for path in json.loads(captured.out)["stems"].values():
        assert sf.info(path).frames == n


def damaged_files(tmp_path):
    """A truncated WAV and FLAC, and a WAV whose header claims two gigabytes."""
    sf.write(tmp_path / "whole.wav", noise(2, 2 * RATE).T, RATE)
    wav = (tmp_path / "whole.wav").read_bytes()
    (tmp_path / "cut.wav").write_bytes(wav[: len(wav) // 2])
    at = wav.find(b"data") + 4
    huge = wav[:at] + (0x7FFFFFF0).to_bytes(4, "little") + wav[at + 4 : at + 4 + 448]
    (tmp_path / "huge-declared-size.wav").write_bytes(huge)
    sf.write(tmp_path / "whole.flac", noise(2, 2 * RATE).T, RATE)
    flac = (tmp_path / "whole.flac").read_bytes()
    (tmp_path / "cut.flac").write_bytes(flac[: len(flac) // 2])
    return ["cut.wav", "huge-declared-size.wav", "cut.flac"]


def test_stems_command_on_damaged_files_exits_2_with_one_line_naming_the_file(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("MUSICAPP_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("MUSICAPP_DATA_DIR", str(tmp_path / "data"))
    for name in damaged_files(tmp_path):
        code = main(["stems", str(tmp_path / name), "--no-progress"])
        err = capsys.readouterr().err
        assert code == 2, name
        assert err.count("\n") == 1 and name in err and "truncated" in err, err
    assert not list((tmp_path / "data" / "stems").glob("*/*.flac"))  # nothing half-made kept


def test_a_file_source_refuses_a_window_that_decodes_short(tmp_path):
    damaged_files(tmp_path)
    with pytest.raises(AudioError, match=r"cut\.wav: truncated WAV"):
        FileSource(tmp_path / "cut.wav")
    source = FileSource(tmp_path / "cut.flac")  # FLAC's header is whole; its frames are not
    with pytest.raises(AudioError, match=r"cut\.flac: truncated or damaged FLAC"):
        source.read(0, source.frames)
