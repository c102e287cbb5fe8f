"""Levels in the concat engine: each bar's level, the user's weights as shares, smooth joins.

- A bar is matched from its own level, held within 6 dB of its source's usual level
  (`bar_level`), so sparse bars are not pumped up and dense ones not crushed.
- Weights become shares (`balance`): bars are shared out by weight, but a reference whose bars
  are quieter or fewer (a short take, few usable bars) would still be heard less than its
  weight says. From the plan, the energy each reference will contribute is known before a
  sample is rendered, so each reference gets one gain (within MAX_BALANCE_DB) that brings its
  share to its weight; where that is not enough, the take says why.
- Joins keep their level (`JoinLeveller`): a bar from elsewhere starts at the level the bar
  it follows ends at, plus the step its own source usually makes at a bar line (a downbeat's
  accent, `accent_db`), and glides back to its own level over half a bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from musicapp.core.provenance import normalise

MAX_BALANCE_DB = 6.0
SHARE_TOLERANCE = 0.10  # a share further than this from its weight gets a note
EDGE_S = 0.1  # the level at a bar's start or end: its first or last tenth of a second
MAX_JOIN_DB = 6.0
QUIET_DB = -60.0  # below this (re the layer's level) an edge is a rest: it sets no level


def level_db(audio: np.ndarray) -> float:
    """RMS level in dB (very low for silence)."""
    if audio.size == 0:
        return -200.0
    return float(10 * np.log10(np.mean(np.square(audio, dtype=np.float64)) + 1e-20))


def bar_level(rms: np.ndarray, typical: float, bar: int) -> float:
    """The level a bar is matched from: its RMS held within 6 dB of the source's usual level."""
    typical = max(typical, 1e-9)
    return float(np.clip(rms[bar], typical / 2, typical * 2))


@dataclass
class Balance:
    """One gain per reference, and what limited them (for the take's notes)."""

    gains: np.ndarray
    heard: np.ndarray  # per reference: any of its bars planned at all
    limited: np.ndarray  # per reference: its gain hit the ±MAX_BALANCE_DB limit


def balance(energy: np.ndarray, weights: Sequence[float]) -> Balance:
    """Gains that move each reference's predicted `energy` share to its normalised weight.

    The gains' geometric mean is 1 (the overall level stays) and each stays within
    ±MAX_BALANCE_DB, so the music keeps its balance.
    """
    w = np.asarray(normalise(weights))
    e = np.asarray(energy, dtype=np.float64)
    heard = e > 0
    gains = np.ones(len(w))
    limit = 10 ** (MAX_BALANCE_DB / 20)
    if heard.sum() >= 2:
        raw = np.sqrt(w[heard] / e[heard])
        raw /= np.exp(np.mean(np.log(raw)))
        gains[heard] = np.clip(raw, 1 / limit, limit)
    limited = np.isclose(gains, limit) | np.isclose(gains, 1 / limit)
    return Balance(gains, heard, limited)


def share_notes(
    shares: Sequence[float],
    weights: Sequence[float],
    names: Sequence[str],
    plan: Balance,
    n_bars: int,
) -> tuple[str, ...]:
    """Why a share ended up more than SHARE_TOLERANCE from its weight, for each such one."""
    w = np.asarray(normalise(weights))
    notes = []
    for i, (share, want) in enumerate(zip(shares, w, strict=True)):
        if abs(share - want) <= SHARE_TOLERANCE:
            continue
        if not plan.heard[i]:
            why = "none of its bars could be used (silent or too short)"
        elif n_bars < 2 * len(w):
            why = f"a take of {n_bars} bars is too short to share out between {len(w)} references"
        elif plan.limited[i] and share < want:
            why = (
                "its bars are much quieter or fewer than the others' (more than "
                f"{MAX_BALANCE_DB:g} dB of gain would change the music)"
            )
        elif plan.limited.any():
            why = "the other references' bars are much quieter or fewer"
        else:
            why = "its bars came out quieter or louder once stretched and joined than planned"
        notes.append(f"{names[i]} has {share:.0%} of the take for a weight of {want:.0%}: {why}")
    return tuple(notes)


@dataclass
class JoinLeveller:
    """Per layer, the level the last bar ended at; gain ramps that carry it across joins."""

    sample_rate: int
    _end_db: dict[int, float] = field(default_factory=dict)

    def level(
        self,
        layer: int,
        seg: np.ndarray,
        start: int,
        natural_step_db: float | None,
        glide: int,
    ) -> None:
        """Ramp `seg` (in place) from sample `start` (the bar's downbeat) so its first EDGE_S
        sound at the previous bar's end level plus `natural_step_db` (None: the bar continues
        its own source, leave it), gliding back to 0 dB over `glide` samples."""
        edge = int(EDGE_S * self.sample_rate)
        before = self._end_db.get(layer)
        if natural_step_db is None or before is None:
            return
        now = level_db(seg[:, start : start + edge])
        if now < before + QUIET_DB or before < now + QUIET_DB:
            return  # one side is a rest: there is no level to carry over
        correction = float(np.clip(before + natural_step_db - now, -MAX_JOIN_DB, MAX_JOIN_DB))
        if abs(correction) < 0.25:
            return
        ramp_db = np.full(seg.shape[1], 0.0)
        ramp_db[: start + edge] = correction
        glide = max(1, min(glide, seg.shape[1] - start - edge))
        ramp_db[start + edge : start + edge + glide] = correction * np.linspace(1.0, 0.0, glide)
        seg *= (10 ** (ramp_db / 20)).astype(np.float32)

    def ended(self, layer: int, seg: np.ndarray, end: int) -> None:
        """Remember the level of the last EDGE_S before sample `end` of the bar just placed."""
        edge = int(EDGE_S * self.sample_rate)
        self._end_db[layer] = level_db(seg[:, max(0, end - edge) : end])


def accent_db(audio: np.ndarray, bars: np.ndarray, sr: int) -> float:
    """The level step a source usually makes at its own bar lines (a downbeat's accent): the
    median over its bars. One bar's own step would carry that bar's dynamics across the join
    too."""
    edge = int(EDGE_S * sr)
    steps = [
        level_db(audio[:, at : at + edge]) - level_db(audio[:, at - edge : at])
        for at in (int(b) for b in bars[1:-1])
        if at - edge >= 0 and at + edge <= audio.shape[1]
    ]
    steps = [s for s in steps if abs(s) < 40]  # a rest on either side is no accent
    if not steps:
        return 0.0
    return float(np.median(steps))
