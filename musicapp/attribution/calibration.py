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

import numpy as np
from numpy.typing import NDArray

# A cluster's votes only nominate it; what counts is its verification (``verify.py``): the z of
# the lift of the item's own peaks in the audited audio over a run of seconds.
# P(cluster is the song it names) = 1 / (1 + exp(-(Z_SLOPE * (z - Z_MIDPOINT)))).
Z_SLOPE = 0.8
Z_MIDPOINT = 8.0
# An index without kept peaks (built before they were) falls back on the votes.
VOTES_SLOPE = 0.45
VOTES_MIDPOINT = 12.0
MIN_PROBABILITY = 0.2  # clusters less likely than this are not reported at all
FOUND = 0.5  # a recording is "found" (a Finding) from this probability
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


def verified_probability(z: float, votes: float) -> float:
    """P(cluster is the song it names) from its verification's z (its votes where the index
    kept no peaks to verify with: z is nan)."""
    if math.isnan(z):
        return cluster_probability(votes)
    return 1.0 / (1.0 + math.exp(-Z_SLOPE * (z - Z_MIDPOINT)))


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
