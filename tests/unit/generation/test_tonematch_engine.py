"""The tone-match engine: audible shares split by weight, the user's audio untouched outside a range, and a
whole generation through the studio that verifies, logs and records the weights."""

import struct
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.core import GenerationRequest, InvalidInput, Level, Reference, Role, TimeRange
from musicapp.generation.base import USER_SOURCE, Conditioning, Engine
from musicapp.generation.registry import get_engine
from musicapp.generation.tonematch import ToneMatchEngine, target_audio
from musicapp.jobs import CancelToken
from musicapp.testing.synth import SR, synth_material


def user_part(seconds=6.0, seed=0):
    """A plucky, clean stereo part: decaying harmonic notes (the user's "DI guitar")."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(0.5 * SR)) / SR
    notes = []
    for _ in range(int(seconds / 0.5)):
        f = rng.choice([82.4, 110.0, 146.8, 196.0])
        note = sum(np.sin(2 * np.pi * f * k * t) / k**1.5 for k in range(1, 8))
        notes.append(note * np.exp(-6 * t))
    mono = 0.3 * np.concatenate(notes) / np.max(np.abs(notes))
    return np.stack([mono, mono]).astype(np.float32)


def two_hour_wav(path):
    """Two hours of 8 kHz mono 16-bit WAV: a header and a sparse hole, no time and no disk."""
    n_bytes = 2 * 3600 * 8000 * 2
    header = b"RIFF" + struct.pack("<I", 36 + n_bytes) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
    header += b"data" + struct.pack("<I", n_bytes)
    with open(path, "wb") as f:
        f.write(header)
        f.truncate(len(header) + n_bytes)


@pytest.fixture(scope="module")
def refs_and_cond():
    refs = (Reference("a", Level.AUDIO, weight=3.0), Reference("b", Level.AUDIO, weight=1.0))
    materials = [
        synth_material(0, refs[0], duration_s=8.0, seed=1),
        synth_material(1, refs[1], duration_s=8.0, seed=2, drums=False),
    ]
    return refs, Conditioning(materials, SR, user_audio=user_part())


def generate(refs, cond, **request):
    req = GenerationRequest(tuple(refs), engine="tonematch", user_audio="user.wav", **request)
    return ToneMatchEngine().generate(req, cond, lambda p: None, CancelToken())


def test_it_is_registered_and_is_an_engine():
    engine = get_engine("tonematch")
    assert isinstance(engine, Engine) and engine.levels == {Level.AUDIO, Level.TEMPORAL}
    assert not engine.needs_weights


def _reshaped(result, dry):
    """The energy of the take the dry input at its best gain does not explain, as a fraction."""
    out, dry = result.audio.astype(np.float64), dry.astype(np.float64)
    gain = np.sum(out * dry) / np.sum(dry * dry)
    return np.sum((out - gain * dry) ** 2) / np.sum(out**2)


def test_shares_measure_what_the_chain_changed_split_by_weight(refs_and_cond):
    refs, cond = refs_and_cond
    result = generate(refs, cond)
    assert result.audio.shape == cond.user_audio.shape
    assert np.max(np.abs(result.audio)) <= 1.0
    assert not np.allclose(result.audio, cond.user_audio, atol=1e-3)  # the tone did change
    shares = {s.song_id: s.share for s in result.provenance.shares}
    changed = _reshaped(result, cond.user_audio)
    assert 0.05 < changed < 0.95
    assert shares == pytest.approx(
        {"a": 0.75 * changed, "b": 0.25 * changed, USER_SOURCE: 1 - changed}
    )
    assert result.provenance.user_share == pytest.approx(1 - changed)
    assert result.provenance.engine == "tonematch" and "drive" in result.provenance.method
    assert "changed" in result.provenance.notes[0]
    # Every second was processed: the references sound there by weight beside the user.
    first = dict(result.provenance.timeline[0].sources)
    assert first["a"] == pytest.approx(3 * first["b"])


def test_at_wet_zero_the_references_are_owed_nothing(refs_and_cond):
    refs, cond = refs_and_cond
    result = generate(refs, cond, options={"wet": "0"})
    shares = {s.song_id: s.share for s in result.provenance.shares}
    assert shares["a"] == pytest.approx(0, abs=1e-6) and shares["b"] == pytest.approx(0, abs=1e-6)
    assert result.provenance.user_share == pytest.approx(1.0)
    half = generate(refs, cond, options={"wet": "0.5"}).provenance.song_shares()
    full = generate(refs, cond).provenance.song_shares()
    assert 0 < half["a"] < full["a"]


def test_a_user_range_is_processed_and_spliced_the_rest_left_alone(refs_and_cond):
    refs, cond = refs_and_cond
    result = generate(refs, cond, user_range=TimeRange(2.0, 4.0), options={"wet": "0.8"})
    user = cond.user_audio
    assert np.array_equal(result.audio[:, : 2 * SR], user[:, : 2 * SR])
    assert np.array_equal(result.audio[:, 4 * SR :], user[:, 4 * SR :])
    assert not np.allclose(result.audio[:, 2 * SR : 4 * SR], user[:, 2 * SR : 4 * SR], atol=1e-3)
    timeline = result.provenance.timeline
    assert dict(timeline[0].sources) == {USER_SOURCE: 1.0}
    assert dict(timeline[5].sources) == {USER_SOURCE: 1.0}
    inside = dict(timeline[2].sources)
    assert inside["a"] == pytest.approx(3 * inside["b"]) and inside[USER_SOURCE] > 0.2


def test_a_processed_range_keeps_the_level_of_the_audio_around_it(refs_and_cond):
    refs, _cond = refs_and_cond
    # A sustained, bright chord (harmonics up to 8 kHz) at a steady level: any step at a join
    # is the processing's.
    t = np.arange(6 * SR) / SR
    chord = sum(
        np.sin(2 * np.pi * f * k * t + k) / k for f in (110.0, 164.8, 220.0) for k in range(1, 30)
    )
    chord = 0.2 * chord / np.max(np.abs(chord))
    user = np.stack([chord, 0.9 * chord]).astype(np.float32)
    cond = replace(_cond, user_audio=user)
    out = generate(refs, cond, user_range=TimeRange(2.0, 4.0)).audio

    def level_db(a, b):
        return 10 * np.log10(np.mean(out[:, a:b].astype(np.float64) ** 2))

    for join in (2 * SR, 4 * SR):
        step = level_db(join + SR // 20, join + SR // 5) - level_db(join - SR // 5, join - SR // 20)
        assert abs(step) < 1.0


def test_a_role_picks_the_stems_that_play_it(refs_and_cond):
    _, cond = refs_and_cond
    mat = cond.materials[0]
    assert target_audio(mat) is mat.mix
    melody = Reference("a", Level.AUDIO, Role.MELODY)
    picked = target_audio(replace(mat, reference=melody))
    assert np.array_equal(picked, mat.stems["melody"])


def test_bad_requests_are_refused_before_any_audio_is_decoded(tmp_path):
    engine = ToneMatchEngine(max_user_s=60.0)
    long_file = tmp_path / "long.wav"
    two_hour_wav(long_file)
    audio_ref = (Reference("a", Level.AUDIO),)
    cases = [
        (GenerationRequest(audio_ref, user_audio=str(long_file)), r"long\.wav.*2:00:00"),
        (GenerationRequest((Reference("a"),), user_audio=str(long_file)), "audio or temporal"),
        (GenerationRequest(audio_ref), "needs your own audio"),
        (GenerationRequest(audio_ref, user_audio=str(tmp_path / "x.wav")), r"x\.wav.*not found"),
    ]
    for request, message in cases:
        with pytest.raises(InvalidInput, match=message):
            engine.check_request(request)
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(8000), 8000)
    for options, message in [({"wet": "2"}, "wet"), ({"drive": "maybe"}, "drive")]:
        request = GenerationRequest(audio_ref, user_audio=str(short), options=options)
        with pytest.raises(InvalidInput, match=message):
            engine.check_request(request)


@pytest.fixture
def studio(demo_studio):
    return demo_studio


def test_a_tone_match_through_the_studio_is_verified_logged_and_records_the_weights(
    studio, tmp_path
):
    a, b = PERMITTED_SONG_IDS[0], PERMITTED_SONG_IDS[1]
    path = tmp_path / "my-guitar.wav"
    sf.write(path, user_part()[0], 44100)  # mono at 44.1 kHz: the studio converts it
    request = GenerationRequest(
        (
            Reference(a, Level.AUDIO, weight=0.7),
            Reference(b, Level.TEMPORAL, time_range=TimeRange(0.0, 6.0), weight=0.3),
        ),
        engine="tonematch",
        user_audio=str(path),
    )
    take = studio.generate(request)
    shares = take.provenance.song_shares()
    assert shares[a] == pytest.approx(shares[b] * 0.7 / 0.3)
    assert take.provenance.user_share == pytest.approx(1 - shares[a] - shares[b])
    kinds = [e.kind for e in studio.ledger.events()]
    # Your audio is audited before the take (issue 15: clean here), the take after it.
    assert kinds == ["audit", "verification", "generation", "audit"]
    logged = next(studio.ledger.events("generation")).payload
    logged_shares = {s["song_id"]: s["share"] for s in logged["provenance"]["shares"]}
    assert logged_shares[a] == pytest.approx(shares[a], abs=1e-8)
    assert logged["provenance"]["engine"] == "tonematch"
    assert logged["user_audio_sha256"]
    # The royalties owed add up to the references' share, not to the whole take.
    assert sum(logged["royalties"].values()) == pytest.approx(shares[a] + shares[b], abs=1e-6)
    audio, sr = sf.read(take.audio_path, always_2d=True)
    assert sr == 44100 and audio.shape[1] == 2  # the user's own rate
    assert len(audio) / sr == pytest.approx(user_part().shape[1] / 44100, abs=0.01)

    # A 2-hour file is refused from its header, before it is decoded or anything is logged.
    long_file = tmp_path / "concert.wav"
    two_hour_wav(long_file)
    with pytest.raises(InvalidInput, match=r"concert\.wav: lasts 2:00:00"):
        studio.generate(replace(request, user_audio=str(long_file)))
    assert len(list(studio.ledger.events())) == len(kinds)  # nothing more logged


def test_a_silent_reference_is_refused_by_name(refs_and_cond):
    refs, cond = refs_and_cond
    silent = replace(cond.materials[1], mix=np.zeros_like(cond.materials[1].mix), stems={})
    with pytest.raises(InvalidInput, match="reference b: silent"):
        generate(refs, replace(cond, materials=[cond.materials[0], silent]))


def test_every_engine_refuses_a_two_hour_file_of_your_own_before_decoding_it(studio, tmp_path):
    long_file = tmp_path / "concert.wav"
    two_hour_wav(long_file)
    request = GenerationRequest(
        (Reference(PERMITTED_SONG_IDS[0], Level.AUDIO),), user_audio=str(long_file)
    )  # the concat engine: the studio itself reads the file
    with pytest.raises(InvalidInput, match=r"concert\.wav: lasts 2:00:00"):
        studio.load_user_audio(request)
