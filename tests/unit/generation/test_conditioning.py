"""Objective conditioning checks: melody from A, timbre from B, rhythm from C, measured."""

import numpy as np
import pytest

from musicapp.core import GenerationRequest, Level, Reference, Role
from musicapp.generation.base import Conditioning, Material
from musicapp.generation.concat import ConcatEngine
from musicapp.generation.similarity import parameter_level_checks, rhythm_similarity
from musicapp.testing.contrast import contrast_material, contrast_stems
from musicapp.testing.synth import SR

ROLES = (Role.MELODY, Role.TIMBRE, Role.RHYTHM)
# Margins by which the intended reference beats the best other one (see RoleCheck.margin).
MELODY_MARGIN = 0.5  # chroma correlation, -1..1: measured 0.78-1.1
TIMBRE_MARGIN = 0.5  # timbre distance, as a fraction of the best other's: measured 0.7
RHYTHM_MARGIN = 0.04  # onset-pattern correlation, -1..1: measured 0.08
# On demo songs (real arrangements, rendered with a General MIDI sound font) the differences are
# smaller: chroma by 0.58-0.63, timbre distance by 15-20 %. Rhythm is not checked there: the
# old-time drum parts are boom-chick on the beat like every other layer's note onsets, so no
# onset measure tells them apart (the rhythm layer's own track is C's drums, by construction).
DEMO_MELODY_MARGIN = 0.3
DEMO_TIMBRE_MARGIN = 0.08


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
    same = rhythm_similarity(straight, 120, faster, 140, SR)
    other = rhythm_similarity(straight, 120, clave, 120, SR)
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


def test_melody_and_timbre_on_demo_songs(demo_store):
    # A chorale's soprano line, an Irish session's guitar and bass, an old-time band's drums.
    refs = _refs(("bach-bwv269", "oneills-1183", "ryans-soldiers-joy"))
    materials = [_demo_material(demo_store, i, ref) for i, ref in enumerate(refs)]
    request = GenerationRequest(refs, duration_s=20, seed=0)
    _, checks = parameter_level_checks(ConcatEngine(), request, Conditioning(materials, SR))
    melody, timbre, _ = checks
    assert melody.margin > DEMO_MELODY_MARGIN, melody
    assert timbre.margin > DEMO_TIMBRE_MARGIN * timbre.values[timbre.intended], timbre
