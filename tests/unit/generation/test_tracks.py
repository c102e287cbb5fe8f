"""Per-reference tracks: the output is exactly their sum, and the shares are their energies."""

import numpy as np
import pytest

from musicapp.generation.tracks import Tracks, provenance


def test_output_is_the_sum_of_the_tracks_and_shares_are_their_energy():
    sr, n = 100, 350  # 3.5 "seconds"
    rng = np.random.default_rng(0)
    env = np.ones(n, dtype=np.float32)
    env[-50:] = np.linspace(1, 0, 50)
    tracks = Tracks(2, n, sr, env)
    a = rng.standard_normal((2, 180)).astype(np.float32)
    b = rng.standard_normal((2, 200)).astype(np.float32)
    c = rng.standard_normal((2, 120)).astype(np.float32)
    tracks.add(0, 0, a)
    tracks.add(1, 150, b)  # overlaps a by 30 samples, crosses a second boundary
    tracks.flush(150)  # second 0 is complete
    with pytest.raises(RuntimeError):
        tracks.add(0, 90, c)
    tracks.add(0, 300, c)  # runs past the end: clipped
    out = tracks.finish()
    ref0, ref1 = np.zeros((2, n)), np.zeros((2, n))
    ref0[:, :180] += a
    ref0[:, 300:] += c[:, :50]
    ref1[:, 150:350] += b
    ref0 *= env
    ref1 *= env
    assert np.allclose(out, ref0 + ref1, atol=1e-6)
    prov = provenance(tracks, ["x", "y"], "test")
    e0, e1 = np.sum(ref0**2), np.sum(ref1**2)
    assert prov.shares[0].share == pytest.approx(e0 / (e0 + e1))
    assert sum(s.share for s in prov.shares) == pytest.approx(1.0)
    assert [(t.start_s, t.end_s) for t in prov.timeline] == [(0, 1), (1, 2), (2, 3), (3, 3.5)]
    assert [sid for sid, _ in prov.timeline[0].sources] == ["x"]
    assert {sid for sid, _ in prov.timeline[1].sources} == {"x", "y"}
    assert prov.timeline[2].sources[0][0] == "y"


def test_a_silent_second_is_credited_to_what_was_scheduled_there():
    tracks = Tracks(2, 200, 100, np.ones(200, dtype=np.float32))
    tracks.add(0, 0, np.zeros((2, 100), dtype=np.float32))
    tracks.add(1, 100, np.ones((2, 100), dtype=np.float32))
    tracks.finish()
    prov = provenance(tracks, ["x", "y"], "test")
    assert prov.timeline[0].sources == (("x", 1.0),)
    assert prov.shares[1].share == pytest.approx(1.0)
