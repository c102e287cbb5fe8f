"""How an audit compares with the truth an engine knows: the evaluation harness's metrics.

Pure functions over an `AuditResult` (or `Finding`s) and the truth, so the figures of
`benchmarks/audit.py` can be checked by hand (tests/unit/test_audit_metrics.py). The truth of a
take is its `Provenance`: song shares, the user's share and the timeline; the truth of a user
clip is the catalogue excerpt hidden in it (or none).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from musicapp.attribution.compare import compare
from musicapp.attribution.types import AuditResult, Finding
from musicapp.core.provenance import USER_SOURCE, TimelineSlot

NONE = "none"  # a second that is nobody's catalogue material (the user's own, or unattributed)
RECALL_MIN_SHARE = 0.10  # a reference this large should be among the audit's top songs
UNATTRIBUTED_OVER = 0.5  # an audit segment more unattributed than this says "none"


def true_top(song_shares: Mapping[str, float]) -> str | None:
    """The song with the largest true share (ties to the smaller id); None when there is none."""
    ranked = sorted(((-v, s) for s, v in song_shares.items() if v > 0))
    return ranked[0][1] if ranked else None


def top_k_hit(result: AuditResult, song_shares: Mapping[str, float], k: int) -> bool | None:
    """Whether the true largest-share song is among the audit's top k songs (None: no truth)."""
    best = true_top(song_shares)
    if best is None:
        return None
    return best in {s for s, _ in result.top(k)}


def references_recall(
    result: AuditResult, song_shares: Mapping[str, float], min_share: float = RECALL_MIN_SHARE
) -> tuple[int, int]:
    """(found, wanted): the true songs with at least ``min_share`` that are within the audit's
    top n, n being the number of songs the take really used (so a perfect audit finds all)."""
    used = [s for s, v in song_shares.items() if v > 0]
    wanted = [s for s in used if song_shares[s] >= min_share]
    top = {s for s, _ in result.top(len(used))}
    return sum(1 for s in wanted if s in top), len(wanted)


def share_l1(result: AuditResult, song_shares: Mapping[str, float]) -> float:
    """Sum over songs of |audit - truth|, plus |unattributed - the user's share| (the rest)."""
    return compare(result, song_shares).share_l1


def _largest(sources: Iterable[tuple[str, float]]) -> str:
    ranked = sorted(((-f, s) for s, f in sources if f > 0))
    if not ranked:
        return NONE
    best = ranked[0][1]
    return NONE if best == USER_SOURCE else best


def truth_per_second(timeline: Sequence[TimelineSlot], duration_s: float) -> list[str | None]:
    """Per whole second of the take: the largest source of the slot covering its middle (NONE
    for the user's own audio), or None where the timeline does not say."""
    out: list[str | None] = []
    for t in range(int(math.floor(duration_s + 1e-9))):
        mid = t + 0.5
        slot = next((s for s in timeline if s.start_s <= mid < s.end_s), None)
        out.append(None if slot is None else _largest(slot.sources))
    return out


def audit_per_second(result: AuditResult, duration_s: float) -> list[str]:
    """Per whole second: the top song of the audit segment covering its middle, or NONE where
    that segment is more than half unattributed (or no segment covers it). An audit without
    segments (the whole-piece baseline) answers its whole-piece influence for every second."""
    out: list[str] = []
    for t in range(int(math.floor(duration_s + 1e-9))):
        mid = t + 0.5
        if result.segments:
            seg = next((s for s in result.segments if s.start_s <= mid < s.end_s), None)
            if seg is None:
                out.append(NONE)
                continue
            influence, rest = seg.influence, seg.unattributed
        else:
            influence, rest = result.influence, result.unattributed
        out.append(NONE if rest > UNATTRIBUTED_OVER else _largest(influence.items()))
    return out


def timeline_agreement(truth: Sequence[str | None], audit: Sequence[str]) -> tuple[int, int]:
    """(agreeing seconds, seconds with a truth)."""
    pairs = [(t, a) for t, a in zip(truth, audit, strict=False) if t is not None]
    return sum(1 for t, a in pairs if t == a), len(pairs)


@dataclass(frozen=True)
class ClipTruth:
    """What is hidden in a user clip: a catalogue song's excerpt at [start_s, end_s) of the clip,
    whose bars last ``bar_s`` there (after the stretch); ``song_id`` None for a clean clip."""

    song_id: str | None
    start_s: float = 0.0
    end_s: float = 0.0
    bar_s: float = 0.0


@dataclass(frozen=True)
class ClipScore:
    """One clip's outcome: whether its song was found, whether another song was claimed, and
    (when found) how far the finding's ends are from the truth's, in bars."""

    hidden: bool
    found: bool
    false_positive: bool  # a clean clip with any finding, a hidden one with a wrong song
    start_error_bars: float | None = None
    end_error_bars: float | None = None

    @property
    def within_bar(self) -> bool | None:
        if self.start_error_bars is None or self.end_error_bars is None:
            return None
        return self.start_error_bars <= 1.0 and self.end_error_bars <= 1.0


def _overlap(f: Finding, start_s: float, end_s: float) -> float:
    return max(0.0, min(f.end_s, end_s) - max(f.start_s, start_s))


def score_clip(findings: Sequence[Finding], truth: ClipTruth) -> ClipScore:
    """Score find_material's findings on one clip. Of several findings of the true song, the one
    overlapping the excerpt most (then the nearest) is the one whose position counts."""
    if truth.song_id is None:
        return ClipScore(hidden=False, found=False, false_positive=bool(findings))
    mine = [f for f in findings if f.song_id == truth.song_id]
    wrong = any(f.song_id != truth.song_id for f in findings)
    if not mine:
        return ClipScore(hidden=True, found=False, false_positive=wrong)
    best = max(
        mine,
        key=lambda f: (_overlap(f, truth.start_s, truth.end_s), -abs(f.start_s - truth.start_s)),
    )
    bar = truth.bar_s if truth.bar_s > 0 else 1.0
    return ClipScore(
        hidden=True,
        found=True,
        false_positive=wrong,
        start_error_bars=abs(best.start_s - truth.start_s) / bar,
        end_error_bars=abs(best.end_s - truth.end_s) / bar,
    )


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def ratio(hits: int, total: int) -> float:
    """hits / total, NaN when there is nothing to count (shown as "n/a", never as 0 %)."""
    return hits / total if total else math.nan
