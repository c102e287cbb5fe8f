"""`python -m musicapp export/verify` end to end: studio-fidelity exports, and files found again
by their audio once their tags are gone or they were converted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.testing.exports import change_one_sample, rewrite, stereo_music, strip_tags

A, B = PERMITTED_SONG_IDS[0], PERMITTED_SONG_IDS[1]


def musicapp(data_dir: Path, *args: str) -> tuple[int, dict | None, str, str]:
    """Run the CLI in a process of its own; (exit code, JSON output, stdout, stderr)."""
    out = subprocess.run(
        [sys.executable, "-m", "musicapp", *args, "--data-dir", str(data_dir), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    data = json.loads(out.stdout) if out.stdout.startswith("{") else None
    return out.returncode, data, out.stdout, out.stderr


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, demo_dirs) -> dict:
    """A data folder with one take exported twice: 24-bit FLAC (the default) and 16-bit WAV."""
    import shutil

    root = tmp_path_factory.mktemp("cli-content")
    data = root / "data"
    data.mkdir()
    shutil.copy(demo_dirs[0], data / "catalog.sqlite")
    shutil.copytree(demo_dirs[1], data / "audio")
    code, take, _, err = musicapp(
        data, "generate", f"{A}:0.7", f"{B}:0.3", "--duration", "6", "--json"
    )
    assert code == 0, err
    code, flac, _, err = musicapp(data, "export", "last", str(root / "song.flac"), "--json")
    assert code == 0, err
    code, wav16, _, err = musicapp(
        data, "export", "last", str(root / "song16.wav"), "--bits", "16", "--json"
    )
    assert code == 0, err
    return {"data": data, "root": root, "take": take, "flac": flac, "wav16": wav16}


def test_exports_keep_the_takes_rate_24_bit_by_default_16_on_request(made: dict) -> None:
    take_rate = sf.info(made["take"]["audio"]).samplerate
    flac, wav16 = sf.info(made["flac"]["path"]), sf.info(made["wav16"]["path"])
    assert (flac.subtype, flac.samplerate, flac.channels) == ("PCM_24", take_rate, 2)
    assert (wav16.subtype, wav16.samplerate) == ("PCM_16", take_rate)
    assert (made["flac"]["bits"], made["wav16"]["bits"]) == (24, 16)
    for export in (made["flac"], made["wav16"]):
        code, report, _, _ = musicapp(made["data"], "verify", export["path"], "--json")
        assert code == 0 and report["ok"] and report["identified"] is None, report


def test_bits_other_than_16_or_24_is_a_usage_error(made: dict, tmp_path: Path) -> None:
    code, _, _, err = musicapp(
        made["data"], "export", "last", str(tmp_path / "x.wav"), "--bits", "8"
    )
    assert code == 2 and "--bits" in err and not (tmp_path / "x.wav").exists()


def test_stripped_tags_name_the_export_and_who_is_owed(made: dict, tmp_path: Path) -> None:
    copy = tmp_path / "stripped.flac"
    copy.write_bytes(Path(made["flac"]["path"]).read_bytes())
    strip_tags(copy)
    code, report, _, _ = musicapp(made["data"], "verify", str(copy), "--json")
    assert code == 0, report
    found = report["identified"]
    assert (found["kind"], found["event_id"]) == ("export", made["flac"]["event_id"])
    assert found["generation_event_id"] == made["take"]["take_id"]
    assert found["how"] == "same audio (decoded PCM)"
    assert {r["song_id"] for r in found["references"]} == {A, B}
    holders = {h["id"]: h["share"] for h in found["rights_holders"]}
    assert holders == pytest.approx({r["id"]: r["share"] for r in made["take"]["royalties"]})
    assert "no musicapp tags in the file, so no tag or sidecar check" in report["not_established"]
    # The words a person reads: one line saying what it is, then where it came from.
    code, _, text, _ = musicapp(made["data"], "verify", str(copy))
    first, *rest = text.splitlines()
    assert code == 0 and first.startswith(f"IDENTIFIED by its audio: export {found['event_id']}")
    assert any(line.strip().startswith("rights holder") for line in rest)


def test_flac_converted_to_wav_and_24_to_16_bit(made: dict, tmp_path: Path) -> None:
    wav = rewrite(Path(made["flac"]["path"]), tmp_path / "converted.wav")
    code, report, _, _ = musicapp(made["data"], "verify", str(wav), "--json")
    assert code == 0 and report["identified"]["event_id"] == made["flac"]["event_id"]
    assert report["identified"]["how"] == "same audio (decoded PCM)"

    wav16 = rewrite(Path(made["flac"]["path"]), tmp_path / "converted16.wav", "PCM_16")
    code, report, _, _ = musicapp(made["data"], "verify", str(wav16), "--json")
    assert code == 0 and report["identified"]["event_id"] == made["flac"]["event_id"]
    assert report["identified"]["how"] == "same audio at 16-bit"
    assert (
        "converted: the PCM matches the export at 16-bit, not bit-identical"
        in report["not_established"]
    )


def test_a_take_file_is_found_as_the_take(made: dict) -> None:
    code, report, _, _ = musicapp(made["data"], "verify", made["take"]["audio"], "--json")
    assert code == 0, report
    assert report["identified"]["kind"] == "take"
    assert report["identified"]["event_id"] == made["take"]["take_id"]
    assert report["identified"]["how"] == "same file"


def test_a_file_not_from_this_ledger_or_with_one_sample_changed(made: dict, tmp_path) -> None:
    other = tmp_path / "other.wav"
    sf.write(other, stereo_music(3.0, 44100).T, 44100, subtype="PCM_24")
    changed = change_one_sample(
        rewrite(Path(made["flac"]["path"]), tmp_path / "a.wav"), tmp_path / "changed.wav"
    )
    for path in (other, changed):
        code, _, text, err = musicapp(made["data"], "verify", str(path))
        first = text.splitlines()[0]
        assert code == 1 and not err
        assert first == (
            f"NOT IDENTIFIED: {path}: no musicapp tags, and its audio matches no export or take "
            f"in the ledger {made['data'] / 'ledger.sqlite'}"
        )
