"""Splicing a processed range back: untouched outside, no clicks or dips at the joins."""

import numpy as np
import pytest

from musicapp.audio.splice import cut, range_samples, splice
from musicapp.core import InvalidInput, TimeRange

SR = 1000


def noise(seed, n=4 * SR, channels=2):
    return np.random.default_rng(seed).normal(0, 0.1, (channels, n)).astype(np.float32)


def test_outside_the_range_is_untouched_and_inside_is_the_processed_audio():
    base, other = noise(1), noise(2)
    rng = TimeRange(1.0, 3.0)
    out = splice(base, cut(other, rng, SR), rng, SR, crossfade_s=0.1)
    assert out.shape == base.shape and out.dtype == np.float32
    assert np.array_equal(out[:, :1000], base[:, :1000])
    assert np.array_equal(out[:, 3000:], base[:, 3000:])
    assert np.allclose(out[:, 1100:2900], other[:, 1100:2900])
    # A whole processed copy is accepted too, and gives the same result.
    assert np.allclose(splice(base, other, rng, SR, crossfade_s=0.1), out)


def test_crossfades_are_equal_power_and_continuous():
    ones = np.ones((1, 4 * SR), np.float32)
    out = splice(ones, -ones[:, :2000], TimeRange(1.0, 3.0), SR, crossfade_s=0.1)
    # Equal power: wet**2 + dry**2 == 1 across each fade, so the gains trace a quarter circle.
    wet = np.sin(0.5 * np.pi * (np.arange(100) + 0.5) / 100)
    assert np.allclose(out[0, 1000:1100], np.sqrt(1 - wet**2) - wet, atol=1e-6)
    assert np.max(np.abs(np.diff(out[0]))) < 0.05  # no step anywhere: the joins do not click


def test_a_range_at_the_edges_needs_no_fade_there():
    base, other = noise(3), noise(4)
    out = splice(base, other, TimeRange(0.0, 4.0), SR)
    assert np.array_equal(out, other)


def test_bad_ranges_and_shapes_are_refused():
    base = noise(5)
    with pytest.raises(InvalidInput, match="outside"):
        splice(base, base, TimeRange(3.0, 5.0), SR)
    with pytest.raises(InvalidInput, match="samples"):
        splice(base, base[:, :10], TimeRange(1.0, 2.0), SR)
    with pytest.raises(InvalidInput, match="channels"):
        splice(base, base[:1, 1000:2000], TimeRange(1.0, 2.0), SR)
    with pytest.raises(InvalidInput, match="shorter than one sample"):
        range_samples(TimeRange(1.0, 1.0001), SR, base.shape[1])
