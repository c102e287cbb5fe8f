"""Objective conditioning checks: melody from A, timbre from B, rhythm from C, measured."""

import numpy as np
import pytest

from musicapp.core import GenerationRequest, Level, Reference, Role
from musicapp.generation.base import Conditioning, Material
from musicapp.generation.concat import ConcatEngine
from musicapp.testing.contrast import contrast_material, contrast_stems
from musicapp.testing.similarity import bar_grid, parameter_level_checks, rhythm_similarity
from musicapp.testing.synth import SR

ROLES = (Role.MELODY, Role.TIMBRE, Role.RHYTHM)
# Margins by which the intended reference beats the best other one (see RoleCheck.margin).
MELODY_MARGIN = 0.5  # chroma correlation, -1..1: measured 0.78-1.1
TIMBRE_MARGIN = 0.5  # timbre distance, as a fraction of the best other's: measured 0.7
RHYTHM_MARGIN = 0.4  # rhythm-template correlation, -1..1: measured 0.72-0.79
# On demo songs (real arrangements, rendered with a General MIDI sound font at 44.1 kHz) the
# differences are smaller: chroma by 0.45-0.52, timbre distance by 15-20 %, and rhythm templates
# by about 0.4 (with 46 ms onset windows; with 32 ms ones only by 0.03-0.07: B's bodhran plays
# eighths on the same beats as C's drums). With the rhythm and timbre roles swapped the rhythm
# margin is as large the other way, so the check follows the rhythm reference, not the songs.
DEMO_MELODY_MARGIN = 0.3
DEMO_TIMBRE_MARGIN = 0.08
DEMO_RHYTHM_MARGIN = 0.035


def _refs(ids):
    return tuple(
        Reference(song_id, Level.PARAMETER, role) for song_id, role in zip(ids, ROLES, strict=True)
    )


@pytest.mark.parametrize(
    ("bpms", "seed"), [((120, 120, 120), 0), ((120, 120, 120), 1), ((100, 120, 132), 2)]
)
def test_melody_from_a_timbre_from_b_rhythm_from_c_on_synthetic_songs(bpms, seed):
    refs = _refs(("A", "B", "C"))
    kinds = ("tune", "timbre", "rhythm")
    materials = [
        contrast_material(i, ref, kind, bpm=bpm, seed=i)
        for i, (ref, kind, bpm) in enumerate(zip(refs, kinds, bpms, strict=True))
    ]
    request = GenerationRequest(refs, duration_s=20, seed=seed)
    _, checks = parameter_level_checks(ConcatEngine(), request, Conditioning(materials, SR))
    melody, timbre, rhythm = checks
    assert melody.intended == "A" and melody.margin > MELODY_MARGIN, melody
    assert timbre.intended == "B" and timbre.margin > TIMBRE_MARGIN * timbre.values["B"], timbre
    assert rhythm.intended == "C" and rhythm.margin > RHYTHM_MARGIN, rhythm


def test_the_rhythm_measure_ignores_tempo_and_tells_patterns_apart():
    straight = np.repeat(contrast_stems("tune", bpm=120, duration_s=16)["drums"], 2, axis=0)
    faster = np.repeat(contrast_stems("tune", bpm=140, duration_s=16)["drums"], 2, axis=0)
    clave = np.repeat(contrast_stems("rhythm", bpm=120, duration_s=16)["drums"], 2, axis=0)
    grid120, grid140 = bar_grid(16, 120, 4, 0.0), bar_grid(16, 140, 4, 0.0)
    same = rhythm_similarity(straight, grid120, faster, grid140, SR, 4)
    other = rhythm_similarity(straight, grid120, clave, grid120, SR, 4)
    assert same == pytest.approx(rhythm_similarity(faster, grid140, straight, grid120, SR, 4))
    assert same > 0.9 and same - other > 0.2


def _demo_material(store, index, ref):
    song = store.song(ref.song_id)
    stems = {s.name: store.load_audio(song.id, stem=s.name) for s in song.stems}
    return Material(
        index,
        ref,
        song,
        SR,
        store.load_audio(song.id),
        stems,
        tempo_bpm=song.tempo_bpm,
        beats_per_bar=song.beats_per_bar,
        downbeat_s=song.downbeat_s,
    )


def _demo_checks(store, ids):
    refs = _refs(ids)
    materials = [_demo_material(store, i, ref) for i, ref in enumerate(refs)]
    request = GenerationRequest(refs, duration_s=20, seed=0)
    return parameter_level_checks(ConcatEngine(), request, Conditioning(materials, SR))[1]


def test_melody_timbre_and_rhythm_on_demo_songs(demo_store):
    # A chorale's soprano line, an Irish session's guitar and bass, an old-time band's drums.
    melody, timbre, rhythm = _demo_checks(
        demo_store, ("bach-bwv269", "oneills-1183", "ryans-soldiers-joy")
    )
    assert melody.margin > DEMO_MELODY_MARGIN, melody
    assert timbre.margin > DEMO_TIMBRE_MARGIN * timbre.values[timbre.intended], timbre
    assert rhythm.intended == "ryans-soldiers-joy" and rhythm.margin > DEMO_RHYTHM_MARGIN, rhythm


def test_the_demo_rhythm_check_follows_the_rhythm_reference(demo_store):
    # The same songs with B and C's roles swapped: the bodhran's session now sets the rhythm, and
    # the output's onset pattern moves to it (the measure does not simply favour one song).
    melody, timbre, rhythm = _demo_checks(
        demo_store, ("bach-bwv269", "ryans-soldiers-joy", "oneills-1183")
    )
    assert melody.margin > DEMO_MELODY_MARGIN, melody
    assert timbre.margin > DEMO_TIMBRE_MARGIN * timbre.values[timbre.intended], timbre
    assert rhythm.intended == "oneills-1183" and rhythm.margin > DEMO_RHYTHM_MARGIN, rhythm
