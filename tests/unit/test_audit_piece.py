"""A recording found outright somewhere in a piece corroborates its weaker matches elsewhere in
the same piece: those segments are attributed to it in full, not only as "likely" (the quick
set's share L1 0.810 -> 0.738 and timeline agreement 47.0 -> 54.4 %, docs/audit.md). A weak
match of a recording found nowhere else stays as likely as its probability."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from musicapp.attribution import calibration as cal
from musicapp.attribution.auditor import _fingerprint_evidence
from musicapp.attribution.landmarks import Cluster


def _cluster(item: int, at_s: float) -> Cluster:
    times = np.array([at_s, at_s + 0.5], np.float32)
    return Cluster(item, 0, 1.0, 12, times, times + 10.0)


def test_a_weak_match_is_taken_in_full_when_its_recording_is_found_elsewhere_in_the_piece():
    loaded = SimpleNamespace(item_song=["song-a", "song-b"])
    weak = cal.FOUND / 2
    clusters = [(_cluster(0, 3.0), weak)]
    _, alone = _fingerprint_evidence(clusters, loaded, 3.0, 4.0)
    assert alone == {"song-a": weak}  # only likely: half of the segment stays unattributed
    _, corroborated = _fingerprint_evidence(clusters, loaded, 3.0, 4.0, {"song-a"})
    assert corroborated == {"song-a": 1.0}
    _, other = _fingerprint_evidence(clusters, loaded, 3.0, 4.0, {"song-b"})
    assert other == {"song-a": weak}  # another song found elsewhere corroborates nothing here
