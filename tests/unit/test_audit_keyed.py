"""A take's one key and one tempo (musicapp/attribution/keyed.py): where they come from, and
that each song is then looked for at the one map they imply for it."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from musicapp.attribution import landmarks as lm
from musicapp.attribution.keyed import Keyed

SONGS = {  # key, tempo, beats per bar
    "in-g": ("G major", 100.0, 4),
    "in-e-minor": ("E minor", 120.0, 3),  # G major's notes: the same tonic
    "in-d": ("D major", 50.0, 4),  # half the take's tempo: played at double time
    "unknown": ("", 0.0, 0),
}


class _Catalog:
    def song(self, song_id: str) -> SimpleNamespace:
        key, tempo, beats = SONGS[song_id]
        return SimpleNamespace(key=key, tempo_bpm=tempo, beats_per_bar=beats)


def _keyed() -> Keyed:
    return Keyed(list(SONGS), _Catalog())  # type: ignore[arg-type]


def _cluster(item: int, semitones: int, scale: float) -> lm.Cluster:
    times = np.arange(6, dtype=np.float32)
    return lm.Cluster(item, semitones, scale, 8, times, times)


def _votes(cells: list[tuple[int, int, int, int]]) -> lm.CellVotes:
    """CellVotes of (item, semitones, scale index, votes) cells, one match a cell."""
    n_off = 100
    n_var = (2 * lm.MAX_SHIFT + 1) * len(lm.SCALES)
    ids = [
        ((item * n_var) + (shift + lm.MAX_SHIFT) * len(lm.SCALES) + si) * n_off + 50
        for item, shift, si, _ in cells
    ]
    order = np.argsort(ids)
    n = len(cells)
    return lm.CellVotes(
        cells=np.array(ids, np.int64)[order],
        n_off=n_off,
        votes=np.array([v for *_, v in cells], np.int64)[order],
        nxt=np.zeros(n, np.int64),
        has=np.zeros(n, bool),
        inverse=np.arange(n, dtype=np.int64),
        raw=np.ones(n, np.int64),
        q_all=np.arange(n, dtype=np.float32) * 40,
        i_all=np.arange(n, dtype=np.float32) * 40,
    )


def _scale_index(scale: float) -> int:
    return int(np.argmin(np.abs(np.log(np.asarray(lm.SCALES)) - np.log(scale))))


def test_the_catalogue_keys_and_tempi_of_every_item_are_read_once():
    k = _keyed()
    assert k.tonic.tolist() == [7, 7, 2, -1]  # E minor shares G major's notes
    assert k.tempo.tolist() == [100.0, 120.0, 50.0, 0.0]
    assert k.bar_s == [2.4, 1.5, 4.8, None]


def test_a_found_recording_sets_the_takes_key_and_tempo():
    # "in-g" found two semitones up (A) and played 10 % faster (audited time / song time 1/1.1).
    found = [(_cluster(0, 2, 1 / 1.1), 0.9, 15.0), (_cluster(2, 0, 1.0), 0.2, 5.0)]
    keys, tempo = _keyed().take_map(np.zeros((2, 100), np.float32), 44_100, found, [True] * 4)
    assert keys == [9]
    assert abs(tempo - 110.0) < 1e-6


def test_without_a_found_recording_the_key_and_tempo_come_from_the_audio():
    sr = 22_050
    beat = 0.5  # 120 BPM
    triads = [(67, 71, 74), (60, 64, 67), (62, 66, 69), (67, 71, 74)]  # G C D G
    t = np.arange(int(beat * sr)) / sr
    notes = []
    for i in range(32):
        chord = triads[(i // 4) % 4]
        tone = sum(np.sin(2 * np.pi * 440 * 2 ** ((m - 69) / 12) * t) for m in chord)
        notes.append(tone * np.exp(-6 * t))
    audio = np.tile(np.concatenate(notes).astype(np.float32) * 0.2, (2, 1))
    keys, tempo = _keyed().take_map(audio, sr, [], [True] * 4)
    assert 7 in keys  # G major among the likeliest two
    assert min(abs(np.log2(tempo / 120.0) - k) for k in (-1, 0, 1)) < 0.05


def test_each_song_is_looked_for_at_the_map_the_takes_key_and_tempo_imply():
    # The take: A major (tonic 9), 110 BPM. "in-g" lies 2 semitones up at 100/110 of its time;
    # "in-e-minor" too (the same notes), at 120/110; "in-d" 5 semitones down (D to A), at double
    # time: 2 * 50/110.
    g_map = _scale_index(100 / 110)
    cells = [
        (0, 2, g_map, 3),  # in-g where the take puts it: nominated
        (0, -3, g_map, 9),  # in-g elsewhere, more votes: not looked at here
        (1, 2, _scale_index(120 / 110), 1),  # too few votes
        (2, -5, _scale_index(100 / 110), 2),  # in-d at its implied map (double time)
        (3, 2, g_map, 5),  # a song without a key: no implied map
    ]
    got = _keyed().nominate(_votes(cells), [9], 110.0, seen=set())
    assert sorted((c.item, c.semitones) for c in got) == [(0, 2), (2, -5)]
    # A map the search already checked is not checked again.
    again = _keyed().nominate(_votes(cells), [9], 110.0, seen={(0, 2, lm.SCALES[g_map])})
    assert [(c.item, c.semitones) for c in again] == [(2, -5)]
    assert _keyed().nominate(_votes(cells), [], 110.0, seen=set()) == []


def test_silence_has_no_key_and_noise_or_clicks_no_more_than_two():
    rate = 22_050
    silence = np.zeros((2, 5 * rate), np.float32)
    assert _keyed().take_map(silence, rate, [], [True] * 4)[0] == []
    noise = np.random.default_rng(0).normal(0, 0.1, (2, 5 * rate)).astype(np.float32)
    clicks = np.zeros((2, 5 * rate), np.float32)
    clicks[:, :: rate // 2] = 1.0
    for audio in (noise, clicks):  # what they name, the check decides: no error here
        keys, tempo = _keyed().take_map(audio, rate, [], [True] * 4)
        assert len(keys) <= 2 and tempo > 0
