"""`musicapp audit FILE|last` and `generate --undeclared`: what they print and how they exit.

The detector is a fake here (test_audit_workflow.FakeAuditor: its findings are set by the test);
these tests check what the command line makes of an audit, not the audit itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_audit_workflow import HIDDEN_OK, TARGET, FakeAuditor, _clip, _found

from musicapp.catalog.demo import NON_COMMERCIAL_SONG_ID
from musicapp.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, main


@pytest.fixture
def fake(monkeypatch):
    class Fake(FakeAuditor):
        findings = (_found(HIDDEN_OK, 1.0, 4.0),)
        influence = {HIDDEN_OK: 0.5, TARGET: 0.2}
        fail = None
        made = 0

    monkeypatch.setattr("musicapp.rooms.audit.Auditor", Fake)
    return Fake


def run(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--data-dir", str(data), "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def test_audit_of_a_file_prints_the_top_songs_and_where_they_were_found_fake_auditor(
    demo_data_dir, demo_store, tmp_path, capsys, fake
):
    clip = _clip(tmp_path / "clip.wav")
    code, out, _ = run(capsys, demo_data_dir, "audit", str(clip))
    assert code == EXIT_OK
    title = demo_store.song(HIDDEN_OK).title
    lines = out.splitlines()
    top = lines.index("Top songs:")
    assert "50.0%" in lines[top + 1] and title in lines[top + 1]
    assert "found outright at 0:01–0:04" in out and "+2 semitones" in out
    assert "Timeline:" in out and "unattributed" in out
    code, out, _ = run(capsys, demo_data_dir, "audit", str(clip), "--json")
    data = json.loads(out)
    assert data["influence"] == {HIDDEN_OK: 0.5, TARGET: 0.2}
    assert [f["song_id"] for f in data["findings"]] == [HIDDEN_OK]
    assert "comparison" not in data


def test_audit_of_the_last_take_shows_by_design_beside_the_audit_fake_auditor(
    demo_data_dir, capsys, fake
):
    code, out, _ = run(capsys, demo_data_dir, "generate", TARGET, "--duration", "4")
    assert code == EXIT_OK
    assert "Audit: differs from the attribution by design (missed 0, undeclared 1" in out
    code, out, _ = run(capsys, demo_data_dir, "audit", "last")
    assert code == EXIT_OK
    assert "By design beside the audit:" in out and "Where they disagree:" in out
    assert "found outright, but not declared" in out  # HIDDEN_OK, fingerprinted in the take
    code, out, _ = run(capsys, demo_data_dir, "audit", "last", "--json", "--method", "baseline")
    data = json.loads(out)
    assert data["by_design"] == pytest.approx({TARGET: 1.0})
    assert data["comparison"]["undeclared"] == [HIDDEN_OK]
    assert data["take_id"] and data["titles"][TARGET]


def test_audit_of_a_bad_file_exits_2_naming_it(demo_data_dir, tmp_path, capsys, fake):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    code, _, err = run(capsys, demo_data_dir, "audit", str(bad))
    assert code == EXIT_BAD_INPUT and "broken.wav" in err
    code, _, err = run(capsys, demo_data_dir, "audit", str(tmp_path / "missing.wav"))
    assert code == EXIT_BAD_INPUT and "missing.wav" in err


def test_audit_index_reports_what_the_index_holds_fake_auditor(demo_data_dir, capsys, fake):
    code, out, _ = run(capsys, demo_data_dir, "audit", "--index")
    assert code == EXIT_OK and "Audit index: 10 of 10 songs" in out


def test_generate_refused_for_undeclared_material_says_how_to_choose_fake_auditor(
    demo_data_dir, tmp_path, capsys, fake
):
    fake.findings = (_found(NON_COMMERCIAL_SONG_ID, 2.0, 5.0),)
    clip = _clip(tmp_path / "mine.wav")
    base = ["generate", f"{TARGET},level=audio", "--engine", "tonematch"]
    base += ["--user-audio", str(clip), "--use", "commercial"]
    code, out, _ = run(capsys, demo_data_dir, *base)
    assert code == EXIT_FAILED
    assert "0:02–0:05" in out and "--undeclared" in out and "override" in out
    code, out, _ = run(capsys, demo_data_dir, *base, "--json")
    data = json.loads(out)
    assert data["allowed"] is False and data["undeclared"][0]["song_id"] == NON_COMMERCIAL_SONG_ID
    # The same take, overridden: made, and the override is on record.
    code, out, _ = run(capsys, demo_data_dir, *base, "--undeclared", "override")
    assert code == EXIT_OK and "overrode" in out
    code, out, _ = run(capsys, demo_data_dir, *base, "--undeclared", "add")
    assert code == EXIT_FAILED and NON_COMMERCIAL_SONG_ID in out  # its holder refuses commercial
