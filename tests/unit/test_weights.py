"""The model manifest: missing, bad-checksum, unverifiable and verified weights are told apart."""

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


def test_missing_verified_and_bad_checksum(tmp_path):
    models = tmp_path / "models"
    payload = b"weights"
    entry = write_manifest(tmp_path, hashlib.sha256(payload).hexdigest())
    state, detail = status(entry, models)
    assert state is WeightStatus.MISSING and "tiny/w.bin" in detail and "a local test" in detail
    (models / "tiny").mkdir(parents=True)
    (models / "tiny" / "w.bin").write_bytes(payload)
    assert status(entry, models)[0] is WeightStatus.VERIFIED
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
    dest = import_file(good, models, entries=[entry]).dest
    assert dest == models / "tiny" / "w.bin" and dest.read_bytes() == payload
    assert status(entry, models)[0] is WeightStatus.VERIFIED
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


def test_demucs_name_checksum_can_refuse_a_file_but_never_vouch_for_it(tmp_path):
    from musicapp.weights import ModelEntry, ModelFile

    payload = b"demucs weights"
    prefix = hashlib.sha256(payload).hexdigest()[:8]
    entry = ModelEntry("d", "", "", "src", (ModelFile(f"demucs/955717e8-{prefix}.th", ""),))
    path = tmp_path / "demucs" / f"955717e8-{prefix}.th"
    path.parent.mkdir()
    path.write_bytes(payload)
    state, detail = status(entry, tmp_path)
    assert state is WeightStatus.UNVERIFIABLE and "anyone can forge" in detail
    path.write_bytes(payload + b"!")
    assert status(entry, tmp_path)[0] is WeightStatus.BAD_CHECKSUM


def test_manifest_lists_the_three_demucs_models_in_repo_layout():
    names = {m.name: m for m in load_manifest()}
    assert {"htdemucs", "htdemucs_6s", "htdemucs_ft"} <= set(names)
    ft = [f.path for f in names["htdemucs_ft"].files]
    assert "demucs/htdemucs_ft.yaml" in ft and len(ft) == 5


def test_every_published_demucs_file_has_a_full_sha256_matching_its_name():
    """The manifest's full hashes agree with the 8-digit checksum the publisher put in each name,
    and no listed hash is a prefix or otherwise malformed (load_manifest refuses those)."""
    from pathlib import PurePosixPath

    from musicapp.weights import name_checksum

    demucs = [f for m in load_manifest() if m.name.startswith("htdemucs") for f in m.files]
    assert len(demucs) == 9
    for f in demucs:
        assert len(f.sha256) == 64 and f.sha256_source, f.path
        prefix = name_checksum(PurePosixPath(f.path).name)
        assert f.sha256.startswith(prefix), f.path


def test_a_truncated_or_uppercase_sha256_in_a_manifest_is_refused(tmp_path):
    for bad in ("8726e21a", "8726E21A" + "0" * 56):
        with pytest.raises(InvalidInput, match="64 lowercase hex"):
            write_manifest(tmp_path, bad)
    path = tmp_path / "escape.toml"
    path.write_text('[[model]]\nname = "x"\nfiles = [{ path = "../x.bin", sha256 = "" }]\n')
    with pytest.raises(InvalidInput, match="relative to the models folder"):
        load_manifest(path)
