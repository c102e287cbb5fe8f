"""Mastering on export (the Export dialog's and `musicapp export`'s choices): another sample rate
with the pitch kept, mono, loudness normalisation under a true-peak ceiling, TPDF dither; the
record inside the file says what was done, the file still verifies, a re-export repeats it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from musicapp.audio.loudness import integrated_lufs
from musicapp.core import InvalidInput
from musicapp.export import verify_file
from musicapp.export.master import Mastering, file_name, master, true_peak_dbtp
from musicapp.export.record import ATTRIBUTION_TAG, format_for
from musicapp.export.reexport import plan_reexport
from musicapp.export.tags import read_tags
from musicapp.rooms.exports import ExportPlan


def record_of(path: Path) -> dict:
    return json.loads(read_tags(path, format_for(path))[ATTRIBUTION_TAG])


def sine(freq: float, rate: int, seconds: float, level: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    tone = level * np.sin(2 * np.pi * freq * t)
    return np.stack([tone, tone]).astype(np.float32)


def dominant_hz(audio: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio[0] * np.hanning(audio.shape[1])))
    return float(np.argmax(spectrum) * rate / audio.shape[1])


def test_a_take_exported_at_48_khz_keeps_its_pitch_length_and_verifies(
    studio, take_at, tmp_path: Path
) -> None:
    take = take_at(32000, seconds=3.0)
    result = studio.export(take, tmp_path / "take.flac", mastering=Mastering(sample_rate=48000))
    data, rate = sf.read(result.path, dtype="float32", always_2d=True)
    assert rate == result.sample_rate == 48000
    assert data.shape[0] == 3 * 48000
    original, _ = studio.takes.read(take.id)
    assert abs(dominant_hz(data.T, 48000) - dominant_hz(original, 32000)) < 1.0
    assert record_of(result.path)["mastering"]["sample_rate"] == {"from": 32000, "to": 48000}
    assert "48 kHz from 32 kHz" in result.mastering
    report = verify_file(result.path, studio.ledger)
    assert report.ok
    attribution = next(c for c in report.checks if c.name == "attribution")
    assert "mastered on export: 48 kHz from 32 kHz" in attribution.detail


def test_loudness_normalisation_reaches_the_target_when_the_ceiling_allows(
    studio, take_at, tmp_path: Path
) -> None:
    take = take_at(44100, seconds=4.0)
    result = studio.export(
        take, tmp_path / "loud.wav", mastering=Mastering(target_lufs=-23.0, ceiling_dbtp=-1.0)
    )
    data, rate = sf.read(result.path, dtype="float32", always_2d=True)
    assert integrated_lufs(data.T, rate) == pytest.approx(-23.0, abs=0.2)
    loudness = record_of(result.path)["mastering"]["loudness"]
    assert loudness["held_by_ceiling"] is False
    assert "-23.0 LUFS" in result.mastering


def test_the_true_peak_ceiling_holds_the_level_and_says_so() -> None:
    # A stereo sine peaking at 0.7 (-3.1 dBFS) measures about -3 LUFS: -5 LUFS would need a
    # peak of -5 dBTP, over a -8 dBTP ceiling, so the level stops at the ceiling, short of -5.
    audio = sine(997.0, 44100, 3.0, 0.7)
    done = master(audio, 44100, Mastering(target_lufs=-5.0, ceiling_dbtp=-8.0), 24, "t")
    assert true_peak_dbtp(done.audio, 44100) <= -7.95
    report = done.report["loudness"]
    assert report["held_by_ceiling"] is True
    assert report["result_lufs"] < -5.0


def test_true_peak_sees_the_overshoot_between_samples() -> None:
    # A sine at a quarter of the rate, sampled 45° off its crests: every sample is at 0.707 of
    # the wave's real peak, which the oversampled measure finds (about +3 dB over samples).
    rate = 48000
    n = np.arange(4800)
    audio = np.stack([np.sin(np.pi / 2 * n + np.pi / 4)] * 2).astype(np.float32) * 0.9
    sample_peak = 20 * np.log10(np.abs(audio).max())
    assert true_peak_dbtp(audio, rate) > sample_peak + 2.5


def test_mono_export_has_one_channel_and_says_so(studio, take_at, tmp_path: Path) -> None:
    take = take_at(44100)
    result = studio.export(take, tmp_path / "mono.wav", bits=16, mastering=Mastering(channels=1))
    assert sf.info(str(result.path)).channels == 1
    assert record_of(result.path)["mastering"]["channels"] == {"from": 2, "to": 1}
    assert verify_file(result.path, studio.ledger).ok


def test_dither_keeps_a_quiet_fade_alive_at_16_bits_and_is_the_same_twice() -> None:
    # -100 dBFS is below one 16-bit step: rounding alone gives digital silence, dither keeps the
    # tone (audible under the noise), and the same take gives the same noise both times.
    quiet = sine(440.0, 44100, 1.0, 10 ** (-100 / 20))
    plain = master(quiet, 44100, Mastering(dither=False), 16, "take-1").audio
    assert not np.any(np.round(plain * 32767))
    dithered = master(quiet, 44100, Mastering(), 16, "take-1").audio
    assert np.any(np.round(dithered * 32767))
    again = master(quiet, 44100, Mastering(), 16, "take-1").audio
    assert np.array_equal(dithered, again)


def test_a_re_export_masters_the_take_the_same_way(studio, take_at, tmp_path: Path) -> None:
    take = take_at(44100)
    wanted = Mastering(sample_rate=48000, channels=1, target_lufs=-16.0, ceiling_dbtp=-2.0)
    first = studio.export(take, tmp_path / "first.wav", bits=16, mastering=wanted)
    plan = plan_reexport(first.path)
    assert plan.mastering == wanted
    assert plan.bits == 16


@pytest.mark.parametrize(
    ("mastering", "field"),
    [
        (Mastering(target_lufs=3.0), "loudness"),
        (Mastering(target_lufs=-14.0, ceiling_dbtp=2.0), "true-peak ceiling"),
        (Mastering(channels=6), "channels"),
        (Mastering(sample_rate=1000), "sample rate"),
    ],
)
def test_impossible_mastering_is_refused_naming_the_field_and_nothing_is_written(
    studio, take_at, tmp_path: Path, mastering: Mastering, field: str
) -> None:
    take = take_at(44100)
    events = studio.ledger.count()
    out = tmp_path / "exports"
    out.mkdir()
    with pytest.raises(InvalidInput, match=field):
        studio.export(take, out / "bad.wav", mastering=mastering)
    assert list(out.iterdir()) == []
    assert studio.ledger.count() == events


def test_file_name_template_fills_fields_and_makes_them_safe() -> None:
    name = file_name("{title} - {take}", {"title": 'After A/B: "live"', "take": "abc"}, ".wav")
    assert name == "After A-B- -live- - abc.wav"
    with pytest.raises(InvalidInput, match=r"unknown field \{artist\}"):
        file_name("{artist}", {}, ".wav")
    with pytest.raises(InvalidInput, match="empty name"):
        file_name("{title}", {"title": "///"}, ".wav")


def test_an_export_plan_writes_the_mix_and_its_stems_each_logged(
    studio, take_at, tmp_path: Path
) -> None:
    take = take_at(44100, seconds=3.0)
    plan = ExportPlan(tmp_path, "{title} - {take}", ".flac", bits=16, stems=True)
    batch = studio.exports.export_plan(take, plan)
    mix, *stems = batch.files
    assert mix.path.name.endswith(f" - {take.id[:8]}.flac")
    assert len(stems) >= 2
    for stem in stems:
        assert stem.path.stem.startswith(mix.path.stem + " - ")
        record = record_of(stem.path)
        assert record["stem"] in stem.path.stem
        assert record["generation_event_id"] == take.id
        assert record["part_of_export"] == mix.event_id
        assert verify_file(stem.path, studio.ledger).ok
    ids = {e.id for e in studio.ledger.events("export")}
    assert {f.event_id for f in batch.files} <= ids
    # the same plan again is refused before anything is written: nothing is overwritten
    with pytest.raises(InvalidInput, match="already there"):
        studio.exports.export_plan(take, plan)


def test_cli_export_masters_the_take_and_refuses_a_ceiling_without_a_target(
    demo_cli, tmp_path: Path
) -> None:
    from musicapp.catalog.demo import PERMITTED_SONG_IDS

    def run(*args: str) -> tuple[int, dict | str, str]:
        code, out, err = demo_cli(*args, "--json")
        return code, (json.loads(out) if out.strip().startswith("{") else out), err

    code, _take, err = run("generate", PERMITTED_SONG_IDS[0], "--duration", "4")
    assert code == 0, err
    out = tmp_path / "track.flac"
    code, exported, err = run(
        "export", "last", str(out), "--rate", "48000", "--channels", "1", "--loudness", "-18"
    )
    assert code == 0, err
    assert "48 kHz from 44.1 kHz" in exported["mastering"] and "mono" in exported["mastering"]
    data_out, rate = sf.read(out, dtype="float32", always_2d=True)
    assert rate == 48000 and data_out.shape[1] == 1
    assert integrated_lufs(data_out.T, rate) == pytest.approx(-18.0, abs=0.3)
    code, _, err = run("export", "last", str(tmp_path / "x.wav"), "--true-peak", "-2")
    assert code == 2 and "--true-peak: applies with --loudness" in err
    code, _, err = run("export", "last", str(tmp_path / "x.wav"), "--loudness", "0")
    assert code == 2 and "export loudness: 0 LUFS is outside" in err
    assert not (tmp_path / "x.wav").exists()


def test_a_take_file_cut_short_is_not_exported(studio, take_at, tmp_path: Path) -> None:
    take = take_at(44100, seconds=3.0)
    data = take.audio_path.read_bytes()
    take.audio_path.write_bytes(data[: len(data) // 3])  # a copy cut off, a full disk
    events = studio.ledger.count()
    out = tmp_path / "exports"
    out.mkdir()
    with pytest.raises(InvalidInput, match=r"holds 1\.\d\d s but the ledger recorded 3\.00 s"):
        studio.export(take, out / "cut.flac", mastering=Mastering(target_lufs=-14.0))
    assert list(out.iterdir()) == [] and studio.ledger.count() == events
