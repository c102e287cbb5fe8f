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


def test_import_checks_the_file_and_copies_it_into_place(tmp_path):
    from musicapp.weights import import_file

    payload = b"weights"
    entry = write_manifest(tmp_path, hashlib.sha256(payload).hexdigest())
    models = tmp_path / "models"
    good = tmp_path / "w.bin"
    good.write_bytes(payload)
    dest = import_file(good, models, entries=[entry])
    assert dest == models / "tiny" / "w.bin" and dest.read_bytes() == payload
    assert status(entry, models)[0] is WeightStatus.PRESENT
    bad = tmp_path / "other" / "w.bin"
    bad.parent.mkdir()
    bad.write_bytes(b"tampered")
    with pytest.raises(InvalidInput, match="sha256 does not match"):
        import_file(bad, models, entries=[entry])
    assert dest.read_bytes() == payload  # the good copy is untouched
    stray = tmp_path / "unrelated.bin"
    stray.write_bytes(b"x")
    with pytest.raises(InvalidInput, match="expected one of: w.bin"):
        import_file(stray, models, entries=[entry])


def test_demucs_file_names_carry_a_checksum_that_is_checked(tmp_path):
    from musicapp.weights import ModelEntry, ModelFile

    payload = b"demucs weights"
    prefix = hashlib.sha256(payload).hexdigest()[:8]
    entry = ModelEntry("d", "", "", "src", (ModelFile(f"demucs/955717e8-{prefix}.th", ""),))
    path = tmp_path / "demucs" / f"955717e8-{prefix}.th"
    path.parent.mkdir()
    path.write_bytes(payload)
    assert status(entry, tmp_path)[0] is WeightStatus.PRESENT
    path.write_bytes(payload + b"!")
    assert status(entry, tmp_path)[0] is WeightStatus.BAD_CHECKSUM


def test_manifest_lists_the_three_demucs_models_in_repo_layout():
    names = {m.name: m for m in load_manifest()}
    assert {"htdemucs", "htdemucs_6s", "htdemucs_ft"} <= set(names)
    ft = [f.path for f in names["htdemucs_ft"].files]
    assert "demucs/htdemucs_ft.yaml" in ft and len(ft) == 5
