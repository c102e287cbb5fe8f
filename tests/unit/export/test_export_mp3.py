"""MP3 exports: LAME at the take's own rate, the attribution in ID3v2.4 frames, the same
write-ahead guarantees as WAV and FLAC, and `verify` by the digest of the MP3's audio frames."""

from __future__ import annotations

import json
from pathlib import Path

import mutagen
import numpy as np
import pytest
from mutagen.id3 import ID3, TIT2, TXXX
from mutagen.mp3 import MP3

from musicapp.export import ExportError, export_audio, verify_file
from musicapp.export import writer as writer_module
from musicapp.export.mp3 import frames_range, mp3_frames_sha256
from musicapp.ledger import Ledger

ATTRIBUTION = {
    "references": [{"title": "Song A", "artist": "X", "share": 1.0}],
    "rights_holders": [{"id": "h1", "name": "Composer", "share": 1.0}],
    "use": "private",
}


def record_of(path: Path) -> dict:
    return json.loads(mutagen.File(path).tags["TXXX:MUSICAPP_ATTRIBUTION"].text[0])


def failed(path: Path, ledger: Ledger) -> dict[str, str]:
    report = verify_file(path, ledger)
    assert not report.ok
    return {c.name: c.detail for c in report.failures}


def set_attribution(path: Path, text: str) -> None:
    """Edit the record the way a tag editor would: through mutagen, the audio untouched."""
    tags = ID3(path)
    tags.add(TXXX(encoding=3, desc="MUSICAPP_ATTRIBUTION", text=[text]))
    tags.save(path, v2_version=4)


@pytest.fixture
def take44(take_at):
    """A stereo 44.1 kHz take generated, verified and logged through the demo studio."""
    return take_at(44100, seconds=3.0)


@pytest.fixture
def mp3_export(studio, take44, tmp_path: Path):
    return studio.export(take44, tmp_path / "take.mp3")


def test_mp3_export_is_id3v24_with_the_wav_exports_record(
    studio, take44, mp3_export, tmp_path: Path
) -> None:
    wav = studio.export(take44, tmp_path / "take.wav")
    audio = MP3(mp3_export.path)
    assert (audio.info.sample_rate, audio.info.channels) == (44100, 2)
    assert audio.info.bitrate == 320_000  # the default: constant 320 kbit/s
    assert audio.info.length == pytest.approx(3.0, abs=0.1)
    tags = ID3(mp3_export.path)
    assert tags.version[:2] == (2, 4)
    assert tags["TIT2"].text[0].startswith("After ")
    assert tags["TPE1"].text == ["musicapp"]
    assert tags["UFID:musicapp"].data == mp3_export.event_id.encode()
    assert tags["TXXX:MUSICAPP_EVENT_ID"].text == [mp3_export.event_id]
    holders = studio.attribution(take44)["rights_holders"]
    assert [name for _, name in tags["TIPL"].people] == [h["name"] for h in holders]
    assert tags["TIPL"].people[0][0].startswith("rights holder ")

    mp3_record, wav_record = record_of(mp3_export.path), record_of(wav.path)
    own = {"export_event_id", "format", "exported_at", "audio_sha256", "pcm_format",
           "pcm_sha256", "pcm16_rounded_sha256", "mp3_frames_sha256", "mp3_bitrate_kbps"}  # fmt: skip
    assert {k: v for k, v in mp3_record.items() if k not in own} == {
        k: v for k, v in wav_record.items() if k not in own
    }
    assert mp3_record["format"] == "mp3" and mp3_record["mp3_bitrate_kbps"] == 320
    assert mp3_record["export_event_id"] == mp3_export.event_id
    assert mp3_record["mp3_frames_sha256"] == mp3_export.mp3_frames_sha256
    assert mp3_record["pcm_sha256"] is None  # lossy: no PCM digest to promise

    event = studio.ledger.get(mp3_export.event_id)
    assert event.kind == "export" and event.payload["mp3_frames_sha256"] == (
        mp3_export.mp3_frames_sha256
    )
    sidecar = json.loads(mp3_export.sidecar_path.read_text(encoding="utf-8"))
    assert sidecar["ledger_event_hash"] == event.hash


def test_verify_passes_on_the_clean_mp3(studio, mp3_export) -> None:
    report = studio.records.verify_file(mp3_export.path)
    assert report.ok, report.failures
    assert report.match is None  # found by its tags
    assert report.check("audio").detail.startswith("MP3 frames match")


