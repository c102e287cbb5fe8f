"""Model files the app trusts: only verified or explicitly trusted bytes load, `.th` files are
unpickled weights-only, and the MusicGen model id names every file that defines the model."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from musicapp.cli import main
from musicapp.core import InvalidInput
from musicapp.model_trust import trust_path
from musicapp.stems.demucs_repo import (
    load_demucs,
    manifest_entry,
    repo_dir,
    save_repo_model,
    tiny_htdemucs,
)
from musicapp.weights import ModelEntry, ModelFile, WeightStatus, check_model, import_file

torch = pytest.importorskip("torch")


class _RunsCode:
    """Unpickling this runs Python (here: it writes a marker file; a real payload would not stop
    there)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


def _package_that_runs_code(marker: Path) -> bytes:
    """A demucs-shaped package (klass, args, kwargs, state) carrying the payload."""
    from demucs.htdemucs import HTDemucs

    buf = io.BytesIO()
    package = {"klass": HTDemucs, "args": [], "kwargs": {"x": _RunsCode(marker)}, "state": {}}
    torch.save(package, buf)
    return buf.getvalue()


@pytest.fixture
def tiny_demucs(tmp_path: Path) -> tuple[Path, ModelEntry, Path]:
    """(models folder, its manifest entry with full sha256s, the .th) for a tiny random htdemucs."""
    models = tmp_path / "models"
    files = save_repo_model(tiny_htdemucs(segment=1.0), repo_dir(models), "htdemucs")
    entry = manifest_entry("htdemucs", models, files, "the test")
    return models, entry, next(p for p in files if p.suffix == ".th")


def test_th_named_with_its_own_checksum_but_not_the_published_bytes_is_refused_unpickled(
    tmp_path, tiny_demucs
):
    """An attacker who finds a 32-bit prefix collision passes demucs' own check (the 8 hex digits
    in the name) and demucs then unpickles with weights_only=False. The test stands in for the
    collision by naming the payload after its own prefix, where the manifest expects the
    published file's full sha256."""
    models, genuine, th = tiny_demucs
    marker = tmp_path / "ran.txt"
    payload = _package_that_runs_code(marker)
    prefix = hashlib.sha256(payload).hexdigest()[:8]
    sig = th.name.split("-")[0]
    th.unlink()
    evil = th.with_name(f"{sig}-{prefix}.th")
    evil.write_bytes(payload)
    published = next(f.sha256 for f in genuine.files if f.path.endswith(".th"))
    yaml = next(f for f in genuine.files if f.path.endswith(".yaml"))
    entry = ModelEntry(
        "htdemucs", "", "", "the test", (yaml, ModelFile(f"demucs/{evil.name}", published))
    )

    from demucs.repo import check_checksum

    check_checksum(evil, prefix)  # demucs' own rule accepts the file
    with pytest.raises(InvalidInput, match=rf"bad checksum: .*{evil.name} does not match"):
        load_demucs("htdemucs", models, [entry])
    assert not marker.exists()

    # The control: demucs' own loader, given the same folder, runs the payload.
    code = (
        "from pathlib import Path\nfrom demucs.pretrained import get_model\n"
        f"try:\n    get_model('htdemucs', repo=Path({str(repo_dir(models))!r}))\n"
        "except Exception:\n    pass\n"
    )
    subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300)
    assert marker.read_text() == "ran"


@pytest.mark.parametrize("how", ["trusted locally", "listed in the manifest"])
def test_a_th_that_would_run_code_is_never_executed_even_when_its_bytes_are_vouched_for(
    tmp_path, tiny_demucs, how
):
    """weights_only=True is the second wall: even a file the user trusted, or one a compromised
    publisher listed, cannot run code when it is loaded."""
    models, genuine, th = tiny_demucs
    marker = tmp_path / "ran.txt"
    payload = _package_that_runs_code(marker)
    th.unlink()
    evil = th.with_name(f"{th.name.split('-')[0]}-{hashlib.sha256(payload).hexdigest()[:8]}.th")
    evil.write_bytes(payload)
    yaml = next(f for f in genuine.files if f.path.endswith(".yaml"))
    listed = hashlib.sha256(payload).hexdigest() if how == "listed in the manifest" else ""
    entry = ModelEntry(
        "htdemucs", "", "", "the test", (yaml, ModelFile(f"demucs/{evil.name}", listed))
    )
    if how == "trusted locally":
        import_file(evil, models, entries=[entry], trust=True)
    assert check_model(entry, models).usable

    with pytest.raises(InvalidInput, match=r"refused: it asks to import builtins\.exec"):
        load_demucs("htdemucs", models, [entry])
    assert not marker.exists()


