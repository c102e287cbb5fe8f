"""Novelty (copies from the training set) and conditioning measures, and the piano roll."""

import random

import pytest
from composer_scores import tune

from musicapp.generation.composer.conditioning import features_of
from musicapp.generation.composer.measures import (
    contour_correlation,
    following,
    novelty,
    piano_roll_png,
)


def _random_tune(seed, n=60):
    rng = random.Random(seed)
    pitches = [rng.randint(55, 79) for _ in range(n)]
    lengths = [rng.choice([0.5, 1.0, 1.5, 2.0]) for _ in range(n)]
    return pitches, lengths


def test_the_longest_copy_finds_a_planted_twelve_note_copy():
    train = {f"song-{i}": tune(*_random_tune(i)) for i in range(5)}
    source_p, source_l = _random_tune(3)
    take_p, take_l = _random_tune(99)
    # Notes 20..31 of song-3, moved up a fourth, in the take at 30..41; the take's note before
    # them is far from anything song-3 has there, so the copy is exactly twelve notes long.
    take_p[30:42] = [p + 5 for p in source_p[20:32]]
    take_l[30:42] = source_l[20:32]
    take_p[29] = 30
    take_l[42] = 4.5 if source_l[32] != 4.5 else 3.5
    result = novelty(tune(take_p, take_l), train)
    assert result.longest_copy_song == "song-3"
    assert result.longest_copy_notes == 12


def test_a_fresh_tune_shares_no_long_run_and_few_eight_grams():
    train = {f"song-{i}": tune(*_random_tune(i)) for i in range(5)}
    result = novelty(tune(*_random_tune(1234)), train)
    assert result.longest_copy_notes <= 4
    assert result.ngram_overlap[8] == 0.0
    copied = novelty(train["song-2"], train)
    assert copied.ngram_overlap[4] == copied.ngram_overlap[8] == 1.0
    assert copied.longest_copy_notes == 60


def test_contour_of_a_melody_with_itself_is_one_and_with_its_inversion_negative():
    melody = features_of(tune(*_random_tune(7, 32))).melody
    pitches, lengths = _random_tune(7, 32)
    inverted = features_of(tune([134 - p for p in pitches], lengths)).melody
    transposed = features_of(tune([p - 7 for p in pitches], lengths)).melody
    assert contour_correlation(melody, melody) == pytest.approx(1.0)
    assert contour_correlation(melody, transposed) == pytest.approx(1.0)
    assert contour_correlation(melody, inverted) < 0


def test_following_reports_key_meter_and_contour():
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60]
    reference = features_of(tune(scale, meter=(3, 4)))
    same = tune(scale, meter=(3, 4))
    f = following(same, features_of(same).melody, reference, reference.melody)
    assert (f.key, f.key_match, f.meter_match) == ("C major", True, True)
    assert f.contour_correlation == pytest.approx(1.0)
    other = tune([p + 6 for p in scale], meter=(4, 4))  # F# major, in 4/4
    g = following(other, features_of(other).melody, reference)
    assert not g.key_match and not g.meter_match and g.contour_correlation is None
    assert g.key_fit < f.key_fit


def test_piano_roll_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = piano_roll_png(tune([60, 64, 67, 72], drums=4), tmp_path / "roll.png", "a take")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
