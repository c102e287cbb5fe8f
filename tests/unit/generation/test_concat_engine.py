"""The concat engine: new audio from the references' bars, with exact, per-second provenance."""

import dataclasses

import numpy as np
import pytest

from musicapp.core import GenerationRequest, InvalidInput, Level, Reference, Role, TimeRange
from musicapp.generation.concat import CROSSFADE_S, MAX_FADE_OUT_S
from musicapp.jobs import Cancelled, CancelToken, no_progress
from musicapp.testing.synth import SR


def plan_of(engine, refs, cond, **request):
    return engine.plan(GenerationRequest(tuple(refs), **request), cond, no_progress, CancelToken())


def test_weights_decide_the_shares_which_sum_to_one(two_songs, generate):
    refs, cond = two_songs
    result = generate(refs, cond, duration_s=30, seed=1)
    shares = result.provenance.shares
    assert [s.song_id for s in shares] == ["a", "b"]
    assert sum(s.share for s in shares) == pytest.approx(1.0, abs=1e-9)
    assert shares[0].share > shares[1].share
    assert shares[0].share == pytest.approx(0.7, abs=0.12)
    assert result.provenance.engine == "concat"
    assert result.provenance.method == "contributed energy"
    assert result.provenance.device == "cpu"


def test_timeline_covers_the_output_and_names_a_source_every_second(two_songs, generate):
    refs, cond = two_songs
    result = generate(refs, cond, duration_s=12.5, seed=2)
    timeline = result.provenance.timeline
    assert len(timeline) == 13
    assert timeline[0].start_s == 0.0 and timeline[-1].end_s == pytest.approx(12.5)
    for before, after in zip(timeline, timeline[1:], strict=False):
        assert before.end_s == after.start_s
    for slot in timeline:
        assert slot.sources and all(f > 0.01 for _, f in slot.sources)
        assert {sid for sid, _ in slot.sources} <= {"a", "b"}
    named = {sid for slot in timeline for sid, _ in slot.sources}
    assert named == {"a", "b"}


@pytest.mark.parametrize("duration", [2.0, 7.3, 30.0])
def test_output_is_stereo_float_at_the_requested_length_and_peak(two_songs, generate, duration):
    refs, cond = two_songs
    result = generate(refs, cond, duration_s=duration, seed=3)
    audio = result.audio
    assert audio.dtype == np.float32 and audio.shape[0] == 2
    assert abs(audio.shape[1] - duration * SR) <= 1
    assert result.sample_rate == SR
    assert np.max(np.abs(audio)) == pytest.approx(10 ** (-1 / 20), rel=1e-3)


def test_same_seed_same_output_other_seed_other_output(two_songs, generate):
    refs, cond = two_songs
    first = generate(refs, cond, duration_s=16, seed=5)
    again = generate(refs, cond, duration_s=16, seed=5)
    other = generate(refs, cond, duration_s=16, seed=6)
    assert np.array_equal(first.audio, again.audio)
    assert first.provenance == again.provenance
    assert not np.array_equal(first.audio, other.audio)


def test_the_output_is_not_a_copy_of_any_reference(two_songs, generate, engine):
    refs, cond = two_songs
    result = generate(refs, cond, duration_s=30, seed=1)
    out = result.audio.mean(axis=0)
    for material in cond.materials:
        ref = material.mix.mean(axis=0)[: len(out)]
        corr = np.dot(out[: len(ref)], ref) / (
            np.linalg.norm(out[: len(ref)]) * np.linalg.norm(ref)
        )
        assert abs(corr) < 0.5, material.song.id
    plan = plan_of(engine, refs, cond, duration_s=30, seed=1)
    (picked,) = plan.choices
    for src in range(2):
        bars = [c.bar for c in picked if c.source == src]
        assert bars != list(range(bars[0], bars[0] + len(bars))), "bars taken in order"
    # The piece alternates between its sources rather than playing one block each.
    changes = sum(a.source != b.source for a, b in zip(picked, picked[1:], strict=False))
    assert changes >= 3


def test_the_form_returns(two_songs, engine):
    refs, cond = two_songs
    plan = plan_of(engine, refs, cond, duration_s=30, seed=1)
    assert plan.form.labels[:4] == ("A", "A'", "B", "A")
    (picked,) = plan.choices
    assert picked[12:15] == picked[0:3]  # the return of A
    assert picked[4:6] == picked[0:2]  # A' starts like A


def _fit_residual(segment, regressors):
    """Relative residual of the least-squares fit of segment by a gain per regressor."""
    a = np.stack([r.ravel() for r in regressors], axis=1)
    coef, *_ = np.linalg.lstsq(a, segment.ravel(), rcond=None)
    resid = segment.ravel() - a @ coef
    return float(np.sum(resid**2) / np.sum(segment**2))


def _interior(plan, k):
    """Samples of output bar k away from the crossfades and the final fade."""
    xf = int(CROSSFADE_S * SR)
    start, end = int(plan.bounds[k]), int(plan.bounds[k + 1])
    end = min(end - xf - 64, plan.n_samples - int(MAX_FADE_OUT_S * SR) - 64)
    return start + 256, end


