"""The shipped composer: checked against the manifest's sha256 before loading, never downloaded,
recorded in the user's ledger on first use with what it was trained on."""

from __future__ import annotations

import shutil

import pytest
import torch

from musicapp.core import InvalidInput
from musicapp.generation.composer import tokens
from musicapp.generation.composer.model import generate
from musicapp.generation.composer.weights import (
    SHIPPED_MODELS_DIR,
    TRAINING_FILE,
    WEIGHTS_FILE,
    load_composer,
    record_installed,
)
from musicapp.ledger import Ledger
from musicapp.ledger.kinds import MODEL_INSTALLED
from musicapp.training.marks import trained_models
from musicapp.weights import find_entry


def _copy_shipped(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(SHIPPED_MODELS_DIR / "composer", models / "composer")
    return models


def test_the_shipped_composer_loads_from_the_repository_and_composes():
    loaded = load_composer()
    entry = find_entry("composer")
    assert {f.path for f in entry.files} == {
        "composer/composer.pt", "composer/config.json", "composer/training.json",
        "composer/training-tokens.npz",
    }  # fmt: skip
    assert (SHIPPED_MODELS_DIR / "composer" / WEIGHTS_FILE).stat().st_size <= 20 * 2**20
    assert loaded.training_event_id and loaded.model_id.startswith("composer-")
    songs = [i for i in loaded.training_set if i.kind == "song"]
    assert songs and all(i.holders for i in songs)
    assert all(not i.holders for i in loaded.training_set if i.kind == "public_domain")
    out = generate(loaded.model, [tokens.bos_id()], 40, seed=1, top_k=20)
    assert len(out) > 1 and all(0 <= t < tokens.VOCAB_SIZE for t in out)
    sequences = loaded.training_sequences()  # every item's tokens, each checked against the event
    assert [len(s) for s in sequences] == [i.tokens for i in loaded.training_set]


def test_load_composer_refuses_weights_whose_sha256_differs(tmp_path):
    models = _copy_shipped(tmp_path)
    weights = models / "composer" / WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(InvalidInput, match="does not match its sha256 in the manifest"):
        load_composer(models)


def test_load_composer_refuses_a_missing_file_and_downloads_nothing(tmp_path, monkeypatch):
    models = _copy_shipped(tmp_path)
    (models / "composer" / TRAINING_FILE).unlink()

    def no_network(*args, **kwargs):
        raise AssertionError("the composer tried to reach the network")

    monkeypatch.setattr("socket.socket.connect", no_network)
    with pytest.raises(InvalidInput, match="missing"):
        load_composer(models)


def test_the_shipped_model_is_recorded_once_in_the_users_ledger(tmp_path):
    loaded = load_composer()
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        first = record_installed(ledger, loaded)
        assert first is not None and record_installed(ledger, loaded) is None
        (event,) = list(ledger.events(MODEL_INSTALLED))
        assert event.payload["training_event_id"] == loaded.training_event_id
        assert event.payload["weights_sha256"] == loaded.weights_sha256
        (model,) = trained_models(ledger)
        assert model.origin == "installed"
        assert model.consent_versions == loaded.training["consent_versions"]
    assert torch.is_tensor(next(loaded.model.parameters()))


def test_the_training_room_lists_the_shipped_model_until_recorded_then_as_installed(tmp_path):
    from musicapp.config import Settings
    from musicapp.rooms.training import TrainingRoom

    settings = Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models")
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        room = TrainingRoom(settings, catalog=None, ledger=ledger, blocked=lambda ids: {})
        (shipped,) = room.models()
        assert (shipped.origin, shipped.state) == ("shipped", "published")
        assert shipped.songs > 0 and shipped.public_domain > 0
        assert room.record_shipped() is not None and room.record_shipped() is None
        (installed,) = room.models()
        assert installed.origin == "installed" and installed.model_id == shipped.model_id
        assert installed.state == "published"


def test_musicapp_models_reports_the_shipped_composer_verified_whatever_the_models_folder(
    tmp_path,
):
    from musicapp.rooms.models import ModelsRoom

    checks = {entry.name: check for entry, check in ModelsRoom(tmp_path / "empty").checks()}
    assert checks["composer"].state.value == "verified"
    assert checks["htdemucs"].state.value == "missing"  # the others still live in that folder
