"""What a reference gives the composer: key, meter, tempo, roles, melody and rhythm."""

import pytest
from composer_scores import add_track, tune

from musicapp.core import InvalidInput, Stem
from musicapp.generation.composer.conditioning import detect_key, features_of, parts_of

C_MAJOR_SCALE = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60]
# "Greensleeves"-like A minor phrase: tonic A, raised G# at the cadence.
A_MINOR_TUNE = [57, 60, 62, 64, 65, 64, 62, 59, 55, 57, 59, 60, 57, 57, 56, 57, 59, 56, 52, 57]


def test_a_c_major_scale_is_in_c_major():
    key = detect_key(tune(C_MAJOR_SCALE))
    assert key.name == "C major"


def test_an_a_minor_tune_is_in_a_minor():
    lengths = [
        1.0,
        2.0,
        1.0,
        1.5,
        0.5,
        1.0,
        2.0,
        1.0,
        1.5,
        0.5,
        1.0,
        2.0,
        1.0,
        1.5,
        0.5,
        1.0,
        2.0,
        1.0,
        1.0,
        3.0,
    ]
    key = detect_key(tune(A_MINOR_TUNE, lengths, meter=(3, 4)))
    assert key.name == "A minor"


def test_the_same_tune_moved_up_a_tone_is_in_d_major():
    assert detect_key(tune([p + 2 for p in C_MAJOR_SCALE])).name == "D major"


def test_meter_tempo_melody_and_rhythm_come_from_the_score():
    score = tune([67, 69, 71, 72, 74, 72], [1.5, 0.5, 1.0, 1.0, 2.0, 1.0], meter=(3, 4), qpm=90)
    add_track(score, [48, 43, 48, 43, 48, 43], name="low")
    add_track(score, [64, 62, 64, 65, 67, 64], name="middle")
    f = features_of(score)
    assert f.meter == (3, 4) and f.tempo_qpm == pytest.approx(90)
    assert [n.pitch for n in f.melody] == [67, 69, 71, 72, 74, 72]
    # bars of three quarters: onsets at 0 and 1.5 | 0 (the third quarter's 71 at 2.0 is bar 1) ...
    assert f.rhythm[0] == (0.0, 1.5, 2.0)
    assert f.rhythm[1] == (0.0, 1.0)
    assert {p.name: p.role for p in f.parts} == {
        "tune": "melody",
        "low": "bass",
        "middle": "harmony",
    }


def test_roles_follow_the_catalogue_stems_over_the_register():
    score = tune([48, 50, 52], name="cello")
    add_track(score, [72, 74, 76], name="flute")
    stems = [
        Stem("cello", "Cello", "strings", "melody"),
        Stem("flute", "Flute", "winds", "harmony"),
    ]
    roles = {p.name: p.role for p in parts_of(score, stems)}
    assert roles == {"cello": "melody", "flute": "harmony"}


def test_a_drum_track_is_drums_and_never_the_melody():
    f = features_of(tune([60, 62, 64, 65], drums=4))
    assert {p.name: p.role for p in f.parts} == {"tune": "melody", "drums": "drums"}
    assert f.program_of("melody") == 0


def test_the_melody_is_the_top_voice_of_chords():
    score = tune([60, 62])
    score.tracks[0].notes.append(type(score.tracks[0].notes[0])(0, 480, 67, 80))
    assert [n.pitch for n in features_of(score).melody] == [67, 62]


def test_a_score_without_notes_is_refused():
    with pytest.raises(InvalidInput, match="no notes"):
        features_of(tune([]))
