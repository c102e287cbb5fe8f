"""The audit harness's take requests (benchmarks/audit_takes.py): a redrawn request plays the
held-out song it drew, not the one an earlier attempt drew."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import audit_takes  # noqa: E402

SR = 8_000


def test_each_attempt_of_a_take_plays_the_held_out_song_it_drew(tmp_path: Path):
    held = []
    for i, seconds in enumerate((18.4, 39.0, 25.0, 31.0)):
        path = tmp_path / f"held-{i}.wav"
        sf.write(path, np.full((int(seconds * SR), 2), 0.1 * (i + 1), np.float32), SR)
        held.append(path)
    songs = {"temporal": [SimpleNamespace(id=f"s{i}", duration_s=30.0) for i in range(4)]}
    user_dir = tmp_path / "user"
    user_dir.mkdir()
    drawn = set()
    for attempt in range(6):
        request, stem = audit_takes.draw_request(7, "temporal", attempt, songs, held, user_dir)
        audio, sr = sf.read(request.user_audio, always_2d=True)
        # the file is the song this attempt drew (each held-out song has its own level) ...
        level = 0.1 * (int(stem.split("-")[1]) + 1)
        assert np.allclose(audio, level, atol=1e-3)
        # ... and long enough for the take and the time range this attempt asks of it
        assert len(audio) / sr >= request.duration_s - 0.01
        assert request.user_range.end_s <= len(audio) / sr
        drawn.add(stem)
    assert len(drawn) > 1  # the attempts did draw different songs


def test_a_held_out_setting_of_a_catalogue_songs_hymn_tune_is_left_out():
    import audit_data

    def entry(song_id: str) -> dict:
        return {"id": song_id, "source": f"bach/{song_id}"}

    # BWV 153.1 and 2.6 both set "Ach Gott, vom Himmel sieh darein"; BWV 269 is another tune
    catalogue = [entry("bwv2.6"), entry("bwv269")]
    held = [entry("bwv153.1"), entry("bwv347")]
    tunes = dict(audit_data._incipit_one(e) for e in catalogue + held)
    assert tunes["bwv153.1"] == tunes["bwv2.6"] != tunes["bwv269"]
    assert len(tunes["bwv347"]) == audit_data.INCIPIT_INTERVALS
    assert [e["id"] for e in audit_data.other_tunes(held, catalogue, tunes)] == ["bwv347"]
    # a score that cannot be read has no incipit and is never taken for another tune
    assert audit_data._incipit_one({"id": "x", "source": "bach/no-such-chorale"}) == ("x", [])
    assert audit_data.other_tunes([{"id": "x"}], catalogue, {**tunes, "x": []}) == [{"id": "x"}]


def test_a_layer_reordered_for_the_ceiling_keeps_every_whole_bar_once():
    import random

    import audit_ceiling

    song = SimpleNamespace(tempo_bpm=120.0, beats_per_bar=4)  # a bar is 2 s
    rate = 10
    bars = np.repeat(np.arange(5, dtype=np.float32), 2 * rate)  # bar i holds the value i
    audio = np.stack([np.concatenate([bars, np.full(7, 9.0, np.float32)])] * 2)  # + a part bar
    out = audit_ceiling.reordered(audio, rate, song, random.Random(3))
    assert out.shape == (2, 5 * 2 * rate)  # the part bar at the end is left out
    firsts = out[0, :: 2 * rate]
    assert sorted(firsts.tolist()) == [0, 1, 2, 3, 4]
    assert firsts.tolist() != [0, 1, 2, 3, 4]  # the order is not the song's
    assert all((out[0, i * 2 * rate : (i + 1) * 2 * rate] == v).all() for i, v in enumerate(firsts))


def test_the_bound_bench_slides_a_template_and_moves_a_song_as_the_app_would():
    import audit_onsets

    rng = np.random.default_rng(5)
    audio_map = rng.normal(size=(300, 12)).astype(np.float32)
    planted = audio_map[120:160].copy()
    r = audit_onsets.slide(planted, audio_map)
    assert r.shape == (300 - 40 + 1,)
    assert int(np.argmax(r)) == 120 and r[120] > 0.999
    # each value is the plain correlation coefficient at that place
    for at in (0, 77, 260):
        direct = np.corrcoef(planted.ravel(), audio_map[at : at + 40].ravel())[0, 1]
        assert abs(r[at] - direct) < 1e-6
    # one note at frame 10, bin 30: up 2 semitones (6 bins) and 1.5 times as long
    song = np.full((40, 60), -80.0, np.float32)
    song[10, 30] = 0.0
    out = audit_onsets.moved(song, 2, 1.5, 60)
    assert out.shape == (60, 60)
    assert np.unravel_index(int(np.argmax(out)), out.shape) == (15, 36)


@pytest.mark.parametrize("hidden, under", [("song-a", "song-b"), ("song-b", "song-a")])
def test_an_excerpt_5_db_under_another_recording_is_placed_by_its_onsets(
    recordings, hidden: str, under: str
):
    """Real recordings (44.1 and 48 kHz): 3 s of one mix, moved up 3 semitones and stretched
    by 1.1 with the app's phase vocoder, mixed 5 dB under the other mix. Slid over the clip,
    the hidden song's own spectrogram moved by that map finds the excerpt by its onsets, at
    its place (within 2 frames, 46 ms), 5 standard deviations over what it finds in the other
    recording alone."""
    import audit_onsets
    from scipy.signal import resample_poly

    from musicapp.attribution import landmarks as lm
    from musicapp.audio.stretch import time_stretch

    a, sr = sf.read(recordings / hidden / "mix.flac", dtype="float32", always_2d=True)
    b, sr_b = sf.read(recordings / under / "mix.flac", dtype="float32", always_2d=True)
    other = resample_poly(b.T, sr // 300, sr_b // 300, axis=1).astype(np.float32)
    start_s, length_s, at_s, stretch, semis = 2.0, 3.0, 2.0, 1.1, 3
    part = np.ascontiguousarray(a.T[:, int(start_s * sr) : int((start_s + length_s) * sr)])
    excerpt = time_stretch(part, int(length_s * stretch * sr), semis)
    at = int(at_s * sr)
    span = other[:, at : at + excerpt.shape[1]]
    clip = other.copy()
    clip[:, at : at + excerpt.shape[1]] += (
        np.sqrt(np.mean(span**2) / np.mean(excerpt**2)) * 10 ** (-5 / 20) * excerpt
    )
    truth = {"song_start_s": start_s, "song_end_s": start_s + length_s, "stretch": stretch,
             "semitones": semis}  # fmt: skip
    t = audit_onsets.onsets(audit_onsets.template(audit_onsets.spectrogram(a.T, sr), truth, 10**4))
    found = audit_onsets.slide(t, audit_onsets.onsets(audit_onsets.spectrogram(clip, sr)))
    alone = audit_onsets.slide(t, audit_onsets.onsets(audit_onsets.spectrogram(other, sr)))
    assert abs(int(np.argmax(found)) - at_s / lm.FRAME_S) <= 2
    assert (found.max() - alone.mean()) / alone.std() >= 5.0
