"""A training run logs its event before its weights appear under their final name."""

from __future__ import annotations

import json
import time

import pytest
from training_helpers import TINY, tiny_set

from musicapp.generation.composer.weights import (
    CONFIG_FILE,
    TRAINING_FILE,
    WEIGHTS_FILE,
    load_trained,
)
from musicapp.jobs import Cancelled, CancelToken
from musicapp.ledger import Ledger, LedgerError
from musicapp.ledger.kinds import TRAINING
from musicapp.training.run import publish, trained_root


def _publish(ledger, models, cancel=None):
    return publish(
        tiny_set(), ledger, models, TINY, "cpu", time.monotonic(), lambda p: None, cancel
    )


def test_tiny_random_model_event_is_logged_before_the_weights_exist_under_their_name(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    models = tmp_path / "models"
    seen_at_append = {}
    real_append = ledger.append

    def spying_append(kind, payload, event_id=None):
        final = trained_root(models) / payload["model_id"]
        seen_at_append["published"] = final.exists()
        staged = [p for p in trained_root(models).glob(".staging-*/" + WEIGHTS_FILE)]
        seen_at_append["staged"] = len(staged)
        return real_append(kind, payload, event_id)

    ledger.append = spying_append
    result = _publish(ledger, models)
    assert seen_at_append == {"published": False, "staged": 1}
    event = ledger.get(result.event_id)
    assert event is not None and event.kind == TRAINING
    p = event.payload
    # Every song with its consent version, the seed, settings, device and the weights' sha256.
    assert p["consent_versions"] == {"song-a": {"h-ana": 1}, "song-b": {"h-ana": 1}}
    assert [i["id"] for i in p["items"]] == ["song-a", "song-b"]
    assert p["seed"] == 0 and p["device"] == "cpu" and p["spec"]["epochs"] == 1
    assert p["config"]["d_model"] == 16 and p["tokenizer"]["name"]
    assert p["weights"]["sha256"] == result.weights_sha256
    assert len(p["losses"]) == p["steps"] == result.steps
    # Published: the folder holds the weights, the config naming the event, the event itself.
    folder = result.folder
    assert folder == trained_root(models) / result.model_id
    config = json.loads((folder / CONFIG_FILE).read_text())
    shipped_event = json.loads((folder / TRAINING_FILE).read_text())
    assert config["training_event_id"] == result.event_id == shipped_event["id"]
    assert shipped_event["hash"] == event.hash and shipped_event["payload"] == p
    assert not list(trained_root(models).glob(".staging-*"))
    loaded = load_trained(folder, p["weights"]["sha256"])
    assert loaded.model_id == result.model_id and len(loaded.training_set) == 2
    ledger.close()


def test_when_the_event_cannot_be_logged_no_weights_are_published(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    models = tmp_path / "models"

    def failing_append(kind, payload, event_id=None):
        raise LedgerError("disk full")

    ledger.append = failing_append
    with pytest.raises(LedgerError):
        _publish(ledger, models)
    assert list(trained_root(models).iterdir()) == []  # neither published nor staged
    ledger.close()


def test_a_cancelled_run_logs_nothing_and_publishes_nothing(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        _publish(ledger, tmp_path / "models", cancel)
    assert ledger.count() == 0
    assert not trained_root(tmp_path / "models").exists()
    ledger.close()


def test_a_trained_model_whose_weights_changed_is_refused(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    result = _publish(ledger, tmp_path / "models")
    weights = result.folder / WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(Exception, match="does not match the sha256 its training event logged"):
        load_trained(result.folder, result.weights_sha256)
    ledger.close()