def test_at_song_level_one_source_sounds_in_each_bar(make_cond, generate, engine):
    # Same tempo and key: bars are used as they are, so each bar's inside must be exactly
    # one scaled stretch of one reference.
    refs = (Reference("a", weight=0.5), Reference("b", weight=0.5))
    cond = make_cond(refs, dict(bpm=120, seed=1), dict(bpm=120, seed=2))
    request = dict(duration_s=20, seed=4, options={"key_align": "off"})
    result = generate(refs, cond, **request)
    plan = plan_of(engine, refs, cond, **request)
    (layer,), (picked,) = plan.layers, plan.choices
    checked = 0
    for k, choice in enumerate(picked):
        lo, hi = _interior(plan, k)
        # past the first half of the bar, where a join's level glide has ended
        lo = max(lo, int(plan.bounds[k]) + int(0.6 * (plan.bounds[k + 1] - plan.bounds[k])))
        if hi - lo < SR // 4:
            continue
        src = layer.sources[choice.source]
        a = int(src.bars[choice.bar]) + lo - int(plan.bounds[k])
        mine = src.audio[:, a : a + hi - lo]
        other = cond.materials[1 - src.material.index].mix
        assert _fit_residual(result.audio[:, lo:hi], [mine]) < 1e-6
        # and the other reference does not explain it (the two synthetic songs share their
        # instruments and tempo, so it explains some of it, never most)
        assert _fit_residual(result.audio[:, lo:hi], [other[:, a : a + hi - lo]]) > 0.2
        checked += 1
    assert checked >= 7


def test_joins_do_not_click(make_cond, generate, engine):
    # Tonal material only (no noise drums), references in other keys and tempi, so every
    # join is between unrelated waveforms. A hard cut would jump by up to twice the amplitude.
    refs = (Reference("a"), Reference("b"), Reference("c"))
    cond = make_cond(
        refs,
        dict(bpm=120, seed=1, drums=False),
        dict(bpm=96, root_midi=63, seed=2, drums=False),
        dict(bpm=132, root_midi=58, seed=3, drums=False),
    )
    request = dict(duration_s=24, seed=2)
    out = generate(refs, cond, **request).audio
    plan = plan_of(engine, refs, cond, **request)
    jumps = np.abs(np.diff(out, axis=1)).max(axis=0)
    xf = int(CROSSFADE_S * SR)
    near_join = np.zeros(len(jumps), dtype=bool)
    for b in plan.bounds[1:-1]:
        near_join[max(0, b - xf - 32) : b + 32] = True
    elsewhere = np.quantile(jumps[~near_join], 0.999)
    assert jumps[near_join].max() < 1.5 * elsewhere
    # The measure has teeth: butting two bars together without a crossfade fails it (at most
    # cut points; one cut can happen to join two near-equal samples).
    failed = 0
    for skip in range(123, 123 + 8 * 997, 997):
        cut = np.concatenate([out[:, : plan.bounds[3]], out[:, plan.bounds[5] + skip :]], axis=1)
        cut_jump = np.abs(np.diff(cut, axis=1)).max(axis=0)[plan.bounds[3] - 1]
        failed += bool(cut_jump > 1.5 * elsewhere)
    assert failed >= 4


def test_cancel_stops_with_cancelled(two_songs, generate):
    refs, cond = two_songs
    token = CancelToken()
    seen = []

    def progress(p):
        seen.append(p)
        if p.message == "bar 3/15":
            token.cancel()

    with pytest.raises(Cancelled):
        generate(refs, cond, progress=progress, cancel=token, duration_s=30)
    assert seen[-1].message == "bar 3/15"


def test_progress_is_reported_per_bar_and_reaches_one(two_songs, generate):
    refs, cond = two_songs
    seen = []
    generate(refs, cond, progress=seen.append, duration_s=10)
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(p.stage == "generate" for p in seen)
    assert sum(p.message.startswith("bar ") for p in seen) == 5  # 10 s at 120 BPM


def test_melody_from_one_rhythm_from_the_other(melody_and_rhythm, generate, engine):
    refs, cond = melody_and_rhythm
    result = generate(refs, cond, duration_s=20, seed=1)
    shares = {s.song_id: s.share for s in result.provenance.shares}
    assert shares["a"] > 0.2 and shares["b"] > 0.2
    plan = plan_of(engine, refs, cond, duration_s=20, seed=1)
    layers = {layer.name: layer for layer in plan.layers}
    assert set(layers) == {"melody", "rhythm"}
    (mel,), (rhy,) = layers["melody"].sources, layers["rhythm"].sources
    assert (mel.material.song.id, mel.stems) == ("a", ("melody",))
    assert (rhy.material.song.id, rhy.stems) == ("b", ("drums",))
    # In the audio: inside each bar, A's melody stem plus B's drum stem, and nothing else.
    order = [layer.name for layer in plan.layers]
    a, b = cond.materials
    checked = 0
    for k in range(plan.n_bars):
        lo, hi = _interior(plan, k)
        # past the first half of the bar, where a join's level glide has ended
        lo = max(lo, int(plan.bounds[k]) + int(0.6 * (plan.bounds[k + 1] - plan.bounds[k])))
        if hi - lo < SR // 4:
            continue
        parts = []
        for name, material, stem in (("melody", a, "melody"), ("rhythm", b, "drums")):
            src = layers[name].sources[0]
            choice = plan.choices[order.index(name)][k]
            start = int(src.bars[choice.bar]) + lo - int(plan.bounds[k])
            parts.append(material.stems[stem][:, start : start + hi - lo])
        assert _fit_residual(result.audio[:, lo:hi], parts) < 1e-6
        wrong = b.stems["melody"][:, lo:hi]
        assert _fit_residual(result.audio[:, lo:hi], [wrong]) > 0.5
        checked += 1
    assert checked >= 5


