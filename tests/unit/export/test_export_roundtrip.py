"""Exports that go right: the file, its tags, its sidecar and its ledger event agree."""

from __future__ import annotations

import json
import os
from pathlib import Path

import mutagen
import numpy as np
import pytest
import soundfile as sf

from musicapp.export import credit_line, export_audio, verify_file
from musicapp.ledger import Ledger

CHECKS = ["readable", "attribution", "audio", "tags", "ledger", "chain", "sidecar"]


def make_audio(channels: int = 2, seconds: float = 0.5, rate: int = 32000) -> np.ndarray:
    rng = np.random.default_rng(7)
    return (0.3 * rng.standard_normal((channels, int(seconds * rate)))).astype(np.float32)


def make_attribution() -> dict:
    return {
        "generation_event_id": "gen-1",
        "verification_event_id": "ver-1",
        "use": "private",
        "engine": "concat",
        "references": [
            {"song_id": "s1", "title": "Song A", "artist": "Composer", "level": "parameter",
             "role": "melody", "weight": 1.0, "share": 0.625},
            {"song_id": "s2", "title": "Sång B", "artist": "", "level": "song", "role": None,
             "weight": 0.6, "share": 0.375},
        ],
        "rights_holders": [
            {"id": "h1", "name": "Composer", "share": 0.625},
            {"id": "h2", "name": "Publisher Ltd", "share": 0.375},
        ],
    }  # fmt: skip


@pytest.fixture
def ledger(tmp_path: Path):
    with Ledger(tmp_path / "ledger" / "ledger.sqlite") as led:
        yield led


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_round_trip_verifies(tmp_path: Path, ledger: Ledger, suffix: str) -> None:
    out = tmp_path / f"take{suffix}"
    result = export_audio(make_audio(), 32000, out, make_attribution(), ledger, title="After A")
    assert result.path == out and out.is_file()
    assert result.sidecar_path == tmp_path / f"take{suffix}.attribution.json"
    # Nothing else was left behind: no temp files.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["ledger", out.name, result.sidecar_path.name]
    )
    # The user's umask decides the mode, as for any file they save (not 0600 like a temp file).
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    assert result.sidecar_path.stat().st_mode & 0o777 == 0o666 & ~umask
    report = verify_file(out, ledger)
    assert [c.name for c in report.checks] == CHECKS
    assert report.ok, report.failures
    assert not any(c.skipped for c in report.checks)


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_tags_read_by_plain_mutagen(tmp_path: Path, ledger: Ledger, suffix: str) -> None:
    out = tmp_path / f"take{suffix}"
    result = export_audio(make_audio(), 32000, out, make_attribution(), ledger, title="After A")
    tags = mutagen.File(out).tags
    if suffix == ".wav":
        record = json.loads(tags["TXXX:MUSICAPP_ATTRIBUTION"].text[0])
        assert tags["TIT2"].text == ["After A"]
        assert tags["TPE1"].text == ["musicapp"]
        assert tags["TXXX:MUSICAPP_EVENT_ID"].text == [result.event_id]
        comment = tags["COMM::eng"].text[0]
    else:
        record = json.loads(tags["MUSICAPP_ATTRIBUTION"][0])
        assert tags["TITLE"] == ["After A"]
        assert tags["ARTIST"] == ["musicapp"]
        assert tags["MUSICAPP_EVENT_ID"] == [result.event_id]
        comment = tags["COMMENT"][0]
    assert comment == "Made with musicapp from: Song A (Composer) 62.5%, Sång B 37.5%"
    assert record["export_event_id"] == result.event_id
    assert record["audio_sha256"] == result.audio_sha256
    assert record["format"] == suffix[1:]
    assert record["references"] == make_attribution()["references"]
    assert record["exported_at"].endswith("+00:00")


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_ledger_event_and_sidecar(tmp_path: Path, ledger: Ledger, suffix: str) -> None:
    out = tmp_path / f"take{suffix}"
    result = export_audio(make_audio(), 32000, out, make_attribution(), ledger, title="After A")
    event = ledger.get(result.event_id)
    assert event is not None and event.kind == "export" and ledger.head() == event
    assert event.payload["audio_sha256"] == result.audio_sha256
    assert event.payload["file_name"] == out.name
    assert event.payload["tags"]["TITLE"] == "After A"
    assert json.loads(event.payload["tags"]["MUSICAPP_ATTRIBUTION"])["export_event_id"] == event.id
    sidecar = json.loads(result.sidecar_path.read_text(encoding="utf-8"))
    assert sidecar["ledger_event_hash"] == event.hash
    assert sidecar["ledger_event_seq"] == event.seq
    assert {k: v for k, v in sidecar.items() if not k.startswith("ledger_event_")} == event.payload


