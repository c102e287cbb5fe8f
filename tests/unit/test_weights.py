"""The model manifest: missing, bad-checksum and present weights are told apart."""

import hashlib

import pytest

from musicapp.core import InvalidInput
from musicapp.weights import WeightStatus, load_manifest, status


def write_manifest(tmp_path, sha):
    path = tmp_path / "manifest.toml"
    path.write_text(
        '[[model]]\nname = "tiny"\nsource = "a local test"\n'
        f'files = [{{ path = "tiny/w.bin", sha256 = "{sha}" }}]\n'
    )
    return load_manifest(path)[0]


def test_missing_present_and_bad_checksum(tmp_path):
    models = tmp_path / "models"
    payload = b"weights"
    entry = write_manifest(tmp_path, hashlib.sha256(payload).hexdigest())
    state, detail = status(entry, models)
    assert state is WeightStatus.MISSING and "tiny/w.bin" in detail and "a local test" in detail
    (models / "tiny").mkdir(parents=True)
    (models / "tiny" / "w.bin").write_bytes(payload)
    assert status(entry, models)[0] is WeightStatus.PRESENT
    (models / "tiny" / "w.bin").write_bytes(payload + b"!")
    assert status(entry, models)[0] is WeightStatus.BAD_CHECKSUM


def test_repository_manifest_loads_and_broken_manifest_is_named(tmp_path):
    assert {m.name for m in load_manifest()} >= {"htdemucs", "musicgen-melody"}
    bad = tmp_path / "m.toml"
    bad.write_text("[[model]\n")
    with pytest.raises(InvalidInput, match="m.toml"):
        load_manifest(bad)
