"""Scores to probabilities, set on audits whose truth is known (``benchmarks/audit.py``).

A fingerprint cluster's verification (``verify.py``: the z of the lift of its recording's own
peaks in the audited audio), its votes, and an embedding candidate's cosine are not
probabilities. These maps are logistic (z, or votes where nothing could be verified) and a
softmax with a "none of these" option (cosines). The constants were set by looking at the
harness's figures (``docs/audit.md``: the quick set's clips and takes), not fitted by maximum
likelihood; a reliability table over the full set is the next step there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from musicapp.attribution.landmarks import Cluster

# A cluster's votes only nominate it; what counts is its verification (``verify.py``): the z of
# the lift of the item's own peaks in the audited audio over a run of seconds.
# P(cluster is the song it names) = 1 / (1 + exp(-(Z_SLOPE * (z - Z_MIDPOINT)))).
Z_SLOPE = 0.8
Z_MIDPOINT = 8.0
# An index without kept peaks (built before they were) falls back on the votes.
VOTES_SLOPE = 0.45
VOTES_MIDPOINT = 12.0
MIN_PROBABILITY = 0.2  # clusters less likely than this are not reported at all
# A recording that is there is found again: another strong cluster (STRONG_Z over STRONG_VOTES
# moments) of its song, in the same transposition (the app moves a reference by one interval),
# over a stretch of the audio that does not overlap. A stem's cluster, or one of fewer than
# STRONG_VOTES moments, whose song is not found again is at most LONE_CAP likely (below FOUND).
# Measured over every cluster of the harness (docs/audit.md, "Found again"): a stem found once
# is right 1-4 % of the time in clips and 23-30 % in takes (an arrangement's stems are in all
# its songs); a few moments found once never in a clip or a real recording (a DI guitar's held
# chord on a chorale's notes: z 11 over five moments), where a mix found again is right in
# every take.
STRONG_Z = 8.0
STRONG_VOTES = 6
# A reference a take reorders bar by bar is found in many small places, each too weak alone.
# Clusters of one song's mix in one transposition and tempo ratio (within POOL_TEMPO), over
# stretches that do not overlap, each of z >= POOL_Z, at least POOL_N of them, are judged
# together, z = their sum / sqrt(n) (docs/audit.md, "Nominated by votes per entry": on the full
# set's takes 5 more references found, no take with more wrong songs).
POOL_Z = 6.0
POOL_N = 3
POOL_TEMPO = 0.06
LONE_CAP = 0.3
FOUND = 0.5  # a recording is "found" (a Finding) from this probability


@dataclass(frozen=True)
class Scale:
    """What a verification's z means, which depends on what the cluster was checked against
    (``verify.Salience``): the z of even odds, of a strong cluster (found again) and of a
    cluster judged with others (pooled)."""

    midpoint: float
    strong: float
    pool: float


# The user's audio, checked against its salience in dB: a hidden excerpt is mixed under other
# music, and its peaks are not all the audio's peaks.
USER = Scale(Z_MIDPOINT, STRONG_Z, POOL_Z)
# A take, checked against its own peaks and its salience in dB, the stronger run counting
# (``verify.Salience.for_check``): its references sound whole, and a true place stands out
# more at its peaks, but so does a stray's best alignment. Set on the full set's takes
# (docs/audit.md, "A take checked against its own peaks"; peaks alone): even odds at 9 found a
# wrong song in 15 % of the takes, at 11 the fewest (8 %) and fewer references.
TAKE = Scale(10.0, 9.0, 7.0)
# The user's own audio is refused when a song's recording (its mix) is found in it, so there
# the bar is higher. Fitted on the harness's quick set (docs/audit.md): held-out songs of the
# same collections, rendered with the same soundfont, reach z 12 at a stray's best alignment,
# so a finding needs z 14, or many votes (moments explained) and a verified run.
MATERIAL_MIN_Z = 14.0
MATERIAL_MIN_VOTES = 20
MATERIAL_VOTES_MIN_Z = 6.0

# P(window j) ∝ exp(cos_j / TEMPERATURE); "none of these" has the logit NONE_COS / TEMPERATURE.
TEMPERATURE = 0.05
NONE_COS = 0.9


def cluster_probability(votes: float) -> float:
    return 1.0 / (1.0 + math.exp(-VOTES_SLOPE * (votes - VOTES_MIDPOINT)))


def probabilities(
    checked: list[tuple[Cluster, float]],
    item_song: Sequence[str],
    item_is_mix: Sequence[bool],
    scale: Scale = USER,
) -> list[tuple[Cluster, float, float]]:
    """Each verified (cluster, z) with its probability (``verified_probability``), at most
    LONE_CAP for a stem's cluster or one of few moments whose song is not found again;
    ``scale``: what the z means (what the clusters were checked against)."""
    spans: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for c, z in checked:
        if z >= scale.strong and c.votes >= STRONG_VOTES:
            spans.setdefault((item_song[c.item], c.semitones), []).append(c.span_s)
    again = {key for key, s in spans.items() if _apart(s)}
    pooled = _pooled(checked, item_song, item_is_mix, scale.pool)
    again |= {(item_song[checked[i][0].item], checked[i][0].semitones) for i in pooled}
    out = []
    for i, (c, z) in enumerate(checked):
        p = verified_probability(z, c.votes, scale.midpoint)
        if i in pooled:
            p = max(p, verified_probability(pooled[i], c.votes, scale.midpoint))
        lone = not item_is_mix[c.item] or c.votes < STRONG_VOTES
        if lone and (item_song[c.item], c.semitones) not in again and not math.isnan(z):
            p = min(p, LONE_CAP)
        out.append((c, p, z))
    return out


def _pooled(
    checked: list[tuple[Cluster, float]],
    item_song: Sequence[str],
    item_is_mix: Sequence[bool],
    pool_z: float = POOL_Z,
) -> dict[int, float]:
    """The clusters judged together (see POOL_Z; ``pool_z`` each at least), by their index in
    ``checked``: their pooled z."""
    groups: dict[tuple[str, int], list[int]] = {}
    for i, (c, z) in enumerate(checked):
        if item_is_mix[c.item] and z >= pool_z:  # nan is not
            groups.setdefault((item_song[c.item], c.semitones), []).append(i)
    pooled: dict[int, float] = {}
    for members in groups.values():
        if len(members) < POOL_N:
            continue
        members.sort(key=lambda i: -checked[i][1])
        for first in members[:3]:  # the tempo ratio of one of the strongest
            scale = checked[first][0].scale
            chosen: list[int] = []
            for i in members:
                c = checked[i][0]
                a, b = c.span_s
                if abs(math.log(c.scale / scale)) > POOL_TEMPO or any(
                    a < checked[j][0].span_s[1] and b > checked[j][0].span_s[0] for j in chosen
                ):
                    continue
                chosen.append(i)
            if len(chosen) >= POOL_N:
                z = sum(checked[i][1] for i in chosen) / math.sqrt(len(chosen))
                pooled.update(dict.fromkeys(chosen, z))
                break
    return pooled


def _apart(spans: list[tuple[float, float]]) -> bool:
    """Whether two of the spans do not overlap."""
    return len(spans) > 1 and min(b for _, b in spans) <= max(a for a, _ in spans)


def verified_probability(z: float, votes: float, midpoint: float = Z_MIDPOINT) -> float:
    """P(cluster is the song it names) from its verification's z (its votes where the index
    kept no peaks to verify with: z is nan); ``midpoint``: the z of even odds."""
    if math.isnan(z):
        return cluster_probability(votes)
    return 1.0 / (1.0 + math.exp(-Z_SLOPE * (z - midpoint)))


def user_probability(p: float, z: float, votes: float, is_mix: bool) -> float:
    """A cluster's probability (``p``, from ``probabilities``) in the user's own audio: a
    song's mix at the material bar (``is_material``) by its verification alone, since a short
    sample reused outright is found once, in a few moments, and must still be refused; any
    other cluster at most LONE_CAP, never found."""
    if is_mix and is_material(z, votes):
        return verified_probability(z, votes)
    return min(p, LONE_CAP)


def is_material(z: float, votes: float) -> bool:
    """Strong enough to refuse the user's own audio over (votes alone on an index that kept
    no peaks to verify with: z is nan)."""
    if math.isnan(z):
        return votes >= MATERIAL_MIN_VOTES
    return z >= MATERIAL_MIN_Z or (votes >= MATERIAL_MIN_VOTES and z >= MATERIAL_VOTES_MIN_Z)


def window_probabilities(cos: NDArray[np.floating]) -> tuple[NDArray[np.float64], float]:
    """Probabilities of the candidate windows (by cosine) and of "none of these"."""
    logits = np.concatenate([np.asarray(cos, np.float64), [NONE_COS]]) / TEMPERATURE
    logits -= logits.max()
    p = np.exp(logits)
    p /= p.sum()
    return p[:-1], float(p[-1])
