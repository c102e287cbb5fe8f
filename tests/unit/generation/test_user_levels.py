"""Audio and temporal levels: the user's audio re-rendered from the references, whole or a range."""

import numpy as np
import pytest

from musicapp.audio.analysis import bar_features
from musicapp.core import GenerationRequest, InvalidInput, Level, Reference, TimeRange
from musicapp.generation.base import USER_SOURCE, Conditioning
from musicapp.generation.rerender import SPLICE_S, plan_user
from musicapp.jobs import Cancelled, CancelToken, no_progress
from musicapp.testing.synth import SR, synth_material

USER_S = 20.0


def _user_audio(seed: int = 9, bpm: float = 100.0, root: int = 62) -> np.ndarray:
    return synth_material(
        0, Reference("user"), bpm=bpm, duration_s=USER_S, root_midi=root, seed=seed
    ).mix


@pytest.fixture(scope="module")
def user_audio():
    return _user_audio()


def _cond(refs, user, specs=None):
    specs = specs or [dict(bpm=120, seed=1), dict(bpm=108, root_midi=64, seed=2)]
    materials = [
        synth_material(i, ref, duration_s=30.0, **spec)
        for i, (ref, spec) in enumerate(zip(refs, specs, strict=False))
    ]
    return Conditioning(materials, SR, user_audio=user)


def _generate(engine, refs, cond, progress=no_progress, cancel=None, **request):
    req = GenerationRequest(tuple(refs), **request)
    return engine.generate(req, cond, progress, cancel or CancelToken())


TEMPORAL = (
    Reference("a", Level.TEMPORAL, time_range=TimeRange(2, 14), weight=0.7),
    Reference("b", Level.TEMPORAL, time_range=TimeRange(0, 12), weight=0.3),
)
AUDIO = (Reference("a", Level.AUDIO, weight=0.7), Reference("b", Level.AUDIO, weight=0.3))
RANGE = TimeRange(6.0, 13.5)


@pytest.fixture(scope="module")
def temporal_result(user_audio):
    from musicapp.generation.concat import ConcatEngine

    cond = _cond(TEMPORAL, user_audio)
    return _generate(ConcatEngine(), TEMPORAL, cond, seed=3, user_range=RANGE)


@pytest.fixture(scope="module")
def audio_result(user_audio):
    from musicapp.generation.concat import ConcatEngine

    cond = _cond(AUDIO, user_audio)
    return _generate(ConcatEngine(), AUDIO, cond, seed=3)


def test_temporal_level_leaves_everything_outside_the_range_sample_for_sample(
    temporal_result, user_audio
):
    out = temporal_result.audio
    assert out.shape == user_audio.shape and out.dtype == np.float32
    a, b = int(RANGE.start_s * SR), int(RANGE.end_s * SR)
    # The splices lie inside the range: outside it nothing changes at all.
    assert np.array_equal(out[:, :a], user_audio[:, :a])
    assert np.array_equal(out[:, b:], user_audio[:, b:])
    inner = slice(a + int(SPLICE_S * SR), b - int(SPLICE_S * SR))
    diff = out[:, inner] - user_audio[:, inner]
    assert np.sqrt(np.mean(diff**2)) > 0.5 * np.sqrt(np.mean(user_audio[:, inner] ** 2))


def test_temporal_level_follows_the_users_loudness_in_the_range(temporal_result, user_audio):
    a, b = int(RANGE.start_s * SR), int(RANGE.end_s * SR)
    level = np.sqrt(np.mean(temporal_result.audio[:, a:b] ** 2))
    user = np.sqrt(np.mean(user_audio[:, a:b] ** 2))
    assert user / 2 < level < user * 2  # within 6 dB of the part it replaces


def test_temporal_timeline_names_the_user_outside_and_the_references_inside(temporal_result):
    prov = temporal_result.provenance
    assert len(prov.timeline) == int(USER_S)
    assert prov.timeline[-1].end_s == pytest.approx(USER_S)
    for slot in prov.timeline:
        names = {sid for sid, _ in slot.sources}
        assert names, slot
        if slot.end_s <= RANGE.start_s or slot.start_s >= RANGE.end_s:
            assert names == {USER_SOURCE}
        elif RANGE.start_s + SPLICE_S <= slot.start_s and slot.end_s <= RANGE.end_s - SPLICE_S:
            assert names <= {"a", "b"}
        else:
            assert USER_SOURCE in names and names & {"a", "b"}
    # Outside the range the take is the user's own audio: that part is the user's share.
    assert [s.song_id for s in prov.shares] == ["a", "b", USER_SOURCE]
    assert sum(s.share for s in prov.shares) == pytest.approx(1.0, abs=1e-9)
    assert prov.shares[0].share > prov.shares[1].share
    assert prov.user_share > 0.5  # 12 s of 30 s regenerated


