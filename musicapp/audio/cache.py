"""An in-process LRU of audio analyses, keyed by a hash of the audio's bytes and the parameters."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from musicapp.audio.analysis import Analysis, BarFeatures, Spectral, analyse, bar_features

T = TypeVar("T")
CAPACITY = 64  # entries: analyses of a few dozen references, a few MB each


def audio_key(audio: np.ndarray) -> str:
    """A digest of an array's dtype, shape and bytes: equal audio, equal key."""
    a = np.ascontiguousarray(audio)
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.data.cast("B"))  # contiguous: the bytes without a copy
    return h.hexdigest()


class AnalysisCache:
    """Least-recently-used results, safe to share between threads (a miss computes unlocked)."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]  # type: ignore[no-any-return]
            self.misses += 1
        value = compute()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)


CACHE = AnalysisCache()


def cached_analyse(
    audio: np.ndarray,
    sr: int,
    tempo_hint: float | None = None,
    beats_per_bar: int | None = None,
    downbeat_s: float | None = None,
) -> Analysis:
    """`analysis.analyse`, computed once per distinct audio and hints in this process."""
    key = ("analyse", audio_key(audio), sr, tempo_hint, beats_per_bar, downbeat_s)
    return CACHE.get(key, lambda: analyse(audio, sr, tempo_hint, beats_per_bar, downbeat_s))


def cached_bar_features(
    audio: np.ndarray,
    sr: int,
    bars_s: np.ndarray,
    beats_per_bar: int,
    frames: Spectral | None = None,
) -> BarFeatures:
    """`analysis.bar_features`, computed once per distinct audio, bars and meter.

    Callers may change the arrays of the result in place (key alignment rolls the chroma), so
    each call gets its own copy.
    """
    bars = np.asarray(bars_s, dtype=np.float64)
    key = ("bars", audio_key(audio), sr, audio_key(bars), beats_per_bar)
    f = CACHE.get(key, lambda: bar_features(audio, sr, bars, beats_per_bar, frames))
    return BarFeatures(
        *(
            np.array(x, copy=True)
            for x in (f.chroma_start, f.chroma_end, f.chroma_mean, f.rms, f.timbre)
        )
    )
