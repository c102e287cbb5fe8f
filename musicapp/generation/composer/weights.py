"""Loading a trained composer: the one shipped in ``models/composer/``, or one trained here.

A composer's folder holds three files:

- ``composer.pt``: the network's weights (a torch state_dict, float32), read with
  ``weights_only=True`` so the file can carry tensors and nothing that runs;
- ``config.json``: the network's shape, the tokenizer it was trained with (by name and
  settings), the model id, the sha256 of ``composer.pt`` and the id of its training event;
- ``training.json``: the training event itself (id, time, payload): every song it learned
  from with the consent versions relied on, every public-domain tune, the seed and settings;
- ``training-tokens.npz``: every item's tokens, for training-data attribution (each checked
  against its sha256 in the event when read: ``training/sequences.py``).

The shipped model's files are listed with their sha256 in ``models/manifest.toml`` and
checked by ``musicapp.weights`` before anything is read; a model trained here is checked
against the sha256 its training event in this machine's ledger logged. Nothing is downloaded.
Its training event belongs to the ledger of the machine that trained it, so on first use here
the shipped model is recorded in the user's ledger as a ``model_installed`` event carrying
``training.json``'s payload (``record_installed``): this ledger then says what the model it
composes with was trained on, and revocation marks (``training/marks.py``) cover it too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musicapp.core import InvalidInput
from musicapp.generation.composer import tokens
from musicapp.generation.composer.model import ComposerConfig, ComposerModel

if TYPE_CHECKING:
    from musicapp.ledger import Ledger
    from musicapp.training.corpus import TrainingItem

MODEL_NAME = "composer"  # its entry in models/manifest.toml
WEIGHTS_FILE = "composer.pt"
CONFIG_FILE = "config.json"
TRAINING_FILE = "training.json"
# Where the shipped model lives: models/composer/ beside the manifest.
SHIPPED_MODELS_DIR = Path(__file__).resolve().parents[3] / "models"


@dataclass(frozen=True)
class LoadedComposer:
    """A composer ready to generate, with what it was trained on."""

    model: ComposerModel
    model_id: str
    training_event_id: str
    training_set: tuple[TrainingItem, ...]
    folder: Path
    weights_sha256: str
    training: dict[str, Any]  # the training event's payload

    def training_sequences(self) -> list[list[int]]:
        """Every training item's tokens (the event's order), checked against the event; an
        InvalidInput when the folder has none (a model trained before they were kept)."""
        from musicapp.training.sequences import SEQUENCES_FILE, read_sequences

        path = self.folder / SEQUENCES_FILE
        if not path.is_file():
            raise InvalidInput(f"composer model: {path} is missing: retrain to attribute takes")
        return read_sequences(path, self.training_set)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_composer(models_dir: Path | None = None) -> LoadedComposer:
    """The shipped composer from ``models_dir`` (default: the repository's ``models/``), after
    checking every one of its files against the manifest's sha256; anything missing or changed
    is an InvalidInput naming the file."""
    from musicapp.weights import check_model, find_entry

    models_dir = Path(models_dir) if models_dir is not None else SHIPPED_MODELS_DIR
    check = check_model(find_entry(MODEL_NAME), models_dir)
    if not check.usable:
        raise InvalidInput(f"composer model: {check.detail}")
    by_name = {Path(c.file.path).name: c for c in check.files}
    folder = by_name[WEIGHTS_FILE].path.parent
    return _load(folder, by_name[WEIGHTS_FILE].sha256)


def load_trained(folder: Path, expected_sha256: str) -> LoadedComposer:
    """A composer trained on this machine, from its folder; ``expected_sha256`` is the weights'
    sha256 its training event logged (a file with any other bytes is refused)."""
    folder = Path(folder)
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise InvalidInput(f"composer model: missing {weights}")
    digest = sha256_bytes(weights.read_bytes())
    if digest != expected_sha256:
        raise InvalidInput(
            f"composer model: {weights} does not match the sha256 its training event logged"
        )
    return _load(folder, digest)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"composer model: {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"composer model: {path}: not a JSON object")
    return data


def _load(folder: Path, weights_sha256: str) -> LoadedComposer:
    import torch

    from musicapp.training.corpus import TrainingItem

    config_data = _read_json(folder / CONFIG_FILE)
    training = _read_json(folder / TRAINING_FILE)
    where = folder / CONFIG_FILE
    tokenizer = config_data.get("tokenizer", {})
    if not isinstance(tokenizer, dict) or tokenizer.get("name") != tokens.TOKENIZER_NAME:
        raise InvalidInput(
            f"composer model: {where}: trained with tokenizer {tokenizer.get('name')!r}, "
            f"this version of musicapp uses {tokens.TOKENIZER_NAME!r}"
        )
    if config_data.get("weights_sha256") != weights_sha256:
        raise InvalidInput(f"composer model: {where} names other weights than {WEIGHTS_FILE}")
    try:
        config = ComposerConfig.from_dict(config_data["config"])
        model_id = str(config_data["model_id"])
        event_id = str(config_data["training_event_id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"composer model: {where}: {exc}") from exc
    payload = training.get("payload")
    if training.get("id") != event_id or not isinstance(payload, dict):
        raise InvalidInput(
            f"composer model: {folder / TRAINING_FILE} is not the training event {event_id}"
        )
    if payload.get("weights", {}).get("sha256") != weights_sha256:
        raise InvalidInput(
            f"composer model: {folder / TRAINING_FILE} logged other weights than {WEIGHTS_FILE}"
        )
    model = ComposerModel(config)
    try:
        state = torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        model.load_state_dict({k: v.float() for k, v in state.items()})
    except (RuntimeError, OSError, ValueError, AttributeError) as exc:
        raise InvalidInput(f"composer model: {folder / WEIGHTS_FILE}: {exc}") from exc
    model.eval()
    items = tuple(TrainingItem.from_dict(i) for i in payload.get("items", ()))
    return LoadedComposer(model, model_id, event_id, items, folder, weights_sha256, payload)


def record_installed(ledger: Ledger, loaded: LoadedComposer) -> str | None:
    """Log a ``model_installed`` event for a composer trained elsewhere, once per model and
    ledger; returns its id (None when this ledger already holds it, or holds its training
    event: a model trained here needs no second record)."""
    from musicapp.ledger.kinds import MODEL_INSTALLED, TRAINING
    from musicapp.ledger.training_kinds import model_installed_payload

    if ledger.get(loaded.training_event_id) is not None:
        return None
    for kind in (MODEL_INSTALLED, TRAINING):
        for event in ledger.events(kind):
            if event.payload.get("model_id") == loaded.model_id:
                return None
    raw = (loaded.folder / TRAINING_FILE).read_bytes()
    payload = model_installed_payload(loaded.training, loaded.training_event_id, sha256_bytes(raw))
    return ledger.append(MODEL_INSTALLED, payload).id
