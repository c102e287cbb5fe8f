"""A composed score played with its references' instruments; a recording's notes transcribed."""

import numpy as np
import pytest
from composer_scores import add_track, tune

from musicapp.config import CATALOGUE_RATE
from musicapp.generation.composer.render import render_score
from musicapp.generation.composer.transcribe import available, transcribe


def test_render_gives_stereo_at_the_catalogue_rate_and_one_stem_per_track():
    score = tune([72, 74, 76, 77, 79, 77, 76, 74], drums=8)
    add_track(score, [48, 43, 48, 43, 48, 43, 48, 43], name="low", program=32)
    out = render_score(score)
    assert out.rate == CATALOGUE_RATE
    assert out.mix.shape[0] == 2 and out.mix.dtype == np.float32
    # eight quarters at 120 a minute, plus the release tail
    assert out.mix.shape[1] == pytest.approx(5.5 * CATALOGUE_RATE, abs=2)
    assert [s.name for s in out.stem_list] == ["tune", "drums", "low"]
    assert [s.role for s in out.stem_list] == ["melody", "rhythm", "bass"]
    assert set(out.stems) == {"tune", "drums", "low"}
    for audio in out.stems.values():
        assert audio.shape == (out.mix.shape[1],) and np.abs(audio).max() > 0.1
    assert np.abs(out.mix).max() <= 0.98 + 1e-6


def test_render_plays_each_role_on_the_references_instrument():
    score = tune([72, 74, 76, 77], program=0)
    out = render_score(score, instruments={"melody": 73})
    assert out.stem_list[0].instrument == "Flute"
    plain = render_score(score)
    assert plain.stem_list[0].instrument == "Acoustic Grand Piano"
    assert not np.allclose(out.stems["tune"], plain.stems["tune"])


def _onset_f_measure(reference, estimated, window_s=0.05):
    """Onset F-measure: mir_eval's when installed, else a greedy one-to-one matching."""
    ref = np.array([[s, e] for s, e, *_ in reference])
    est = np.array([[s, e] for s, e, *_ in estimated]) if estimated else np.zeros((0, 2))
    try:
        import mir_eval

        return mir_eval.transcription.onset_precision_recall_f1(ref, est, onset_tolerance=window_s)[
            2
        ]
    except ImportError:
        free = list(est[:, 0])
        hits = 0
        for onset in ref[:, 0]:
            near = [t for t in free if abs(t - onset) <= window_s]
            if near:
                free.remove(min(near, key=lambda t: abs(t - onset)))
                hits += 1
        return 2 * hits / (len(ref) + len(est)) if len(ref) + len(est) else 0.0


@pytest.mark.slow
@pytest.mark.skipif(not available(), reason="basic-pitch and onnxruntime are not installed")
@pytest.mark.parametrize(
    ("song_id", "least"),
    [("ryans-soldiers-joy", 0.95), ("bach-bwv269", 0.95)],
)
def test_transcription_finds_most_notes_of_a_rendered_demo_melody(song_id, least):
    """A demo song's melody stem, rendered as the demo renders it, transcribed back."""
    from musicapp.catalog.arrange import arrange
    from musicapp.catalog.recipe import load_recipe
    from musicapp.catalog.synth import normalise, render

    recipe = load_recipe()
    spec = next(s for s in recipe.songs if s.id == song_id)
    arranged = arrange(
        spec, recipe.arrangements[spec.arrangement], recipe.kits, recipe.min_s, recipe.max_s
    )
    melody = next(t for t in arranged.tracks if t.role == "melody")
    notes = [e for e in melody.events if e[0] < 20.0]
    audio = normalise(render(notes, 21 * CATALOGUE_RATE, melody.voice.program), "melody")
    found = transcribe(audio, CATALOGUE_RATE)
    assert _onset_f_measure(notes, found.notes) >= least
    # and the pitches: most transcribed notes are the melody's own keys
    keys = {k for _, _, k, _ in notes}
    assert np.mean([k in keys for _, _, k, _ in found.notes]) >= 0.9
    score = found.score(tempo_qpm=120.0)
    assert score.note_num() == len(found.notes)
