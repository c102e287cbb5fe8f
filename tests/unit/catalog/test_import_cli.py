"""`musicapp import`: the report as JSON, exit 0 when every file imported, 1 when any failed."""

import json

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
