"""CLAP (LAION's music checkpoint) from the models folder: audio and text in one 512-d space.

The files are laion-clap's own layout (`models/manifest.toml`, model "clap"): the training
checkpoint `music_audioset_epoch_15_esc_90.14.pt` (HTSAT-base audio encoder, RoBERTa text
encoder, non-fusion) and roberta-base's `config.json`, `vocab.json` and `merges.txt`. Every file
is checked against its sha256 (or the local trust list) before it is read, and nothing is ever
downloaded: the model is built from laion's classes with a local RoBERTa config
(`clap_imports.py`) and the checkpoint supplies every weight. The checkpoint is a pickle; it is
read with torch's weights-only unpickler, which allows tensors, plain containers and the two
NumPy constructors the training script's numbers need, and nothing that runs code.

Audio is prepared as laion trained it (`training/data.py`: mono, 48 kHz, through int16, 10 s
clips, short audio repeated then padded), without librosa or laion's loaders: any rate in,
`torchaudio.functional.resample` to 48 kHz. A song longer than one clip is embedded as up to
`max_windows` evenly spaced clips in one batch, averaged, then normalised.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from musicapp.core import InvalidInput
from musicapp.weights import (
    MANIFEST,
    ModelCheck,
    check_model,
    file_stamp,
    find_entry,
    load_manifest,
)

MODEL_NAME = "clap"
CHECKPOINT = "clap/music_audioset_epoch_15_esc_90.14.pt"
TEXT_CONFIG = "clap/roberta-base/config.json"
VOCAB = "clap/roberta-base/vocab.json"
MERGES = "clap/roberta-base/merges.txt"
SAMPLE_RATE = 48_000
CLIP_SAMPLES = 480_000  # 10 s at 48 kHz: HTSAT's input
CONTEXT_TOKENS = 77  # laion's tokenizer call: max_length=77, padded, truncated
MAX_WINDOWS = 8
TEXT_BATCH = 64  # texts per forward pass: a whole category list at once would not fit a laptop

_cache: dict[tuple[str, str, str], ClapEmbedder] = {}
_cache_lock = threading.Lock()


def _checked(models_dir: Path, manifest: Path) -> ModelCheck:
    """Every CLAP file checked; InvalidInput naming the first missing, altered or unverifiable
    one (and where to get a missing one)."""
    check = check_model(find_entry(MODEL_NAME, load_manifest(manifest)), Path(models_dir))
    if not check.usable:
        raise InvalidInput(f"CLAP weights {check.state.value}: {check.detail}")
    return check


def clap_state(models_dir: Path, manifest: Path = MANIFEST) -> tuple[bool, str]:
    """Whether CLAP can load from this models folder, and why not in words (no torch import;
    a file is read once per process to hash it)."""
    try:
        check = check_model(find_entry(MODEL_NAME, load_manifest(manifest)), Path(models_dir))
    except InvalidInput as exc:
        return False, str(exc)
    return check.usable, check.detail


def clap_key(models_dir: Path, manifest: Path = MANIFEST) -> str:
    """The id of the embedding space these files define: `clap:` and the first 16 hex digits
    of one sha256 over every file's sha256 (weights, config, tokenizer)."""
    return f"{MODEL_NAME}:{_checked(models_dir, manifest).digest()[:16]}"


@dataclass
class ClapEmbedder:
    """A loaded CLAP on its device. Embeddings are float32 and L2-normalised, so a dot product
    is a cosine similarity, between songs or between a song and a text."""

    model: Any = field(repr=False)
    tokenizer: Any = field(repr=False)
    device: str
    key: str
    max_windows: int = MAX_WINDOWS
    name: str = "CLAP (LAION music checkpoint)"

    def __post_init__(self) -> None:
        self.dim = int(self.model.joint_embed_shape)
        self._lock = threading.Lock()  # one forward pass at a time on a shared model

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) embeddings of the texts, in order."""
        import torch

        if isinstance(texts, str):
            raise InvalidInput("texts: expected a list of texts, got one string")
        texts = list(texts)
        if not all(isinstance(t, str) for t in texts):
            raise InvalidInput("texts: every text must be a string")
        rows = [np.zeros((0, self.dim), np.float32)]
        for start in range(0, len(texts), TEXT_BATCH):
            tokens = self.tokenizer(
                texts[start : start + TEXT_BATCH], padding="max_length", truncation=True,
                max_length=CONTEXT_TOKENS, return_tensors="pt",
            )  # fmt: skip
            batch = {"input_ids": tokens["input_ids"], "attention_mask": tokens["attention_mask"]}
            with self._lock, torch.inference_mode():
                out = self.model.get_text_embedding(batch)
            rows.append(_unit_rows(out.float().cpu().numpy()))
        return np.ascontiguousarray(np.concatenate(rows), dtype=np.float32)

    def embed_audio(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """(dim,) embedding of audio shaped (channels, samples) or (samples,), at any rate."""
        import torch

        windows = clap_windows(audio, sr, self.max_windows)
        with self._lock, torch.inference_mode():
            out = self.model.get_audio_embedding([{"waveform": w} for w in windows])
        return _unit_rows(out.float().cpu().numpy().mean(axis=0, keepdims=True))[0]

    def zero_shot(
        self,
        audio_vectors: np.ndarray,
        labels: Sequence[str],
        template: str = "This is a {} song.",
    ) -> np.ndarray:
        """(n, len(labels)) cosine similarities of audio embeddings to each label's prompt
        (laion's zero-shot recipe: one sentence per label from the template)."""
        vectors = np.asarray(audio_vectors, dtype=np.float32)
        if vectors.ndim == 1:
            vectors = vectors[None, :]
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise InvalidInput(
                f"audio_vectors: expected shape (n, {self.dim}), got {tuple(vectors.shape)}"
            )
        if "{}" not in template:
            raise InvalidInput(f"template {template!r} has no {{}} for the label")
        prompts = self.embed_texts([template.format(label) for label in labels])
        return np.ascontiguousarray(vectors @ prompts.T, dtype=np.float32)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.maximum(norms, 1e-12), dtype=np.float32)


