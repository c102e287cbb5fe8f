"""The ledger's vocabulary for trained models: ``training``, ``model_marked``, ``model_installed``.

The kinds are named in ``kinds.py`` with the others; their payloads and builders are here to
keep that module readable. What each event means and when it is written: ``training/run.py``
(write-ahead: the training event before the weights are published), ``training/marks.py``
(a song's training consent withdrawn after a model learned from it) and
``generation/composer/weights.py`` (the shipped model, first used on this machine).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, cast


class TrainingItemPayload(TypedDict):
    """One piece a model was trained on (``training.corpus.TrainingItem.to_dict``): a catalogue
    song with the consent version of each holder it was admitted under, or a public-domain
    tune (``kind`` "public_domain", no holders, its corpus ``source`` and tune ``number``)."""

    id: str
    kind: str
    title: str
    holders: list[dict[str, Any]]
    tokens: int
    tokens_sha256: str
    source: NotRequired[str]
    number: NotRequired[int | None]


class WeightsPayload(TypedDict):
    """A published weight file: its name in the model's folder, sha256 and size."""

    file: str
    sha256: str
    bytes: int


class TrainingPayload(TypedDict):
    """``training``: one run that produced a model, logged *before* its weights are published
    under their final name (``training/run.py``): what it learned from (every song with the
    consent versions relied on, every public-domain tune, the songs left out and why), how
    (tokenizer, network shape, hyper-parameters, seed, device), and the weights' sha256."""

    model_id: str
    engine: str
    tokenizer: dict[str, Any]
    config: dict[str, Any]
    spec: dict[str, Any]
    seed: int
    device: str
    torch: str
    consent_at: str
    consent_versions: dict[str, dict[str, int]]
    items: list[TrainingItemPayload]
    excluded: list[dict[str, str]]
    windows: int
    steps: int
    seconds: float
    final_loss: float
    losses: list[float]
    weights: WeightsPayload


class ModelMarkedPayload(TypedDict):
    """``model_marked``: a song a model was trained on has since lost its training consent:
    ``holder_id``'s consent ``consent_version`` (0: no record in force) withdrew it; the model
    was trained under ``trained_version``. Logged once per model, song, holder and version."""

    model_id: str
    training_event_id: str
    song_id: str
    holder_id: str
    consent_version: int
    trained_version: int
    reason: str


class ModelInstalledPayload(TypedDict):
    """``model_installed``: a model trained elsewhere (the one shipped with the app) first used
    here; ``training`` is its training event's payload as shipped (``training.json``), so this
    ledger holds what it was trained on, and ``training_event_id`` names that event in the
    ledger of the machine that trained it."""

    model_id: str
    training_event_id: str
    weights_sha256: str
    training_json_sha256: str
    training: TrainingPayload


# -- builders ------------------------------------------------------------------------------------


def training_payload(
    *,
    model_id: str,
    tokenizer: Mapping[str, Any],
    config: Mapping[str, Any],
    spec: Mapping[str, Any],
    device: str,
    torch_version: str,
    consent_at: str,
    items: list[Mapping[str, Any]],
    excluded: list[Mapping[str, str]],
    run: Mapping[str, Any],
    weights: WeightsPayload,
) -> TrainingPayload:
    """``training``: ``items`` are ``TrainingItem.to_dict()``s; ``run`` the log of the run
    (``windows``, ``steps``, ``seconds``, ``losses``, ``final_loss``). The consent versions
    are gathered from the song items, so the two never disagree."""
    versions = {
        str(i["id"]): {str(h["holder_id"]): int(h["consent_version"]) for h in i["holders"]}
        for i in items
        if i["kind"] == "song"
    }
    losses = [round(float(x), 5) for x in run["losses"]]
    return {
        "model_id": model_id,
        "engine": "composer",
        "tokenizer": dict(tokenizer),
        "config": dict(config),
        "spec": dict(spec),
        "seed": int(spec["seed"]),
        "device": device,
        "torch": torch_version,
        "consent_at": consent_at,
        "consent_versions": versions,
        "items": [cast(TrainingItemPayload, dict(i)) for i in items],
        "excluded": [dict(e) for e in excluded],
        "windows": int(run["windows"]),
        "steps": int(run["steps"]),
        "seconds": round(float(run["seconds"]), 3),
        "final_loss": round(float(run["final_loss"]), 5),
        "losses": losses,
        "weights": weights,
    }


def model_marked_payload(
    *,
    model_id: str,
    training_event_id: str,
    song_id: str,
    holder_id: str,
    consent_version: int,
    trained_version: int,
    reason: str,
) -> ModelMarkedPayload:
    return {
        "model_id": model_id,
        "training_event_id": training_event_id,
        "song_id": song_id,
        "holder_id": holder_id,
        "consent_version": consent_version,
        "trained_version": trained_version,
        "reason": reason,
    }


def model_installed_payload(
    training: Mapping[str, Any], training_event_id: str, training_json_sha256: str
) -> ModelInstalledPayload:
    """``model_installed`` from a shipped ``training.json`` (its event's payload and id)."""
    payload = cast(TrainingPayload, dict(training))
    return {
        "model_id": payload["model_id"],
        "training_event_id": training_event_id,
        "weights_sha256": payload["weights"]["sha256"],
        "training_json_sha256": training_json_sha256,
        "training": payload,
    }
