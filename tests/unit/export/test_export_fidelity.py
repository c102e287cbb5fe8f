"""Studio fidelity: takes kept without loss at their own rate, exports at that rate, 24-bit by
default (16 on request), and the samples survive the trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from musicapp.core import InvalidInput
from musicapp.export import ExportError, export_audio, verify_file
from musicapp.ledger import Ledger
from musicapp.testing.exports import stereo_music

LSB24 = 1 / (1 << 23)


@pytest.mark.parametrize("rate", [44100, 48000])
def test_a_take_is_kept_as_the_engine_made_it(take_at, studio, rate: int) -> None:
    take = take_at(rate, seconds=2.0)
    info = sf.info(str(take.audio_path))
    assert (info.samplerate, info.channels, info.subtype) == (rate, 2, "FLOAT")
    assert take.sample_rate == rate
    kept, kept_rate = studio.takes.read(take.id)
    assert kept_rate == rate
    np.testing.assert_array_equal(kept, stereo_music(2.0, rate))


@pytest.mark.parametrize("rate", [44100, 48000])
@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_exports_at_the_takes_rate_24_bit_by_default(
    take_at, studio, tmp_path: Path, rate: int, suffix: str
) -> None:
    take = take_at(rate, seconds=2.0)
    result = studio.export(take, tmp_path / f"out{suffix}")
    info = sf.info(str(result.path))
    assert (info.samplerate, info.channels, info.subtype) == (rate, 2, "PCM_24")
    assert (result.bits, result.sample_rate) == (24, rate)
    back, _ = sf.read(result.path, dtype="float64", always_2d=True)
    original = stereo_music(2.0, rate).astype(np.float64)
    assert back.shape == original.T.shape
    # One quantisation only, from the float take: within half a 24-bit step.
    assert np.abs(back.T - original).max() <= LSB24 / 2 + 1e-12
    report = studio.records.verify_file(result.path)
    assert report.ok, report.failures
    assert report.match is None  # found by its tags, not by content
    event = studio.ledger.get(result.event_id)
    assert event.payload["pcm_format"] == "s24le" and event.payload["sample_rate"] == rate


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_16_bit_on_request(take_at, studio, tmp_path: Path, suffix: str) -> None:
    take = take_at(48000, seconds=2.0)
    result = studio.export(take, tmp_path / f"out{suffix}", bits=16)
    info = sf.info(str(result.path))
    assert (info.samplerate, info.subtype) == (48000, "PCM_16")
    back, _ = sf.read(result.path, dtype="float64", always_2d=True)
    assert np.abs(back.T - stereo_music(2.0, 48000)).max() <= 1 / 65536 + 1e-9
    payload = studio.ledger.get(result.event_id).payload
    # A 16-bit export's own samples are its 16-bit read: one digest, two names.
    assert payload["pcm_format"] == "s16le"
    assert payload["pcm_sha256"] == payload["audio_sha256"] == result.audio_sha256
    assert payload["pcm16_rounded_sha256"] is None
    assert studio.records.verify_file(result.path).ok


def test_24_and_16_bit_exports_of_one_take_differ_only_below_16_bits(
    take_at, studio, tmp_path: Path
) -> None:
    take = take_at(44100, seconds=2.0)
    deep = studio.export(take, tmp_path / "deep.flac")
    shallow = studio.export(take, tmp_path / "shallow.flac", bits=16)
    assert deep.pcm_sha256 != shallow.pcm_sha256
    a, _ = sf.read(deep.path, dtype="float64")
    b, _ = sf.read(shallow.path, dtype="float64")
    assert 0 < np.abs(a - b).max() <= 1 / 65536


def test_bits_other_than_16_or_24_are_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        for bits in (8, 32, True):
            with pytest.raises(ExportError, match="bits per sample must be 16 or 24"):
                export_audio(
                    stereo_music(0.2, 48000), 48000, tmp_path / "x.wav", {}, ledger, bits=bits
                )
        assert ledger.count() == 0
    assert not [p.name for p in tmp_path.iterdir() if "x.wav" in p.name]


def test_overs_in_a_take_are_kept_and_clipped_only_in_the_export(tmp_path: Path) -> None:
    from musicapp.takes import TakeStore

    store = TakeStore(tmp_path / "takes")
    audio = stereo_music(0.5, 48000) * 1.5  # a hot engine: peaks at 1.2
    staged = store.write_staged(audio, 48000)
    kept, _ = sf.read(staged, dtype="float32", always_2d=True)
    np.testing.assert_array_equal(kept.T, audio)
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        result = export_audio(kept.T, 48000, tmp_path / "hot.wav", {}, ledger)
        back, _ = sf.read(result.path, dtype="float64")
        assert back.max() == pytest.approx(1 - LSB24) and back.min() == -1.0
        assert verify_file(result.path, ledger).ok


def test_a_take_file_at_another_rate_than_recorded_is_refused(take_at, studio, tmp_path) -> None:
    take = take_at(48000)
    audio, _ = studio.takes.read(take.id)
    sf.write(take.audio_path, audio.T, 44100, subtype="FLOAT")  # someone resampled it by hand
    with pytest.raises(InvalidInput, match="44100 Hz but the ledger recorded 48000 Hz"):
        studio.export(take, tmp_path / "out.flac")