def test_retagging_keeps_the_frames_digest_but_fails_the_tags(studio, mp3_export) -> None:
    tags = ID3(mp3_export.path)
    tags.add(TIT2(encoding=3, text=["My own song"]))
    tags.save(mp3_export.path, v2_version=4, padding=lambda info: 4096)  # the tag grows
    assert mp3_frames_sha256(mp3_export.path) == mp3_export.mp3_frames_sha256
    fails = failed(mp3_export.path, studio.ledger)
    assert fails["tags"].startswith("TITLE differs from the ledger's record")
    assert "audio" not in fails


def test_a_flipped_byte_in_an_audio_frame_fails_naming_the_audio(studio, mp3_export) -> None:
    path = mp3_export.path
    start, end = frames_range(path)
    data = bytearray(path.read_bytes())
    data[(start + end) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    fails = failed(path, studio.ledger)
    assert fails["audio"].startswith("the audio was changed after export (edited or re-encoded)")
    assert "MP3 frames" in fails["audio"]
    assert "mp3_frames_sha256" in fails["ledger"]
    assert "tags" not in fails and "attribution" not in fails


def test_an_edited_attribution_tag_fails_naming_the_tag(studio, mp3_export) -> None:
    record = record_of(mp3_export.path)
    record["references"][0]["share"] = 0.99  # someone claims a bigger share
    set_attribution(mp3_export.path, json.dumps(record))
    fails = failed(mp3_export.path, studio.ledger)
    assert fails["tags"].startswith("MUSICAPP_ATTRIBUTION differs from the ledger's record")
    assert "references[0].share is 0.99 in the file" in fails["ledger"]
    assert "audio" not in fails


def test_another_exports_mp3_with_these_tags_fails(studio, take_at, mp3_export, tmp_path) -> None:
    other_take = take_at(44100, seconds=3.0, seed=5)
    other = studio.export(other_take, tmp_path / "other.mp3")
    # Graft this export's tag onto the other export's audio frames.
    start, end = frames_range(other.path)
    tag_end, _ = frames_range(mp3_export.path)
    forged = tmp_path / "forged.mp3"
    forged.write_bytes(mp3_export.path.read_bytes()[:tag_end] + other.path.read_bytes()[start:end])
    fails = failed(forged, studio.ledger)
    assert "the audio was changed after export" in fails["audio"]
    assert other.mp3_frames_sha256 in fails["audio"]
    assert "tags" not in fails  # the tags are this export's own, as recorded


def test_a_re_encoded_mp3_fails_naming_the_audio(studio, take44, mp3_export, tmp_path) -> None:
    # The same take at another bitrate, carrying the first export's tags: other frames.
    again = studio.export(take44, tmp_path / "again.mp3", bitrate=192)
    start, end = frames_range(again.path)
    tag_end, _ = frames_range(mp3_export.path)
    copy = tmp_path / "copy.mp3"
    copy.write_bytes(mp3_export.path.read_bytes()[:tag_end] + again.path.read_bytes()[start:end])
    assert "edited or re-encoded" in failed(copy, studio.ledger)["audio"]


@pytest.mark.parametrize("rate", [22050, 96000])
def test_a_rate_mp3_cannot_hold_is_refused_by_name(take_at, studio, tmp_path, rate) -> None:
    take = take_at(rate, seconds=2.0)
    before = studio.ledger.count()
    with pytest.raises(ExportError, match=f"MP3 cannot be written at the take's {rate} Hz"):
        studio.export(take, tmp_path / "out.mp3")
    assert list(tmp_path.glob("out.mp3*")) == [] and studio.ledger.count() == before


def test_bad_bitrates_and_channels_are_refused(tmp_path: Path) -> None:
    audio = np.zeros((2, 4410), dtype=np.float32)
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        with pytest.raises(
            ExportError, match="bitrate must be one of 128, .*, 320 kbit/s, got 100"
        ):
            export_audio(audio, 44100, tmp_path / "a.mp3", ATTRIBUTION, ledger, bitrate=100)
        with pytest.raises(ExportError, match="a bitrate applies to MP3 only"):
            export_audio(audio, 44100, tmp_path / "a.wav", ATTRIBUTION, ledger, bitrate=320)
        with pytest.raises(ExportError, match="mono or stereo audio; this one has 3 channels"):
            export_audio(np.zeros((3, 4410), np.float32), 44100, tmp_path / "a.mp3", {}, ledger)
        assert ledger.count() == 0
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("ledger")) == []


