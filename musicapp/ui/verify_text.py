"""The Verify window's words and colours: each link's mark, the summary's tone, shares as
percentages, and the whole report as plain text for Copy report.

Kept apart from the window so the plain text (what a user pastes into a mail or an issue) is
built from the same pieces the window shows, and can be read without a window.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from musicapp.ui import theme

if TYPE_CHECKING:
    from musicapp.export import FileReport
    from musicapp.export.links import Credit, Link

# state: (mark, the theme's colour name, the word the plain text uses); amber ("warn") is a
# file known by its audio, not by its own record.
MARKS = {
    "ok": ("✓", "ok", "ok"),
    "failed": ("✗", "bad", "FAILED"),
    "skipped": ("–", "muted", "skipped"),
    "absent": ("–", "muted", "absent"),
}
STATE_TIPS = {
    "ok": "Checked and vouched for",
    "failed": "Checked, and it does not hold",
    "skipped": "Could not be checked here (no ledger, no CA certificate, or no C2PA library)",
    "absent": "Nothing in the file speaks to this link",
}
OFFLINE_NOTE = "Checked offline, as a third party would: the file and the server's CA only."


def mark(state: str) -> tuple[str, str, str]:
    """(symbol, colour, word) for a link's state; an unknown state reads as absent."""
    symbol, name, word = MARKS.get(state, MARKS["absent"])
    return symbol, theme.colour(name), word


def tone(report: FileReport) -> str:
    """The summary's colour: green vouched for, amber identified only by its audio, red not."""
    if not report.ok:
        return theme.colour("bad")
    return theme.colour("warn" if report.match is not None else "ok")


def summary_line(report: FileReport) -> str:
    """The report's one line with the file named by its name: the path is shown once, above."""
    return report.summary.replace(str(report.path), report.path.name, 1)


def percent(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.1f} %"


def credit_cells(credit: Credit) -> tuple[str, str, str, str, str]:
    """(title, artist, level, role, share) as the references table shows them."""
    return (
        credit.title or credit.song_id or "—",
        credit.artist or "—",
        credit.level or "—",
        credit.role or "—",
        percent(credit.share),
    )


def report_text(
    path: Path,
    report: FileReport | None,
    links: list[Link],
    credits: list[Credit],
    error: str = "",
) -> str:
    """Everything the window shows, as plain text (Copy report)."""
    lines = [f"Verify {path.name}", str(path)]
    if error:
        lines.append(f"Verification did not run: {error}")
    if report is not None:
        lines.append(summary_line(report))
        if report.offline:
            lines.append(OFFLINE_NOTE)
    if links:
        lines += ["", "Chain:"]
        for link in links:
            word = f"[{mark(link.state)[2]}]"
            lines.append(f"  {word:<9} {link.title}: {link.detail}")  # states in one column
    if credits:
        lines += ["", "References:"]
        for credit in credits:
            title, artist, level, role, share = credit_cells(credit)
            lines.append(f"  {title} — {artist} (level {level}, role {role}): {share}")
    if report is not None and report.not_established:
        lines += ["", "Not established:"]
        lines += [f"  - {item}" for item in report.not_established]
    return "\n".join(lines) + "\n"
