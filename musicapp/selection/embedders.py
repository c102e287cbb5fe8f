"""Which embedding answers: CLAP when its weights are here and checked, else the embedded default.

Two spaces serve selection. The *text* space answers prompts and categories: CLAP's joint
audio-text space (songs by their audio, prompts by CLAP's text encoder), or, without CLAP, MiniLM
over each song's description (metadata and measured descriptors in words). The *audio* space
answers "more like this" and alternatives: CLAP audio embeddings, or, without CLAP, the app's own
analysis features (``describe.feature_vector``). If even MiniLM cannot run (no torch: the frozen
app without the ml extra), a hashed bag of words over the same descriptions answers, and says so.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np


class TextEmbedder(Protocol):
    name: str  # in words, shown in the UI ("which embedding answered")
    key: str  # stable id of the model and its weights: cached vectors are keyed by it
    dim: int

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray: ...


class LexicalEmbedder:
    """Hashed bag of words and word pairs (no weights at all): the last resort."""

    name = "word overlap over song descriptions (no text model installed)"
    key = "lexical-v1"
    dim = 512

    _word = re.compile(r"[a-z0-9]+")

    def _tokens(self, text: str) -> list[str]:
        words = [w.rstrip("s") if len(w) > 3 else w for w in self._word.findall(text.lower())]
        return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for token in self._tokens(text):
                h = zlib.crc32(token.encode())
                out[i, h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        out = np.sign(out) * np.log1p(np.abs(out))
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norm, 1e-9)


class Embedders:
    """The embedders in force for a models folder, chosen once, with the reasons in words."""

    def __init__(self, models_dir: Path, device: str = "auto") -> None:
        self.models_dir = Path(models_dir)
        self.device = device
        self.notes: list[str] = []
        self.clap_detail = ""  # why CLAP is not answering, when it is not
        self.clap = self._load_clap()
        self.text: TextEmbedder = self.clap if self.clap is not None else self._load_minilm()

    def _load_clap(self) -> ClapLike | None:
        import importlib.util

        from musicapp.selection import clap

        if importlib.util.find_spec("laion_clap") is None:
            self.clap_detail = "laion-clap is not installed (the ml extra)"
            return None
        usable, detail = clap.clap_state(self.models_dir, clap.MANIFEST)
        if not usable:
            self.clap_detail = detail
            return None
        try:
            return clap.load_clap(self.models_dir, self.device, manifest=clap.MANIFEST)
        except Exception as exc:  # noqa: BLE001 - any failure leaves the embedded default on
            self.clap_detail = f"CLAP could not be loaded: {exc}"
            self.notes.append(self.clap_detail)
            return None

    def _load_minilm(self) -> TextEmbedder:
        from musicapp.selection.minilm import MiniLMEmbedder, minilm_state

        usable, detail = minilm_state()
        if usable:
            try:
                return MiniLMEmbedder.shared(self.models_dir)
            except Exception as exc:  # noqa: BLE001 - fall back to words, and say why
                detail = str(exc)
        self.notes.append(f"The embedded text model is not available: {detail}")
        return LexicalEmbedder()

    @property
    def audio_name(self) -> str:
        if self.clap is not None:
            return self.clap.name
        return "the app's audio analysis (timbre, harmony, tempo, energy)"


class ClapLike(TextEmbedder, Protocol):
    def embed_audio(self, audio: np.ndarray, sr: int) -> np.ndarray: ...
