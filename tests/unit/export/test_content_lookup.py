"""find_by_content: an export or take found again by its audio alone, and nothing else found."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import soundfile as sf

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.export import export_audio, find_by_content
from musicapp.export.fingerprint import to_pcm16
from musicapp.export.lookup import SAME_AT_16, SAME_AUDIO, SAME_FILE
from musicapp.export.tags import write_tags
from musicapp.ledger import Ledger
from musicapp.testing.exports import (
    change_one_sample,
    legacy_export,
    rewrite,
    stereo_music,
    strip_tags,
)

A, B = PERMITTED_SONG_IDS[0], PERMITTED_SONG_IDS[1]


@pytest.fixture
def exported(take_at, studio, tmp_path: Path):
    """(take, export result): a 48 kHz stereo take exported as 24-bit FLAC."""
    take = take_at(48000)
    return take, studio.export(take, tmp_path / "song.flac")


def find(studio, source, **kw):
    return studio.records.find_by_content(source, **kw)


def test_stripped_tags_name_the_export_its_take_and_who_is_owed(exported, studio) -> None:
    take, result = exported
    strip_tags(result.path)
    match = find(studio, result.path)
    assert match is not None
    assert (match.kind, match.event_id, match.generation_event_id) == (
        "export",
        result.event_id,
        take.id,
    )
    assert (match.how, match.exact) == (SAME_AUDIO, True)
    assert match.when == studio.ledger.get(result.event_id).ts
    assert match.song_shares == pytest.approx({A: 0.7, B: 0.3})
    assert match.generation_payload["request"]["engine"] == "fixed-rate"
    titles = {r["song_id"]: r["title"] for r in match.references}
    assert set(titles) == {A, B} and all(titles.values())
    holders = {h["id"]: h["share"] for h in match.rights_holders}
    assert sum(holders.values()) == pytest.approx(1.0)
    assert holders == pytest.approx({h.id: s for h, s in studio.royalties(take)})


def test_the_export_itself_is_the_same_file(exported, studio) -> None:
    _, result = exported
    match = find(studio, result.path)
    assert (match.event_id, match.how) == (result.event_id, SAME_FILE)


def test_flac_converted_to_wav_is_the_same_audio(exported, studio, tmp_path: Path) -> None:
    _, result = exported
    wav = rewrite(result.path, tmp_path / "copy.wav")
    assert sf.info(str(wav)).subtype == "PCM_24"
    match = find(studio, wav)
    assert (match.event_id, match.how, match.exact) == (result.event_id, SAME_AUDIO, True)


def test_24_bit_converted_to_16_bit_is_the_same_audio_at_16_bit(
    exported, studio, tmp_path: Path
) -> None:
    _, result = exported
    wav16 = rewrite(result.path, tmp_path / "copy16.wav", "PCM_16")
    match = find(studio, wav16)
    assert (match.event_id, match.how, match.exact) == (result.event_id, SAME_AT_16, False)
    assert match.role == "pcm16"  # the low 8 bits dropped


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")
def test_sox_without_dither_is_the_same_audio_at_16_bit_but_dithered_is_not(
    exported, studio, tmp_path: Path
) -> None:
    _, result = exported
    rounded, dithered = tmp_path / "sox-D.wav", tmp_path / "sox.wav"
    subprocess.run(["sox", str(result.path), "-b", "16", "-D", str(rounded)], check=True)
    subprocess.run(["sox", str(result.path), "-b", "16", str(dithered)], check=True)
    match = find(studio, rounded)
    assert (match.event_id, match.how, match.role) == (result.event_id, SAME_AT_16, "pcm16_rounded")
    assert find(studio, dithered) is None


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
def test_ffmpeg_flac_to_wav_is_the_same_audio_at_16_bit(exported, studio, tmp_path) -> None:
    _, result = exported
    out = tmp_path / "ffmpeg.wav"  # ffmpeg's WAV default is 16-bit, truncated, no dither
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(result.path), str(out)], check=True)
    match = find(studio, out)
    assert (match.event_id, match.how) == (result.event_id, SAME_AT_16)


def test_a_take_file_is_found_as_the_take(exported, studio, tmp_path: Path) -> None:
    take, _ = exported
    match = find(studio, take.audio_path)
    assert (match.kind, match.event_id, match.how) == ("take", take.id, SAME_FILE)
    assert match.generation_event_id == take.id
    assert match.song_shares == pytest.approx({A: 0.7, B: 0.3})
    copy = tmp_path / "take-copy.wav"
    shutil.copy(take.audio_path, copy)
    write_tags(copy, "wav", {"TITLE": "my take"})  # other bytes, the same float samples
    assert (find(studio, copy).event_id, find(studio, copy).how) == (take.id, SAME_AUDIO)


def test_a_file_from_elsewhere_is_not_found(exported, studio, tmp_path: Path) -> None:
    other = tmp_path / "other.flac"
    sf.write(other, to_pcm16(stereo_music(2.0, 48000, seed=9), 48000), 48000, subtype="PCM_16")
    assert find(studio, other) is None


@pytest.mark.parametrize("subtype", ["PCM_24", "PCM_16"])
def test_one_changed_sample_is_not_found(exported, studio, tmp_path, subtype: str) -> None:
    _, result = exported
    copy = rewrite(result.path, tmp_path / "copy.wav", subtype)
    assert find(studio, copy) is not None
    # The smallest change each depth can hold: one step of its own least significant bit. At
    # 24 bits the 16-bit view is unchanged, and still nothing is found.
    changed = change_one_sample(copy, tmp_path / "changed.wav")
    assert find(studio, changed) is None


def test_a_changed_take_sample_is_not_found(exported, studio, tmp_path) -> None:
    take, _ = exported
    assert find(studio, change_one_sample(take.audio_path, tmp_path / "t.wav")) is None


def test_in_memory_audio(exported, studio) -> None:
    take, result = exported
    decoded, rate = sf.read(result.path, dtype="float32", always_2d=True)
    match = find(studio, decoded.T, sample_rate=rate)
    assert (match.event_id, match.how) == (result.event_id, SAME_AUDIO)
    take_audio, _ = studio.takes.read(take.id)
    match = find(studio, take_audio, sample_rate=rate)
    assert (match.kind, match.event_id, match.how) == ("take", take.id, SAME_AUDIO)
    assert result.event_id in match.others  # its export quantises it: found too, ranked after
    assert find(studio, decoded.T, sample_rate=44100) is None  # the rate is part of the audio
    assert find(studio, decoded.T[:1], sample_rate=rate) is None  # and so are the channels


@pytest.mark.parametrize("bits", [24, 16])
def test_audio_in_memory_that_was_exported_is_found_once_quantised(
    tmp_path: Path, bits: int
) -> None:
    audio = stereo_music(2.0, 48000)
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        result = export_audio(audio, 48000, tmp_path / "a.flac", {}, ledger, bits=bits)
        match = find_by_content(audio, ledger, None, sample_rate=48000)
        assert (match.event_id, match.exact) == (result.event_id, False)
        assert match.how == f"same audio once quantised to {bits}-bit"
        other = stereo_music(2.0, 48000, seed=1)
        assert find_by_content(other, ledger, None, sample_rate=48000) is None


def test_the_same_audio_exported_twice(tmp_path: Path) -> None:
    audio = stereo_music(2.0, 44100)
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        first = export_audio(audio, 44100, tmp_path / "a.wav", {"n": 1}, ledger)
        second = export_audio(audio, 44100, tmp_path / "b.flac", {"n": 2}, ledger)
        strip_tags(second.path)
        match = find_by_content(second.path, ledger, tmp_path / "index.sqlite")
        assert (match.event_id, match.others) == (first.event_id, (second.event_id,))
        # A withdrawn export ranks last.
        ledger.append("export_failed", {"export_event_id": first.event_id, "error": "disk full"})
        match = find_by_content(second.path, ledger, tmp_path / "index.sqlite")
        assert (match.event_id, match.others) == (second.event_id, (first.event_id,))


def test_an_export_from_before_the_digests_is_found_by_its_16_bit_hash(tmp_path: Path) -> None:
    """The first exports recorded only ``audio_sha256``: 16-bit files, hashed as 16-bit."""
    old = tmp_path / "old.wav"
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        event_id = legacy_export(stereo_music(2.0, 32000), 32000, old, ledger)
        strip_tags(old)
        match = find_by_content(old, ledger, None)
        assert (match.event_id, match.how, match.generation_event_id) == (event_id, SAME_AUDIO, "")
        assert match.generation is None and match.song_shares == {}
