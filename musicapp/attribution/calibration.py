"""Scores to probabilities, fitted on audits whose truth is known (``benchmarks/audit.py``).

A fingerprint cluster's votes (moments of the audited audio its matches explain) and an
embedding candidate's cosine are not probabilities. These maps are logistic (votes) and a
softmax with a "none of these" option (cosines), their constants fitted by maximum likelihood
on the harness's takes and clips: over many candidates given 0.8, about 80 % are right. The
reliability table is in ``docs/audit.md``; refit with ``benchmarks/audit.py --calibrate``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

# P(cluster is the song it names) = 1 / (1 + exp(-(VOTES_SLOPE * (votes - VOTES_MIDPOINT))))
VOTES_SLOPE = 0.45
VOTES_MIDPOINT = 12.0
MIN_PROBABILITY = 0.2  # clusters less likely than this are not reported at all
FOUND = 0.5  # a recording is "found" (a Finding) from this probability

# P(window j) ∝ exp(cos_j / TEMPERATURE); "none of these" has the logit NONE_COS / TEMPERATURE.
TEMPERATURE = 0.05
NONE_COS = 0.9


def cluster_probability(votes: float) -> float:
    return 1.0 / (1.0 + math.exp(-VOTES_SLOPE * (votes - VOTES_MIDPOINT)))


def window_probabilities(cos: NDArray[np.floating]) -> tuple[NDArray[np.float64], float]:
    """Probabilities of the candidate windows (by cosine) and of "none of these"."""
    logits = np.concatenate([np.asarray(cos, np.float64), [NONE_COS]]) / TEMPERATURE
    logits -= logits.max()
    p = np.exp(logits)
    p /= p.sum()
    return p[:-1], float(p[-1])
