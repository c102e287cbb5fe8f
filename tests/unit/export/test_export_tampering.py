"""verify_file against changed audio, changed tags, changed records, and things that are not ours."""

from __future__ import annotations

import json
import sqlite3
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from mutagen.flac import FLAC
from mutagen.id3 import TCON, TIT2, TXXX
from mutagen.wave import WAVE

from musicapp.export import export_audio, verify_file
from musicapp.export.fingerprint import file_digests
from musicapp.ledger import Ledger
from musicapp.testing.exports import SAMPLE_ATTRIBUTION as ATTRIBUTION


@pytest.fixture(params=[".wav", ".flac"])
def exported(request: pytest.FixtureRequest, tmp_path: Path, ledger: Ledger) -> Path:
    audio = (0.3 * np.random.default_rng(3).standard_normal((2, 16000))).astype(np.float32)
    out = tmp_path / f"take{request.param}"
    export_audio(audio, 32000, out, dict(ATTRIBUTION), ledger, title="After Song A")
    return out


def failed(path: Path, ledger: Ledger | None) -> dict[str, str]:
    report = verify_file(path, ledger)
    assert not report.ok
    return {c.name: c.detail for c in report.failures}


def audio_region(path: Path) -> tuple[int, int]:
    """Byte range of the coded audio: the WAV data chunk, or the FLAC frames after the metadata."""
    data = path.read_bytes()
    if data[:4] == b"RIFF":
        pos = 12
        while pos < len(data):
            chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
            if chunk == b"data":
                return pos + 8, pos + 8 + size
            pos += 8 + size + (size & 1)
        raise AssertionError("no data chunk")
    assert data[:4] == b"fLaC"
    pos = 4
    while True:
        header = data[pos]
        pos += 4 + int.from_bytes(data[pos + 1 : pos + 4], "big")
        if header & 0x80:  # last metadata block
            return pos, len(data)


