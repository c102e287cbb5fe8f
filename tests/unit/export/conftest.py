"""A studio over a copy of the small demo catalogue whose takes come at a chosen rate, stereo."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.core import GenerationRequest, Reference
from musicapp.generation import registry
from musicapp.studio import Studio
from musicapp.takes import Take
from musicapp.testing.exports import FixedRateEngine


@pytest.fixture
def studio(demo_studio: Studio) -> Studio:
    """The studio over a fresh demo data folder (tests/conftest.py)."""
    return demo_studio


@pytest.fixture
def take_at(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Take]:
    """``take_at(rate, seconds=2.0, seed=0)``: a take generated through the studio (verified,
    logged, kept on disk) by an engine that makes stereo audio at ``rate``."""

    def make(rate: int, seconds: float = 2.0, seed: int = 0) -> Take:
        monkeypatch.setitem(
            registry._FACTORIES, FixedRateEngine.name, lambda: FixedRateEngine(rate)
        )
        a, b = PERMITTED_SONG_IDS[0], PERMITTED_SONG_IDS[1]
        request = GenerationRequest(
            (Reference(a, weight=0.7), Reference(b, weight=0.3)),
            duration_s=seconds,
            seed=seed,
            engine=FixedRateEngine.name,
        )
        return studio.generate(request)

    return make
