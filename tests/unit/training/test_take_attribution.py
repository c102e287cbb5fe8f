"""Each composer take is attributed to the model's training items (TRAK and unlearning), with a
TINY RANDOM model published by a real training run: these tests check the wiring (the training
tokens kept beside the weights and checked, the cache, the estimate's rules, the provenance and
what the royalties read), not the quality of the scores; docs/tda.md measures that."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest
from training_helpers import TINY, tiny_set

pytest.importorskip("torch")

from musicapp.attribution.tda.take import TakeAttributor  # noqa: E402
from musicapp.catalog.demo import PERMITTED_SONG_IDS  # noqa: E402
from musicapp.core import InvalidInput, Provenance, SourceShare  # noqa: E402
from musicapp.generation.composer.weights import load_trained  # noqa: E402
from musicapp.jobs import Cancelled, CancelToken  # noqa: E402
from musicapp.ledger import Ledger  # noqa: E402
from musicapp.royalties.events import use_event  # noqa: E402
from musicapp.training.corpus import PUBLIC_DOMAIN, TrainingItem  # noqa: E402
from musicapp.training.public_domain import tokens_sha256  # noqa: E402
from musicapp.training.run import publish  # noqa: E402
from musicapp.training.sequences import SEQUENCES_FILE, read_sequences  # noqa: E402

SONGS = PERMITTED_SONG_IDS  # demo songs, so the royalties find their holders


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A tiny model trained on three songs and one public-domain tune, as published."""
    root = tmp_path_factory.mktemp("tda-take")
    tset = tiny_set(SONGS)
    tune = [1, *range(10, 80), 2]
    pd = TrainingItem("pd:tune#1", PUBLIC_DOMAIN, "A Tune", (), len(tune), tokens_sha256(tune))
    tset = replace(tset, items=(*tset.items, pd), sequences=(*tset.sequences, tune))
    with Ledger(root / "ledger.sqlite") as ledger:
        result = publish(
            tset, ledger, root / "models", TINY, "cpu", time.monotonic(), lambda p: None, None
        )
    return root, result, tset


def test_a_published_model_keeps_every_items_tokens_checked_against_its_event(published):
    _, result, tset = published
    loaded = load_trained(result.folder, result.weights_sha256)
    assert loaded.training_sequences() == [list(s) for s in tset.sequences]


def test_changed_training_tokens_are_refused_naming_the_item(published, tmp_path):
    _, result, tset = published
    with np.load(result.folder / SEQUENCES_FILE) as data:
        ids, lengths, item_ids = data["ids"].copy(), data["lengths"], data["item_ids"]
    ids[lengths[0] + 3] += 1  # one token of the second item
    bad = tmp_path / SEQUENCES_FILE
    np.savez(bad, ids=ids, lengths=lengths, item_ids=item_ids)
    with pytest.raises(
        InvalidInput, match=f"the tokens of {SONGS[1]} are not those it was trained"
    ):
        read_sequences(bad, tset.items)
    with pytest.raises(InvalidInput, match="lists other items"):
        read_sequences(result.folder / SEQUENCES_FILE, tset.items[:2])


def test_tiny_random_model_take_gets_both_methods_and_an_estimate_over_songs_only(
    published, tmp_path
):
    _, result, tset = published
    loaded = load_trained(result.folder, result.weights_sha256)
    take = list(tset.sequences[1])  # the take repeats song-b note for note
    found = TakeAttributor(loaded, tmp_path / "cache").attribute(
        take, lambda p: None, CancelToken()
    )
    assert found.model_id == result.model_id and found.training_songs == 3
    assert {i.item_id for i in found.top} == {*SONGS, "pd:tune#1"}
    assert all(np.isfinite(i.trak) and np.isfinite(i.unlearning) for i in found.top)
    # Unlearning the take raises the loss of the song it repeats most: it leads the estimate.
    assert max(found.songs, key=found.songs.get) == SONGS[1]
    # Public-domain tunes have nobody to pay: never in the estimate.
    assert set(found.songs) <= set(SONGS)
    assert sum(found.songs.values()) == pytest.approx(1.0)
    assert all(w > 0 for w in found.songs.values())
    data = found.to_dict()
    assert data["policy"] == "flat" and data["estimate_method"] == "unlearning"
    # Kept: a second attributor over the same model reads the training side from the cache.
    cached = list((tmp_path / "cache").iterdir())
    assert len(cached) == 1 and result.model_id in cached[0].name
    again = TakeAttributor(loaded, tmp_path / "cache").attribute(
        take, lambda p: None, CancelToken()
    )
    assert [(i.item_id, round(i.trak, 4)) for i in again.top] == [
        (i.item_id, round(i.trak, 4)) for i in found.top
    ]


