"""A tiny random HTDemucs written in demucs' repo layout, as the real weights would be."""

from pathlib import Path

import pytest

from musicapp.config import Settings
from musicapp.stems.demucs_repo import repo_dir, save_repo_model, tiny_htdemucs
from musicapp.weights import load_manifest


@pytest.fixture
def tiny_repo(tmp_path: Path) -> tuple[Settings, list]:
    """Settings whose models folder holds a tiny random `htdemucs` and a manifest listing it."""
    models = tmp_path / "models"
    files = save_repo_model(tiny_htdemucs(segment=1.0), repo_dir(models), "htdemucs")
    from musicapp.weights import sha256_file

    rows = ", ".join(f'{{ path = "demucs/{p.name}", sha256 = "{sha256_file(p)}" }}' for p in files)
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        f'[[model]]\nname = "htdemucs"\nsource = "the test fixture"\nfiles = [{rows}]\n'
    )
    settings = Settings(data_dir=tmp_path / "data", models_dir=models)
    return settings, load_manifest(manifest)
