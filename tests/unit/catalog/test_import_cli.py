"""`musicapp import`: the report as JSON, exit 0 when every file imported, 1 when any failed."""

import json
from pathlib import Path

import soundfile as sf
from import_library import BROKEN, GOOD, make_library, tone

from musicapp.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, main


def run(capsys, data_dir, *args):
    code = main(["import", *args, "--data-dir", str(data_dir), "--json", "--no-progress"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_import_reports_as_json_and_exits_1_when_files_failed(tmp_path, capsys):
    lib, _ = make_library(tmp_path)
    code, report, _ = run(capsys, tmp_path / "data", str(lib))
    assert code == EXIT_FAILED
    assert report["counts"] == {
        "imported": GOOD,
        "updated": 0,
        "unchanged": 0,
        "failed": len(BROKEN),
    }
    assert all(f["reason"] for f in report["failed"])
    code, again, _ = run(capsys, tmp_path / "data", str(lib))
    assert again["counts"] == {
        "imported": 0,
        "updated": 0,
        "unchanged": GOOD,
        "failed": len(BROKEN),
    }


def test_import_of_good_files_exits_0_and_does_not_build_the_demo(tmp_path, capsys):
    folder = tmp_path / "music"
    folder.mkdir()
    sf.write(folder / "one.flac", tone(1.5, 44100, 440, 2, 1), 44100)
    code, report, _ = run(capsys, tmp_path / "data", str(folder))
    assert code == EXIT_OK and report["ok"] and report["counts"]["imported"] == 1
    code, found, _ = (
        main(["search", "one", "--data-dir", str(tmp_path / "data"), "--json", "--no-progress"]),
        *capsys.readouterr(),
    )
    assert code == EXIT_OK and [s["id"] for s in json.loads(found)] == ["unknown-artist-one"]


def test_import_of_a_missing_path_is_bad_input(tmp_path, capsys):
    code, _, err = run(capsys, tmp_path / "data", str(tmp_path / "nowhere"))
    assert code == EXIT_BAD_INPUT and "not found" in err


def _session(root):
    """A folder with two songs and their stems, and a CSV manifest for them (44.1 kHz)."""
    music = root / "music"
    music.mkdir()
    for name, hz in (("one", 220), ("two", 330)):
        sf.write(music / f"{name}.flac", tone(1.5, 44100, hz, 2, hz), 44100)
        sf.write(music / f"{name}-bass.flac", tone(1.5, 44100, hz / 2, 1, hz + 1), 44100)
    return music


def _manifest(music, shares, uses, broken=False):
    quote = '"' if broken else ""
    (music / "manifest.csv").write_text(
        "file,title,artist,stems,rights_holders,permissions,uses\n"
        f"one.flac,{quote}One,Ann,bass=one-bass.flac,Ann:{shares[0]};Bo:{shares[1]},song_level,"
        f"{uses}\n"
        f"two.flac,Two,Ann,bass=two-bass.flac,Ann:1,song_level,{uses}\n"
    )
    return music / "manifest.csv"


def test_import_with_a_manifest_attaches_stems_and_reports_rights_changes(tmp_path, capsys):
    music = _session(tmp_path)
    manifest = _manifest(music, (0.5, 0.5), "private")
    code, report, _ = run(capsys, tmp_path / "data", str(music), "--manifest", str(manifest))
    assert code == EXIT_OK and report["counts"]["imported"] == 2
    assert [(f["song_id"], f["stems"]) for f in report["imported"]] == [
        ("ann-one", ["bass"]),
        ("ann-two", ["bass"]),
    ]

    _manifest(music, (0.7, 0.3), "private;non_commercial")
    code, report, _ = run(capsys, tmp_path / "data", str(music), "--manifest", str(manifest))
    assert code == EXIT_OK and report["counts"]["updated"] == 2
    one = report["updated"][0]
    assert one["song_id"] == "ann-one" and one["where"] == "manifest.csv line 2"
    assert one["changes"][0] == "rights: Ann 0.5 → 0.7, Bo 0.5 → 0.3"
    assert one["changes"][1].startswith("consent v2 added for holder-ann (")
    assert one["event_id"]

    code = main(
        [
            "import",
            str(music),
            "--manifest",
            str(manifest),
            "--data-dir",
            str(tmp_path / "data"),
            "--no-progress",
        ]
    )
    text = capsys.readouterr().out
    assert code == EXIT_OK
    assert "Imported 0, updated 0, unchanged 2, failed 0." in text
    assert "ann-one" in text and "(manifest.csv line 2): unchanged" in text


def test_a_broken_manifest_row_is_reported_by_line_and_the_rest_import(tmp_path, capsys):
    music = _session(tmp_path)
    manifest = _manifest(music, (0.5, 0.5), "private", broken=True)
    code, report, _ = run(capsys, tmp_path / "data", str(music), "--manifest", str(manifest))
    assert code == EXIT_FAILED
    assert [f["song_id"] for f in report["imported"]] == ["ann-two"]
    bad_row, *held_back = report["failed"]
    assert bad_row["reason"].startswith("manifest.csv line 2: ")
    assert "unclosed quote" in bad_row["reason"]
    # The files only that row could describe wait for the manifest to be fixed.
    assert sorted(Path(f["path"]).name for f in held_back) == ["one-bass.flac", "one.flac"]
    assert all("manifest.csv line 2 could not be read" in f["reason"] for f in held_back)


def test_a_manifest_that_is_not_json_is_bad_input_with_its_line(tmp_path, capsys):
    manifest = tmp_path / "m.json"
    manifest.write_text('[\n  {"file": "a.wav",}\n]\n')
    code, _, err = run(capsys, tmp_path / "data", str(manifest))
    assert code == EXIT_BAD_INPUT
    assert "line 2 column 20: not valid JSON" in err and len(err.strip().splitlines()) == 1


def test_a_million_character_title_is_refused_naming_the_field_and_the_limit(tmp_path, capsys):
    music = _session(tmp_path)
    (music / "manifest.csv").write_text(
        "file,title,artist,rights_holders,permissions,uses\n"
        f"one.flac,{'x' * 1_000_000},Ann,Ann:1,song_level,private\n"
        "two.flac,Two,Ann,Ann:1,song_level,private\n"
    )
    code, report, _ = run(capsys, tmp_path / "data", str(music / "manifest.csv"))
    assert code == EXIT_FAILED
    assert [f["song_id"] for f in report["imported"]] == ["ann-two"]
    reason = report["failed"][0]["reason"]
    assert "line 2" in reason and "title" in reason and "300" in reason and len(reason) < 400
    # Nothing of it reached the catalogue: a search prints one short line.
    assert main(["search", "x", "--data-dir", str(tmp_path / "data"), "--no-progress"]) == 0
    assert len(capsys.readouterr().out) < 200


def test_imported_songs_are_embedded_for_prompts_at_import(tmp_path, capsys):
    from musicapp.selection.store import SelectionStore

    lib, _ = make_library(tmp_path)
    code, report, _ = run(capsys, tmp_path / "data", str(lib))
    assert report["counts"]["imported"] == GOOD
    store = SelectionStore(tmp_path / "data" / "catalog-selection.sqlite")
    try:
        assert len(store.recorded_ids()) == GOOD  # described and embedded already
    finally:
        store.close()
