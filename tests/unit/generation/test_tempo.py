"""The concat engine's tempo: near the weighted median, every reference within ±25 %."""

import pytest

from musicapp.generation.tempo import MAX_STRETCH, choose_tempo, stretch


def test_close_tempi_keep_the_weighted_median_and_say_nothing():
    target, notes = choose_tempo([100, 110, 120], [1, 1, 1], ["a", "b", "c"])
    assert target == pytest.approx(110)
    assert notes == ()


def test_a_tempo_is_found_that_keeps_every_reference_within_range():
    # At the weighted median (132 BPM) the 92 BPM song would be stretched by 43 %, or by -28 %
    # at double time: a tempo close by keeps all three within 25 %, with a note saying why.
    tempi, weights = [92, 132, 132], [1, 2, 2]
    target, notes = choose_tempo(tempi, weights, ["slow", "b", "c"])
    assert all(abs(stretch(t, target)) <= MAX_STRETCH + 1e-9 for t in tempi)
    assert abs(target - 132) < 10
    assert len(notes) == 1 and "rather than the weighted median 132.0" in notes[0]


def test_half_and_double_time_count():
    # 70 BPM under 140 BPM is half time: no stretch at all.
    target, notes = choose_tempo([70, 140, 145], [1, 1, 1], ["ballad", "reel", "jig"])
    assert abs(stretch(70, target)) < 0.05
    assert notes == ()


def test_when_no_tempo_fits_every_far_stretch_is_named():
    # 40 and 300 BPM: even at half or double time one of them moves by far more than 25 %.
    target, notes = choose_tempo([40.0, 300.0], [1, 1], ["dirge", "gabber"])
    assert len(notes) == 1
    assert "gabber (300 BPM (half time)) is played" in notes[0] and "past the 25%" in notes[0]
    # The user's own tempo is kept, and what it stretches too far is named.
    target, notes = choose_tempo([100.0], [1], ["x"], forced=135.0)
    assert target == 135.0
    assert len(notes) == 1 and "x (100 BPM) is played 35% faster" in notes[0]
