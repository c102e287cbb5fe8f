"""The whole CLI workflow on the demo catalogue: generate, export, verify, refuse, bad input."""

import json
import shutil
import sqlite3
import subprocess
import sys

import mutagen
import pytest
import soundfile as sf

from musicapp.catalog.demo import OPTED_OUT_SONG_ID, PERMITTED_SONG_IDS, REVOKED_SONG_ID
from musicapp.cli import main

A, B = PERMITTED_SONG_IDS[0], PERMITTED_SONG_IDS[1]


@pytest.fixture
def data_dir(tmp_path, demo_dirs):
    """A fresh data folder holding a copy of the small demo catalogue."""
    catalog_path, audio_dir = demo_dirs
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(catalog_path, data / "catalog.sqlite")
    shutil.copytree(audio_dir, data / "audio")
    return data


def run(capsys, data_dir, *args):
    code = main([*args, "--data-dir", str(data_dir), "--json", "--no-progress"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip().startswith(("{", "[")) else out), err


def ledger_kinds(data_dir):
    with sqlite3.connect(data_dir / "ledger.sqlite") as db:
        return [row[0] for row in db.execute("SELECT kind FROM events ORDER BY seq")]


def test_generate_export_verify_round_trip(capsys, data_dir, tmp_path):
    code, take, err = run(capsys, data_dir, "generate", f"{A}:0.7", f"{B}:0.3", "--duration", "12")
    assert code == 0, err
    shares = {s["song_id"]: s["share"] for s in take["provenance"]["shares"]}
    assert set(shares) == {A, B}
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares[A] > shares[B]
    assert take["duration_s"] == pytest.approx(12.0, abs=0.01)
    assert sum(r["share"] for r in take["royalties"]) == pytest.approx(1.0)
    assert ledger_kinds(data_dir) == ["verification", "generation", "audit"]  # issue 15

    out = tmp_path / "track.flac"
    code, exported, err = run(capsys, data_dir, "export", take["take_id"], str(out))
    assert code == 0, err
    assert out.exists() and (tmp_path / "track.flac.attribution.json").exists()
    assert ledger_kinds(data_dir)[-1] == "export"
    audio, sr = sf.read(out)
    assert len(audio) / sr == pytest.approx(12.0, abs=0.01)

    code, report, _ = run(capsys, data_dir, "verify", str(out))
    assert code == 0 and report["ok"], report

    code, chain, _ = run(capsys, data_dir, "ledger", "verify")
    assert code == 0 and chain["ok"] and chain["checked"] == 4  # with the take's audit


def _failed_checks(report):
    return {c["name"] for c in report["checks"] if not c["ok"]}


def test_one_changed_audio_byte_or_tag_fails_verify_and_says_which(capsys, data_dir, tmp_path):
    code, take, _ = run(capsys, data_dir, "generate", A, B, "--duration", "6")
    assert code == 0
    for suffix in (".wav", ".flac"):
        out = tmp_path / f"t{suffix}"
        assert run(capsys, data_dir, "export", "last", str(out))[0] == 0

        tagged = tmp_path / f"tag{suffix}"
        shutil.copy(out, tagged)
        f = mutagen.File(tagged)
        if suffix == ".flac":
            f["TITLE"] = "Something else"
        else:
            from mutagen.id3 import TIT2

            f.tags.add(TIT2(encoding=3, text="Something else"))
        f.save()
        code, report, _ = run(capsys, data_dir, "verify", str(tagged))
        assert code == 1 and "tags" in _failed_checks(report)
        assert any("TITLE" in c["detail"] or "TIT2" in c["detail"] for c in report["checks"])

    # One byte in the middle of the WAV's sample data.
    wav = tmp_path / "t.wav"
    raw = bytearray(wav.read_bytes())
    data_at = raw.index(b"data") + 8
    raw[data_at + 20000] ^= 0x01
    flipped = tmp_path / "flipped.wav"
    flipped.write_bytes(bytes(raw))
    code, report, _ = run(capsys, data_dir, "verify", str(flipped))
    assert code == 1 and "audio" in _failed_checks(report)


def test_opted_out_song_is_refused_for_commercial_use_and_logged(capsys, data_dir):
    code, result, _ = run(capsys, data_dir, "generate", OPTED_OUT_SONG_ID, A, "--use", "commercial")
    assert code == 1
    assert result["allowed"] is False
    refused = [d for d in result["decisions"] if not d["allowed"]]
    assert refused[0]["reference"]["song_id"] == OPTED_OUT_SONG_ID
    assert refused[0]["reasons"]
    assert ledger_kinds(data_dir) == ["verification"]
    assert not list((data_dir / "takes").glob("*.wav"))


def test_revoked_song_is_refused_citing_the_revocation(capsys, data_dir):
    code, result, _ = run(capsys, data_dir, "generate", REVOKED_SONG_ID, "--use", "private")
    assert code == 1
    reasons = " ".join(result["decisions"][0]["reasons"])
    assert "revoked" in reasons


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("generate", "no-such-song"), "unknown song id 'no-such-song'"),
        (("generate", f"{A}:0"), "weight must be a positive number"),
        (("generate", f"{A},weight=-2"), "weight must be a positive number"),
        (("generate", f"{A},range=0-9999"), "outside song"),
        (("generate", f"{A},role=bogus"), "bogus"),
    ],
)
def test_bad_input_gets_a_clear_error_and_writes_nothing(capsys, data_dir, args, message):
    code, _, err = run(capsys, data_dir, *args)
    assert code == 2
    assert message in err
    assert not (data_dir / "ledger.sqlite").exists() or ledger_kinds(data_dir) == []