def test_a_truncated_cache_is_computed_again_not_a_failed_take(published, tmp_path):
    _, result, tset = published
    loaded = load_trained(result.folder, result.weights_sha256)
    first = TakeAttributor(loaded, tmp_path / "cache")
    found = first.attribute(tset.sequences[0], lambda p: None, CancelToken())
    cache = first.cache_path
    cache.write_bytes(cache.read_bytes()[:100])  # a crash halfway through writing it
    again = TakeAttributor(loaded, tmp_path / "cache").attribute(
        tset.sequences[0], lambda p: None, CancelToken()
    )
    assert [i.item_id for i in again.top] == [i.item_id for i in found.top]
    assert cache.stat().st_size > 100  # rewritten whole


def test_a_cancelled_attribution_keeps_no_cache(published, tmp_path):
    _, result, tset = published
    loaded = load_trained(result.folder, result.weights_sha256)
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        TakeAttributor(loaded, tmp_path / "cache").attribute(
            tset.sequences[0], lambda p: None, cancel
        )
    assert not (tmp_path / "cache").exists()


def test_the_estimate_reaches_the_royalties_from_the_logged_provenance():
    training = {"model_id": "m", "policy": "flat", "songs": {"song-a": 0.75, "song-b": 0.25}}
    prov = Provenance((SourceShare(0, "song-c", 1.0),), engine="composer", training=training)
    payload = {"request": {"use": "commercial", "references": []}, "provenance": prov.to_dict()}
    use = use_event("e1", payload)
    assert use is not None and use.training == {"song-a": 0.75, "song-b": 0.25}
    assert Provenance.from_dict(prov.to_dict()).training == training
    plain = Provenance((SourceShare(0, "song-c", 1.0),)).to_dict()
    assert "training" not in plain and "training_attribution" not in plain


def test_tiny_random_model_studio_take_logs_its_training_attribution(
    published, demo_studio, tmp_path
):
    from datetime import UTC, datetime, timedelta

    from musicapp.core import GenerationRequest, Reference
    from musicapp.generation import registry
    from musicapp.generation.composer.engine import ComposerEngine
    from musicapp.royalties.period import Policy

    _, result, _ = published
    audio_dir = demo_studio.settings.audio_dir

    def load(_models_dir, _device):
        return load_trained(result.folder, result.weights_sha256)

    registry.register(
        "composer-tda-tiny",
        lambda: ComposerEngine(audio_dir, loader=load, attribution_dir=tmp_path / "attribution"),
    )
    try:
        request = GenerationRequest(
            (Reference(PERMITTED_SONG_IDS[0]),), engine="composer-tda-tiny", duration_s=4.0, seed=2
        )
        take = demo_studio.generate(request)
    finally:
        registry._FACTORIES.pop("composer-tda-tiny", None)
    training = take.provenance.training
    assert training is not None and training["model_id"] == result.model_id
    assert training["training_event_id"] == result.event_id
    logged = demo_studio.ledger.get(take.id).payload["provenance"]
    assert logged["training"]["top"] == training["top"]
    assert logged["training_attribution"] == take.provenance.training_estimate()
    assert set(logged["training_attribution"]) <= set(SONGS)
    # The audit of a composed take looks for reused recordings only: a reference it does not
    # hear as audio is not "missed" (the composer wrote new notes).
    comparison = demo_studio.audit.comparison(take)
    if comparison is not None:
        assert comparison.new_notes and comparison.missed == ()

    # A period paid by estimate sends the training half of the pool to those songs' holders.
    now = datetime.now(UTC)
    policy = Policy(pricing="flat", pool_cents=10_000, training_fraction=0.5, training="estimate")
    st = demo_studio.compensation.statement(
        now - timedelta(hours=1), now + timedelta(hours=1), policy
    )
    training_lines = [ln for ln in st["lines"] if ln["kind"] == "training"]
    assert {ln["song_id"] for ln in training_lines} == set(logged["training_attribution"])
    assert sum(ln["amount_cents"] for ln in training_lines) == pytest.approx(
        5_000, abs=len(training_lines)
    )
    assert st["policy"]["training"] == "estimate"
