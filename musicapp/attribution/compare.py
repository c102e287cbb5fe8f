"""By-design attribution beside the audit: where they agree, and where they do not."""

from __future__ import annotations

from collections.abc import Mapping

from musicapp.attribution.types import Agreement, AuditResult, Comparison

SHARE_TOLERANCE = 0.15  # a share the audit misses by more than this is shown as a disagreement
FOUND_MIN_SHARE = 0.03  # an audit share below this is noise, not a finding


def compare(
    result: AuditResult,
    by_design: Mapping[str, float],
    tolerance: float = SHARE_TOLERANCE,
    new_notes: bool = False,
) -> Comparison:
    """Compare the audit with the by-design song shares (``Provenance.song_shares()``; the
    user's own audio is the rest, which the audit calls unattributed). ``new_notes``: the take
    was written note by note (the composer), so a reference the audit does not hear as audio is
    expected, not missed; a recording found outright still disagrees."""
    found = result.found_songs()
    songs = sorted(
        {s for s, v in by_design.items() if v > 0}
        | {s for s, v in result.influence.items() if v >= FOUND_MIN_SHARE}
        | found,
        key=lambda s: (-by_design.get(s, 0.0), -result.influence.get(s, 0.0), s),
    )
    rows = tuple(
        Agreement(s, by_design.get(s, 0.0), result.influence.get(s, 0.0), s in found) for s in songs
    )
    missed = tuple(
        r.song_id
        for r in rows
        if r.by_design > 0 and r.audit < FOUND_MIN_SHARE and not r.found_outright
        and not new_notes
    )  # fmt: skip
    undeclared = tuple(r.song_id for r in rows if r.by_design == 0 and r.found_outright)
    user_rest = max(0.0, 1.0 - sum(by_design.values()))
    l1 = sum(abs(r.difference) for r in rows) + abs(result.unattributed - user_rest)
    return Comparison(rows, missed, undeclared, l1, tolerance, new_notes)
