"""Other people's programs read an export: c2pa-python's Reader finds the signed manifest, and
mutagen and beets' mediafile find the tags, each in a fresh interpreter that imports nothing of
musicapp (musicapp/testing/interop.py). What they print for a sample of each format is in
docs/samples/README.md (packaging/make_samples.py)."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from musicapp.export import ExportResult, export_audio, verify_file
from musicapp.export.c2pa_manifest import ManifestRequest
from musicapp.ledger import Ledger
from musicapp.testing import interop
from musicapp.testing.exports import SAMPLE_ATTRIBUTION as ATTRIBUTION
from musicapp.testing.exports import stereo_music

TITLE, ARTIST = "Interop take", "Interop Artist"
CREDIT = "Made with musicapp from: Song A (Composer) 62.5%, Song B (Band) 37.5%"


def _export(tmp_path: Path, ledger: Ledger, name: str) -> ExportResult:
    audio = stereo_music(2.0, 44100, seed=5)
    return export_audio(
        audio,
        44100,
        tmp_path / name,
        dict(ATTRIBUTION),
        ledger,
        title=TITLE,
        artist=ARTIST,
        c2pa=ManifestRequest(tmp_path),
    )


@pytest.fixture(params=["wav", "flac", "mp3"])
def exported(request: pytest.FixtureRequest, tmp_path: Path, ledger: Ledger) -> ExportResult:
    return _export(tmp_path, ledger, f"take.{request.param}")


def _signed(result: ExportResult) -> dict[str, Any]:
    """The c2pa Reader's view of a signed export; skips a format that is not signed yet."""
    pytest.importorskip("c2pa")
    seen = interop.read("c2pa", result.path)
    if not result.c2pa and not seen["manifest_found"]:
        pytest.skip(
            f"{result.path.suffix} exports carry no C2PA manifest yet "
            f"(export_audio signed nothing; c2pa's Reader says {seen['error']})"
        )
    assert result.c2pa.startswith("C2PA manifest signed"), result.c2pa
    assert seen["manifest_found"], f"signed, yet the Reader finds no manifest: {seen}"
    return seen


def test_c2pa_reader_in_another_process_reads_the_manifest(exported: ExportResult) -> None:
    seen = _signed(exported)
    # Valid, and untrusted only because the device's own CA is on no public trust list.
    assert seen["validation_state"] == "Valid"
    assert seen["validation_status"] == ["signingCredential.untrusted"]
    assert seen["manifests"] == 1
    actions = next(v for k, v in seen["assertions"].items() if k.startswith("c2pa.actions"))
    assert actions["actions"][0]["action"] == "c2pa.created"
    ours = seen["assertions"]["org.musicapp.attribution"]
    assert ours["export_event_id"] == exported.event_id
    assert [r["song_id"] for r in ours["references"]] == ["s1", "s2"]
    assert [r["share"] for r in ours["references"]] == [0.625, 0.375]


def test_c2pa_reader_sees_audio_edited_after_signing(tmp_path: Path, ledger: Ledger) -> None:
    # The bypass: someone changes the audio and keeps manifest and tags. Another program's
    # reader must not call that file valid, not only ``musicapp verify``.
    pytest.importorskip("c2pa")
    result = _export(tmp_path, ledger, "take.wav")
    assert result.c2pa.startswith("C2PA manifest signed")
    data = bytearray(result.path.read_bytes())
    pos = 12
    while data[pos : pos + 4] != b"data":
        pos += 8 + struct.unpack("<I", data[pos + 4 : pos + 8])[0]
    data[pos + 8 + 1000] ^= 0x40
    result.path.write_bytes(bytes(data))
    seen = interop.read("c2pa", result.path)
    assert seen["manifest_found"]
    assert seen["validation_state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in seen["validation_status"]
    assert not verify_file(result.path, ledger).ok


def test_mutagen_reads_the_tags_and_the_attribution(exported: ExportResult) -> None:
    seen = interop.read("mutagen", exported.path)
    tags = seen["tags"]
    assert interop.tag_text(tags, "TIT2", "title") == TITLE
    assert interop.tag_text(tags, "TPE1", "artist") == ARTIST
    assert interop.tag_text(tags, "COMM::eng", "comment") == CREDIT
    record_text = interop.tag_text(tags, "TXXX:MUSICAPP_ATTRIBUTION", "musicapp_attribution")
    assert record_text is not None, f"no attribution tag among {sorted(tags)}"
    record = json.loads(record_text)
    assert record["export_event_id"] == exported.event_id
    assert record["format"] == exported.path.suffix[1:]
    assert [r["song_id"] for r in record["references"]] == ["s1", "s2"]
    assert (seen["sample_rate"], seen["channels"]) == (44100, 2)
    assert seen["length_s"] == pytest.approx(2.0, abs=0.06)  # an MP3 adds encoder padding


def test_beets_mediafile_reads_title_artist_and_comment(exported: ExportResult) -> None:
    pytest.importorskip("mediafile")
    seen = interop.read("mediafile", exported.path)
    assert (seen["title"], seen["artist"], seen["comments"]) == (TITLE, ARTIST, CREDIT)
    assert (seen["samplerate"], seen["channels"]) == (44100, 2)
    assert seen["type"] == exported.path.suffix[1:]


def test_c2patool_reads_the_manifest(exported: ExportResult) -> None:
    if interop.c2patool() is None:
        pytest.skip("c2patool is not installed (not on PyPI, npm or Debian: docs/samples)")
    _signed(exported)
    report = interop.run_c2patool(exported.path)
    assert exported.event_id in report
    assert "org.musicapp.attribution" in report


def test_make_samples_writes_each_format_and_what_each_reader_printed(tmp_path: Path) -> None:
    # packaging/make_samples.py is the one command that refreshes docs/samples.
    import importlib.util

    pytest.importorskip("c2pa")
    pytest.importorskip("mediafile")

    script = Path(__file__).resolve().parents[2] / "packaging" / "make_samples.py"
    spec = importlib.util.spec_from_file_location("make_samples", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    readme = module.make(tmp_path).read_text(encoding="utf-8")
    for name in ("sample.wav", "sample.flac", "sample.mp3"):
        assert (tmp_path / name).stat().st_size < 1_500_000
        assert (tmp_path / f"{name}.attribution.json").is_file()
        assert f"## {name}" in readme
    assert (tmp_path / "server-ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert not list(tmp_path.glob("*.key"))  # the signing keys stay in the throwaway folders
    for name in ("sample.wav", "sample.flac", "sample.mp3"):
        part = readme.split(f"## {name}")[1].split("## sample.")[0]
        assert '"manifest_found": true' in part and '"validation_state": "Valid"' in part
        assert '"title": "After ' in part  # mediafile's view of the take's title
        # musicapp's own offline check: the whole chain with the server's CA certificate only
        assert f"OK (offline, without a ledger): {name}" in part, part[-3000:]
        assert "receipt      ok" in part