def test_a_song_reference_with_a_melody_reference_leaves_out_its_own_melody(make_cond, engine):
    refs = (Reference("a", weight=0.6), Reference("b", Level.PARAMETER, Role.MELODY, weight=0.4))
    cond = make_cond(refs, dict(bpm=120, seed=1), dict(bpm=110, root_midi=62, seed=2))
    result = engine.generate(
        GenerationRequest(refs, duration_s=12, seed=1), cond, no_progress, CancelToken()
    )
    assert all(s.share > 0.2 for s in result.provenance.shares)
    plan = plan_of(engine, refs, cond, duration_s=12, seed=1)
    layers = {layer.name: layer.sources[0] for layer in plan.layers}
    assert set(layers["song"].stems) == {"chords", "bass", "drums"}
    assert layers["melody"].stems == ("melody",) and layers["melody"].shift == -2


def test_parameter_references_without_stems_lend_their_mix(make_cond, generate):
    refs = (
        Reference("a", Level.PARAMETER, Role.HARMONY, weight=0.5),
        Reference("b", Level.PARAMETER, Role.TIMBRE, weight=0.3),
        Reference("c", Level.PARAMETER, Role.MOOD, weight=0.2),
    )
    cond = make_cond(
        refs,
        dict(bpm=120, seed=1),
        dict(bpm=90, seed=2, with_stems=False),
        dict(bpm=128, root_midi=67, seed=3),
    )
    shares = generate(refs, cond, duration_s=10, seed=3).provenance.shares
    assert [s.share > 0.05 for s in shares] == [True, True, True]


def test_a_short_time_range_still_works(make_cond, generate):
    ref = Reference("a", time_range=TimeRange(4.0, 7.0))
    cond = make_cond((ref,), dict(bpm=120, duration_s=3.0, seed=1))
    result = generate((ref,), cond, duration_s=10, seed=1)
    assert result.audio.shape == (2, 10 * SR)
    assert result.provenance.shares[0].share == 1.0


def test_user_audio_levels_are_refused_clearly_when_incomplete(make_cond, generate):
    user = np.zeros((2, SR), dtype=np.float32)
    for ref in (
        Reference("a", Level.AUDIO),
        Reference("a", Level.TEMPORAL, time_range=TimeRange(0, 4)),
    ):
        cond = make_cond((ref,), dict(bpm=120, duration_s=4.0))
        with pytest.raises(InvalidInput, match="need the user's audio"):
            generate((ref,), cond, duration_s=4)
    ref = Reference("a")
    cond = make_cond((ref,), dict(bpm=120, duration_s=4.0))
    cond = type(cond)(cond.materials, SR, user_audio=user)
    with pytest.raises(InvalidInput, match="no reference reshapes it"):
        generate((ref,), cond, duration_s=4)


def test_mismatched_or_silent_material_is_named(make_cond, generate):
    ref = Reference("a")
    cond = make_cond((ref,), dict(bpm=120, duration_s=4.0))
    with pytest.raises(InvalidInput, match="2 references but 1 materials"):
        generate((ref, Reference("b")), cond, duration_s=4)
    silent = type(cond.materials[0])(
        index=0,
        reference=ref,
        song=cond.materials[0].song,
        sample_rate=SR,
        mix=np.zeros((2, 4 * SR), dtype=np.float32),
    )
    with pytest.raises(InvalidInput, match="reference a: its audio is silent"):
        generate((ref,), type(cond)([silent], SR), duration_s=4)


def test_the_heaviest_reference_sets_the_meter(make_cond, engine):
    refs = (Reference("a", weight=0.6), Reference("b", weight=0.4))
    cond = make_cond(refs, dict(bpm=120, seed=1), dict(bpm=120, seed=2))
    waltz = dataclasses.replace(cond.materials[0], beats_per_bar=3, downbeat_s=0.0)
    cond = type(cond)([waltz, cond.materials[1]], SR)
    plan = plan_of(engine, refs, cond, duration_s=12, seed=1)
    assert plan.beats_per_bar == 3
    assert np.all(np.diff(plan.bounds) == int(1.5 * SR))  # three beats at 120 BPM
    for source in plan.layers[0].sources:  # every reference is cut in three-beat bars
        assert np.allclose(np.diff(source.bars), 1.5 * SR, atol=0.03 * SR)
