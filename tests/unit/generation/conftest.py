"""Synthetic references for the engine tests: little songs made by code, no catalogue needed."""

import pytest

from musicapp.core import GenerationRequest, Level, Reference, Role
from musicapp.generation.base import Conditioning
from musicapp.generation.concat import ConcatEngine
from musicapp.jobs import CancelToken
from musicapp.testing.synth import SR, synth_material


@pytest.fixture
def engine():
    return ConcatEngine()


def conditioning(refs, *specs):
    """Materials for `refs`, one spec (keyword arguments of synth_material) each."""
    materials = [
        synth_material(i, ref, **spec)
        for i, (ref, spec) in enumerate(zip(refs, specs, strict=True))
    ]
    return Conditioning(materials, SR)


def run(engine, refs, cond, progress=lambda p: None, cancel=None, **request):
    req = GenerationRequest(tuple(refs), **request)
    return engine.generate(req, cond, progress, cancel or CancelToken())


@pytest.fixture
def make_cond():
    return conditioning


@pytest.fixture
def generate(engine):
    """generate(refs, cond, progress=..., cancel=..., **request fields) -> GenerationResult"""
    return lambda *args, **kwargs: run(engine, *args, **kwargs)


@pytest.fixture(scope="module")
def two_songs():
    """Two song-level references (0.7 / 0.3) at different tempi and keys."""
    refs = (Reference("a", weight=0.7), Reference("b", weight=0.3))
    cond = conditioning(
        refs, dict(bpm=120, root_midi=60, seed=1), dict(bpm=104, root_midi=62, seed=2)
    )
    return refs, cond


@pytest.fixture(scope="module")
def melody_and_rhythm():
    """Melody from A, rhythm from B, both at 120 BPM in C: no stretch, no transposition."""
    refs = (
        Reference("a", Level.PARAMETER, Role.MELODY, weight=1.0),
        Reference("b", Level.PARAMETER, Role.RHYTHM, weight=1.0),
    )
    cond = conditioning(refs, dict(bpm=120, seed=1), dict(bpm=120, seed=2))
    return refs, cond