def test_unwritable_output_path_is_refused_before_anything_is_written(capsys, data_dir, tmp_path):
    assert run(capsys, data_dir, "generate", A, "--duration", "4")[0] == 0
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    target = blocker / "out.flac"
    code, _, err = run(capsys, data_dir, "export", "last", str(target))
    assert code == 2 and str(blocker) in err
    assert ledger_kinds(data_dir) == ["verification", "generation", "audit"]  # no export
    code, _, err = run(capsys, data_dir, "export", "last", str(tmp_path / "out.mp4"))
    assert code == 2 and ".mp4" in err


def test_unreadable_catalogue_file_is_named(capsys, tmp_path):
    data = tmp_path / "broken"
    data.mkdir()
    (data / "catalog.sqlite").write_bytes(b"this is not a database" * 100)
    code, _, err = run(capsys, data, "search", "bach")
    assert code == 2
    assert "catalog.sqlite" in err


def test_python_dash_m_runs_search_and_browse(data_dir):
    out = subprocess.run(
        [sys.executable, "-m", "musicapp", "browse", "--data-dir", str(data_dir), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    genres = json.loads(out.stdout)
    assert len(genres) >= 3 and all(g["count"] > 0 for g in genres)


def test_user_audio_problems_are_named(capsys, data_dir, tmp_path):
    code, _, err = run(capsys, data_dir, "generate", f"{A},level=audio")
    assert code == 2 and "give an audio file" in err
    bogus = tmp_path / "notes.wav"
    bogus.write_text("this is a text file, not audio")
    code, _, err = run(capsys, data_dir, "generate", f"{A},level=audio", "--user-audio", str(bogus))
    assert code == 2 and "notes.wav" in err
    short = tmp_path / "short.wav"
    sf.write(short, [[0.1, 0.1]] * 32000, 32000)
    code, _, err = run(
        capsys,
        data_dir,
        "generate",
        f"{A},level=audio",
        "--user-audio",
        str(short),
        "--user-range",
        "0-5",
    )
    assert code == 2 and "outside your audio" in err
    assert not (data_dir / "ledger.sqlite").exists() or ledger_kinds(data_dir) == []


def test_engine_rules_for_user_audio_are_checked_before_anything_runs(capsys, data_dir, tmp_path):
    mine = tmp_path / "mine.wav"
    sf.write(mine, [[0.1, 0.1]] * 32000 * 4, 32000)
    code, _, err = run(capsys, data_dir, "generate", A, "--user-audio", str(mine))
    assert code == 2 and "no reference reshapes it" in err
    code, _, err = run(
        capsys, data_dir, "generate", f"{A},level=audio", B, "--user-audio", str(mine)
    )
    assert code == 2 and "cannot be combined" in err
    assert not (data_dir / "ledger.sqlite").exists() or ledger_kinds(data_dir) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["--data-dir", "/somewhere", "search", "reel"],
        ["search", "reel", "--data-dir", "/somewhere"],
        ["--data-dir", "/elsewhere", "search", "reel", "--data-dir", "/somewhere"],
    ],
)
def test_the_data_folder_option_works_before_or_after_the_command(argv):
    from musicapp.cli import build_parser

    assert build_parser().parse_args(argv).data_dir == "/somewhere"
