"""The audit's facts in the window's words: time ranges, changes, findings and disagreements.

Shared by the result panel's audit, the Audit a file window and the undeclared-material dialog,
so the three say the same thing the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from musicapp.core import Song
from musicapp.studio_types import Agreement, Comparison, Finding

NameOf = Callable[[str], str]  # song id -> "Title — Artist"
MERGE_GAP_S = 0.5  # found ranges closer than this are shown as one


def song_name(song: Song | None, song_id: str) -> str:
    return f"{song.title} — {song.artist}" if song is not None else song_id


def seconds_range(start_s: float, end_s: float) -> str:
    return f"{start_s:.1f}–{end_s:.1f} s"


def percent(share: float) -> str:
    return f"{share * 100:.1f} %"


def change_text(pitch_shift: int, tempo_ratio: float) -> str:
    """How the material was changed on the way in ("" when it was not): the app itself
    transposes and stretches, so a finding says by how much."""
    parts = []
    if pitch_shift:
        parts.append(f"{pitch_shift:+d} semitone{'s' if abs(pitch_shift) != 1 else ''}")
    if abs(tempo_ratio - 1.0) >= 0.005:
        parts.append(f"tempo ×{tempo_ratio:.2f}")
    return ", ".join(parts)


def found_ranges(findings: Iterable[Finding], song_id: str) -> list[Finding]:
    """The findings of one song, in time order."""
    return sorted((f for f in findings if f.song_id == song_id), key=lambda f: f.start_s)


def merged_ranges(findings: Iterable[Finding], song_id: str) -> list[tuple[float, float]]:
    """A song's found time ranges, touching ones joined (the fingerprints report a recording
    reused for a minute as many short matches; the user wants to know where it is)."""
    out: list[tuple[float, float]] = []
    for f in found_ranges(findings, song_id):
        if out and f.start_s <= out[-1][1] + MERGE_GAP_S:
            out[-1] = (out[-1][0], max(out[-1][1], f.end_s))
        else:
            out.append((f.start_s, f.end_s))
    return out


def found_mark(findings: Iterable[Finding], song_id: str) -> str:
    """A narrow cell: ✓ when the recording was found outright, ×n when in n places."""
    n = len(merged_ranges(findings, song_id))
    return "" if n == 0 else "✓" if n == 1 else f"✓ ×{n}"


def found_line(findings: Iterable[Finding], song_id: str, name: str) -> str:
    """Where a song's recording was found outright, and how it was changed ("" if nowhere)."""
    mine = found_ranges(findings, song_id)
    if not mine:
        return ""
    spans = ", ".join(f"{a:.1f}–{b:.1f}" for a, b in merged_ranges(mine, song_id))
    changes = sorted({c for f in mine if (c := change_text(f.pitch_shift, f.tempo_ratio))})
    return f"{name}: {spans} s" + (f" ({'; '.join(changes)})" if changes else "")


def finding_text(finding: Finding, name: str, where: str = "the take") -> str:
    """One recording found outright, as a sentence's worth of facts."""
    text = (
        f"{name}: {seconds_range(finding.start_s, finding.end_s)} of {where} "
        f"(from {seconds_range(finding.song_start_s, finding.song_end_s)} of the song"
    )
    change = change_text(finding.pitch_shift, finding.tempo_ratio)
    if change:
        text += f", {change}"
    return text + f"; {finding.probability * 100:.0f} % sure)"


def disagreement(row: Agreement, comparison: Comparison) -> str:
    """Why a song's row disagrees, in words ("" when it agrees)."""
    if row.song_id in comparison.undeclared:
        return "found in the take but not declared"
    if comparison.new_notes:
        return ""  # a composed take: likeness is shown, only reused recordings disagree
    if row.song_id in comparison.missed:
        return "declared but not found"
    if abs(row.difference) > comparison.tolerance:
        more = "more" if row.difference > 0 else "less"
        return f"share differs by {abs(row.difference) * 100:.0f} points (the audit hears {more})"
    return ""


def summary(comparison: Comparison) -> str:
    """The one line that says whether the audit and the attribution by design agree."""
    if comparison.new_notes and comparison.agrees:
        return (
            "The composer wrote new notes: the audit finds no catalogue recording reused in "
            "the take, as expected. The table shows how much it sounds like each song."
        )
    if comparison.agrees:
        return (
            "The audit agrees with the attribution by design "
            f"(every share within {comparison.tolerance * 100:.0f} points)."
        )
    n = sum(1 for r in comparison.rows if disagreement(r, comparison))
    songs = "song" if n == 1 else "songs"
    return f"The audit disagrees with the attribution by design on {n} {songs}."
