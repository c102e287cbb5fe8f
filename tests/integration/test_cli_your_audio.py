"""From the command line: catalogue audio as your audio keeps its identity, tone matching flags,
and damaged or too-short audio of your own never becomes a take."""

import json
import sqlite3

import pytest

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.cli import main
from musicapp.testing import bad_audio

TARGET, ALLOWED = PERMITTED_SONG_IDS[0], PERMITTED_SONG_IDS[1]
NO_CONSENT = "joplin-maple-leaf-rag"


def run(capsys, data_dir, *args):
    code = main([*args, "--data-dir", str(data_dir), "--json", "--no-progress"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip().startswith(("{", "[")) else out), err


def kinds(data_dir):
    path = data_dir / "ledger.sqlite"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT kind FROM events ORDER BY seq")]


def a_stem(data_dir, song_id):
    return next(p for p in sorted((data_dir / "audio" / song_id).glob("*.flac")))


def tone_match(*extra):
    return ("generate", f"{TARGET},level=audio", "--engine", "tonematch", *extra)


def test_a_stem_of_a_song_without_consent_is_refused_as_your_audio(capsys, demo_data_dir):
    stem = a_stem(demo_data_dir, NO_CONSENT)
    code, out, err = run(
        capsys,
        demo_data_dir,
        *tone_match("--user-audio", str(stem), "--wet", "0%", "--use", "commercial"),
    )
    assert code == 1, err
    assert out["allowed"] is False
    refused = [d for d in out["decisions"] if not d["allowed"]]
    assert [d["reference"]["song_id"] for d in refused] == [NO_CONSENT]
    assert refused[0]["reference"]["via"] == "user_audio"
    assert kinds(demo_data_dir) == ["verification"]  # the refusal is on record, nothing else


def test_a_stem_of_a_song_with_consent_is_attributed_to_it(capsys, demo_data_dir):
    stem = a_stem(demo_data_dir, ALLOWED)
    code, take, err = run(
        capsys, demo_data_dir, *tone_match("--user-audio", str(stem), "--wet", "0", "--no-drive")
    )
    assert code == 0, err
    shares = {s["song_id"]: s["share"] for s in take["provenance"]["shares"]}
    assert shares[ALLOWED] == pytest.approx(1.0, abs=1e-6)
    assert shares[TARGET] == pytest.approx(0.0, abs=1e-6)
    assert any("your audio holds" in n for n in take["provenance"]["notes"])
    # The text output says where the share comes from.
    args = [*tone_match("--user-audio", str(stem), "--wet", "0"), "--no-progress"]
    assert main([*args, "--data-dir", str(demo_data_dir)]) == 0
    text = capsys.readouterr().out
    assert "(found in your audio)" in text and "your audio holds" in text


def test_tone_match_flags_reach_the_engine(capsys, demo_data_dir, tmp_path):
    mine = tmp_path / "di.wav"
    bad_audio.good_wav(mine, seconds=3.0)
    code, take, err = run(
        capsys,
        demo_data_dir,
        *tone_match("--user-audio", str(mine), "--wet", "50%", "--no-drive", "--no-dynamics"),
    )
    assert code == 0, err
    method = take["provenance"]["method"]
    assert "wet 0.5" in method and "no drive" in method and "no compressor" in method
    code, _, err = run(
        capsys, demo_data_dir, *tone_match("--user-audio", str(mine), "--wet", "lots")
    )
    assert code == 2 and "--wet" in err


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (bad_audio.truncated_wav, "truncated WAV"),
        (bad_audio.huge_declared_wav, "truncated WAV"),
        (bad_audio.bad_bits_wav, "damaged WAV header"),
        (bad_audio.short_wav, "too short"),
    ],
)
@pytest.mark.parametrize("engine", ["tonematch", "concat"])
def test_damaged_or_short_audio_of_your_own_never_becomes_a_take(
    capsys, demo_data_dir, tmp_path, make, words, engine
):
    path = make(tmp_path / "my take.wav")
    code, _out, err = run(
        capsys,
        demo_data_dir,
        "generate",
        f"{TARGET},level=audio",
        "--engine",
        engine,
        "--user-audio",
        str(path),
    )
    assert code == 2
    assert "my take.wav" in err and words in err and "Traceback" not in err
    assert kinds(demo_data_dir) == []
    assert not list((demo_data_dir / "takes").glob("*.wav"))