def test_audio_level_re_renders_the_whole_audio_with_weighted_shares(audio_result, user_audio):
    out = audio_result.audio
    assert out.shape == user_audio.shape
    assert np.max(np.abs(out)) <= 10 ** (-1 / 20) + 1e-6
    prov = audio_result.provenance
    shares = prov.song_shares()
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-9)
    assert shares["a"] > shares["b"] > 0.1
    assert len(prov.timeline) == int(USER_S)
    for slot in prov.timeline:
        assert slot.sources and {sid for sid, _ in slot.sources} <= {"a", "b"}
    corr = np.corrcoef(out.mean(axis=0), user_audio.mean(axis=0))[0, 1]
    assert abs(corr) < 0.3  # re-rendered, not copied


def test_audio_level_follows_the_users_bars_loudness_and_harmony(engine, user_audio):
    # The user's audio gets quiet for its middle third; the re-rendering must too.
    user = user_audio.copy()
    third = user.shape[1] // 3
    user[:, third : 2 * third] *= 0.1
    cond = _cond(AUDIO, user)
    out = _generate(engine, AUDIO, cond, seed=1).audio

    def level(x, lo, hi):
        return np.sqrt(np.mean(x[:, lo:hi] ** 2))

    loud = level(out, 0, third) / level(out, third, 2 * third)
    assert loud > 5  # the user's is 10
    req = GenerationRequest(AUDIO, seed=1)
    plan = plan_user(req, cond, no_progress, CancelToken())
    bounds = np.clip(plan.bounds, 0, user.shape[1]) / SR
    user_chroma = bar_features(user, SR, bounds, 4).chroma_mean
    matched, random_ = [], []
    rng = np.random.default_rng(0)
    for k, (r, bar) in zip(plan.bars, plan.choices, strict=True):
        f = plan.sources[r].features.chroma_mean
        matched.append(np.dot(f[bar], user_chroma[k]))
        random_.append(np.dot(f[rng.integers(len(f))], user_chroma[k]))
    assert np.mean(matched) > np.mean(random_) + 0.05


def test_blend_mixes_the_users_audio_back_and_names_it(engine, user_audio):
    cond = _cond(AUDIO, user_audio)
    result = _generate(engine, AUDIO, cond, seed=3, options={"blend": "0.5"})
    names = {sid for slot in result.provenance.timeline for sid, _ in slot.sources}
    assert names == {"a", "b", USER_SOURCE}
    assert [s.song_id for s in result.provenance.shares] == ["a", "b", USER_SOURCE]
    assert 0.1 < result.provenance.user_share < 0.9  # half the user's audio blended back
    with pytest.raises(InvalidInput, match="option blend"):
        _generate(engine, AUDIO, cond, options={"blend": "2"})


def test_same_seed_same_output(engine, user_audio, temporal_result):
    cond = _cond(TEMPORAL, user_audio)
    again = _generate(engine, TEMPORAL, cond, seed=3, user_range=RANGE)
    assert np.array_equal(again.audio, temporal_result.audio)
    assert again.provenance == temporal_result.provenance


def test_duration_is_ignored_the_output_is_as_long_as_the_users_audio(engine, user_audio):
    refs = AUDIO[:1]
    cond = _cond(refs, user_audio[:, : 9 * SR])
    result = _generate(engine, refs, cond, duration_s=60)
    assert result.audio.shape == (2, 9 * SR)
    assert result.provenance.song_shares() == {"a": pytest.approx(1.0)}
    assert result.provenance.user_share == pytest.approx(0.0, abs=1e-9)  # nothing of it is heard


def test_progress_reaches_one_and_cancel_stops(engine, user_audio):
    cond = _cond(AUDIO, user_audio)
    seen = []
    _generate(engine, AUDIO, cond, progress=seen.append)
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    token = CancelToken()

    def progress(p):
        if p.fraction > 0.3:
            token.cancel()

    with pytest.raises(Cancelled):
        _generate(engine, AUDIO, cond, progress=progress, cancel=token)


def test_incomplete_or_mixed_requests_are_refused(engine, user_audio):
    cond = _cond(TEMPORAL, user_audio)
    with pytest.raises(InvalidInput, match="temporal-level reference needs a range"):
        _generate(engine, TEMPORAL, cond)
    mixed = (TEMPORAL[0], Reference("b"))
    with pytest.raises(InvalidInput, match="cannot be combined"):
        _generate(engine, mixed, _cond(mixed, user_audio), user_range=RANGE)
    with pytest.raises(InvalidInput, match="outside the user's audio"):
        _generate(engine, TEMPORAL, cond, user_range=TimeRange(15, 25))
    with pytest.raises(InvalidInput, match="user audio: it is silent"):
        _generate(engine, AUDIO, _cond(AUDIO, np.zeros_like(user_audio)))
