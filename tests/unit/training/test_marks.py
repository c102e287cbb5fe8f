"""Revoking training consent marks the models trained on the song, once."""

from __future__ import annotations

import time

from training_helpers import (
    ANA,
    NO_TRAINING,
    TINY,
    FakeCatalog,
    FakeConsentTables,
    consent,
    later,
    song,
    tiny_set,
)

from musicapp.ledger import Ledger
from musicapp.ledger.kinds import MODEL_MARKED
from musicapp.training.marks import logged_marks, refresh_marks, trained_models
from musicapp.training.run import publish


def _ledger_with_a_model(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    result = publish(
        tiny_set(("song-a", "song-b")), ledger, tmp_path / "models", TINY, "cpu",
        time.monotonic(), lambda p: None, None,
    )  # fmt: skip
    return ledger, result


def test_tiny_random_model_is_marked_once_when_a_song_is_revoked(tmp_path):
    ledger, result = _ledger_with_a_model(tmp_path)
    tables = FakeConsentTables([consent("song-a", ANA), consent("song-b", ANA)])
    catalog = FakeCatalog({"song-a": song("song-a", ANA), "song-b": song("song-b", ANA)}, tables)
    assert refresh_marks(ledger, catalog, later(100)) == []  # consent unchanged: no mark

    tables.records.append(consent("song-b", ANA, version=2, at=later(50), revoked=later(50)))
    new = refresh_marks(ledger, catalog, later(100))
    assert [(m.model_id, m.song_id, m.holder_id, m.consent_version) for m in new] == [
        (result.model_id, "song-b", "h-ana", 2)
    ]
    assert new[0].training_event_id == result.event_id and new[0].trained_version == 1
    assert ledger.get(new[0].event_id).kind == MODEL_MARKED
    # Idempotent: looking again logs nothing more.
    assert refresh_marks(ledger, catalog, later(200)) == []
    assert len(list(ledger.events(MODEL_MARKED))) == 1
    assert [m.song_id for m in logged_marks(ledger)] == ["song-b"]
    ledger.close()


def test_a_version_that_drops_the_training_flag_marks_the_model_too(tmp_path):
    ledger, result = _ledger_with_a_model(tmp_path)
    tables = FakeConsentTables(
        [
            consent("song-a", ANA),
            consent("song-a", ANA, version=2, at=later(10), permissions=NO_TRAINING),
            consent("song-b", ANA),
        ]
    )
    catalog = FakeCatalog({"song-a": song("song-a", ANA), "song-b": song("song-b", ANA)}, tables)
    (mark,) = refresh_marks(ledger, catalog, later(20))
    assert (mark.song_id, mark.consent_version) == ("song-a", 2)
    assert "does not allow model training" in mark.reason
    assert trained_models(ledger)[0].model_id == result.model_id
    ledger.close()