def clap_windows(audio: np.ndarray, sr: int, max_windows: int = MAX_WINDOWS) -> list[Any]:
    """The 10 s clips at 48 kHz CLAP sees for this audio, as float32 tensors. Short audio is
    repeated whole as often as it fits, then zero-padded (laion's "repeatpad"); long audio gives
    up to `max_windows` evenly spaced clips, the first at the start and the last at the end."""
    import torch
    import torchaudio.functional as AF

    x = np.asarray(audio)
    if x.ndim not in (1, 2) or x.size == 0 or x.shape[-1] == 0:
        raise InvalidInput(f"audio: expected (channels, samples) with samples, got {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise InvalidInput(f"audio: expected float samples in [-1, 1], got {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise InvalidInput("audio: has NaN or infinite samples")
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise InvalidInput(f"sample rate: expected a positive integer, got {sr!r}")
    mono = torch.from_numpy(np.ascontiguousarray(x.reshape(-1, x.shape[-1]).mean(axis=0)))
    mono = mono.to(torch.float32)
    if int(sr) != SAMPLE_RATE:
        mono = AF.resample(mono, int(sr), SAMPLE_RATE)
    # The checkpoint was trained on audio that went through int16 (float32_to_int16 and back).
    mono = (mono.clamp(-1.0, 1.0) * 32767.0).to(torch.int16).to(torch.float32) / 32767.0
    n = int(mono.shape[0])
    if n <= CLIP_SAMPLES:
        repeated = mono.repeat(CLIP_SAMPLES // n) if n < CLIP_SAMPLES else mono
        return [torch.nn.functional.pad(repeated, (0, CLIP_SAMPLES - repeated.shape[0]))]
    count = max(1, min(int(max_windows), math.ceil(n / CLIP_SAMPLES)))
    starts = np.linspace(0, n - CLIP_SAMPLES, count).round().astype(int)
    return [mono[s : s + CLIP_SAMPLES].clone() for s in starts]


def load_clap(
    models_dir: Path,
    device: str = "auto",
    *,
    manifest: Path = MANIFEST,
    max_windows: int = MAX_WINDOWS,
) -> ClapEmbedder:
    """CLAP on the chosen device (CUDA, MPS or CPU), loaded once per folder, device and files.

    The files are checked first: a missing, altered or unverifiable one is an InvalidInput
    naming it. Nothing is downloaded and no file the manifest does not list is read.
    """
    from musicapp.generation.device import choose_device

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    check = _checked(models_dir, manifest)
    chosen = choose_device(device)
    key = f"{MODEL_NAME}:{check.digest()[:16]}"
    cache_key = (str(Path(models_dir).resolve()), chosen, key)
    with _cache_lock:
        if cache_key in _cache:
            return _cache[cache_key]
        model = _load_model(check)
        tokenizer = _tokenizer(check)
        model.to(chosen).eval()
        embedder = ClapEmbedder(model, tokenizer, chosen, key, max_windows=max_windows)
        _cache.clear()  # one CLAP in memory at a time: it is 200 M parameters
        _cache[cache_key] = embedder
        return embedder


def clear_cache() -> None:
    """Forget the loaded CLAP (tests, or freeing memory)."""
    with _cache_lock:
        _cache.clear()


def _file(check: ModelCheck, path: str) -> Any:
    found = next((c for c in check.files if c.file.path == path), None)
    if found is None:
        raise InvalidInput(f"model manifest: {MODEL_NAME} lists no {path}")
    return found


def _verified_bytes(check: ModelCheck, path: str) -> bytes:
    """A small checked file's bytes, hashed again as read: a file swapped after its check is
    refused instead of parsed."""
    c = _file(check, path)
    data = c.path.read_bytes()
    if hashlib.sha256(data).hexdigest() != c.sha256 or file_stamp(c.path) != c.stamp:
        raise InvalidInput(f"{c.path} changed after it was checked; nothing was loaded")
    return data


def _tokenizer(check: ModelCheck) -> Any:
    """RoBERTa's byte-level BPE tokenizer from exactly the checked vocab.json and merges.txt."""
    from transformers import RobertaTokenizer

    vocab_file, merges_file = _file(check, VOCAB).path, _file(check, MERGES).path
    try:
        vocab = json.loads(_verified_bytes(check, VOCAB).decode("utf-8"))
        lines = _verified_bytes(check, MERGES).decode("utf-8").splitlines()
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"{vocab_file} or {merges_file}: not a RoBERTa tokenizer") from exc
    merges = [tuple(line.split(" ")) for line in lines if line and not line.startswith("#")]
    if not isinstance(vocab, dict) or any(len(m) != 2 for m in merges):
        raise InvalidInput(f"{vocab_file} or {merges_file}: not a RoBERTa tokenizer")
    # The tokenizers BPE underneath wants (left, right) pairs, whatever transformers' hint says.
    return RobertaTokenizer(vocab=vocab, merges=merges)  # type: ignore[arg-type]


def _text_config(check: ModelCheck) -> Any:
    from transformers import RobertaConfig

    where = _file(check, TEXT_CONFIG).path
    try:
        values = json.loads(_verified_bytes(check, TEXT_CONFIG).decode("utf-8"))
        config = RobertaConfig(**values)
    except (UnicodeDecodeError, ValueError, TypeError) as exc:
        raise InvalidInput(f"{where}: not a RoBERTa config ({exc})") from exc
    if int(config.hidden_size) != 768:  # CLAP projects RoBERTa's pooled 768-d output
        raise InvalidInput(f"{where}: hidden_size {config.hidden_size}, CLAP needs 768")
    return config


def _numpy_globals() -> list[Any]:
    """The NumPy constructors laion's training checkpoints name (numbers saved as NumPy
    scalars): a scalar from a dtype and its bytes, and the dtype itself. Pickled under NumPy 1
    as numpy.core.multiarray.scalar, which NumPy 2 calls numpy._core.multiarray.scalar."""
    try:
        from numpy._core.multiarray import scalar  # type: ignore[attr-defined]
    except ImportError:  # NumPy 1
        from numpy.core.multiarray import scalar  # type: ignore[attr-defined,no-redef]

    return [
        (scalar, "numpy.core.multiarray.scalar"),
        (scalar, "numpy._core.multiarray.scalar"),
        np.dtype,
        *(type(np.dtype(code)) for code in "?bhilqBHILQefdgFDG"),
    ]


def _state_dict(check: ModelCheck) -> dict[str, Any]:
    """The checkpoint's weights by parameter name, read with the weights-only unpickler."""
    import pickle
    import zipfile

    import torch

    c = _file(check, CHECKPOINT)
    try:
        with torch.serialization.safe_globals(_numpy_globals()):
            try:
                package = torch.load(c.path, map_location="cpu", weights_only=True, mmap=True)
            except RuntimeError as exc:
                if "mmap" not in str(exc):
                    raise
                package = torch.load(c.path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        wanted = re.search(r"GLOBAL ([\w.]+)", str(exc))
        asks = (
            f"it asks to import {wanted.group(1)}" if wanted else "it is not a weights-only pickle"
        )
        raise InvalidInput(
            f"{c.path} refused: {asks}; a CLAP checkpoint holds only tensors, containers and "
            "numbers, so it is not loaded"
        ) from exc
    except (OSError, EOFError, RuntimeError, ValueError, zipfile.BadZipFile) as exc:
        raise InvalidInput(f"{c.path}: damaged or not a torch checkpoint ({exc})") from exc
    state = package.get("state_dict", package) if isinstance(package, dict) else None
    if not isinstance(state, dict) or not state:
        raise InvalidInput(f"{c.path}: no state_dict in the checkpoint")
    # Trained under DistributedDataParallel, whose wrapper prefixes every name with "module.".
    if all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    # transformers < 4.31 saved RoBERTa's position ids; they are recomputed now.
    state.pop("text_branch.embeddings.position_ids", None)
    return state


def _load_model(check: ModelCheck) -> Any:
    from musicapp.selection.clap_imports import build_clap, htsat_shape

    state = _state_dict(check)
    where = _file(check, CHECKPOINT).path
    shape = htsat_shape(state, str(where))
    joint = state.get("audio_projection.2.weight")
    if joint is None:
        raise InvalidInput(f"{where}: not a CLAP checkpoint (no audio projection)")
    model = build_clap(_text_config(check), shape, int(joint.shape[0]))
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # a tensor of another shape
        first = str(exc).split("\n\t", 2)[1] if "\n\t" in str(exc) else str(exc)
        raise InvalidInput(f"{where}: does not fit laion's CLAP ({first})") from exc
    if result.missing_keys or result.unexpected_keys:
        missing, extra = result.missing_keys[:3], result.unexpected_keys[:3]
        raise InvalidInput(
            f"{where}: does not fit laion's CLAP (missing {missing}, unexpected {extra})"
        )
    del state
    changed = [c.path for c in check.files if file_stamp(c.path) != c.stamp]
    if changed:
        raise InvalidInput(f"{changed[0]} changed while it was loaded; nothing was loaded")
    return model
