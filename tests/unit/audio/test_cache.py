"""The analysis cache: keyed by the audio's bytes and parameters, least recently used first out."""

import numpy as np

from musicapp.audio.cache import (
    CACHE,
    AnalysisCache,
    audio_key,
    cached_analyse,
    cached_bar_features,
)
from musicapp.core import GenerationRequest, Reference
from musicapp.generation.base import Conditioning
from musicapp.generation.concat import ConcatEngine
from musicapp.jobs import CancelToken, no_progress
from musicapp.testing.synth import SR, click_track, synth_material


def test_the_key_follows_the_bytes_dtype_and_shape():
    a = np.zeros((2, 100), dtype=np.float32)
    assert audio_key(a) == audio_key(a.copy())
    b = a.copy()
    b[0, 5] = 1e-7
    assert audio_key(b) != audio_key(a)
    assert audio_key(a.reshape(1, 200)) != audio_key(a)
    assert audio_key(a.astype(np.float64)) != audio_key(a)


def test_lru_evicts_the_least_recently_used():
    cache = AnalysisCache(capacity=2)
    calls = []

    def compute(x):
        calls.append(x)
        return x

    assert cache.get(("a",), lambda: compute("a")) == "a"
    cache.get(("b",), lambda: compute("b"))
    cache.get(("a",), lambda: compute("a"))  # a is now the most recent
    cache.get(("c",), lambda: compute("c"))  # evicts b
    cache.get(("a",), lambda: compute("a"))
    cache.get(("b",), lambda: compute("b"))
    assert calls == ["a", "b", "c", "b"] and len(cache) == 2
    assert cache.hits == 2 and cache.misses == 4


def test_analysis_is_computed_once_and_bar_features_are_copies():
    audio = np.repeat(click_track(120, 8.0)[0], 2, axis=0)
    first = cached_analyse(audio, SR, 120.0)
    assert cached_analyse(audio.copy(), SR, 120.0) is first
    assert cached_analyse(audio, SR, 100.0) is not first
    bars = first.bars_s
    f1 = cached_bar_features(audio, SR, bars, 4, first.spectral)
    f1.chroma_mean[:] = 0.0
    f2 = cached_bar_features(audio, SR, bars, 4, first.spectral)
    assert f2.chroma_mean is not f1.chroma_mean


def test_a_second_generation_over_the_same_references_skips_analysis():
    refs = (Reference("a"), Reference("b"))
    mats = [synth_material(i, r, bpm=110 + 10 * i, seed=40 + i) for i, r in enumerate(refs)]
    cond = Conditioning(mats, SR)
    request = GenerationRequest(refs, duration_s=6)
    ConcatEngine().generate(request, cond, no_progress, CancelToken())
    misses = CACHE.misses
    hits = CACHE.hits
    again = ConcatEngine().generate(request, cond, no_progress, CancelToken())
    assert CACHE.misses == misses and CACHE.hits > hits
    assert again.audio.shape == (2, 6 * SR)
