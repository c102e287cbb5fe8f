"""`musicapp train` end to end on the small demo catalogue, with a tiny random model (wiring)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from musicapp.catalog.demo import (
    OPTED_OUT_SONG_ID,
    PERMITTED_SONG_IDS,
    REVOKED_SONG_ID,
    SONG_LEVEL_ONLY_SONG_ID,
)
from musicapp.catalog.store import CatalogStore
from musicapp.cli import main
from musicapp.core import ConsentRecord, Permission, Use
from musicapp.ledger import Ledger
from musicapp.ledger.kinds import MODEL_MARKED, TRAINING

TINY_ARGS = [
    "--songs-only", "--epochs", "1", "--d-model", "16", "--layers", "1", "--heads", "2",
    "--context", "32", "--batch", "32", "--json",
]  # fmt: skip


def _run(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def _training_events(data_dir):
    with Ledger(data_dir / "ledger.sqlite") as ledger:
        return [e for e in ledger.events(TRAINING)], len(list(ledger.events(MODEL_MARKED)))


def test_musicapp_train_tiny_random_model_then_revocation_marks_it_and_the_next_run_excludes(
    demo_data_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("MUSICAPP_MODELS_DIR", str(tmp_path / "models"))
    data = str(demo_data_dir)
    first = _run(capsys, "train", "--data-dir", data, *TINY_ARGS)
    assert first["songs"] >= len(PERMITTED_SONG_IDS) and first["public_domain"] == 0
    assert first["steps"] >= 1 and first["device"] == "cpu"
    (event,), marks = _training_events(demo_data_dir)
    assert event.id == first["event_id"] and marks == 0
    trained_on = event.payload["consent_versions"]
    assert set(PERMITTED_SONG_IDS) <= set(trained_on)
    for refused in (REVOKED_SONG_ID, OPTED_OUT_SONG_ID, SONG_LEVEL_ONLY_SONG_ID):
        assert refused not in trained_on
        assert refused in {e["song_id"] for e in event.payload["excluded"]}

    # A holder of a permitted song revokes: the model is marked, once, and the next run excludes it.
    song_id = PERMITTED_SONG_IDS[0]
    holder, version = sorted(trained_on[song_id].items())[0]
    now = datetime.now(UTC)
    with CatalogStore(demo_data_dir / "catalog.sqlite", demo_data_dir / "audio") as catalog:
        catalog.consent.add_consent(
            ConsentRecord(
                song_id,
                holder,
                version + 1,
                frozenset(Permission),
                frozenset(Use),
                now,
                revoked_at=now,
            )  # fmt: skip
        )
    status = _run(capsys, "train", "status", "--data-dir", data, "--json")
    assert [(m["model_id"], m["song_id"], m["consent_version"]) for m in status["marks"]] == [
        (first["model_id"], song_id, version + 1)
    ]
    assert status["models"][0]["state"] == "published" and status["models"][0]["marks"] == 1
    again = _run(capsys, "train", "status", "--data-dir", data, "--json")
    assert len(again["marks"]) == 1
    assert _training_events(demo_data_dir)[1] == 1  # logged once

    second = _run(capsys, "train", "--data-dir", data, *TINY_ARGS)
    events, _ = _training_events(demo_data_dir)
    assert events[-1].id == second["event_id"] and second["songs"] == first["songs"] - 1
    assert song_id not in events[-1].payload["consent_versions"]
    assert "revoked" in {e["song_id"]: e["reason"] for e in events[-1].payload["excluded"]}[song_id]


def test_musicapp_train_on_a_device_this_machine_lacks_says_so(demo_data_dir, capsys):
    code = main(["train", "--data-dir", str(demo_data_dir), "--device", "quantum"])
    assert code != 0
    assert "device 'quantum' is not known" in capsys.readouterr().err
