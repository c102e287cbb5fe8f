"""The one door to training-data attribution, and the step from scores to royalty shares.

``attribute`` gives every training item a score for one generated sequence by the chosen
method; ``shares`` turns scores into what a take's ``provenance.training_attribution`` holds
({song: weight}, non-negative, summing to 1) for the royalties' "estimate" training policy
(musicapp/royalties/events.py reads it; period.py pays the training pool by it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from musicapp.attribution.tda.common import TrainingItems

METHODS = ("trak", "unlearning", "embedding", "ngram", "random")


def attribute(
    model: Any,
    training_items: TrainingItems,
    generated: Sequence[int],
    method: str = "trak",
    **settings: Any,
) -> dict[str, float]:
    """{item_id: score} for ``generated``; larger = the item did more to make it likely.

    Settings by method: trak: ``dim``, ``reg``, ``seed``, ``projection``, ``batch``, and
    ``models`` (an ensemble to use instead of ``model`` alone); unlearning: ``lr``,
    ``steps`` (defaults: the middle of the grid, 1e-3 and 4); random: ``seed``.
    """
    ids = [item_id for item_id, _ in training_items]
    if not ids:
        raise ValueError("training_items: empty")
    if method == "trak":
        from musicapp.attribution.tda.trak import trak_scores

        models = settings.pop("models", None) or model
        scores = trak_scores(models, training_items, generated, **settings)
    elif method == "unlearning":
        from musicapp.attribution.tda.unlearning import Setting, UnlearningIndex

        setting = Setting(float(settings.pop("lr", 1e-3)), int(settings.pop("steps", 4)))
        if settings:
            raise ValueError(f"unlearning: unknown settings {sorted(settings)}")
        scores = UnlearningIndex(model, training_items).scores(generated, setting)
    elif method == "embedding":
        from musicapp.attribution.tda.similarity import embedding_scores

        scores = embedding_scores(model, training_items, generated)
    elif method == "ngram":
        from musicapp.attribution.tda.similarity import ngram_scores

        scores = ngram_scores(training_items, generated)
    elif method == "random":
        from musicapp.attribution.tda.similarity import random_scores

        scores = random_scores(len(ids), int(settings.get("seed", 0)))
    else:
        raise ValueError(f"method: {method!r} is not one of {', '.join(METHODS)}")
    return {item_id: float(s) for item_id, s in zip(ids, scores, strict=True)}


def shares(scores: Mapping[str, float], top: int | None = None) -> dict[str, float]:
    """Non-negative weights summing to 1: negative scores (items that pulled the model away
    from the take) get nothing; ``top`` keeps only the largest that many. Empty when no item
    scores above zero, so the take falls back to the flat-rate training pool."""
    if top is not None and top < 1:
        raise ValueError(f"top: {top} must be at least 1")
    positive = sorted(((s, k) for k, s in scores.items() if s > 0 and s == s), reverse=True)
    if top is not None:
        positive = positive[:top]
    total = sum(s for s, _ in positive)
    if not positive or total <= 0 or total == float("inf"):
        return {}
    return {k: s / total for s, k in sorted(positive, key=lambda p: p[1])}


def training_attribution(
    model: Any,
    training_items: TrainingItems,
    generated: Sequence[int],
    method: str = "trak",
    *,
    top: int | None = 10,
    **settings: Any,
) -> dict[str, float]:
    """What a take's ``provenance.training_attribution`` holds: the ``top`` songs' shares."""
    return shares(attribute(model, training_items, generated, method, **settings), top)
