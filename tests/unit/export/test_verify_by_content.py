"""verify_file on files without their tags: identified by their audio, checked against the
ledger, and honest about what that cannot vouch for."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from musicapp.export import verify_file
from musicapp.export.lookup import SAME_AT_16
from musicapp.testing.exports import change_one_sample, rewrite, strip_tags

CHECKS = ["readable", "attribution", "content", "audio", "tags", "ledger", "chain", "sidecar"]
NO_TAGS = "no musicapp tags in the file, so no tag or sidecar check"


@pytest.fixture
def exported(take_at, studio, tmp_path: Path):
    take = take_at(44100)
    return take, studio.export(take, tmp_path / "song.flac")


def test_stripped_tags_are_identified_and_verified(exported, studio) -> None:
    take, result = exported
    strip_tags(result.path)
    report = studio.records.verify_file(result.path)
    assert report.ok, report.failures
    assert [c.name for c in report.checks] == CHECKS
    assert [c.name for c in report.checks if c.skipped] == ["attribution", "tags", "sidecar"]
    assert report.summary.startswith(f"IDENTIFIED by its audio: export {result.event_id}")
    assert f"of take {take.id}" in report.summary
    assert report.match.event_id == result.event_id
    assert NO_TAGS in report.not_established
    assert any("bytes differ" in line for line in report.not_established)
    assert f"take {take.id} is in the ledger" in report.check("ledger").detail
    lines = report.match.describe()
    assert any(line.startswith("reference") and "70.0%" in line for line in lines)
    assert any(line.startswith("rights holder") for line in lines)


def test_24_to_16_bit_is_identified_as_converted(exported, studio, tmp_path: Path) -> None:
    _, result = exported
    copy = rewrite(result.path, tmp_path / "copy.wav", "PCM_16")
    report = studio.records.verify_file(copy)
    assert report.ok, report.failures
    assert report.match.how == SAME_AT_16
    converted = "converted: the PCM matches the export at 16-bit, not bit-identical"
    assert report.check("audio").detail.startswith(converted)
    assert converted in report.not_established


def test_a_take_file_is_identified_as_the_take(exported, studio) -> None:
    take, _ = exported
    report = studio.records.verify_file(take.audio_path)
    assert report.ok, report.failures
    assert (report.match.kind, report.match.event_id) == ("take", take.id)
    assert report.check("ledger").detail.startswith("generation event")
    assert "takes carry no tags, so no tag or sidecar check" in report.not_established


def test_audio_not_in_the_ledger_says_so(exported, studio, tmp_path: Path) -> None:
    _, result = exported
    changed = change_one_sample(rewrite(result.path, tmp_path / "a.wav"), tmp_path / "b.wav")
    report = studio.records.verify_file(changed)
    assert not report.ok and report.match is None
    assert report.summary == (
        f"NOT IDENTIFIED: {changed}: no musicapp tags, and its audio matches no export or take "
        f"in the ledger {studio.ledger.path}"
    )


def test_an_identified_file_fails_when_the_chain_is_broken(exported, studio) -> None:
    _, result = exported
    strip_tags(result.path)
    studio.ledger.append("generation", {"n": 1})
    raw = sqlite3.connect(studio.ledger.path)
    raw.execute("DROP TRIGGER events_no_update")
    raw.execute("UPDATE events SET payload = '{\"n\":2}' WHERE kind = 'generation' AND seq > 3")
    raw.commit()
    raw.close()
    report = studio.records.verify_file(result.path)
    assert not report.ok and report.match is not None
    assert [c.name for c in report.failures] == ["chain"]
    assert report.summary.startswith("FAILED: identified by its audio as export")


def test_a_withdrawn_export_is_found_but_fails_the_ledger_check(exported, studio) -> None:
    _, result = exported
    strip_tags(result.path)
    studio.ledger.append("export_failed", {"export_event_id": result.event_id, "error": "x"})
    report = studio.records.verify_file(result.path)
    assert report.match.withdrawn and not report.ok
    assert "never completed" in report.check("ledger").detail


def test_without_a_ledger_nothing_is_looked_up(exported) -> None:
    _, result = exported
    strip_tags(result.path)
    report = verify_file(result.path, None)
    assert not report.ok and report.match is None
    assert "MUSICAPP_ATTRIBUTION is missing" in report.check("attribution").detail
