"""The token sequences a model was trained on, kept beside its weights.

Training-data attribution (``attribution/tda``) needs what the model learned from, token for
token, on the machine that composes, which may hold neither the catalogue's scores nor the
public-domain corpus the run drew from. So every published model folder holds
``training-tokens.npz``: every item's tokens, in the training event's order. Nothing in it is
trusted by itself: each sequence must match the sha256 its item carries in the training event
(``tokens_sha256``), and the event is what the ledger (or the manifest) vouches for.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from musicapp.core import InvalidInput
from musicapp.files import write_atomic
from musicapp.training.corpus import TrainingItem
from musicapp.training.public_domain import tokens_sha256

SEQUENCES_FILE = "training-tokens.npz"


def write_sequences(
    path: Path, items: Sequence[TrainingItem], sequences: Sequence[list[int]]
) -> None:
    """The items' sequences at ``path`` (one compressed file, written all at once)."""
    if len(items) != len(sequences):
        raise ValueError(f"{len(items)} items but {len(sequences)} sequences")
    lengths = np.asarray([len(s) for s in sequences], dtype=np.int64)
    flat = np.fromiter((t for s in sequences for t in s), dtype=np.int64, count=int(lengths.sum()))
    if flat.size and (flat.min() < 0 or flat.max() > np.iinfo(np.uint16).max):
        raise ValueError("token ids outside 0..65535")
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        ids=flat.astype(np.uint16),
        lengths=lengths,
        item_ids=np.asarray([i.id for i in items], dtype=np.str_),
    )
    write_atomic(Path(path), buf.getvalue())


def read_sequences(path: Path, items: Sequence[TrainingItem]) -> list[list[int]]:
    """The sequences of ``items`` (a training event's list) from ``path``, each checked against
    its item's sha256; InvalidInput naming the file and the first item that does not match."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            ids, lengths, item_ids = data["ids"], data["lengths"], data["item_ids"]
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidInput(f"{path}: not a training-tokens file ({exc})") from exc
    if [str(i) for i in item_ids] != [i.id for i in items]:
        raise InvalidInput(f"{path}: lists other items than the model's training event")
    if lengths.shape != (len(items),) or int(lengths.sum()) != ids.size or (lengths < 0).any():
        raise InvalidInput(f"{path}: its lengths do not add up to its tokens")
    out: list[list[int]] = []
    start = 0
    for item, n in zip(items, lengths.tolist(), strict=True):
        seq = ids[start : start + n].astype(np.int64).tolist()
        start += n
        if tokens_sha256(seq) != item.tokens_sha256:
            raise InvalidInput(f"{path}: the tokens of {item.id} are not those it was trained on")
        out.append(seq)
    return out
