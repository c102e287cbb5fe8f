"""Listening to stems without Qt: which are heard, their mix, and reading their files."""

import numpy as np
import pytest
import soundfile as sf

from musicapp.jobs import Cancelled, CancelToken
from musicapp.stems.mix import audible, mix, read_stems
from musicapp.stems.service import StemMethod, StemsResult


def test_mute_wins_over_solo_and_the_order_is_kept():
    names = ["vocals", "drums", "bass"]
    assert audible(names, set(), {"drums"}) == ["vocals", "bass"]
    assert audible(names, {"bass", "vocals"}, set()) == ["vocals", "bass"]
    assert audible(names, {"bass", "vocals"}, {"vocals"}) == ["bass"]
    assert audible(names, {"bass"}, {"bass"}) == []
    assert audible(names, set(), set(names)) == []


def test_the_mix_pads_to_the_longest_and_scales_down_only_when_it_clips():
    stems = {"a": np.full((2, 4), 0.4, np.float32), "b": np.full((2, 2), 0.4, np.float32)}
    out = mix(stems, ["a", "b"])
    assert out.shape == (2, 4) and out.dtype == np.float32
    assert np.allclose(out[:, :2], 0.8) and np.allclose(out[:, 2:], 0.4)
    loud = mix(
        {"a": np.full((2, 3), 0.9, np.float32)} | {"b": np.full((2, 3), 0.9, np.float32)},
        ["a", "b"],
    )
    assert np.isclose(np.max(np.abs(loud)), 1.0)
    assert mix(stems, []).shape == (2, 0)


def _result(tmp_path, files):
    return StemsResult(
        stems=files,
        sample_rate=44100,
        method=StemMethod.FALLBACK,
        label="test",
        reason="",
        cached=False,
    )


def test_stem_files_are_read_as_stereo_at_the_first_file_rate(tmp_path):
    sf.write(tmp_path / "a.wav", np.zeros(4410, np.float32), 44100)  # mono
    sf.write(tmp_path / "b.wav", np.zeros((2205, 2), np.float32), 22050)  # stereo, half rate
    files = {"a": tmp_path / "a.wav", "b": tmp_path / "b.wav"}
    audio, rate = read_stems(_result(tmp_path, files), CancelToken())
    assert rate == 44100
    assert audio["a"].shape == (2, 4410) and audio["a"].dtype == np.float32
    assert audio["b"].shape[0] == 2 and abs(audio["b"].shape[1] - 4410) <= 2


def test_reading_stops_when_cancelled(tmp_path):
    sf.write(tmp_path / "a.wav", np.zeros(100, np.float32), 44100)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        read_stems(_result(tmp_path, {"a": tmp_path / "a.wav"}), token)
