"""From the command line: catalogue audio as your audio keeps its identity, tone matching flags,
and damaged or too-short audio of your own never becomes a take."""

import json
import sqlite3

import pytest
import soundfile as sf

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


def preview_file(data_dir, song_id, path):
    """The song's 15-second preview as the window plays it, saved to a file."""
    from musicapp.config import Settings
    from musicapp.context import AppContext

    with AppContext.open(Settings(data_dir=data_dir, models_dir=data_dir / "models")) as ctx:
        audio, rate = ctx.studio.preview(song_id)
    sf.write(path, audio.T, rate, subtype="PCM_16")
    return path


def same_audio_file(data_dir, song_id, path):
    """The song's stem samples in another container (WAV instead of the stored FLAC)."""
    data, rate = sf.read(a_stem(data_dir, song_id), dtype="int16")
    sf.write(path, data, rate, subtype="PCM_16")
    return path


def separated_part(capsys, data_dir, song_id, folder):
    """`musicapp stems FILE --out DIR` on a file holding the song's audio, then one part."""
    source = same_audio_file(data_dir, song_id, folder / "mine.wav")
    code, out, err = run(capsys, data_dir, "stems", str(source), "--out", str(folder / "parts"))
    assert code == 0, err
    return folder / "parts" / "harmonic.flac"


ENTRY = ("stem", "preview", "same audio", "separated part")


def entry_file(entry, capsys, data_dir, song_id, tmp_path):
    if entry == "stem":
        return a_stem(data_dir, song_id)
    if entry == "preview":
        return preview_file(data_dir, song_id, tmp_path / "preview.wav")
    if entry == "same audio":
        return same_audio_file(data_dir, song_id, tmp_path / "copy.wav")
    return separated_part(capsys, data_dir, song_id, tmp_path)


@pytest.mark.parametrize("entry", ENTRY)
def test_audio_of_a_song_without_consent_is_refused_as_your_audio(
    capsys, demo_data_dir, tmp_path, entry
):
    path = entry_file(entry, capsys, demo_data_dir, NO_CONSENT, tmp_path)
    code, out, err = run(
        capsys,
        demo_data_dir,
        *tone_match("--user-audio", str(path), "--wet", "0%", "--use", "commercial"),
    )
    assert code == 1, err
    assert out["allowed"] is False
    refused = [d for d in out["decisions"] if not d["allowed"]]
    assert [d["reference"]["song_id"] for d in refused] == [NO_CONSENT]
    assert refused[0]["reference"]["via"] == "user_audio"
    assert kinds(demo_data_dir)[-1] == "verification"  # the refusal is on record, no take
    assert "generation" not in kinds(demo_data_dir)


def test_a_reloaded_export_keeps_its_references(capsys, demo_data_dir, tmp_path):
    nc = "palestrina-kyrie-ad-fugam"  # non-commercial use only
    code, take, err = run(
        capsys, demo_data_dir, "generate", nc, "--use", "non_commercial", "--duration", "6"
    )
    assert code == 0, err
    out = tmp_path / "kyrie.flac"
    assert run(capsys, demo_data_dir, "export", take["take_id"], str(out))[0] == 0
    code, refused, _ = run(
        capsys, demo_data_dir, *tone_match("--user-audio", str(out), "--use", "commercial")
    )
    assert code == 1
    assert [d["reference"]["song_id"] for d in refused["decisions"] if not d["allowed"]] == [nc]


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
