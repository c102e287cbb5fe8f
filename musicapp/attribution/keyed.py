"""A take's one key and one tempo: the map each reference of it would be found at.

The concat engine plays every pitched reference of a take in the key of its heaviest one (by
the catalogue's keys, ``generation.layers.align_keys``) and every reference at one tempo
(``generation.tempo``: each at its own tempo, half or double time, stretched to the target). So
where a take holds a song, it holds it at the transposition and tempo ratio that the take's key
and tempo and the song's own imply. The search (``landmarks.py``) looks under 195 of them for
every song, and at so many maps a reference the take reorders bar by bar, or mixes under other
layers, leaves too few votes to be checked before the strays are. This pass checks each item's
best cell at its song's implied map instead (at least ``MIN_VOTES`` moments), and the check
(``verify.py``) and the calibration decide as for any other cluster.

The key and tempo come from the take's strongest found recording where it has one (its song's
key and tempo, moved by the cluster's map), else from the audio: its tempo as the analysis
tracks it and the ``KEYS`` major keys whose profile fits its pitch classes best. Takes only:
the user's own audio has no such rule, and an excerpt hidden in it may be in any key.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from musicapp.attribution import landmarks as lm
from musicapp.attribution.calibration import FOUND  # a cluster this likely sets the key and tempo
from musicapp.audio.analysis import analyse
from musicapp.generation.composer.conditioning import MAJOR_PROFILE  # Krumhansl and Kessler's
from musicapp.generation.layers import key_tonic
from musicapp.generation.tempo import fold

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore

KEYS = 2  # from the audio alone the likeliest key is right about 4 times in 10, one of two 8
MIN_VOTES = 2
LIMIT = 400  # cells checked at most, by votes: 150 gained less, 800 no more (docs/audit.md)


class Keyed:
    """Each item's song's key (the tonic of the major key that shares its notes; -1 where the
    catalogue does not know it), tempo (0 where it does not) and bar in seconds (None)."""

    def __init__(self, item_song: Sequence[str], catalog: CatalogStore) -> None:
        tonic: dict[str, int] = {}
        tempo: dict[str, float] = {}
        bar: dict[str, float | None] = {}
        for song_id in set(item_song):
            song = catalog.song(song_id)
            k = key_tonic(song.key) if song is not None and song.key else None
            tonic[song_id] = -1 if k is None else k
            tempo[song_id] = float(song.tempo_bpm or 0.0) if song is not None else 0.0
            beats = int(song.beats_per_bar or 0) if song is not None else 0
            bar[song_id] = 60.0 / tempo[song_id] * beats if tempo[song_id] and beats else None
        self.tonic = np.array([tonic[s] for s in item_song], np.int64)
        self.tempo = np.array([tempo[s] for s in item_song], np.float64)
        self.bar_s: list[float | None] = [bar[s] for s in item_song]

    def clusters(
        self,
        audio: NDArray[np.float32],
        sample_rate: int,
        v: lm.CellVotes,
        checked: Sequence[tuple[lm.Cluster, float, float]],
        is_mix: Sequence[bool],
    ) -> list[lm.Cluster]:
        """The clusters to check at the take's key and tempo: those of the maps not yet
        checked (``checked``: the search's, with their probabilities and z)."""
        seen = {(c.item, c.semitones, c.scale) for c, _, _ in checked}
        keys, tempo = self.take_map(audio, sample_rate, checked, is_mix)
        return self.nominate(v, keys, tempo, seen)

    def take_map(
        self,
        audio: NDArray[np.float32],
        sample_rate: int,
        found: Sequence[tuple[lm.Cluster, float, float]],
        is_mix: Sequence[bool],
    ) -> tuple[list[int], float]:
        """The take's likeliest keys (tonics) and its tempo."""
        sure = [
            (z, c)
            for c, p, z in found
            if p >= FOUND and is_mix[c.item] and self.tonic[c.item] >= 0 and self.tempo[c.item]
        ]
        if sure:
            c = max(sure, key=lambda zc: zc[0])[1]
            return [int(self.tonic[c.item] + c.semitones) % 12], self.tempo[c.item] / c.scale
        a = analyse(audio, sample_rate)
        profile = a.pitch_profile
        if not np.isfinite(profile).all() or float(np.ptp(profile)) <= 0:  # no key to hear
            return [], a.tempo_bpm
        fit = [
            float(np.corrcoef(np.roll(np.asarray(MAJOR_PROFILE), k), profile)[0, 1])
            for k in range(12)
        ]
        return [int(k) for k in np.argsort(fit)[::-1][:KEYS]], a.tempo_bpm

    def nominate(
        self, v: lm.CellVotes, keys: list[int], tempo: float, seen: set[tuple[int, int, float]]
    ) -> list[lm.Cluster]:
        """Each item's best cell at its song's implied map under one of ``keys`` and ``tempo``,
        of at least MIN_VOTES moments, leaving out the (item, transposition, tempo ratio) maps
        already checked (``seen``); the first LIMIT by votes."""
        if not keys or tempo <= 0:
            return []
        n_scales = len(lm.SCALES)
        items = v.items
        variant = (v.cells // v.n_off) % ((2 * lm.MAX_SHIFT + 1) * n_scales)
        shift = variant // n_scales - lm.MAX_SHIFT
        log_scale = np.log(np.asarray(lm.SCALES))[variant % n_scales]
        known = (self.tonic[items] >= 0) & (self.tempo[items] > 0) & (v.votes >= MIN_VOTES)
        uniq, inverse = np.unique(items, return_inverse=True)
        own = self.tempo[uniq]
        folded = np.array([fold(t, tempo) if t > 0 else 1.0 for t in own])
        implied = np.log(np.maximum(own * folded, 1e-9) / tempo)[inverse]
        near = np.abs(log_scale - implied) <= math.log(lm.SCALES[1] / lm.SCALES[0]) * 0.75
        keyed = np.zeros(items.size, bool)
        for k in keys:
            keyed |= shift == (k - self.tonic[items] + 6) % 12 - 6
        cells = np.flatnonzero(known & near & keyed)
        best: dict[int, int] = {}
        for c in cells[np.argsort(-v.votes[cells], kind="stable")]:
            best.setdefault(int(items[c]), int(c))
        out = []
        for c in sorted(best.values(), key=lambda c: -int(v.votes[c]))[:LIMIT]:
            cluster = v.cluster(c)
            if (cluster.item, cluster.semitones, cluster.scale) not in seen:
                out.append(cluster)
        return out