def test_mono_at_32_and_48_khz(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        for rate in (32000, 48000):
            audio = (0.2 * np.sin(np.arange(rate) * 0.05))[None, :].astype(np.float32)
            out = tmp_path / f"m{rate}.mp3"
            result = export_audio(audio, rate, out, ATTRIBUTION, ledger, bitrate=128)
            info = MP3(out).info
            assert (info.sample_rate, info.channels, info.bitrate) == (rate, 1, 128_000)
            assert result.bitrate_kbps == 128 and result.bits == 0
            assert verify_file(out, ledger).ok


def test_failure_after_the_ledger_leaves_no_mp3_and_an_export_failed_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(writer_module, "_write_sidecar_temp", broken)
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    audio = np.zeros((2, 4410), dtype=np.float32)
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        with pytest.raises(ExportError, match="failed while writing the sidecar"):
            export_audio(audio, 44100, out_dir / "take.mp3", ATTRIBUTION, ledger)
        assert list(out_dir.iterdir()) == []
        export, failure = list(ledger.events())
        assert export.kind == "export" and export.payload["format"] == "mp3"
        assert failure.kind == "export_failed" and failure.payload["export_event_id"] == export.id
        assert ledger.verify().ok


def test_failure_while_encoding_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer_module, "encode_mp3", broken)
    audio = np.zeros((2, 4410), dtype=np.float32)
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        with pytest.raises(ExportError, match="failed while writing the audio.*No space left"):
            export_audio(audio, 44100, tmp_path / "take.mp3", ATTRIBUTION, ledger)
        assert ledger.count() == 0
    assert not any(p.name.startswith((".take", "take")) for p in tmp_path.iterdir())


def test_cli_exports_and_verifies_a_demo_take_as_mp3(demo_cli, tmp_path) -> None:
    def run(*args: str) -> tuple[int, dict | str, str]:
        code, out, err = demo_cli(*args, "--json")
        return code, (json.loads(out) if out.strip().startswith("{") else out), err

    from musicapp.catalog.demo import PERMITTED_SONG_IDS

    code, take, err = run("generate", PERMITTED_SONG_IDS[0], "--duration", "4")
    assert code == 0, err
    out = tmp_path / "track.mp3"
    code, exported, err = run("export", "last", str(out), "--bitrate", "192")
    assert code == 0, err
    assert exported["bitrate_kbps"] == 192 and exported["bits"] is None
    assert exported["mp3_frames_sha256"] == mp3_frames_sha256(out)
    assert MP3(out).info.sample_rate == exported["sample_rate"] == 44100  # the demo's rate
    code, report, err = run("verify", str(out))
    assert code == 0 and report["ok"], report
    code, _, err = run("export", "last", str(tmp_path / "x.mp3"), "--bits", "16")
    assert code == 2 and "--bits applies to WAV and FLAC" in err
    code, _, err = run("export", "last", str(tmp_path / "x.flac"), "--bitrate", "192")
    assert code == 2 and "a bitrate applies to MP3 only" in err
    assert not (tmp_path / "x.mp3").exists() and not (tmp_path / "x.flac").exists()


def test_an_mp3_with_its_tags_stripped_is_found_by_its_frames(studio, mp3_export) -> None:
    ID3(mp3_export.path).delete()
    mp3_export.sidecar_path.unlink()
    report = studio.records.verify_file(mp3_export.path)
    assert report.ok, report.failures
    assert report.match is not None and report.match.event_id == mp3_export.event_id
    assert report.match.how == "same MP3 audio frames"
    assert report.check("audio").detail.startswith("MP3 frames equal the recorded")
    assert "only its MP3 audio frames match" in " ".join(report.not_established)


def test_damaged_mp3s_are_reported_never_raised(studio, mp3_export) -> None:
    rng = np.random.default_rng(17)
    original = mp3_export.path.read_bytes()
    damaged = mp3_export.path.with_name("damaged.mp3")
    for _ in range(40):
        data = bytearray(original)
        if rng.random() < 0.3:
            data = data[: int(rng.integers(0, len(data)))]
        else:  # the tag and the first frames are where a parser is likeliest to trip
            for at in rng.integers(0, min(len(data), 8192), size=int(rng.integers(1, 6))):
                data[at] ^= 1 << int(rng.integers(0, 8))
        damaged.write_bytes(bytes(data))
        report = verify_file(damaged, studio.ledger)  # must not raise
        assert report.checks and all(c.detail for c in report.checks)
