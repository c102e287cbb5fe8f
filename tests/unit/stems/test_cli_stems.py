"""`musicapp models import`, the models listing, and `musicapp stems` from the command line."""

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from musicapp.cli import main


def test_models_import_then_listing_names_what_is_still_missing(tmp_path, monkeypatch, capsys):
    import demucs

    monkeypatch.setenv("MUSICAPP_MODELS_DIR", str(tmp_path / "models"))
    yaml = Path(demucs.__file__).parent / "remote" / "htdemucs.yaml"
    assert main(["models", "import", str(yaml), "--model", "htdemucs"]) == 0
    assert (tmp_path / "models" / "demucs" / "htdemucs.yaml").read_bytes() == yaml.read_bytes()
    capsys.readouterr()
    assert main(["models", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["models"]}
    assert rows["htdemucs"]["status"] == "missing"
    assert "955717e8-8726e21a.th" in rows["htdemucs"]["detail"]
    assert "dl.fbaipublicfiles.com" in rows["htdemucs"]["obtain"]
    fake = tmp_path / "955717e8-8726e21a.th"
    fake.write_bytes(b"not the real weights")
    assert main(["models", "import", str(fake)]) == 2
    assert "sha256 does not match" in capsys.readouterr().err


def test_stems_command_falls_back_and_says_why(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MUSICAPP_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("MUSICAPP_DATA_DIR", str(tmp_path / "data"))
    src = tmp_path / "song.wav"
    sf.write(src, np.zeros((16000, 2), dtype=np.float32), 16000)
    out = tmp_path / "out"
    assert main(["stems", str(src), "--out", str(out), "--json", "--no-progress"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "fallback" and "htdemucs" in data["reason"]
    assert sorted(p.name for p in out.iterdir()) == ["harmonic.flac", "percussive.flac"]