def test_wav_and_flac_of_the_same_audio_share_the_audio_hash(
    tmp_path: Path, ledger: Ledger
) -> None:
    audio = make_audio()
    wav = export_audio(audio, 32000, tmp_path / "a.wav", make_attribution(), ledger)
    flac = export_audio(audio, 32000, tmp_path / "a.flac", make_attribution(), ledger)
    assert wav.audio_sha256 == flac.audio_sha256
    assert wav.event_id != flac.event_id


def test_samples_survive_within_one_step(tmp_path: Path, ledger: Ledger) -> None:
    audio = make_audio(channels=1)
    audio[0, :3] = [1.7, -4.0, 0.5]  # out of range: clipped, never wrapped around
    export_audio(audio, 32000, tmp_path / "m.flac", make_attribution(), ledger)
    back, rate = sf.read(tmp_path / "m.flac", dtype="float32", always_2d=True)
    assert rate == 32000 and back.shape == (audio.shape[1], 1)
    assert back[0, 0] > 0.999 and back[1, 0] < -0.999
    assert np.abs(back[:, 0] - np.clip(audio[0], -1, 1)).max() <= 1 / 32768 + 1e-7


def test_without_a_ledger_the_ledger_checks_are_skipped(tmp_path: Path, ledger: Ledger) -> None:
    result = export_audio(make_audio(), 32000, tmp_path / "a.wav", make_attribution(), ledger)
    report = verify_file(result.path, None)
    assert report.ok
    skipped = [c.name for c in report.checks if c.skipped]
    assert skipped == ["tags", "ledger", "chain"]
    assert all(c.ok and "skipped" in c.detail for c in report.checks if c.skipped)


def test_overwriting_an_earlier_export(tmp_path: Path, ledger: Ledger) -> None:
    out = tmp_path / "a.flac"
    export_audio(make_audio(), 32000, out, make_attribution(), ledger, title="first")
    second = export_audio(make_audio(1), 32000, out, make_attribution(), ledger, title="second")
    report = verify_file(out, ledger)
    assert report.ok, report.failures
    assert ledger.count() == 2 and ledger.head().id == second.event_id


def test_credit_line() -> None:
    assert credit_line(make_attribution()) == (
        "Made with musicapp from: Song A (Composer) 62.5%, Sång B 37.5%"
    )
    twice = {"references": [
        {"title": "A", "artist": "X", "share": 0.25},
        {"title": "B", "share": 0.5},
        {"title": "A", "artist": "X", "share": 0.25},
    ]}  # fmt: skip
    assert credit_line(twice) == "Made with musicapp from: A (X) 50%, B 50%"
    assert credit_line({}) == "Made with musicapp"
    assert credit_line({"references": [{"song_id": "s9"}]}) == "Made with musicapp from: s9"


def test_an_export_from_before_the_digests_still_verifies(tmp_path: Path, ledger: Ledger) -> None:
    from musicapp.testing.exports import legacy_export

    out = tmp_path / "old.wav"
    legacy_export(make_audio(), 32000, out, ledger)
    report = verify_file(out, ledger)
    assert report.ok, report.failures
    assert report.check("audio").detail.startswith("samples match the recorded audio_sha256")
    raw = bytearray(out.read_bytes())
    raw[raw.index(b"data") + 8 + 1000] ^= 0x01  # one sample, the tags kept
    out.write_bytes(bytes(raw))
    failed = {c.name: c.detail for c in verify_file(out, ledger).failures}
    assert set(failed) == {"audio", "ledger"}
    assert failed["audio"].startswith("the audio was changed after export: its s16le sha256")