def flip_one_byte(path: Path) -> None:
    start, end = audio_region(path)
    data = bytearray(path.read_bytes())
    data[(start + end) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def set_tag(path: Path, name: str, text: str) -> None:
    """Change one tag the way any tag editor would, through mutagen."""
    if path.suffix == ".wav":
        wave = WAVE(path)
        frame = {"TITLE": TIT2, "GENRE": TCON}.get(name)
        wave.tags.add(
            frame(encoding=3, text=[text]) if frame else TXXX(encoding=3, desc=name, text=[text])
        )
        wave.save()
    else:
        flac = FLAC(path)
        flac[name] = [text]
        flac.save()


def get_record(path: Path) -> dict:
    if path.suffix == ".wav":
        return json.loads(WAVE(path).tags["TXXX:MUSICAPP_ATTRIBUTION"].text[0])
    return json.loads(FLAC(path)["MUSICAPP_ATTRIBUTION"][0])


def test_one_flipped_audio_byte_fails_the_audio_check(exported: Path, ledger: Ledger) -> None:
    before = file_digests(exported) if exported.suffix == ".wav" else None
    flip_one_byte(exported)
    fails = failed(exported, ledger)
    assert "audio" in fails
    assert "readable" not in fails and "tags" not in fails and "attribution" not in fails
    if before is not None:  # WAV: the samples decode, just not to the same ones
        assert "changed after export" in fails["audio"]
    else:  # FLAC: the frame checksum catches it first
        assert "damaged" in fails["audio"] or "changed after export" in fails["audio"]


def test_a_changed_title_is_named(exported: Path, ledger: Ledger) -> None:
    set_tag(exported, "TITLE", "My own song")
    fails = failed(exported, ledger)
    assert fails["tags"].startswith("TITLE differs from the ledger's record")
    assert "'My own song' now, 'After Song A' at export" in fails["tags"]
    assert set(fails) == {"tags", "sidecar"}  # audio, record and ledger event are untouched


def test_an_added_tag_is_named(exported: Path, ledger: Ledger) -> None:
    set_tag(exported, "GENRE", "Jazz")
    name = "TCON" if exported.suffix == ".wav" else "GENRE"
    assert failed(exported, ledger)["tags"] == f"{name} was added after export"


def test_an_edited_record_fails_attribution_or_ledger(exported: Path, ledger: Ledger) -> None:
    record = get_record(exported)
    record["references"][0]["share"] = 0.95  # someone claims a bigger share
    set_tag(exported, "MUSICAPP_ATTRIBUTION", json.dumps(record))
    fails = failed(exported, ledger)
    assert (
        "the file's record disagrees with the ledger: references[0].share is 0.95 in the file, "
        "0.625 in the ledger" == fails["ledger"]
    )
    assert fails["tags"].startswith("MUSICAPP_ATTRIBUTION differs")
    assert "audio" not in fails


def test_a_forged_audio_hash_in_the_record_is_caught(exported: Path, ledger: Ledger) -> None:
    flip_one_byte(exported)
    record = get_record(exported)
    if exported.suffix == ".wav":  # "fix" the record to match the new audio
        digests = file_digests(exported)
        record["pcm_sha256"], record["audio_sha256"] = digests.pcm_sha256, digests.audio_sha256
    else:
        record["pcm_sha256"] = "0" * 64
    set_tag(exported, "MUSICAPP_ATTRIBUTION", json.dumps(record))
    fails = failed(exported, ledger)
    assert "pcm_sha256 is " in fails["ledger"] and "in the ledger" in fails["ledger"]


def test_broken_json_record(exported: Path, ledger: Ledger) -> None:
    set_tag(exported, "MUSICAPP_ATTRIBUTION", '{"export_event_id": "abc", ')
    fails = failed(exported, ledger)
    assert "is not valid JSON" in fails["attribution"]
    assert "MUSICAPP_ATTRIBUTION differs" in fails["tags"]


def test_stripped_tags_without_a_ledger(exported: Path) -> None:
    # With a ledger the file is found by its audio (test_verify_by_content.py); without, there
    # is nothing to find it in.
    if exported.suffix == ".wav":
        WAVE(exported).delete()
    else:
        flac = FLAC(exported)
        flac.delete()
    fails = failed(exported, None)
    assert "MUSICAPP_ATTRIBUTION is missing" in fails["attribution"]
    assert "no recorded audio hash" in fails["audio"]


def test_an_event_missing_from_the_ledger(exported: Path, tmp_path: Path) -> None:
    with Ledger(tmp_path / "other.sqlite") as other:
        fails = failed(exported, other)
    assert fails["ledger"].startswith("no event ") and "in the ledger" in fails["ledger"]
    assert "cannot compare the tags" in fails["tags"]


def test_a_damaged_ledger_fails_the_chain(exported: Path, ledger: Ledger) -> None:
    ledger.append("generation", {"n": 1})
    ledger.append("generation", {"n": 2})
    raw = sqlite3.connect(ledger.path)
    raw.execute("DROP TRIGGER events_no_update")
    raw.execute("UPDATE events SET payload = '{\"n\":3}' WHERE seq = 2")
    raw.commit()
    raw.close()
    fails = failed(exported, ledger)
    assert set(fails) == {"chain"} and "event 2" in fails["chain"]


def test_an_export_withdrawn_by_the_ledger(exported: Path, ledger: Ledger) -> None:
    event_id = get_record(exported)["export_event_id"]
    ledger.append("export_failed", {"export_event_id": event_id, "error": "disk full"})
    assert "says this export failed (disk full)" in failed(exported, ledger)["ledger"]


def test_an_edited_sidecar(exported: Path, ledger: Ledger) -> None:
    side = exported.with_name(exported.name + ".attribution.json")
    data = json.loads(side.read_text())
    data["rights_holders"][0]["name"] = "Somebody Else"
    side.write_text(json.dumps(data))
    expected = "rights_holders[0].name is 'Somebody Else' in the sidecar, 'Composer' in the file"
    assert expected in failed(exported, ledger)["sidecar"]
    assert expected in failed(exported, None)["sidecar"]


def test_a_text_file_named_wav(tmp_path: Path, ledger: Ledger) -> None:
    fake = tmp_path / "song.wav"
    fake.write_text("This is not audio.\n" * 50)
    report = verify_file(fake, ledger)
    assert not report.ok
    assert [c.name for c in report.checks] == ["readable"]
    assert report.checks[0].detail.startswith("not an audio file musicapp can read")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    missing = verify_file(tmp_path / "nope.flac", None)
    assert not missing.ok and missing.checks[0].detail.startswith("no such file")
    folder = verify_file(tmp_path, None)
    assert not folder.ok and "is a folder" in folder.checks[0].detail


def test_someone_elses_wav(tmp_path: Path, ledger: Ledger) -> None:
    plain = tmp_path / "plain.wav"
    sf.write(plain, np.zeros((1000, 1), dtype=np.int16), 44100, subtype="PCM_16")
    report = verify_file(plain, ledger)
    fails = {c.name: c.detail for c in report.failures}
    assert set(fails) == {"attribution", "content"}
    assert "its audio matches no export or take in the ledger" in fails["content"]
    assert report.summary.startswith(f"NOT IDENTIFIED: {plain}: no musicapp tags")


def test_an_audio_format_we_do_not_export(tmp_path: Path, ledger: Ledger) -> None:
    aiff = tmp_path / "song.aiff"
    sf.write(aiff, np.zeros((100, 1), dtype=np.int16), 44100, subtype="PCM_16")
    report = verify_file(aiff, ledger)
    assert not report.ok and [c.name for c in report.checks] == ["readable"]
    assert "only WAV, FLAC and MP3" in report.checks[0].detail


def test_damaged_files_are_reported_never_raised(exported: Path, ledger: Ledger) -> None:
    rng = np.random.default_rng(11)
    original = exported.read_bytes()
    damaged = exported.with_name("damaged" + exported.suffix)
    for _ in range(60):
        data = bytearray(original)
        if rng.random() < 0.3:
            data = data[: int(rng.integers(0, len(data)))]
        else:
            for at in rng.integers(0, len(data), size=int(rng.integers(1, 6))):
                data[at] ^= 1 << int(rng.integers(0, 8))
        damaged.write_bytes(bytes(data))
        report = verify_file(damaged, ledger)  # must not raise
        assert report.checks and all(c.detail for c in report.checks)