def test_the_tiny_model_still_loads_weights_only_through_the_same_path(tiny_demucs):
    models, entry, _ = tiny_demucs
    bag = load_demucs("htdemucs", models, [entry])
    assert bag.sources == ["drums", "bass", "other", "vocals"] and len(bag.models) == 1


def test_a_th_the_bag_does_not_list_in_the_manifest_is_never_read(tmp_path, tiny_demucs):
    """The yaml names the models to load; a signature the manifest does not list is refused
    rather than looked up in the folder."""
    models, entry, th = tiny_demucs
    stray = th.with_name("0badc0de.th")
    stray.write_bytes(_package_that_runs_code(tmp_path / "ran.txt"))
    yaml_path = repo_dir(models) / "htdemucs.yaml"
    yaml_path.write_text("models: ['0badc0de']\n")
    files = [yaml_path, th]
    entry = manifest_entry("htdemucs", models, files, "the test")
    with pytest.raises(InvalidInput, match="names model '0badc0de', which the manifest does not"):
        load_demucs("htdemucs", models, [entry])
    assert not (tmp_path / "ran.txt").exists()


# -- the CLI: a file without a published hash, refused, then trusted -----------------------------


def _run(capsys, *args: str) -> tuple[int, object, str]:
    code = main([*args, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def _states(capsys, models: Path) -> dict[str, str]:
    code, listing, err = _run(capsys, "models", "--models-dir", str(models))
    assert code == 0, err
    return {f["path"]: f["status"] for m in listing["models"] for f in m["files"]}


def test_a_file_without_a_published_hash_is_refused_then_used_after_trust(tmp_path, capsys):
    models = tmp_path / "models"
    download = tmp_path / "download" / "config.json"
    download.parent.mkdir()
    download.write_text('{"model_type": "musicgen_melody"}')
    digest = hashlib.sha256(download.read_bytes()).hexdigest()

    code, _, err = _run(capsys, "models", "import", str(download), "--models-dir", str(models))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "no published sha256 for musicgen-melody (musicgen-melody/config.json)" in err
    assert "--trust" in err and digest in err
    assert not (models / "musicgen-melody" / "config.json").exists()

    # A copy put in place by hand is there, and unverifiable: never loaded.
    (models / "musicgen-melody").mkdir(parents=True)
    shutil.copy(download, models / "musicgen-melody" / "config.json")
    assert _states(capsys, models)["musicgen-melody/config.json"] == "unverifiable"

    code, done, err = _run(
        capsys, "models", "import", str(download), "--trust", "--models-dir", str(models)
    )
    assert code == 0, err
    assert done["status"] == "trusted locally" and done["sha256"] == digest
    assert done["trusted_by"] and done["trusted_at"] and done["trust_list"]
    trusted = json.loads(trust_path(models).read_text())["entries"]
    assert [(e["path"], e["sha256"]) for e in trusted] == [("musicgen-melody/config.json", digest)]
    if os.name == "posix":
        assert stat.S_IMODE(trust_path(models).stat().st_mode) == 0o600
    assert _states(capsys, models)["musicgen-melody/config.json"] == "trusted locally"

    # Trust is in the bytes, not the name: an edited file is refused again.
    (models / "musicgen-melody" / "config.json").write_text('{"model_type": "other"}')
    assert _states(capsys, models)["musicgen-melody/config.json"] == "bad checksum"


def test_models_lists_verified_missing_bad_and_unverifiable_files(tmp_path, capsys):
    import demucs

    models = tmp_path / "models"
    (models / "demucs").mkdir(parents=True)
    remote = Path(demucs.__file__).parent / "remote"
    shutil.copy(remote / "htdemucs.yaml", models / "demucs" / "htdemucs.yaml")  # as published
    (models / "demucs" / "htdemucs_6s.yaml").write_text("models: ['5c90dfd2']\n# edited\n")
    (models / "musicgen-melody").mkdir()  # a file with no published sha256
    (models / "musicgen-melody" / "config.json").write_text("{}")
    states = _states(capsys, models)
    assert states["demucs/htdemucs.yaml"] == "verified"
    assert states["demucs/955717e8-8726e21a.th"] == "missing"
    assert states["demucs/htdemucs_6s.yaml"] == "bad checksum"
    assert states["musicgen-melody/config.json"] == "unverifiable"
    code, listing, _ = _run(capsys, "models", "--models-dir", str(models))
    by_name = {m["name"]: m for m in listing["models"]}
    assert by_name["htdemucs"]["status"] == "missing" and "obtain" in by_name["htdemucs"]
    assert by_name["htdemucs_6s"]["status"] == "bad checksum"


def test_trust_cannot_override_a_published_hash(tmp_path, capsys):
    models = tmp_path / "models"
    fake = tmp_path / "955717e8-8726e21a.th"
    fake.write_bytes(b"not the published file")
    code, _, err = _run(
        capsys, "models", "import", str(fake), "--trust", "--models-dir", str(models)
    )
    assert code == 2 and "sha256 does not match the manifest's for htdemucs" in err
    assert "--trust cannot override a published sha256" in err
    assert not (models / "demucs" / fake.name).exists()
    assert not trust_path(models).exists()


def test_a_trust_list_others_can_write_is_not_believed(tmp_path, capsys):
    if os.name != "posix":
        pytest.skip("file modes are POSIX")
    models = tmp_path / "models"
    src = tmp_path / "config.json"
    src.write_text("{}")
    assert (
        _run(capsys, "models", "import", str(src), "--trust", "--models-dir", str(models))[0] == 0
    )
    trust_path(models).chmod(0o666)
    code, _, err = _run(capsys, "models", "--models-dir", str(models))
    assert code == 2 and "writable by other users (mode 0666)" in err and "chmod 600" in err


# -- MusicGen: the model id is every file's hash -------------------------------------------------


def _musicgen_folder(root: Path, names: list[str]) -> tuple[Path, Path]:
    """A musicgen-melody folder of small files and a manifest listing their full sha256."""
    models = root / "models"
    folder = models / "musicgen-melody"
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        (folder / name).write_bytes(f"file {i}".encode())
    return models, _write_manifest(root, folder, names)


def _write_manifest(root: Path, folder: Path, names: list[str]) -> Path:
    rows = ", ".join(
        f'{{ path = "musicgen-melody/{n}", sha256 = "{hashlib.sha256((folder / n).read_bytes()).hexdigest()}" }}'  # noqa: E501
        for n in names
    )
    manifest = root / "manifest.toml"
    manifest.write_text(f'[[model]]\nname = "musicgen-melody"\nsource = "test"\nfiles = [{rows}]\n')
    return manifest


def test_musicgen_model_id_changes_when_any_file_that_defines_the_model_changes(tmp_path):
    from musicapp.generation.musicgen import check_weights

    names = [
        "config.json",
        "generation_config.json",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "tokenizer.json",
    ]
    models, manifest = _musicgen_folder(tmp_path, names)
    ids = {check_weights(models, manifest)}
    for name in names:
        (models / "musicgen-melody" / name).write_bytes(b"changed " + name.encode())
        with pytest.raises(InvalidInput, match=f"refused: .*{name} does not match its sha256"):
            check_weights(models, manifest)
        _write_manifest(tmp_path, models / "musicgen-melody", names)  # a new published version
        ids.add(check_weights(models, manifest))
    assert len(ids) == len(names) + 1


def test_musicgen_files_without_a_hash_load_only_once_each_is_trusted(tmp_path):
    from musicapp.generation.musicgen import check_weights

    names = ["config.json", "model.safetensors"]
    models = tmp_path / "models"
    folder = models / "musicgen-melody"
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_bytes(name.encode())
    rows = ", ".join(f'{{ path = "musicgen-melody/{n}", sha256 = "" }}' for n in names)
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(f'[[model]]\nname = "musicgen-melody"\nsource = "test"\nfiles = [{rows}]\n')
    from musicapp.weights import load_manifest

    entries = load_manifest(manifest)
    with pytest.raises(InvalidInput, match=r"refused: .*config\.json: no published sha256"):
        check_weights(models, manifest)
    import_file(folder / "config.json", models, entries=entries, trust=True)
    with pytest.raises(InvalidInput, match=r"refused: .*model\.safetensors: no published sha256"):
        check_weights(models, manifest)
    import_file(folder / "model.safetensors", models, entries=entries, trust=True)
    assert check_weights(models, manifest).startswith("musicgen-melody@")
    assert check_model(entries[0], models).state is WeightStatus.TRUSTED
