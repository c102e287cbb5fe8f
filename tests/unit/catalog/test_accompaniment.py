"""The demo's accompaniment: chords that fit the melody, a groove that follows the meter."""

import pytest

from musicapp.catalog import accompaniment as acc
from musicapp.catalog.accompaniment import Bar, Meter, Note
from musicapp.catalog.recipe import Kit

FOUR_FOUR = Meter(bar_ql=4.0, beat_ql=1.0, beats=4, division=2)
SIX_EIGHT = Meter(bar_ql=3.0, beat_ql=1.5, beats=2, division=3)
C, F, G = 0, 5, 7
KIT = Kit("Test Kit", 0, downbeat=(36, 100), backbeat=(38, 90), pulse=(42, 60), pulse_on_beats=True)


def arpeggio(start, *pitches):
    return [Note(start + i, 1.0, p, 90) for i, p in enumerate(pitches)]


def test_chords_follow_the_melody():
    # One bar each of a C, an F and a G arpeggio, then C: I - IV - V - I.
    melody = [
        *arpeggio(0, 60, 64, 67, 72),
        *arpeggio(4, 65, 69, 72, 77),
        *arpeggio(8, 67, 71, 74, 79),
        *arpeggio(12, 72, 67, 64, 60),
    ]
    bars = [Bar(4.0 * i, 4.0) for i in range(4)]
    chords = acc.estimate_chords(melody, bars, FOUR_FOUR, tonic=C, minor=False)
    assert [(c.start, c.root) for c in chords] == [(0, C), (4, F), (8, G), (12, C)]
    assert all(len(c.tones) == 3 for c in chords)


def test_a_minor_tune_ends_on_the_minor_tonic():
    melody = [*arpeggio(0, 57, 60, 64, 69), *arpeggio(4, 64, 62, 59, 57)]
    chords = acc.estimate_chords(melody, [Bar(0, 4), Bar(4, 4)], FOUR_FOUR, tonic=9, minor=True)
    assert chords[-1].tones == (9, 0, 4)


def test_drums_mark_downbeats_and_backbeats_of_the_meter():
    hits = acc.drum_notes([Bar(0, 4)], FOUR_FOUR, KIT)
    assert [n.start for n in hits if n.pitch == 36] == [0, 2]
    assert [n.start for n in hits if n.pitch == 38] == [1, 3]
    assert [n.start for n in hits if n.pitch == 42] == [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]
    jig = acc.drum_notes([Bar(0, 3)], SIX_EIGHT, KIT)
    assert [n.start for n in jig if n.pitch == 36] == [0]
    assert [n.start for n in jig if n.pitch == 38] == [1.5]
    assert len([n for n in jig if n.pitch == 42]) == 6


def test_the_band_comes_in_after_a_pickup():
    bars = [Bar(0, 1), Bar(1, 4), Bar(5, 4)]  # one beat of pickup, then two full bars
    chords = [acc.Chord(0, C, (0, 4, 7))]
    parts = [
        acc.drum_notes(bars, FOUR_FOUR, KIT),
        acc.bass_notes(chords, bars, FOUR_FOUR),
        acc.harmony_notes(chords, bars, FOUR_FOUR, "strum", C),
    ]
    assert all(min(n.start for n in part) == pytest.approx(1.0) for part in parts)


@pytest.mark.parametrize("style", ["strum", "arpeggio", "block", "afterbeat", "drone", "fifths"])
def test_every_harmony_style_plays_the_chord(style):
    bars = [Bar(0, 4), Bar(4, 4)]
    chords = [acc.Chord(0, F, (5, 9, 0)), acc.Chord(4, G, (7, 11, 2))]
    notes = acc.harmony_notes(chords, bars, FOUR_FOUR, style, tonic=F)
    assert notes
    first_bar = {n.pitch % 12 for n in notes if n.start < 4}
    assert first_bar <= {5, 9, 0}
    assert all(n.length > 0 and 1 <= n.velocity <= 127 for n in notes)


def test_the_bass_plays_roots_low_and_the_fifth_mid_bar():
    chords = [acc.Chord(0, G, (7, 11, 2))]
    notes = acc.bass_notes(chords, [Bar(0, 4)], FOUR_FOUR)
    assert [(n.start, n.pitch % 12) for n in notes] == [(0, G), (2, 2)]
    assert all(28 <= n.pitch <= 52 for n in notes)
